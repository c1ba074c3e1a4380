"""``python -m kpi_engine``: the engine's functions for analysts and scripts.

Every subcommand takes ``--db PATH`` and ``--json``. Bad input ends with exit status 2 and
one line on stderr that says what is wrong and how to fix it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from kpi_engine.budget.analysis import OBJECTIVES, BudgetSpec, run_budget
from kpi_engine.errors import KpiLabError
from kpi_engine.experiments.analysis import DEFAULT_TUNING, FAMILIES, ExperimentSpec, run_experiment
from kpi_engine.ingest import ImportOptions, import_file, inspect_file, mapping_of
from kpi_engine.ingest.platforms import PLATFORMS
from kpi_engine.kpis.catalog import CATALOG, RECOMMENDED
from kpi_engine.kpis.custom import parse_custom, saved_custom
from kpi_engine.kpis.query import KpiQuery, run_kpis
from kpi_engine.sharing.links import (
    create_share,
    default_view,
    list_shares,
    open_share,
    revoke_share,
    share_content,
)
from kpi_engine.sharing.workspaces import DEFAULT_PRUNE_DAYS, prune_untouched
from kpi_engine.stats.multiple import CORRECTIONS
from kpi_engine.stats.power import plan as power_plan
from kpi_engine.store import Store

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own errors: one line, status 2
        raise KpiLabError(f"{message} (see `python -m {self.prog} --help`)")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: write YYYY-MM-DD") from None


def _build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help="workspace database file (default: $KPILAB_DB or ./workspace)")
    common.add_argument("--json", action="store_true", help="print one JSON document")

    parser = _Parser(prog="kpi_engine", description="KPI Lab engine")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    source = argparse.ArgumentParser(add_help=False)
    source.add_argument("file")
    source.add_argument("--preset", help=f"a platform ({', '.join(PLATFORMS)}) or a saved preset")
    source.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="SOURCE=ROLE",
        help="set a column's role (or ignore, none); repeatable",
    )
    source.add_argument("--sheet", help="the Excel sheet to read (default: the first)")
    source.add_argument(
        "--unpivot",
        action="store_true",
        help="turn one-column-per-channel data into one row per channel",
    )

    p = sub.add_parser("import", parents=[common, source], help="import a campaign file")
    p.add_argument("--name", help="dataset name (default: the file name)")
    target = p.add_mutually_exclusive_group()
    target.add_argument(
        "--append",
        metavar="DATASET",
        help="add the rows to a dataset (rows with the same date and dimensions are replaced)",
    )
    target.add_argument("--replace", metavar="DATASET", help="replace a dataset's rows")
    p.add_argument("--save-preset", metavar="NAME", help="save the column mapping as a preset")
    p.add_argument(
        "--progress",
        action="store_true",
        help='print each step ("60%% Checking the rows") to stderr',
    )

    sub.add_parser("inspect", parents=[common, source], help="show how a file would be imported")
    sub.add_parser("presets", parents=[common], help="list platform and saved presets")

    sub.add_parser("datasets", parents=[common], help="list the datasets")
    p = sub.add_parser(
        "prune",
        parents=[common],
        help="remove workspaces that still hold only the sample data (run with the app stopped)",
    )
    p.add_argument(
        "--older-than-days",
        type=float,
        default=DEFAULT_PRUNE_DAYS,
        help=f"only those created before (default {DEFAULT_PRUNE_DAYS})",
    )
    sub.add_parser("catalog", parents=[common], help="the KPI catalog")

    p = sub.add_parser("kpis", parents=[common], help="compute KPIs of a dataset")
    p.add_argument("dataset", help="dataset id or name")
    p.add_argument("--kpi", action="append", default=[], help="a catalog KPI id (repeatable)")
    p.add_argument(
        "--custom",
        action="append",
        default=[],
        metavar="NAME=FORMULA",
        help="a KPI of your own, e.g. margin=(sum(revenue)-sum(spend))/sum(revenue)",
    )
    p.add_argument("--by", action="append", default=[], help="group by this column (repeatable)")
    p.add_argument("--start", type=_date, help="first day, YYYY-MM-DD")
    p.add_argument("--end", type=_date, help="last day, YYYY-MM-DD")
    p.add_argument("--currency", help="with several currencies: report this one only")

    p = sub.add_parser("experiment", parents=[common], help="compare variants of an A/B/n test")
    p.add_argument("dataset", help="dataset id or name")
    p.add_argument("--variant-col", required=True, help="the column that names the variant")
    p.add_argument("--control", required=True, help="the control variant's value")
    p.add_argument("--kpi", action="append", required=True, help="KPI id (repeatable)")
    p.add_argument(
        "--unit-col",
        help="unit column: users for user-level data; for campaign"
        " rows, a column that splits days further (e.g. campaign)",
    )
    p.add_argument("--correction", default="holm", choices=CORRECTIONS)
    p.add_argument(
        "--family",
        default="both",
        choices=FAMILIES,
        help="what the correction adjusts over: variants, kpis or both",
    )
    p.add_argument("--sequential", action="store_true", help="peeking-safe confidence sequences")
    p.add_argument(
        "--tuning",
        type=float,
        default=DEFAULT_TUNING,
        help="sequential: total units expected at the decision",
    )
    p.add_argument("--split", type=_split, help="intended split, control first, e.g. 50,50")
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument(
        "--guardrail",
        action="append",
        default=[],
        type=_guardrail,
        metavar="KPI=PCT",
        help="a KPI that must not get worse by more than PCT%%",
    )
    p.add_argument("--start", type=_date)
    p.add_argument("--end", type=_date)

    p = sub.add_parser("budget", parents=[common], help="suggest a better split of the budget")
    p.add_argument("dataset", help="dataset id or name")
    goal = p.add_mutually_exclusive_group()
    goal.add_argument(
        "--daily-budget",
        type=float,
        metavar="AMOUNT",
        help="split this daily budget (default: today's total)",
    )
    goal.add_argument(
        "--target-roas",
        type=float,
        metavar="X",
        help="the largest budget whose blended ROAS is still X",
    )
    goal.add_argument(
        "--target-cpa",
        type=float,
        metavar="X",
        help="the largest budget whose blended CPA is at most X (conversions)",
    )
    goal.add_argument(
        "--target-marginal-roas",
        type=float,
        metavar="X",
        help="spend until the next unit returns X (profit mode: 1 / margin)",
    )
    goal.add_argument(
        "--same-outcome", action="store_true", help="today's outcome at the lowest spend"
    )
    goal.add_argument(
        "--plan",
        action="append",
        type=_amount,
        metavar="CAMPAIGN=AMOUNT",
        help="score a plan you typed in (repeatable)",
    )
    p.add_argument("--objective", default="revenue", choices=OBJECTIVES)
    p.add_argument(
        "--max-change",
        type=float,
        default=0.3,
        help="largest change per campaign as a fraction of today (0.3 = +/-30%%)",
    )
    p.add_argument(
        "--min-spend",
        type=float,
        default=0.0,
        metavar="AMOUNT",
        help="the least any campaign may spend a day",
    )
    p.add_argument("--min", action="append", default=[], type=_amount, metavar="CAMPAIGN=AMOUNT")
    p.add_argument("--max", action="append", default=[], type=_amount, metavar="CAMPAIGN=AMOUNT")
    p.add_argument(
        "--lock",
        action="append",
        default=[],
        metavar="CAMPAIGN",
        help="keep this campaign's spend (repeatable)",
    )
    p.add_argument("--window-days", type=int, default=90)
    p.add_argument(
        "--lag-days",
        type=int,
        default=7,
        help="recent days dropped: conversions are still coming in",
    )
    p.add_argument("--currency", help="with several currencies: plan in this one")
    p.add_argument("--bootstrap", type=int, default=200, help="day-bootstrap draws for the band")

    share = sub.add_parser("share", help="read-only links to frozen views")
    actions = share.add_subparsers(dest="action", required=True, parser_class=_Parser)
    p = actions.add_parser("create", parents=[common], help="share a view of a dataset")
    p.add_argument("dataset", help="dataset id or name")
    p.add_argument("--view", help="a JSON file with the view (default: the KPIs page view)")
    p.add_argument("--title")
    p.add_argument("--expires-days", type=float)
    p = actions.add_parser("open", parents=[common], help="what a link shows")
    p.add_argument("token")
    actions.add_parser("list", parents=[common], help="this workspace's links")
    p = actions.add_parser("revoke", parents=[common], help="revoke a link")
    p.add_argument("token", help="the link's token, or its share id")

    p = sub.add_parser("power", parents=[common], help="sample size for a conversion-rate test")
    p.add_argument("--baseline", type=float, required=True, help="control conversion rate")
    p.add_argument("--mde", type=float, required=True, help="relative effect, 0.10 for +10%%")
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--power", type=float, default=0.8)
    p.add_argument("--arms", type=int, default=2)
    p.add_argument("--daily-users", type=float, help="users a day in the whole test")
    return parser


def _split(text: str) -> tuple[float, ...]:
    try:
        shares = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a split: write e.g. 50,50") from None
    if len(shares) < 2 or any(s <= 0 for s in shares):
        raise argparse.ArgumentTypeError(f"{text!r}: give a positive share per variant")
    return shares


def _amount(text: str) -> tuple[str, float]:
    name, _, value = text.rpartition("=")
    try:
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write CAMPAIGN=AMOUNT") from None


def _guardrail(text: str) -> tuple[str, float]:
    kpi, _, pct = text.partition("=")
    try:
        return kpi.strip(), float(pct.rstrip("%")) / 100
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write KPI=PCT, e.g. cpa=5") from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return _jsonable(value.item())
    return value


def _options(args: argparse.Namespace) -> ImportOptions:
    return ImportOptions(
        name=getattr(args, "name", None),
        preset=args.preset,
        mapping=args.map,
        sheet=args.sheet,
        unpivot=args.unpivot,
        append=getattr(args, "append", None),
        replace=getattr(args, "replace", None),
    )


def _print_progress(fraction: float, message: str) -> None:
    print(f"{fraction:4.0%} {message}", file=sys.stderr, flush=True)


def _cmd_import(store: Store, args: argparse.Namespace) -> dict:
    progress = _print_progress if args.progress else (lambda fraction, message: None)
    result = import_file(store, args.file, options=_options(args), progress=progress)
    if args.save_preset:
        store.save_preset(args.save_preset, mapping_of(result.dataset))
    return result.to_dict()


def _cmd_inspect(store: Store, args: argparse.Namespace) -> dict:
    return inspect_file(store, args.file, _options(args)).to_dict()


def _cmd_presets(store: Store, args: argparse.Namespace) -> dict:
    return {
        "platforms": {p.id: p.name for p in PLATFORMS.values()},
        "saved": store.presets(),
    }


def _cmd_catalog(store: Store | None, args: argparse.Namespace) -> dict:
    return {
        "kpis": [kpi.to_dict() for kpi in CATALOG.values()],
        "objectives": {k: list(v) for k, v in RECOMMENDED.items()},
    }


def _cmd_prune(store: Store, args: argparse.Namespace) -> dict:
    return prune_untouched(store, args.older_than_days)


def _cmd_datasets(store: Store, args: argparse.Namespace) -> dict:
    return {"datasets": [d.to_dict() for d in store.datasets()]}


def _cmd_kpis(store: Store, args: argparse.Namespace) -> dict:
    dataset = store.dataset(args.dataset)
    custom = parse_custom(args.custom) + saved_custom(store)
    kpis = tuple(args.kpi) + tuple(k.split("=", 1)[0].strip() for k in args.custom)
    if not kpis:
        raise KpiLabError(
            "choose at least one --kpi or --custom (see `python -m kpi_engine catalog` for the ids)"
        )
    query = KpiQuery(
        kpis, tuple(args.by), args.start, args.end, currency=args.currency, custom=custom
    )
    frame = run_kpis(store, dataset, query)
    rows = [
        {key: _jsonable(value) for key, value in record.items()}
        for record in frame.to_dict(orient="records")
    ]
    return {"dataset_id": dataset.dataset_id, "rows": rows}


def _cmd_experiment(store: Store, args: argparse.Namespace) -> dict:
    dataset = store.dataset(args.dataset)
    spec = ExperimentSpec(
        args.variant_col,
        args.control,
        tuple(args.kpi),
        args.unit_col,
        args.correction,
        args.family,
        args.sequential,
        args.tuning,
        args.split,
        args.alpha,
        tuple(args.guardrail),
        args.start,
        args.end,
    )
    return run_experiment(store, dataset, spec).to_dict()


def _cmd_budget(store: Store, args: argparse.Namespace) -> dict:
    dataset = store.dataset(args.dataset)
    spec = BudgetSpec(
        daily_budget=args.daily_budget,
        target_roas=args.target_roas,
        target_cpa=args.target_cpa,
        target_marginal_roas=args.target_marginal_roas,
        same_outcome=args.same_outcome,
        plan=tuple(args.plan or ()),
        objective=args.objective,
        max_change=args.max_change,
        min_spend=args.min_spend,
        minimums=tuple(args.min),
        maximums=tuple(args.max),
        locks=tuple(args.lock),
        window_days=args.window_days,
        lag_days=args.lag_days,
        currency=args.currency,
        bootstrap=args.bootstrap,
    )
    return run_budget(store, dataset, spec).to_dict()


def _cmd_share(store: Store, args: argparse.Namespace) -> dict:
    if args.action == "create":
        dataset = store.dataset(args.dataset)
        state = default_view(dataset)
        if args.view:
            try:
                with open(args.view, encoding="utf-8") as fh:
                    state = {**state, **json.load(fh), "dataset_id": dataset.dataset_id}
            except (OSError, ValueError) as exc:
                raise KpiLabError(f"cannot read the view {args.view}: {exc}") from None
        return create_share(store, state, args.title, args.expires_days)
    if args.action == "open":
        return share_content(store, open_share(store, args.token))
    if args.action == "list":
        return {"shares": list_shares(store)}
    return revoke_share(store, args.token)


def _cmd_power(store: Store | None, args: argparse.Namespace) -> dict:
    result = power_plan(args.baseline, args.mde, args.alpha, args.power, args.arms).to_dict()
    if args.daily_users:
        result["days"] = result["n_total"] / args.daily_users
    return result


COMMANDS = {
    "import": _cmd_import,
    "inspect": _cmd_inspect,
    "presets": _cmd_presets,
    "datasets": _cmd_datasets,
    "prune": _cmd_prune,
    "catalog": _cmd_catalog,
    "kpis": _cmd_kpis,
    "experiment": _cmd_experiment,
    "budget": _cmd_budget,
    "share": _cmd_share,
    "power": _cmd_power,
}


def _print_human(command: str, result: dict) -> None:
    if command == "import":
        print(f"imported {result['rows']} rows as {result['name']} ({result['dataset_id']})")
        for source, role in result["columns"].items():
            print(f"  {source}: {role or '-'}")
        for warning in result["warnings"]:
            print(f"  warning: {warning['message']}")
    elif command == "inspect":
        print(f"{result['file']}: {result['kind_label']}; platform {result['platform_name']}")
        for col in result["columns"]:
            role = "ignored" if col["ignored"] else (col["role"] or "-")
            print(
                f"  {col['column']}: {role} ({col['confidence']:.2f}), reads as {col['reads_as']}"
            )
    elif command == "experiment":
        srm = result["srm"]
        if srm["checked"]:
            print(f"SRM p = {srm['p_value']:.3g}" + ("  MISMATCH" if srm["flag"] else ""))
        for r in result["results"]:
            print(r["verdict"])
        for w in result["warnings"]:
            print(f"warning: {w['message']}")
    elif command == "budget":
        for c in result["campaigns"]:
            print(
                f"{c['campaign']}: {c['current_spend']:,.2f} -> {c['suggested_spend']:,.2f}"
                f"  ({c['reason']})"
            )
        p = result["portfolio"]
        print(
            f"outcome {p['current_outcome']:,.2f} -> {p['suggested_outcome']:,.2f}"
            f" ({p['uplift']:+,.2f} a day)"
        )
    elif command == "share":
        print(json.dumps(result, indent=1, default=_jsonable))
    elif command == "power":
        print(f"{result['n_per_arm']:,} users per arm, {result['n_total']:,} in total")
    elif command == "prune":
        print(f"removed {result['removed']} untouched workspaces; {result['kept']} remain")
    elif command == "presets":
        print("platforms: " + ", ".join(result["platforms"]))
        print("saved: " + (", ".join(result["saved"]) or "none"))
    elif command == "catalog":
        for kpi in result["kpis"]:
            print(f"{kpi['id']:<22} {kpi['family']:<22} {kpi['formula']}")
    elif command == "datasets":
        for d in result["datasets"]:
            print(f"{d['dataset_id']}  {d['rows']:>10}  {d['name']}")
    else:
        rows = result["rows"]
        if rows:
            print("\t".join(rows[0]))
            for row in rows:
                print("\t".join("n/a" if v is None else str(v) for v in row.values()))


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _build_parser().parse_args(argv)
        if args.command in ("power", "catalog"):  # need no workspace
            result = COMMANDS[args.command](None, args)
        else:
            store = Store(args.db)
            try:
                result = COMMANDS[args.command](store, args)
            finally:
                store.close()
    except KpiLabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        if args.json:
            json.dump(result, sys.stdout, default=_jsonable, ensure_ascii=False)
            sys.stdout.write("\n")
        else:
            _print_human(args.command, result)
        sys.stdout.flush()
    except BrokenPipeError:  # `... | head`: the reader left; that is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
