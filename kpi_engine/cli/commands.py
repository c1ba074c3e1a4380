"""What each subcommand does: build the same spec a page builds, run the same analysis, and
return the result's JSON (with the link when ``--share`` asks for one)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

from kpi_engine.alerts.evaluate import evaluate
from kpi_engine.alerts.monitor import run_monitor
from kpi_engine.alerts.watch import Watch
from kpi_engine.alerts.watches import add_watch, list_watches, remove_watch, set_time_zone
from kpi_engine.analyses import Result, Spec, spec_from_view
from kpi_engine.annotations.notes import add_note, delete_note, notes
from kpi_engine.budget.analysis import run_budget
from kpi_engine.budget.lift import lift_tests
from kpi_engine.budget.spec import BudgetSpec
from kpi_engine.currencies.rates import read_rates
from kpi_engine.currencies.wording import rates_summary
from kpi_engine.currencies.workspace_rates import (
    clear_rates,
    rates_of,
    save_rates,
    workspace_rates,
)
from kpi_engine.errors import KpiLabError
from kpi_engine.experiments.analysis import run_experiment
from kpi_engine.experiments.spec import ExperimentSpec
from kpi_engine.explain.analysis import run_explain
from kpi_engine.explain.spec import ExplainSpec, periods
from kpi_engine.ingest import ImportOptions, import_file, inspect_file, mapping_of
from kpi_engine.ingest.attach import AttachOptions, attach
from kpi_engine.ingest.platforms import PLATFORMS
from kpi_engine.kpis.analysis import run_kpi_view
from kpi_engine.kpis.catalog import CATALOG, RECOMMENDED, Kpi
from kpi_engine.kpis.custom import saved_custom
from kpi_engine.kpis.definition import parse_custom
from kpi_engine.kpis.spec import KpiViewSpec, default_spec
from kpi_engine.sharing.links import create_share, list_shares, open_share, revoke_share
from kpi_engine.sharing.workspaces import prune_untouched
from kpi_engine.stats.power import plan as power_plan
from kpi_engine.store import Store
from kpi_engine.typed_json import to_json

NO_WORKSPACE = ("power", "catalog")


def _customs(store: Store, args: argparse.Namespace, ids: tuple[str, ...]) -> tuple[Kpi, ...]:
    """The custom KPIs the ids name: ``--custom`` ones first, then the workspace's saved ones."""
    found: dict[str, Kpi] = {}
    for kpi in (*parse_custom(args.custom), *saved_custom(store)):
        if kpi.id in ids:
            found.setdefault(kpi.id, kpi)
    return tuple(found.values())


def _shared(store: Store, args: argparse.Namespace, spec: Spec, result: Result) -> dict:
    doc = result.to_dict()
    if args.share:
        link = create_share(store, spec, result, args.title, args.expires_days)
        doc["share"] = {"token": link["token"], "url": link["url"]}
    return doc


def _kpi_ids(args: argparse.Namespace) -> tuple[str, ...]:
    """The ``--kpi`` ids, then the names the ``--custom`` ones define."""
    named = (k.split("=", 1)[0].strip() for k in args.custom)
    return tuple(dict.fromkeys([*args.kpi, *named]))


def _converting(store: Store, args: argparse.Namespace) -> tuple[Store, bool]:
    """The store with ``--rates`` when given; whether ``--currency`` converts (with rates)
    or keeps one currency's rows (without)."""
    if args.rates and not args.currency:
        raise KpiLabError("needs --currency CODE: the currency to show every amount in", "rates")
    if args.rates:
        store = store.using_rates(replace(read_rates(args.rates), pick=args.rates_by))
    return store, bool(args.currency) and rates_of(store) is not None


def _cmd_kpis(store: Store, args: argparse.Namespace) -> dict:
    store, convert = _converting(store, args)
    dataset = store.dataset(args.dataset)
    kpis = _kpi_ids(args)
    if not kpis:
        raise KpiLabError(
            "choose at least one --kpi or --custom (see `python -m kpi_engine catalog` for the ids)"
        )
    spec = KpiViewSpec(
        dataset.dataset_id,
        kpis,
        _customs(store, args, kpis),
        args.start,
        args.end,
        tuple(args.filter),
        args.currency,
        tuple(args.by),
        grain=args.grain,
        convert=convert,
    )
    return _shared(store, args, spec, run_kpi_view(store, dataset, spec))


def _cmd_explain(store: Store, args: argparse.Namespace) -> dict:
    store, convert = _converting(store, args)
    dataset = store.dataset(args.dataset)
    period, vs = periods(store.date_range(dataset), args.period, args.vs)
    spec = ExplainSpec(
        dataset.dataset_id,
        args.kpi,
        period,
        vs,
        args.by,
        tuple(args.filter),
        args.currency,
        _customs(store, args, (args.kpi,)),
        convert,
    )
    return run_explain(store, dataset, spec).to_dict()


def _cmd_experiment(store: Store, args: argparse.Namespace) -> dict:
    store, convert = _converting(store, args)
    dataset = store.dataset(args.dataset)
    kpis = _kpi_ids(args)
    spec = ExperimentSpec(
        dataset_id=dataset.dataset_id,
        variant_col=args.variant_col,
        control=args.control,
        kpis=kpis,
        custom=_customs(store, args, kpis + tuple(g for g, _ in args.guardrail)),
        unit_col=args.unit_col,
        correction=args.correction,
        family=args.family,
        sequential=args.sequential,
        tuning=args.tuning,
        split=args.split,
        alpha=args.alpha,
        guardrails=tuple(args.guardrail),
        start=args.start,
        end=args.end,
        keep_multiple_exposures=args.keep_multiple_exposures,
        caps=tuple(args.cap),
        covariates=tuple(args.covariate),
        cuped=args.cuped,
        pre_days=args.pre_days,
        segment_col=args.segment_col,
        non_inferiority=tuple(args.non_inferiority),
        mde=args.mde,
        currency=args.currency,
        convert=convert,
    )
    return _shared(store, args, spec, run_experiment(store, dataset, spec))


def _cmd_budget(store: Store, args: argparse.Namespace) -> dict:
    store, convert = _converting(store, args)
    dataset = store.dataset(args.dataset)
    spec = BudgetSpec(
        dataset_id=dataset.dataset_id,
        daily_budget=args.daily_budget,
        target_roas=args.target_roas,
        target_cpa=args.target_cpa,
        target_marginal_roas=args.target_marginal_roas,
        same_outcome=args.same_outcome,
        plan=tuple(args.plan or ()),
        objective=args.goal[0] if args.goal else args.objective,
        max_change=args.max_change,
        min_spend=args.min_spend,
        minimums=tuple(args.min),
        maximums=tuple(args.max),
        locks=tuple(args.lock),
        window_days=args.window_days,
        lag_days=args.lag_days,
        currency=args.currency,
        convert=convert,
        bootstrap=args.bootstrap,
        seed=args.seed,
        plan_days=args.days,
        until=args.until,
        total=args.total,
        goal_target=args.goal[1] if args.goal else None,
        lifts=lift_tests(args.lift, args.lift_file),
        suggest_test=args.suggest_test,
    )
    return _shared(store, args, spec, run_budget(store, dataset, spec))


def _cmd_share(store: Store, args: argparse.Namespace) -> dict:
    if args.action == "create":
        dataset = store.dataset(args.dataset)
        spec: Spec = default_spec(dataset)
        if args.view:
            view = _read_view(args.view)
            if view.get("page", "kpis") == "kpis" and "version" not in view:
                view = {**_first_view(dataset), **view}  # an old file: over the page's default
            spec = spec_from_view({**view, "dataset_id": dataset.dataset_id}, saved_custom(store))
        return create_share(store, spec, None, args.title, args.expires_days)
    if args.action == "open":
        return open_share(store, args.token).result.to_dict()
    if args.action == "list":
        return {"shares": list_shares(store)}
    return revoke_share(store, args.token)


def _read_view(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            view = json.load(fh)
    except (OSError, ValueError) as exc:
        raise KpiLabError(f"cannot read the view {path}: {exc}") from None
    except RecursionError:
        raise KpiLabError(
            f"the view {path} is nested too deeply to be a view: write it as the Sharing page"
            " or `share create --view` documents it"
        ) from None
    if not isinstance(view, dict):
        raise KpiLabError(f"the view {path} must be a JSON object")
    return view


def _first_view(dataset) -> dict:
    """The KPIs page's first view, as views were written before they had versions."""
    spec = default_spec(dataset)
    return {
        "page": "kpis",
        "kpis": list(spec.kpis),
        "by": spec.by[0] if spec.by else None,
        "grain": spec.grain,
    }


def _options(args: argparse.Namespace) -> ImportOptions:
    return ImportOptions(
        name=getattr(args, "name", None),
        preset=args.preset,
        mapping=args.map,
        sheet=args.sheet,
        unpivot=args.unpivot,
        append=getattr(args, "append", None),
        replace=getattr(args, "replace", None),
        force=getattr(args, "force", False),
    )


def _print_progress(fraction: float, message: str) -> None:
    print(f"{fraction:4.0%} {message}", file=sys.stderr, flush=True)


def _cmd_import(store: Store, args: argparse.Namespace) -> dict:
    progress = _print_progress if args.progress else (lambda fraction, message: None)
    result = import_file(store, args.file, options=_options(args), progress=progress)
    if args.save_preset:
        store.save_preset(args.save_preset, mapping_of(result.dataset))
    return result.to_dict()


def _cmd_attach(store: Store, args: argparse.Namespace) -> dict:
    options = AttachOptions(
        path=args.source,
        table=args.table,
        engine=args.engine,
        format=args.format,
        name=args.name,
        mapping=args.map,
    )
    return attach(store, options).to_dict()


def _cmd_inspect(store: Store, args: argparse.Namespace) -> dict:
    return inspect_file(store, args.file, _options(args)).to_dict()


def _cmd_presets(store: Store, args: argparse.Namespace) -> dict:
    return {"platforms": {p.id: p.name for p in PLATFORMS.values()}, "saved": store.presets()}


def _cmd_catalog(store: Store | None, args: argparse.Namespace) -> dict:
    return {
        "kpis": [kpi.to_dict() for kpi in CATALOG.values()],
        "objectives": {k: list(v) for k, v in RECOMMENDED.items()},
    }


def _cmd_prune(store: Store, args: argparse.Namespace) -> dict:
    result = prune_untouched(store, args.older_than_days)
    return {**result, "files_swept": len(store.sweep())}


def _cmd_note(store: Store, args: argparse.Namespace) -> dict:
    if args.action == "remove":
        delete_note(store, args.note_id)
        return {"removed": args.note_id}
    dataset = store.dataset(args.dataset)
    if args.action == "list":
        return {"notes": [to_json(n) for n in notes(store, dataset)]}
    return to_json(add_note(store, dataset, *args.on, args.text, args.exclude))


def _cmd_rates(store: Store, args: argparse.Namespace) -> dict:
    if args.action == "import":
        table = save_rates(store, replace(read_rates(args.file), pick=args.by))
    elif args.action == "clear":
        clear_rates(store)
        return {"cleared": True}
    else:
        table = workspace_rates(store)
    if table is None:
        return {"rates": None}
    return {
        "rates": {
            "source": table.source,
            "base": table.base,
            "pick": table.pick,
            "currencies": list(table.currencies),
            "values": table.values,
        },
        "summary": rates_summary(table),
    }


def _cmd_watch(store: Store, args: argparse.Namespace) -> dict:
    if args.action == "list":
        return {"watches": [to_json(w) for w in list_watches(store)]}
    if args.action == "remove":
        remove_watch(store, args.watch_id)
        return {"removed": args.watch_id}
    dataset = store.dataset(args.dataset)
    experiment = None
    if args.experiment:
        view = _read_view(args.experiment)
        ExperimentSpec.from_view({**view, "dataset_id": dataset.dataset_id})
        experiment = json.dumps(view)
    if args.time_zone:
        set_time_zone(store, args.time_zone)
    watch = Watch(
        "",
        store.workspace,
        dataset.dataset_id,
        args.rule,
        args.webhook or args.email,
        kpi=args.kpi,
        experiment=experiment,
        digest=args.digest,
        hour=args.hour,
        channel_type=args.channel_type,
    )
    evaluate(store, watch)  # a watch that cannot be evaluated is refused now, not at 3 a.m.
    return to_json(add_watch(store, watch))


def _cmd_monitor(store: Store, args: argparse.Namespace) -> dict:
    return run_monitor(store, dry_run=args.dry_run).to_dict()


def _cmd_migrate(store: Store, args: argparse.Namespace) -> dict:
    from kpi_engine.legacy import migrate_from

    counts = migrate_from(store, args.source)
    return {"from": args.source, "state": store.path, "data": store.data.root, "moved": counts}


def _cmd_audit(store: Store, args: argparse.Namespace) -> dict:
    from kpi_engine.access.audit import entries

    return {"entries": entries(store, args.limit)}


def _cmd_token(store: Store, args: argparse.Namespace) -> dict:
    from kpi_engine.access.tokens import issue_token, list_tokens, revoke_token

    if args.action == "issue":
        return issue_token(store, args.email, args.label)
    if args.action == "list":
        return {"tokens": list_tokens(store)}
    return revoke_token(store, args.token_id)


def _cmd_team(store: Store, args: argparse.Namespace) -> dict:
    from kpi_engine.access.teams import create_team, invite, members_of, remove_member

    if args.action == "create":
        made = create_team(store, args.name, args.admin, verified=False)
        return {"team_id": made.team_id, "name": made.name, "admin": args.admin.strip().lower()}
    if args.action == "members":
        return {"members": members_of(store)}
    if args.action == "invite":
        return invite(store, args.email, args.role)
    remove_member(store, args.email)
    return {"removed": args.email}


def _cmd_datasets(store: Store, args: argparse.Namespace) -> dict:
    return {"datasets": [d.to_dict() for d in store.datasets()]}


def _cmd_power(store: Store | None, args: argparse.Namespace) -> dict:
    result = power_plan(args.baseline, args.mde, args.alpha, args.power, args.arms).to_dict()
    if args.daily_users:
        result["days"] = result["n_total"] / args.daily_users
    return result


COMMANDS = {
    "import": _cmd_import,
    "attach": _cmd_attach,
    "inspect": _cmd_inspect,
    "presets": _cmd_presets,
    "datasets": _cmd_datasets,
    "prune": _cmd_prune,
    "catalog": _cmd_catalog,
    "kpis": _cmd_kpis,
    "explain": _cmd_explain,
    "experiment": _cmd_experiment,
    "budget": _cmd_budget,
    "share": _cmd_share,
    "power": _cmd_power,
    "watch": _cmd_watch,
    "note": _cmd_note,
    "rates": _cmd_rates,
    "monitor": _cmd_monitor,
    "migrate": _cmd_migrate,
    "audit": _cmd_audit,
    "token": _cmd_token,
    "team": _cmd_team,
}
