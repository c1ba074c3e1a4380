"""The command line's flags. Each analysis command has the flags of its spec, and
``--share [--title T] [--expires-days N]`` to also make a read-only link to its result."""

from __future__ import annotations

import argparse
from datetime import date

from kpi_engine.aggregate_sql import GRAINS
from kpi_engine.alerts.watch import DEFAULT_HOUR, DIGESTS
from kpi_engine.budget.spec import DEFAULT_SEED, OBJECTIVES
from kpi_engine.compute import ATTACH_ENGINES, FORMATS
from kpi_engine.currencies.rates import PICKS
from kpi_engine.errors import KpiLabError
from kpi_engine.experiments.spec import (
    DEFAULT_ALPHA,
    DEFAULT_MDE,
    DEFAULT_PRE_DAYS,
    DEFAULT_TUNING,
    FAMILIES,
)
from kpi_engine.ingest.platforms import PLATFORMS
from kpi_engine.kpis.typical import CHANNEL_TYPES
from kpi_engine.sharing.tokens import DEFAULT_PRUNE_DAYS
from kpi_engine.stats.multiple import CORRECTIONS

# the flag that sets each field of a spec, for error messages
FLAGS = {
    "kpis": "--kpi",
    "custom": "--custom",
    "by": "--by",
    "filters": "--filter",
    "grain": "--grain",
    "start": "--start",
    "end": "--end",
    "currency": "--currency",
    "variant_col": "--variant-col",
    "control": "--control",
    "unit_col": "--unit-col",
    "correction": "--correction",
    "family": "--family",
    "tuning": "--tuning",
    "split": "--split",
    "alpha": "--alpha",
    "guardrails": "--guardrail",
    "keep_multiple_exposures": "--keep-multiple-exposures",
    "caps": "--cap",
    "covariates": "--covariate",
    "cuped": "--cuped",
    "pre_days": "--pre-days",
    "segment_col": "--segment-col",
    "non_inferiority": "--non-inferiority",
    "mde": "--mde",
    "daily_budget": "--daily-budget",
    "target_roas": "--target-roas",
    "target_cpa": "--target-cpa",
    "target_marginal_roas": "--target-marginal-roas",
    "plan": "--plan",
    "objective": "--objective",
    "max_change": "--max-change",
    "min_spend": "--min-spend",
    "minimums": "--min",
    "maximums": "--max",
    "locks": "--lock",
    "window_days": "--window-days",
    "lag_days": "--lag-days",
    "bootstrap": "--bootstrap",
    "seed": "--seed",
    "plan_days": "--days",
    "until": "--until",
    "total": "--total",
    "goal_target": "--goal",
    "suggest_test": "--suggest-test",
    "lifts": "--lift",
    "lift_file": "--lift-file",
    "expires_days": "--expires-days",
    "rule": "--rule",
    "webhook": "--webhook",
    "email": "--email",
    "digest": "--digest",
    "hour": "--hour",
    "time_zone": "--time-zone",
    "channel_type": "--channel-type",
    "experiment": "--experiment",
    "workspace": "--workspace",
    "engine": "--engine",
    "format": "--format",
    "table": "--table",
    "member_token": "--token",
    "role": "--role",
    "token_id": "the token id",
    "period": "--period",
    "vs": "--vs",
    "rates": "--rates",
    "pick": "--rates-by",
}


def field_names(args: argparse.Namespace | None) -> dict[str, str]:
    """How an error names a field: its flag; in a ``--view`` file, the view's key."""
    if args is not None and getattr(args, "view", None):
        return {field: f"the view's {field!r}" for field in FLAGS}
    return FLAGS


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own errors: one line, status 2
        raise KpiLabError(f"{message} (see `python -m {self.prog} --help`)")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: write YYYY-MM-DD") from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kpi_engine", description="KPI Lab engine")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    common, sharing, custom = _parents()
    _data_commands(sub, common)
    _kpis_command(sub, common, custom, sharing)
    _explain_command(sub, common, custom)
    _experiment_command(sub, common, custom, sharing)
    _budget_command(sub, common, sharing)
    _share_command(sub, common)
    _watch_command(sub, common)
    _note_command(sub, common)
    _rates_command(sub, common)
    _monitor_command(sub, common)
    _power_command(sub, common)
    _access_commands(sub, common)
    p = sub.add_parser(
        "migrate",
        parents=[common],
        help="move a workspace database of an earlier version (one .duckdb file) into this one",
    )
    p.add_argument("--from", dest="source", required=True, metavar="OLD.duckdb")
    return parser


def _parents() -> tuple[argparse.ArgumentParser, ...]:
    """Flags several commands share: --db and --json; --share; --custom."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        help="the state database: a SQLite file or a database URL (default:"
        " $KPILAB_DATABASE_URL, $KPILAB_DB or workspace/kpilab.sqlite)",
    )
    common.add_argument("--json", action="store_true", help="print one JSON document")
    common.add_argument(
        "--workspace",
        metavar="LINK_OR_TOKEN",
        help="work in a visitor's private workspace: its link (…/?ws=TOKEN) or its token",
    )
    common.add_argument(
        "--token",
        dest="member_token",
        metavar="TOKEN",
        help="act as a team member: a personal token from the Team page (or $KPILAB_TOKEN)",
    )

    sharing = argparse.ArgumentParser(add_help=False)
    sharing.add_argument(
        "--share", action="store_true", help="also make a read-only link to this result"
    )
    sharing.add_argument("--title", help="the link's title (with --share)")
    sharing.add_argument(
        "--expires-days", type=float, help="the link stops working after N days (with --share)"
    )
    custom = argparse.ArgumentParser(add_help=False)
    custom.add_argument(
        "--custom",
        action="append",
        default=[],
        metavar="NAME=FORMULA",
        help="a KPI of your own, e.g. margin=(sum(revenue)-sum(spend))/sum(revenue)",
    )
    return common, sharing, custom


def _data_commands(sub, common) -> None:
    """import, inspect, presets, datasets, prune, catalog."""
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
    p.add_argument(
        "--force",
        action="store_true",
        help="with --replace: replace even with a file that lacks metrics the dataset has",
    )
    p.add_argument("--save-preset", metavar="NAME", help="save the column mapping as a preset")
    p.add_argument(
        "--progress",
        action="store_true",
        help='print each step ("60%% Checking the rows") to stderr',
    )

    _attach_command(sub, common)
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


def _attach_command(sub, common) -> None:
    """attach: a lake table read where it lives, analysed on Spark."""
    p = sub.add_parser(
        "attach",
        parents=[common],
        help="attach a Parquet/Delta/CSV table or a catalog table; analyses run on Spark",
    )
    p.add_argument("source", nargs="?", help="a Parquet file, a folder of Parquet files, or a glob")
    p.add_argument("--engine", default="spark", choices=ATTACH_ENGINES)
    p.add_argument("--name", help="dataset name (default: the file or table name)")
    p.add_argument("--format", default="parquet", choices=FORMATS)
    p.add_argument("--table", metavar="CATALOG.SCHEMA.TABLE", help="a catalog table instead")
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COLUMN=ROLE",
        help="set a column's role (or ignore, none); repeatable",
    )


def _kpis_command(sub, common, custom, sharing) -> None:
    """kpis: the KPIs view of a dataset."""
    p = sub.add_parser("kpis", parents=[common, custom, sharing], help="compute KPIs of a dataset")
    p.add_argument("dataset", help="dataset id or name")
    p.add_argument(
        "--kpi", action="append", default=[], help="a catalog or saved custom KPI id (repeatable)"
    )
    p.add_argument("--by", action="append", default=[], help="group by this column (repeatable)")
    p.add_argument("--start", type=_date, help="first day, YYYY-MM-DD")
    p.add_argument("--end", type=_date, help="last day, YYYY-MM-DD")
    _filter_flag(p)
    _currency_flags(p)
    p.add_argument("--grain", choices=GRAINS, help="add a trend of the first KPI by this grain")


def _filter_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--filter",
        action="append",
        default=[],
        type=_filter,
        metavar="COLUMN=VALUE[,VALUE]",
        help="keep the rows with these values (repeatable)",
    )


def _currency_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--currency",
        metavar="CODE",
        help="with exchange rates (--rates or the workspace's): every amount in this currency;"
        " without: with several currencies, this one's rows only",
    )
    p.add_argument(
        "--rates",
        metavar="FILE",
        help="exchange rates for this command: date,currency,rate or the ECB's CSV",
    )
    p.add_argument(
        "--rates-by",
        choices=PICKS,
        default="day",
        help="with --rates: each row's day's rate, or its month's mean (default: day)",
    )


def _explain_command(sub, common, custom) -> None:
    """explain: why a KPI moved between two periods."""
    p = sub.add_parser(
        "explain",
        parents=[common, custom],
        help="why a KPI changed: its parts, and mix and rate across a column",
    )
    p.add_argument("dataset", help="dataset id or name")
    p.add_argument("--kpi", required=True, help="a catalog or custom KPI id, e.g. cpa")
    p.add_argument(
        "--period",
        type=_period,
        metavar="START:END",
        help="the period to explain (default: the data's last 28 days)",
    )
    p.add_argument(
        "--vs",
        type=_period,
        metavar="START:END",
        help="the period it is compared with (default: as many days just before --period)",
    )
    p.add_argument("--by", help="split the change across this column (mix and rate)")
    _filter_flag(p)
    _currency_flags(p)


def _experiment_command(sub, common, custom, sharing) -> None:
    """experiment: an A/B/n test."""
    p = sub.add_parser(
        "experiment",
        parents=[common, custom, sharing],
        help="compare variants of an A/B/n test",
    )
    p.add_argument("dataset", help="dataset id or name")
    p.add_argument("--variant-col", required=True, help="the column that names the variant")
    p.add_argument("--control", required=True, help="the control variant's value")
    p.add_argument(
        "--kpi", action="append", required=True, help="a catalog or custom KPI id (repeatable)"
    )
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
    p.add_argument(
        "--alpha",
        type=float,
        default=DEFAULT_ALPHA,
        help="significance level of every test (0.05: 95%% confidence)",
    )
    p.add_argument(
        "--guardrail",
        action="append",
        default=[],
        type=_kpi_percent,
        metavar="KPI=PCT",
        help="a KPI that must not get worse by more than PCT%%",
    )
    p.add_argument(
        "--mde",
        type=float,
        default=DEFAULT_MDE,
        help="smallest relative lift worth detecting (0.1 for 10%%): how long to keep testing",
    )
    p.add_argument("--start", type=_date)
    p.add_argument("--end", type=_date)
    _currency_flags(p)
    _experiment_methods(p)


def _experiment_methods(p: argparse.ArgumentParser) -> None:
    """Exposures, capping, CUPED, segments and non-inferiority."""
    p.add_argument(
        "--keep-multiple-exposures",
        action="store_true",
        help="count a unit seen in several variants in each (default: leave it out)",
    )
    p.add_argument(
        "--cap",
        action="append",
        default=[],
        type=_kpi_text,
        metavar="KPI=SPEC",
        help="cap each user's value: p99, p1:p99, 0:500 or :500 (repeatable)",
    )
    p.add_argument(
        "--covariate",
        action="append",
        default=[],
        type=_kpi_text,
        metavar="KPI=COLUMN",
        help="CUPED with this column as the KPI's pre-test value per user (repeatable)",
    )
    p.add_argument(
        "--cuped",
        action="store_true",
        help="CUPED with each KPI's own rows in the --pre-days days before exposure",
    )
    p.add_argument(
        "--pre-days",
        type=int,
        default=DEFAULT_PRE_DAYS,
        help="CUPED lookback in days (default %(default)s)",
    )
    p.add_argument("--segment-col", metavar="COLUMN", help="results per value of this column")
    p.add_argument(
        "--non-inferiority",
        action="append",
        default=[],
        type=_kpi_percent,
        metavar="KPI=PCT",
        help="test that the variant is not worse than control by more than PCT%% (repeatable)",
    )


def _budget_command(sub, common, sharing) -> None:
    """budget: a better split of the budget."""
    p = sub.add_parser(
        "budget", parents=[common, sharing], help="suggest a better split of the budget"
    )
    p.add_argument("dataset", help="dataset id or name")
    _budget_questions(p.add_mutually_exclusive_group())
    _budget_ahead(p)
    _budget_bounds(p)


def _budget_questions(goal) -> None:
    """The one question a plan answers."""
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
    goal.add_argument(
        "--total",
        type=float,
        metavar="AMOUNT",
        help="split this much over the plan's days (with --days or --until)",
    )
    goal.add_argument(
        "--goal",
        type=_goal,
        metavar="KPI=N",
        help="the cheapest plan reaching conversions=N or revenue=X by --until",
    )


def _budget_ahead(p) -> None:
    """The days ahead, lift tests, and the spend test."""
    period = p.add_mutually_exclusive_group()
    period.add_argument(
        "--days", type=int, metavar="N", help="plan the N days after the data's last day"
    )
    period.add_argument(
        "--until", metavar="DATE", help="plan up to this day, inclusive (YYYY-MM-DD)"
    )
    p.add_argument(
        "--lift",
        action="append",
        default=[],
        type=_lift,
        metavar="CAMPAIGN=INCREMENTAL_PER_DAY@SPEND",
        help="a lift test: the incremental outcome a day at that daily spend (repeatable)",
    )
    p.add_argument(
        "--lift-file",
        metavar="CSV",
        help="lift tests, a row each: campaign, spend_change, incremental, standard_error",
    )
    p.add_argument(
        "--suggest-test",
        action="store_true",
        help="the spend test that would settle an uncertain plan, and what it is worth",
    )


def _budget_bounds(p) -> None:
    """What is optimised, within which bounds, over which window, with how many draws."""
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
    _currency_flags(p)
    p.add_argument("--bootstrap", type=int, default=200, help="draws of every curve for the bands")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="the draws' random seed")


def _share_command(sub, common) -> None:
    """share create, open, list, revoke."""
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


def _watch_command(sub, common) -> None:
    """watch add, list, remove."""
    watch = sub.add_parser("watch", help="alerts and digests on KPIs, targets and experiments")
    actions = watch.add_subparsers(dest="action", required=True, parser_class=_Parser)
    p = actions.add_parser("add", parents=[common], help="watch a KPI or an experiment")
    p.add_argument("dataset", help="dataset id or name")
    subject = p.add_mutually_exclusive_group(required=True)
    subject.add_argument("--kpi", help="a catalog or custom KPI id")
    subject.add_argument(
        "--experiment", metavar="VIEW.json", help="a saved experiment view (JSON file)"
    )
    p.add_argument(
        "--rule",
        required=True,
        help="KPI: anomaly, change:PCT, range:LOW:HIGH, typical or pace; experiment: srm or"
        " decision",
    )
    to = p.add_mutually_exclusive_group(required=True)
    to.add_argument("--webhook", metavar="URL", help="a Slack, Teams or other webhook URL")
    to.add_argument("--email", metavar="ADDRESS", help="an e-mail address (KPILAB_SMTP_*)")
    p.add_argument("--digest", choices=DIGESTS, help="collect into a daily or weekly digest")
    p.add_argument("--hour", type=int, default=DEFAULT_HOUR, help="digest hour (0-23)")
    p.add_argument("--time-zone", help="the workspace's time zone, e.g. Europe/Berlin")
    p.add_argument(
        "--channel-type", choices=CHANNEL_TYPES, help="for --rule typical: the channel type"
    )
    actions.add_parser("list", parents=[common], help="this workspace's watches")
    p = actions.add_parser("remove", parents=[common], help="stop a watch")
    p.add_argument("watch_id")


def _note_command(sub, common) -> None:
    """note add, list, remove: the timeline's notes."""
    note = sub.add_parser("note", help="notes on the timeline (a promotion, an outage)")
    actions = note.add_subparsers(dest="action", required=True, parser_class=_Parser)
    p = actions.add_parser("add", parents=[common], help="note what happened on a day or range")
    p.add_argument("dataset", help="dataset id or name")
    p.add_argument("text", help="what happened, e.g. 'Summer sale'")
    p.add_argument("--on", required=True, type=_day_or_period, metavar="DAY|START:END")
    p.add_argument(
        "--exclude",
        action="store_true",
        help="leave these days out of baselines (anomaly flags, budget curve fits)",
    )
    p = actions.add_parser("list", parents=[common], help="a dataset's notes")
    p.add_argument("dataset", help="dataset id or name")
    p = actions.add_parser("remove", parents=[common], help="delete a note")
    p.add_argument("note_id")


def _rates_command(sub, common) -> None:
    """rates import, show, clear: the workspace's exchange rates."""
    rates = sub.add_parser("rates", help="the workspace's exchange rates (one reporting currency)")
    actions = rates.add_subparsers(dest="action", required=True, parser_class=_Parser)
    p = actions.add_parser("import", parents=[common], help="replace the workspace's rates")
    p.add_argument("file", help="date,currency,rate or the ECB's reference-rate CSV")
    p.add_argument(
        "--by", choices=PICKS, default="day", help="each row's day's rate, or its month's mean"
    )
    actions.add_parser("show", parents=[common], help="what rates the workspace has")
    actions.add_parser("clear", parents=[common], help="delete the workspace's rates")


def _monitor_command(sub, common) -> None:
    """monitor: evaluate every watch and send what is due."""
    p = sub.add_parser(
        "monitor", parents=[common], help="evaluate every watch and send what is due"
    )
    p.add_argument("--dry-run", action="store_true", help="say what would be sent; send nothing")


def _power_command(sub, common) -> None:
    """power: sample size for a conversion-rate test."""
    p = sub.add_parser("power", parents=[common], help="sample size for a conversion-rate test")
    p.add_argument("--baseline", type=float, required=True, help="control conversion rate")
    p.add_argument("--mde", type=float, required=True, help="relative effect, 0.10 for +10%%")
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--power", type=float, default=0.8)
    p.add_argument("--arms", type=int, default=2)
    p.add_argument("--daily-users", type=float, help="users a day in the whole test")


def _access_commands(sub, common) -> None:
    """audit, token, team: a team's admins (with --token); ``team create``: the operator."""
    p = sub.add_parser("audit", parents=[common], help="the workspace's audit log (admins)")
    p.add_argument("--limit", type=int, default=500)
    token = sub.add_parser("token", help="personal tokens of a team's members (admins)")
    actions = token.add_subparsers(dest="action", required=True, parser_class=_Parser)
    p = actions.add_parser("issue", parents=[common], help="a new token for a member")
    p.add_argument("email")
    p.add_argument("--label", default="command line")
    actions.add_parser("list", parents=[common], help="the team's tokens")
    p = actions.add_parser("revoke", parents=[common], help="revoke a token")
    p.add_argument("token_id")
    team = sub.add_parser("team", help="a team's members and invitations (admins)")
    actions = team.add_subparsers(dest="action", required=True, parser_class=_Parser)
    actions.add_parser("members", parents=[common], help="members and invitations")
    p = actions.add_parser(
        "create", parents=[common], help="a new team with its first admin (the operator's)"
    )
    p.add_argument("name")
    p.add_argument("--admin", required=True, metavar="EMAIL", help="its first admin's address")
    p = actions.add_parser("invite", parents=[common], help="invite an address, or change a role")
    p.add_argument("email")
    p.add_argument("--role", default="viewer", choices=("viewer", "editor", "admin"))
    p = actions.add_parser("remove", parents=[common], help="remove a member or an invitation")
    p.add_argument("email")


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


def _goal(text: str) -> tuple[str, float]:
    kpi, _, value = text.partition("=")
    try:
        if kpi.strip() in OBJECTIVES:
            return kpi.strip(), float(value)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r}: write conversions=N or revenue=X")


def _lift(text: str) -> tuple[str, float, float]:
    name, _, measured = text.rpartition("=")
    incremental, _, spend = measured.partition("@")
    try:
        return name.strip(), float(incremental), float(spend)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: write CAMPAIGN=INCREMENTAL_PER_DAY@SPEND, e.g. Search=120@400"
        ) from None


def _period(text: str) -> tuple[date, date]:
    first, sep, last = text.partition(":")
    try:
        if not sep:
            raise ValueError(text)
        return date.fromisoformat(first.strip()), date.fromisoformat(last.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a period: write START:END, e.g. 2026-08-01:2026-08-28"
        ) from None


def _day_or_period(text: str) -> tuple[date, date]:
    if ":" in text:
        return _period(text)
    day = _date(text)
    return day, day


def _filter(text: str) -> tuple[str, tuple[str, ...]]:
    column, sep, values = text.partition("=")
    if not sep or not column.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: write COLUMN=VALUE[,VALUE], e.g. channel=Meta")
    return column.strip(), tuple(v.strip() for v in values.split(","))


def _kpi_percent(text: str) -> tuple[str, float]:
    kpi, _, pct = text.partition("=")
    try:
        return kpi.strip(), float(pct.rstrip("%")) / 100
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write KPI=PCT, e.g. cpa=5") from None


def _kpi_text(text: str) -> tuple[str, str]:
    kpi, sep, value = text.partition("=")
    if not sep or not kpi.strip() or not value.strip():
        raise argparse.ArgumentTypeError(
            f"{text!r}: write KPI=VALUE, e.g. revenue_per_user=p99"
        ) from None
    return kpi.strip(), value.strip()
