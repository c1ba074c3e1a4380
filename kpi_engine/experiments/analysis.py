"""A/B/n experiments on a dataset: which data it is, one query of sufficient statistics, the
right test per KPI, corrections, guards, and a sentence a marketer can act on.

Three kinds of data (see METHODS.md):
  users      one row per randomisation unit (user): proportions, means, ratios over users
  totals     one row per variant with users (and conversions): proportions; means without
             per-user data have no variance, so they get an estimate and no p-value
  campaign   rows per day (or day x campaign) and variant: ratio KPIs by the delta method with
             days as units, because impressions and clicks are not independent
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from scipy import stats as st

from kpi_engine.errors import KpiLabError
from kpi_engine.identifiers import quote_identifier as q
from kpi_engine.kpis import formula as fx
from kpi_engine.kpis.catalog import Kpi, get_kpi
from kpi_engine.stats import compare
from kpi_engine.stats.multiple import CORRECTIONS, adjust
from kpi_engine.stats.power import reachable_mde, sample_size_per_arm
from kpi_engine.stats.srm import SRM_ALPHA, srm_check
from kpi_engine.stats.sufficient import MEAN, PROPORTION, RATIO, TOTALS, ArmStats
from kpi_engine.store import Dataset, Store

FAMILIES = ("both", "variants", "kpis")
MIN_USERS, MIN_CONVERSIONS, MIN_UNITS = 100, 25, 7
DEFAULT_TUNING = 5000
MAX_VARIANTS = 20
POWER_FOR_DAYS = 0.8


@dataclass(frozen=True)
class ExperimentSpec:
    variant_col: str
    control: str
    kpis: tuple[str, ...]
    unit_col: str | None = None
    correction: str = "holm"
    family: str = "both"
    sequential: bool = False
    tuning: float = DEFAULT_TUNING  # expected total units at decision time (sequential only)
    split: tuple[float, ...] | None = None  # intended shares: control first, then the others
    alpha: float = 0.05
    guardrails: tuple[tuple[str, float], ...] = ()  # (kpi, largest acceptable loss, e.g. 0.05)
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True)
class KpiShape:
    """How a KPI becomes per-unit numerators and denominators."""

    kind: str  # PROPORTION, MEAN or RATIO
    num: str  # column names (already resolved from roles)
    den: str | None
    scale: float = 1.0


@dataclass
class ExperimentResult:
    data_kind: str
    variants: list[str]
    units: str
    srm: dict
    results: list[dict]
    warnings: list[dict] = field(default_factory=list)
    guardrails: list[dict] = field(default_factory=list)
    power: dict = field(default_factory=dict)
    daily: pd.DataFrame | None = None  # per day, variant and KPI: the stats behind the charts

    def to_dict(self) -> dict:
        return {
            "data": {"kind": self.data_kind, "variants": self.variants, "units": self.units},
            "srm": self.srm,
            "results": self.results,
            "guardrails": self.guardrails,
            "power": self.power,
            "warnings": self.warnings,
        }


# -- which data, which KPI shapes ---------------------------------------------------------


def data_kind(dataset: Dataset, spec: ExperimentSpec) -> str:
    roles = dataset.roles
    if spec.unit_col and spec.unit_col != roles.get("date"):
        if dataset.kind == "user_level" or "unit" in roles and spec.unit_col == roles["unit"]:
            return "users"
    if "unit" in roles:
        return "users"
    if "users" in roles and "date" not in roles:
        return "totals"
    return "campaign"


ALLOWED = {
    "users": "conversion_rate, revenue_per_user and ratio KPIs such as aov",
    "totals": "conversion_rate",
    "campaign": "ratio KPIs: ctr, cpc, cpm, cvr, cpa, roas, aov, rpc",
}


def kpi_shape(kpi: Kpi, dataset: Dataset, kind: str) -> KpiShape:
    """Per-unit numerator and denominator of a KPI, or a message saying why it cannot be
    tested on this data."""
    node = fx.parse(kpi.formula)
    scale = 1.0
    if isinstance(node, fx.BinaryOp) and node.op == "*" and isinstance(node.right, fx.Number):
        node, scale = node.left, node.right.value
    roles = dataset.roles
    refuse = KpiLabError(f"KPI {kpi.id!r} cannot be tested on {kind} data: choose {ALLOWED[kind]}")
    if not (isinstance(node, fx.BinaryOp) and node.op == "/"):
        raise refuse
    num, den = node.left, node.right
    if not (isinstance(num, fx.Aggregate) and num.func == "sum" and isinstance(den, fx.Aggregate)):
        raise refuse
    per_unit = den.func == "count" and den.column == "unit"
    if (per_unit and kind == "campaign") or (
        not per_unit and (den.func != "sum" or kind == "totals")
    ):
        raise refuse
    # per-variant totals: the users column counts the units
    missing = [c for c in kpi.requires if c not in roles and not (kind == "totals" and c == "unit")]
    if missing:
        raise KpiLabError(
            f"KPI {kpi.id!r} needs the column(s) {', '.join(missing)}, which"
            f" dataset {dataset.name!r} does not have"
        )
    if per_unit:
        return KpiShape(
            PROPORTION if num.column == "conversions" else MEAN, roles[num.column], None, scale
        )
    return KpiShape(RATIO, roles[num.column], roles[den.column], scale)


# -- the one query --------------------------------------------------------------------------


def _stats_sql(dataset: Dataset, spec: ExperimentSpec, kind: str, shapes: dict[str, KpiShape]):
    roles = dataset.roles
    variant = q(spec.variant_col)
    date_col = roles.get("date")
    where = [f"{variant} IS NOT NULL"]
    params: list = []
    if spec.start is not None and date_col:
        where.append(f"{q(date_col)} >= ?")
        params.append(spec.start)
    if spec.end is not None and date_col:
        where.append(f"{q(date_col)} <= ?")
        params.append(spec.end)
    base = f"SELECT * FROM {dataset.table} WHERE {' AND '.join(where)}"
    if kind == "totals":
        users = q(roles["users"])
        cols = [f"sum({users}) AS n"]
        for i, shape in enumerate(shapes.values()):
            cols.append(f"sum({q(shape.num)}) AS m{i}")
        sql = (
            f"SELECT CAST({variant} AS VARCHAR) AS variant, NULL AS day, {', '.join(cols)}"
            f" FROM ({base}) GROUP BY 1"
        )
        return sql, params
    if kind == "users" and _one_row_per_unit(dataset, spec):
        # each row is a user already: no GROUP BY over millions of ids
        unit_cols = []
        for i, shape in enumerate(shapes.values()):
            m = f"coalesce(CAST({q(shape.num)} AS DOUBLE), 0)"
            unit_cols.append(
                f"CAST({m} > 0 AS DOUBLE) AS m{i}" if shape.kind == PROPORTION else f"{m} AS m{i}"
            )
            unit_cols.append(f"1.0 AS d{i}")
        day = q(date_col) if date_col else "NULL"
        units_sql = (
            f"SELECT CAST({variant} AS VARCHAR) AS variant, {day} AS day, "
            f"{', '.join(unit_cols)} FROM ({base})"
        )
        return _arm_sums_sql(units_sql, len(shapes)), params
    if kind == "users":
        unit = q(spec.unit_col or roles["unit"])
        keys = [unit]
        day = f"min({q(date_col)})" if date_col else "NULL"
    else:
        if not date_col:
            raise KpiLabError(
                f"dataset {dataset.name!r} has no date column: campaign experiments"
                " use days as units"
            )
        keys = [q(date_col)] + ([q(spec.unit_col)] if spec.unit_col else [])
        day = q(date_col)
    unit_cols = []
    for i, shape in enumerate(shapes.values()):
        if shape.kind == PROPORTION:
            unit_cols.append(f"CAST(coalesce(sum({q(shape.num)}), 0) > 0 AS DOUBLE) AS m{i}")
        else:
            unit_cols.append(f"CAST(coalesce(sum({q(shape.num)}), 0) AS DOUBLE) AS m{i}")
        den = f"CAST(coalesce(sum({q(shape.den)}), 0) AS DOUBLE)" if shape.den else "1.0"
        unit_cols.append(f"{den} AS d{i}")
    group = ", ".join(keys)
    units_sql = (
        f"SELECT CAST({variant} AS VARCHAR) AS variant, {day} AS day, "
        f"{', '.join(unit_cols)} FROM ({base}) GROUP BY {variant}, {group}"
    )
    return _arm_sums_sql(units_sql, len(shapes)), params


def _arm_sums_sql(units_sql: str, count: int) -> str:
    """Per variant and day: n units and, per KPI, Σm, Σm², Σd, Σd², Σm·d."""
    sums = ["count(*) AS n"]
    for i in range(count):
        sums += [
            f"sum(m{i}) AS m{i}",
            f"sum(m{i} * m{i}) AS mm{i}",
            f"sum(d{i}) AS d{i}",
            f"sum(d{i} * d{i}) AS dd{i}",
            f"sum(m{i} * d{i}) AS md{i}",
        ]
    return f"SELECT variant, day, {', '.join(sums)} FROM ({units_sql}) GROUP BY variant, day"


def _one_row_per_unit(dataset: Dataset, spec: ExperimentSpec) -> bool:
    unit = spec.unit_col or dataset.roles.get("unit")
    return unit == dataset.roles.get("unit") and dataset.report.get("unique_units") is True


def _arm(kind: str, row: dict, i: int, shape: KpiShape) -> ArmStats:
    if kind == "totals":
        return ArmStats(
            PROPORTION if shape.kind == PROPORTION else TOTALS, row["n"], row[f"m{i}"], row[f"m{i}"]
        )
    return ArmStats(
        shape.kind,
        row["n"],
        row[f"m{i}"],
        row[f"mm{i}"],
        row[f"d{i}"],
        row[f"dd{i}"],
        row[f"md{i}"],
    )


# -- analysis ---------------------------------------------------------------------------------


def run_experiment(store: Store, dataset: Dataset, spec: ExperimentSpec) -> ExperimentResult:
    if spec.variant_col not in dataset.column_names:
        raise KpiLabError(
            f"dataset {dataset.name!r} has no column {spec.variant_col!r}:"
            f" choose the variant column among {', '.join(dataset.dimensions)}"
        )
    if spec.correction not in CORRECTIONS:
        raise KpiLabError(f"unknown correction {spec.correction!r}: use holm, bh or none")
    if spec.family not in FAMILIES:
        raise KpiLabError(f"unknown family {spec.family!r}: use {', '.join(FAMILIES)}")
    if not spec.kpis:
        raise KpiLabError("choose at least one KPI to compare")
    kind = data_kind(dataset, spec)
    kpis = {k: get_kpi(k) for k in dict.fromkeys(spec.kpis)}
    shapes = {k: kpi_shape(kpi, dataset, kind) for k, kpi in kpis.items()}
    sql, params = _stats_sql(dataset, spec, kind, shapes)
    with store.cursor() as cur:
        rows = cur.execute(sql, params).df()
        contaminated = (
            _contaminated_units(cur, dataset, spec)
            if kind == "users" and not _one_row_per_unit(dataset, spec)
            else 0
        )
    variants = sorted(rows["variant"].unique().tolist())
    if spec.control not in variants:
        raise KpiLabError(
            f"no variant {spec.control!r} in column {spec.variant_col!r}: the"
            f" variants are {', '.join(variants) or 'none'}"
        )
    if len(variants) > MAX_VARIANTS:
        raise KpiLabError(
            f"column {spec.variant_col!r} has {len(variants):,} values: an experiment compares a"
            f" few variants (at most {MAX_VARIANTS}); choose the column that names them"
        )
    if len(variants) < 2:
        raise KpiLabError(
            f"column {spec.variant_col!r} has a single variant ({spec.control}):"
            " an experiment needs at least two"
        )
    others = [v for v in variants if v != spec.control]
    order = [spec.control, *others]
    totals = rows.drop(columns="day").groupby("variant").sum(numeric_only=True)
    if (totals["n"] <= 0).any():
        raise KpiLabError("a variant has zero users or units: check the variant column")
    warnings: list[dict] = []
    if contaminated:
        warnings.append(
            _warn(
                "units_in_several_variants",
                contaminated,
                f"{contaminated:,} units appear in more than one variant; each is"
                " counted in every variant it appears in",
            )
        )
    srm = _srm(rows, totals, order, spec, kind, warnings)
    results = []
    for i, (kpi_id, shape) in enumerate(shapes.items()):
        control = _arm(kind, totals.loc[spec.control].to_dict(), i, shape)
        for variant in others:
            arm = _arm(kind, totals.loc[variant].to_dict(), i, shape)
            results.append(
                _compare(kpis[kpi_id], shape, control, arm, variant, spec, kind, rows, i)
            )
    _adjust(results, spec)
    for result in results:
        result["verdict"] = _verdict(result, spec)
        result.pop("_days_more", None)
    guardrails = _guardrails(results, spec)
    if kind == "users" and "conversion_rate" in shapes:
        warnings += _simpson(rows, list(shapes).index("conversion_rate"), spec, others)
    power = _power(results, totals, spec, rows)
    daily = _daily(rows, shapes, kind)
    units = {"users": "users", "totals": "users", "campaign": "days"}[kind]
    if kind == "campaign" and spec.unit_col:
        units = f"days x {spec.unit_col}"
    return ExperimentResult(kind, order, units, srm, results, warnings, guardrails, power, daily)


def _warn(code: str, count: int, message: str, examples: list | None = None) -> dict:
    return {"code": code, "count": int(count), "message": message, "examples": examples or []}


def _contaminated_units(cur, dataset: Dataset, spec: ExperimentSpec) -> int:
    unit = q(spec.unit_col or dataset.roles["unit"])
    variant = q(spec.variant_col)
    return cur.execute(
        f"SELECT count(*) FROM (SELECT {unit} FROM {dataset.table} WHERE {variant} IS NOT NULL"
        f" GROUP BY {unit} HAVING count(DISTINCT {variant}) > 1)"
    ).fetchone()[0]


def _srm(
    rows: pd.DataFrame,
    totals: pd.DataFrame,
    order: list[str],
    spec: ExperimentSpec,
    kind: str,
    warnings: list[dict],
) -> dict:
    weights = list(spec.split) if spec.split else None
    if weights is not None and len(weights) != len(order):
        raise KpiLabError(
            f"--split has {len(weights)} shares for {len(order)} variants"
            f" ({', '.join(order)}): give one per variant, control first"
        )
    if kind == "campaign":
        return {
            "p_value": None,
            "flag": False,
            "checked": False,
            "reason": "campaign rows have no randomisation units (impressions and clicks are"
            " not users), so the split cannot be checked",
        }
    counts = [float(totals.loc[v, "n"]) for v in order]
    result = srm_check(counts, weights)
    out = {
        "p_value": result.p_value,
        "flag": result.flag,
        "checked": True,
        "chi2": result.chi2,
        "counts": dict(zip(order, counts, strict=True)),
        "expected_share": dict(zip(order, result.expected_share, strict=True)),
    }
    if result.flag:
        warnings.append(
            _warn(
                "srm",
                1,
                f"sample ratio mismatch: the users are not split as"
                f" intended (p = {result.p_value:.2g}); fix the assignment before"
                " trusting any result",
            )
        )
    per_day = rows.dropna(subset=["day"])
    if not per_day.empty:
        bad_days = []
        for day, part in per_day.groupby("day"):
            day_counts = [float(part.loc[part["variant"] == v, "n"].sum()) for v in order]
            if min(day_counts) > 0 and srm_check(day_counts, weights).p_value < SRM_ALPHA:
                bad_days.append(str(pd.Timestamp(day).date()))
        out["days_flagged"] = bad_days
        if bad_days:
            warnings.append(
                _warn(
                    "srm_by_day",
                    len(bad_days),
                    f"the split drifts on"
                    f" {len(bad_days)} day(s): allocation changed during the test",
                    bad_days[:3],
                )
            )
    return out


def _compare(
    kpi: Kpi,
    shape: KpiShape,
    control: ArmStats,
    arm: ArmStats,
    variant: str,
    spec: ExperimentSpec,
    kind: str,
    rows: pd.DataFrame,
    i: int,
) -> dict:
    higher = kpi.direction != "lower"
    alpha = spec.alpha
    out = {
        "kpi": kpi.id,
        "variant": variant,
        "control_value": control.value * shape.scale,
        "variant_value": arm.value * shape.scale,
        "abs_lift": (arm.value - control.value) * shape.scale,
        "rel_lift": arm.value / control.value - 1 if control.value else math.nan,
        "n_control": control.n,
        "n_variant": arm.n,
        "direction": kpi.direction,
    }
    if not (control.has_variance and arm.has_variance) or control.value == 0:
        reason = (
            "only totals per variant: without per-user values there is no variance, so"
            " no confidence interval and no p-value"
            if arm.kind == TOTALS
            else "too few units or a zero control value to estimate a variance"
        )
        out.update(
            ci_abs=[None, None],
            ci_rel=[None, None],
            p_value=None,
            chance_to_beat=None,
            expected_loss=None,
            method=f"estimate only ({reason})",
            significant=False,
        )
        return out
    rel = compare.relative(control, arm, alpha)
    absolute = compare.absolute(control, arm, alpha)
    details: dict = {"se_rel": rel.se, "se_abs": absolute.se * shape.scale, "dof": rel.dof}
    p_value = rel.p_value
    ci_abs = absolute.ci
    if shape.kind == PROPORTION:
        z, p_value = compare.pooled_z(control, arm)
        ci_abs = compare.newcombe_ci(control, arm, alpha)
        details.update(
            z=z,
            wald_ci=list(compare.wald_ci(control, arm, alpha)),
            log_ratio_ci=list(compare.log_ratio_ci(control, arm, alpha)),
            exact_chance_to_beat=compare.beta_chance_to_beat(control, arm)
            if arm.sum_m < 5000
            else None,
        )
        method = (
            "two-proportion z test (pooled); Newcombe CI of the difference;"
            " delta-method CI of the relative lift"
        )
        if compare.small_counts(control, arm):
            p_value = compare.fisher_p(control, arm)
            method = "Fisher's exact test (small counts); Newcombe CI; delta-method relative CI"
    elif shape.kind == MEAN:
        method = "Welch t test from sums and sums of squares; delta-method relative CI"
    else:
        units = "days" if kind == "campaign" else "users"
        method = (
            f"delta method over {int(control.n + arm.n)} units ({units}),"
            f" Welch t with {rel.dof:.1f} degrees of freedom"
        )
    ci_rel = rel.ci
    if spec.sequential:
        n_total = control.n + arm.n
        seq_rel = compare.sequential(rel, n_total, spec.tuning, alpha)
        seq_abs = compare.sequential(absolute, n_total, spec.tuning, alpha)
        ci_rel, ci_abs, p_value = seq_rel.ci, seq_abs.ci, seq_rel.p_value
        method += f"; sequential confidence sequence (tuning {spec.tuning:,.0f} units)"
    out.update(
        ci_abs=[ci_abs[0] * shape.scale, ci_abs[1] * shape.scale],
        ci_rel=list(ci_rel),
        p_value=float(p_value),
        chance_to_beat=compare.chance_to_beat(rel.estimate, rel.se, higher),
        expected_loss=compare.expected_loss(rel.estimate, rel.se, higher),
        method=method + "; Bayesian: flat prior, normal posterior of the relative lift",
        details=details,
        enough_data=_enough(shape, control, arm),
        _days_more=_days_more(rel, control, arm, rows, spec, i),
    )
    return out


def _enough(shape: KpiShape, control: ArmStats, arm: ArmStats) -> bool:
    if shape.kind == PROPORTION:
        return (
            min(control.n, arm.n) >= MIN_USERS and min(control.sum_m, arm.sum_m) >= MIN_CONVERSIONS
        )
    if shape.kind == MEAN:
        return min(control.n, arm.n) >= MIN_USERS
    return min(control.n, arm.n) >= MIN_UNITS


def _days_more(
    rel: compare.Comparison,
    control: ArmStats,
    arm: ArmStats,
    rows: pd.DataFrame,
    spec: ExperimentSpec,
    i: int,
) -> float | None:
    """More days at the current traffic until the observed lift would be detected with 80%
    power (the standard error shrinks with the square root of the units)."""
    days = rows["day"].dropna().nunique()
    if not days or rel.estimate == 0 or not rel.se:
        return None
    z = st.norm.ppf(1 - spec.alpha / 2) + st.norm.ppf(POWER_FOR_DAYS)
    n_now = min(control.n, arm.n)
    n_needed = n_now * (z * rel.se / abs(rel.estimate)) ** 2
    per_day = n_now / days
    return max(0.0, (n_needed - n_now) / per_day)


def _adjust(results: list[dict], spec: ExperimentSpec) -> None:
    key = {"both": lambda r: 0, "variants": lambda r: r["kpi"], "kpis": lambda r: r["variant"]}
    groups: dict = {}
    for r in results:
        groups.setdefault(key[spec.family](r), []).append(r)
    for members in groups.values():
        raw = [math.nan if r["p_value"] is None else r["p_value"] for r in members]
        adjusted = adjust(raw, spec.correction)
        for r, p in zip(members, adjusted, strict=True):
            r["p_value_adjusted"] = None if math.isnan(p) else p
            r["significant"] = r["p_value_adjusted"] is not None and p < spec.alpha


def _p(p: float) -> str:
    return "p < 0.0001" if p < 0.0001 else f"p = {p:.2g}"


def _pct(x: float) -> str:
    text = f"{x * 100:+.1f}%" if abs(x) < 0.1 else f"{x * 100:+.0f}%"
    return text.replace("-", "−")


def _verdict(r: dict, spec: ExperimentSpec) -> str:
    kpi = get_kpi(r["kpi"])
    name, v = kpi.name, r["variant"]
    if r["p_value"] is None:
        return (
            f"{v} vs control on {name}: {r['variant_value']:.4g} vs {r['control_value']:.4g}"
            f" ({_pct(r['rel_lift'])}); {r['method'].removeprefix('estimate only (')[:-1]}."
        )
    if not r.get("enough_data", True):
        return (
            f"Not enough data yet for {name}: {r['n_variant']:,.0f} units in {v}. Wait for at"
            f" least {MIN_USERS} users and {MIN_CONVERSIONS} conversions (or {MIN_UNITS} days)"
            " per variant before reading this result."
        )
    rel = r["rel_lift"]
    verb = "raises" if rel > 0 else "lowers" if rel < 0 else "does not change"
    lo, hi = r["ci_rel"]
    level = f"{1 - spec.alpha:.0%}"
    size = _pct(abs(rel)).lstrip("+")
    text = f"{v} {verb} {name} by {size} ({level} CI {_pct(lo)} to {_pct(hi)}); "
    better = r["chance_to_beat"]
    if r["significant"]:
        adjusted = (
            ""
            if spec.correction == "none"
            else f" after {'Holm' if spec.correction == 'holm' else 'BH'} correction"
        )
        good = (rel > 0) == (r["direction"] != "lower")
        text += f"significant ({_p(r['p_value_adjusted'])}{adjusted});"
        text += f" {better:.0%} chance {v} is better"
        text += f": {v} wins on {name}." if good else f": {v} is worse on {name}."
        return text
    if r["p_value"] < spec.alpha and spec.correction != "none":
        text += (
            f"not significant after {'Holm' if spec.correction == 'holm' else 'BH'}"
            f" correction ({_p(r['p_value_adjusted'])}, {_p(r['p_value'])} before)"
        )
    else:
        text += f"not significant at {spec.alpha:.0%}"
    text += f"; {better:.0%} chance {v} is better"
    days = r.get("_days_more")
    if days is not None and math.isfinite(days) and days < 365:
        text += f"; keep testing: about {math.ceil(days)} more days at current traffic"
    elif days is not None:
        text += "; the difference is too small to detect at this traffic: stop or rethink the test"
    return text + "."


def _guardrails(results: list[dict], spec: ExperimentSpec) -> list[dict]:
    out = []
    for kpi_id, limit in spec.guardrails:
        for r in results:
            if r["kpi"] != kpi_id or r["ci_rel"][0] is None:
                continue
            lower_better = r["direction"] == "lower"
            worst = -r["ci_rel"][1] if lower_better else r["ci_rel"][0]
            out.append(
                {
                    "kpi": kpi_id,
                    "variant": r["variant"],
                    "max_loss": limit,
                    "worst_case": worst,
                    "status": "pass" if worst >= -limit else "fail",
                }
            )
    return out


def _simpson(rows: pd.DataFrame, i: int, spec: ExperimentSpec, others: list[str]) -> list[dict]:
    """When the split changes from day to day, a pooled comparison can point the wrong way:
    compare it with the day-stratified (post-stratified) difference."""
    per_day = rows.dropna(subset=["day"])
    if per_day["day"].nunique() < 2:
        return []
    out = []
    for variant in others:
        table = per_day[per_day["variant"].isin([spec.control, variant])]
        pivot_n = table.pivot_table(
            index="day", columns="variant", values="n", aggfunc="sum"
        ).dropna()
        pivot_m = table.pivot_table(
            index="day", columns="variant", values=f"m{i}", aggfunc="sum"
        ).loc[pivot_n.index]
        if len(pivot_n) < 2:
            continue
        shares = pivot_n[variant] / pivot_n.sum(axis=1)
        _, p_split, _, _ = st.chi2_contingency(pivot_n.values.T)
        pa = pivot_m[spec.control] / pivot_n[spec.control]
        pb = pivot_m[variant] / pivot_n[variant]
        w = pivot_n.sum(axis=1) / pivot_n.values.sum()
        stratified = float((w * (pb - pa)).sum())
        var = float(
            (
                w**2 * (pa * (1 - pa) / pivot_n[spec.control] + pb * (1 - pb) / pivot_n[variant])
            ).sum()
        )
        pooled = float(
            pivot_m[variant].sum() / pivot_n[variant].sum()
            - pivot_m[spec.control].sum() / pivot_n[spec.control].sum()
        )
        se = math.sqrt(var) if var > 0 else math.nan
        disagree = (stratified * pooled < 0) or (
            se and (abs(stratified) > 1.96 * se) != (abs(pooled) > 1.96 * se)
        )
        if p_split < SRM_ALPHA and disagree:
            out.append(
                _warn(
                    "simpson",
                    1,
                    f"the share of users in {variant} changed from day to day"
                    f" ({shares.min():.0%} to {shares.max():.0%}) and the day-stratified"
                    f" conversion difference ({stratified:+.4f}) disagrees with the pooled one"
                    f" ({pooled:+.4f}): trust the stratified estimate",
                )
            )
    return out


def _power(
    results: list[dict], totals: pd.DataFrame, spec: ExperimentSpec, rows: pd.DataFrame
) -> dict:
    conv = next((r for r in results if r["kpi"] == "conversion_rate"), None)
    if conv is None or not 0 < conv["control_value"] < 1:
        return {}
    baseline = conv["control_value"]
    n_per_arm = float(totals["n"].min())
    days = rows["day"].dropna().nunique()
    mde = reachable_mde(baseline, n_per_arm, spec.alpha, 0.8)
    out = {
        "baseline": baseline,
        "n_per_arm": n_per_arm,
        "reachable_mde": mde,
        "alpha": spec.alpha,
        "power": 0.8,
    }
    if days:
        out["users_per_day_per_arm"] = n_per_arm / days
    if (
        conv["rel_lift"]
        and math.isfinite(conv["rel_lift"])
        and 0 < baseline * (1 + conv["rel_lift"]) < 1
    ):
        needed = sample_size_per_arm(baseline, conv["rel_lift"], spec.alpha, 0.8)
        out["n_per_arm_for_observed_lift"] = needed
    return out


def _daily(rows: pd.DataFrame, shapes: dict[str, KpiShape], kind: str) -> pd.DataFrame | None:
    """Per day, variant and KPI: the day's value and the cumulative sufficient statistics."""
    per_day = rows.dropna(subset=["day"]).sort_values("day")
    if per_day.empty:
        return None
    records = []
    for i, (kpi_id, shape) in enumerate(shapes.items()):
        for variant, part in per_day.groupby("variant"):
            cumulative = None
            for _, row in part.iterrows():
                arm = _arm(kind, row.to_dict(), i, shape)
                cumulative = arm if cumulative is None else cumulative + arm
                records.append(
                    {
                        "day": row["day"],
                        "variant": variant,
                        "kpi": kpi_id,
                        "value": arm.value * shape.scale,
                        "n": arm.n,
                        "cumulative": cumulative,
                    }
                )
    return pd.DataFrame(records)


def cumulative_lifts(result: ExperimentResult, spec: ExperimentSpec) -> pd.DataFrame:
    """Relative lift and its CI as the days accumulate, per KPI and variant (for the chart)."""
    if result.daily is None:
        return pd.DataFrame(columns=["day", "kpi", "variant", "rel_lift", "ci_low", "ci_high"])
    daily = result.daily
    control = spec.control
    out = []
    for (kpi_id, variant), part in daily[daily["variant"] != control].groupby(["kpi", "variant"]):
        base = daily[(daily["kpi"] == kpi_id) & (daily["variant"] == control)].sort_values("day")
        days, totals = base["day"].tolist(), base["cumulative"].tolist()
        for day, b in zip(part["day"].tolist(), part["cumulative"].tolist(), strict=True):
            at = bisect_right(days, day) - 1  # the control's running total on that day
            if at < 0:
                continue
            a = totals[at]
            if not (a.has_variance and b.has_variance) or not a.value:
                continue
            rel = compare.relative(a, b, spec.alpha)
            out.append(
                {
                    "day": day,
                    "kpi": kpi_id,
                    "variant": variant,
                    "rel_lift": rel.estimate,
                    "ci_low": rel.ci[0],
                    "ci_high": rel.ci[1],
                }
            )
    return pd.DataFrame(out)


def testable_kpis(dataset: Dataset, kind: str) -> list[str]:
    """The catalog KPIs an experiment on this dataset can compare."""
    from kpi_engine.kpis.catalog import CATALOG

    found = []
    for kpi in CATALOG.values():
        try:
            kpi_shape(kpi, dataset, kind)
        except KpiLabError:
            continue
        found.append(kpi.id)
    return found


def forest_rows(result: ExperimentResult) -> pd.DataFrame:
    """One row per KPI and variant with the relative lift and its CI (for a forest plot)."""
    rows = [
        {
            "label": f"{get_kpi(r['kpi']).name} · {r['variant']}",
            "kpi": r["kpi"],
            "variant": r["variant"],
            "rel_lift": r["rel_lift"],
            "ci_low": r["ci_rel"][0],
            "ci_high": r["ci_rel"][1],
            "significant": r.get("significant", False),
            "direction": r["direction"],
        }
        for r in result.results
        if r["ci_rel"][0] is not None
    ]
    return pd.DataFrame(rows)
