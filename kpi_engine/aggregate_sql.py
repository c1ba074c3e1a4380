"""Every query an analysis runs, in one place: KPIs become aggregate SQL here for the KPIs view,
the experiments and the budget, so that only small aggregates ever leave the database.

- ``kpi_sql``: KPIs from their catalog formulas, as totals, by dimensions and by period (the
  KPIs view; the budget's daily spend and outcome per campaign).
- ``arm_sums_sql`` and ``variant_totals_sql``: an experiment's sufficient statistics (n, Σm,
  Σm², Σd, Σd², Σm·d per variant and day, over randomisation units, with exclusions, caps and
  CUPED covariates applied per unit); ``exposure_weeks_sql``: the same by week since exposure.
- ``date_range_sql``, ``distinct_sql``, ``shared_units_sql``: what the pages and checks ask;
  ``profile_sql``: what attaching a dataset that lives elsewhere needs to know of it.

Only names from the dataset's registry become SQL, always quoted; dates, filter values and
limits are bound parameters. The SQL is kept portable (no SELECT alias reused in WHERE,
typed literals) so the same text can be transpiled for another engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING

from kpi_engine.errors import KpiLabError
from kpi_engine.identifiers import quote_identifier as q
from kpi_engine.kpis import formula as fx

if TYPE_CHECKING:
    from kpi_engine.currencies.conversion import Conversion
    from kpi_engine.datasets import Dataset
    from kpi_engine.kpis.catalog import Kpi

GRAINS = ("day", "week", "month")
PERIOD = "period"
ONE = "CAST(1 AS DOUBLE)"


@dataclass(frozen=True)
class Rows:
    """Which rows an analysis reads: dates (inclusive), filters on columns (values compared
    as text), one currency, and columns that must not be empty; with ``convert``, every
    row's money in one currency instead (``currency`` is then that one)."""

    start: date | None = None
    end: date | None = None
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    currency: str | None = None
    present: tuple[str, ...] = ()
    convert: Conversion | None = None

    def needing(self, *columns: str) -> Rows:
        """The same rows, where ``columns`` are not empty too."""
        return replace(self, present=(*self.present, *columns))


def column(dataset: Dataset, name: str, field: str = "by") -> str:
    """A column named by its name or by its role, or an error naming ``field``."""
    if name in dataset.column_names:
        return name
    if name in dataset.roles:
        return dataset.roles[name]
    raise KpiLabError(
        f"names no column {name!r} of dataset {dataset.name!r}: choose one of"
        f" {', '.join(dataset.dimensions) or '(no dimension columns)'}",
        field,
    )


def where_sql(dataset: Dataset, rows: Rows) -> tuple[str, list]:
    """`` WHERE ...`` (or nothing) and its parameters."""
    where: list[str] = []
    params: list = []
    if rows.start is not None or rows.end is not None:
        if not dataset.date_column:
            raise KpiLabError(
                f"cannot be set: dataset {dataset.name!r} has no date column", "start"
            )
        if rows.start and rows.end and rows.start > rows.end:
            raise KpiLabError(f"{rows.start} is after the end date {rows.end}", "start")
        day = q(dataset.date_column)
        if rows.start is not None:
            where.append(f"{day} >= ?")
            params.append(rows.start)
        if rows.end is not None:
            where.append(f"{day} <= ?")
            params.append(rows.end)
    for name in rows.present:
        where.append(f"{q(column(dataset, name))} IS NOT NULL")
    filters = list(rows.filters)
    if rows.currency is not None and rows.convert is None:
        if "currency" not in dataset.roles:
            raise KpiLabError(
                f"cannot be chosen: dataset {dataset.name!r} has no currency column", "currency"
            )
        filters.append(("currency", (rows.currency,)))
    for name, values in filters:
        col = q(column(dataset, name, "filters"))
        if not values:
            where.append("FALSE")
            continue
        where.append(f"CAST({col} AS VARCHAR) IN ({', '.join('?' for _ in values)})")
        params.extend(str(v) for v in values)
    return (" WHERE " + " AND ".join(where) if where else ""), params


def source_sql(dataset: Dataset, rows: Rows) -> tuple[str, list]:
    """What the rows are read from: the dataset's table, or, converting, a subquery with the
    same columns whose money is multiplied by its day's factor (a row whose currency has no
    factor keeps its other columns, its money empty)."""
    conversion = rows.convert
    if conversion is None:
        return dataset.table, []
    money = set(conversion.money)
    columns = ", ".join(
        f"t.{q(c.name)} * f.factor AS {q(c.name)}" if c.name in money else f"t.{q(c.name)}"
        for c in dataset.columns
    )
    if not conversion.runs:  # no rows in a currency with rates: no money
        nothing = "(SELECT CAST(NULL AS DOUBLE) AS factor) f"
        return f"(SELECT {columns} FROM {dataset.table} t CROSS JOIN {nothing})", []
    runs = ", ".join("(?, ?, ?, ?)" for _ in conversion.runs)
    params = [value for run in conversion.runs for value in run]
    code = (
        f"upper(trim(CAST(t.{q(conversion.column)} AS VARCHAR)))"
        if conversion.column
        else "CAST(? AS VARCHAR)"
    )
    if not conversion.column:
        params.append(conversion.fixed)
    day = f"t.{q(dataset.date_column)}"
    return (
        f"(SELECT {columns} FROM {dataset.table} t LEFT JOIN (VALUES {runs})"
        f" AS f(currency, first_day, next_day, factor) ON {code} = f.currency"
        f" AND {day} >= f.first_day AND {day} < f.next_day)",
        params,
    )


def kpi_expression(dataset: Dataset, kpi: Kpi) -> str:
    """A KPI's formula as one aggregate expression over the dataset's columns."""
    roles = dataset.roles
    numeric = numeric_columns(dataset)

    def column_sql(name: str) -> str:
        if name in roles:
            return q(roles[name])
        if name in numeric:
            return q(name)
        raise KpiLabError(
            f"KPI {kpi.id!r} needs the column {name!r}, which dataset {dataset.name!r} does not"
            f" have (it needs: {', '.join(kpi.requires)})",
            "kpis",
        )

    return fx.to_sql(fx.parse(kpi.formula), column_sql)


def numeric_columns(dataset: Dataset) -> set[str]:
    """Columns without a role that a formula may name: the numeric ones."""
    return {c.name for c in dataset.columns if c.role is None and _numeric(c.type)}


def _numeric(duck_type: str) -> bool:
    t = duck_type.upper()
    return (
        t.startswith(("DECIMAL", "DOUBLE", "FLOAT", "REAL"))
        or t.endswith("INT")
        or t in ("INTEGER", "BOOLEAN", "HUGEINT", "UHUGEINT")
    )


def period_expression(dataset: Dataset, grain: str) -> str:
    if grain not in GRAINS:
        raise KpiLabError(f"{grain!r} is not a grain: use one of {', '.join(GRAINS)}", "grain")
    if not dataset.date_column:
        raise KpiLabError(f"needs a date column, which dataset {dataset.name!r} lacks", "grain")
    return f"CAST(date_trunc('{grain}', {q(dataset.date_column)}) AS DATE)"


def kpi_sql(
    dataset: Dataset,
    kpis: Sequence[Kpi],
    by: Sequence[str] = (),
    grain: str | None = None,
    rows: Rows | None = None,
    sort: str | None = None,
    limit: int | None = None,
) -> tuple[str, list]:
    """KPIs as one aggregate: one row of totals, or a row per group (``by`` columns, and a
    leading ``period`` column for a ``grain``), ordered by the groups or, with ``sort``, by
    that KPI (largest first, n/a last); at most ``limit`` rows."""
    if not kpis:
        raise KpiLabError("choose at least one KPI")
    rows = rows or Rows()
    select: list[str] = []
    groups: list[str] = []
    if grain is not None:
        expr = period_expression(dataset, grain)
        select.append(f"{expr} AS {PERIOD}")
        groups.append(expr)
        rows = rows.needing(dataset.date_column)
    for name in by:
        col = q(column(dataset, name))
        select.append(f"{col} AS {q(name)}")
        groups.append(col)
    ids = [kpi.id for kpi in kpis]
    select += [f"{kpi_expression(dataset, kpi)} AS {q(kpi.id)}" for kpi in kpis]
    source, params = source_sql(dataset, rows)
    where, where_params = where_sql(dataset, rows)
    params += where_params
    sql = f"SELECT {', '.join(select)} FROM {source} AS src{where}"
    if groups:
        sql += f" GROUP BY {', '.join(groups)}"
    if sort is not None:
        if sort not in ids:
            raise KpiLabError(f"{sort!r} is not one of the KPIs asked for", "sort")
        sql += f" ORDER BY {q(sort)} DESC NULLS LAST"
    elif groups:
        sql += f" ORDER BY {', '.join(groups)} NULLS LAST"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return sql, params


def date_range_sql(dataset: Dataset, rows: Rows | None = None) -> tuple[str, list]:
    """The first and the last day of the rows."""
    day = q(dataset.date_column)
    where, params = where_sql(dataset, rows or Rows())
    return f"SELECT min({day}) AS first_day, max({day}) AS last_day FROM {dataset.table}{where}", (
        params
    )


def days_sql(dataset: Dataset, rows: Rows) -> tuple[str, list]:
    """On how many days the rows have data."""
    day = q(dataset.date_column)
    where, params = where_sql(dataset, rows)
    return f"SELECT count(DISTINCT {day}) AS days FROM {dataset.table}{where}", params


def currency_days_sql(dataset: Dataset, currency: str | None) -> tuple[str, list]:
    """The days each currency (its column's values, upper case) has rows on."""
    day = q(dataset.date_column)
    code = f"upper(trim(CAST({q(currency)} AS VARCHAR)))" if currency else "CAST(NULL AS VARCHAR)"
    return (
        f"SELECT {code} AS currency, CAST({day} AS DATE) AS day FROM {dataset.table}"
        f" WHERE {day} IS NOT NULL GROUP BY 1, 2",
        [],
    )


def distinct_sql(dataset: Dataset, name: str, limit: int) -> tuple[str, list]:
    """A column's distinct values as text, sorted (for filter widgets)."""
    col = q(name)
    return (
        f"SELECT DISTINCT CAST({col} AS VARCHAR) AS value FROM {dataset.table}"
        f" WHERE {col} IS NOT NULL ORDER BY value LIMIT ?",
        [int(limit)],
    )


def preview_sql(dataset: Dataset, limit: int) -> tuple[str, list]:
    """The first rows, as stored (the Data page's preview and download)."""
    return f"SELECT * FROM {dataset.table} LIMIT ?", [int(limit)]


def profile_sql(dataset: Dataset) -> tuple[str, list]:
    """What registering a dataset needs to know of its rows: how many, how many have a day,
    and how many distinct units (to tell whether each row is a unit)."""
    dated = f"count({q(dataset.date_column)})" if dataset.date_column else "count(*)"
    unit = dataset.roles.get("unit")
    units = f"count(DISTINCT {q(unit)})" if unit else "CAST(NULL AS BIGINT)"
    return f"SELECT count(*) AS n, {dated} AS dated, {units} AS units FROM {dataset.table}", []


# -- experiments ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cap:
    """Winsorising bounds of a per-unit value: numbers, or, where ``*_pct`` is set,
    percentiles (0-1) of every unit's value in the analysis, pooled across variants."""

    lower: float | None = None
    upper: float | None = None
    lower_pct: bool = False
    upper_pct: bool = False


@dataclass(frozen=True)
class Measure:
    """One KPI of an experiment per randomisation unit: a numerator m over a denominator d
    (d = 1 when ``den`` is None). ``binary``: m is 1 when the unit's numerator is above 0.
    ``cap`` winsorises m and d (and the covariate with m's bounds). A covariate x for CUPED
    comes from a column (the unit's largest value) or, with ``pre_period``, from the
    measure's own rows before the unit's exposure."""

    num: str
    den: str | None = None
    binary: bool = False
    cap: Cap | None = None
    covariate: str | None = None
    pre_period: bool = False

    @property
    def has_covariate(self) -> bool:
        return self.covariate is not None or self.pre_period


@dataclass(frozen=True)
class Units:
    """How rows become randomisation units: the rows with the same ``keys`` (a user; a day,
    or a day and a campaign) in one variant, or every row when ``one_row_each``.
    ``exclude_shared`` drops units seen in more than one variant; ``segment`` adds per-segment
    sums (a unit's segment is the smallest value among its rows); the pre-period of CUPED is
    the ``pre_days`` days before ``pre_start``, or before each unit's first day."""

    keys: tuple[str, ...]
    one_row_each: bool = False
    exclude_shared: bool = False
    segment: str | None = None
    pre_days: int = 14
    pre_start: date | None = None


def _rows_sql(dataset: Dataset, variant: str, rows: Rows) -> tuple[str, list]:
    source, params = source_sql(dataset, rows)
    where, where_params = where_sql(dataset, rows.needing(variant))
    return f"SELECT * FROM {source} AS src{where}", params + where_params


def _as_text(name: str) -> str:
    return f"CAST({q(name)} AS VARCHAR)"


def _moments(i: int) -> list[str]:
    """Measure i's sums over units: Σm, Σm², Σd, Σd², Σm·d."""
    return [
        f"sum(m{i}) AS m{i}",
        f"sum(m{i} * m{i}) AS mm{i}",
        f"sum(d{i}) AS d{i}",
        f"sum(d{i} * d{i}) AS dd{i}",
        f"sum(m{i} * d{i}) AS md{i}",
    ]


def _one_variant(variant: str) -> str:
    """A group's rows all carry one variant (cheaper than counting distinct values)."""
    return f"min({_as_text(variant)}) = max({_as_text(variant)})"


def _units_sql(dataset: Dataset, variant: str, measures: Sequence[Measure], units: Units) -> str:
    """One row per unit from ``base``: variant, day (its first), segment, key k0, m{i}, d{i}
    and x{i} (a covariate column). Grouped rows are aggregated; with ``one_row_each`` every
    row is a unit as it is."""
    grouped = not units.one_row_each
    shared = grouped and units.exclude_shared

    def agg(func: str, expr: str) -> str:
        return f"{func}({expr})" if grouped else expr

    def value(col: str) -> str:
        return f"coalesce(CAST({agg('sum', q(col))} AS DOUBLE), 0)"

    def largest(col: str) -> str:
        return f"coalesce({agg('max', f'CAST({q(col)} AS DOUBLE)')}, 0)"

    date_col = dataset.date_column
    select = [
        f"{agg('min', _as_text(variant)) if shared else _as_text(variant)} AS variant",
        f"{agg('min', q(date_col)) if date_col else 'NULL'} AS day",
    ]
    segment = agg("min", _as_text(units.segment)) if units.segment else None
    tail = ""
    if grouped:
        keys = ", ".join(q(k) for k in (*(() if shared else (variant,)), *units.keys))
        tail = f" GROUP BY {keys}"
        if shared:
            tail += f" HAVING {_one_variant(variant)}"
    if grouped and date_col:
        select.append(f"date_diff('day', min({q(date_col)}), max({q(date_col)})) AS span")
    if segment:
        select.append(f"coalesce({segment}, '') AS segment")
    if any(m.pre_period for m in measures):
        select.append(f"{q(units.keys[0])} AS k0")
    for i, m in enumerate(measures):
        total = value(m.num)
        select.append(f"CAST({total} > 0 AS DOUBLE) AS m{i}" if m.binary else f"{total} AS m{i}")
        select.append(f"{value(m.den) if m.den else ONE} AS d{i}")
        if m.covariate:
            select.append(f"{largest(m.covariate)} AS x{i}")
    return f"SELECT {', '.join(select)} FROM base b{tail}"


def _pre_period_sql(
    dataset: Dataset, measures: Sequence[Measure], units: Units, rows: Rows
) -> tuple[str, list]:
    """Per unit k0, each pre-period measure's sum over the unit's rows (any variant, or none)
    dated in the ``pre_days`` days before the test's start or the unit's first day."""
    day, key = q(dataset.date_column), q(units.keys[0])
    cols = []
    for i, m in enumerate(measures):
        if m.pre_period:
            total = f"CAST(coalesce(sum(p.{q(m.num)}), 0) AS DOUBLE)"
            cols.append(f"CAST({total} > 0 AS DOUBLE) AS x{i}" if m.binary else f"{total} AS x{i}")
    source, params = source_sql(dataset, rows)
    if units.pre_start is not None:
        window = f"p.{day} >= ? AND p.{day} < ?"
        params += [units.pre_start - timedelta(days=units.pre_days), units.pre_start]
    else:
        window = f"p.{day} < u.day AND date_diff('day', p.{day}, u.day) <= ?"
        params.append(int(units.pre_days))
    return (
        f"SELECT u.k0 AS k0, {', '.join(cols)} FROM units u JOIN {source} p"
        f" ON p.{key} = u.k0 WHERE {window} GROUP BY u.k0",
        params,
    )


def _bound_sql(value: float | None, pct: bool, column: str, name: str) -> tuple[str, list]:
    if value is None:
        return "", []
    if pct:
        return f"percentile_cont(?) WITHIN GROUP (ORDER BY {column}) AS {name}", [float(value)]
    return f"CAST(? AS DOUBLE) AS {name}", [float(value)]


def _capped(expr: str, lower: str | None, upper: str | None) -> str:
    if lower:
        expr = f"greatest({expr}, {lower})"
    if upper:
        expr = f"least({expr}, {upper})"
    return expr


def _caps_sql(measures: Sequence[Measure]) -> tuple[str, list, list[str], list[str]]:
    """The caps CTE (one row of bounds), the capped per-unit columns and the bounds to report.
    Bound names: lm{i}/hm{i} (numerator), ld{i}/hd{i} (denominator); c{i} flags a capped unit."""
    bounds, params, columns, report = [], [], [], []
    for i, m in enumerate(measures):
        cap = m.cap
        names = {}
        for part in ("m", "d") if cap else ():
            if part == "d" and m.den is None:
                continue
            for side, value, pct in (
                ("l", cap.lower, cap.lower_pct),
                ("h", cap.upper, cap.upper_pct),
            ):
                sql, values = _bound_sql(value, pct, f"{part}{i}", f"{side}{part}{i}")
                if sql:
                    bounds.append(sql)
                    params += values
                    names[side + part] = f"{side}{part}{i}"
                    columns.append(f"{side}{part}{i}")
                    report.append(f"max({side}{part}{i}) AS {side}{part}{i}")
        columns.append(_capped(f"m{i}", names.get("lm"), names.get("hm")) + f" AS m{i}")
        columns.append(_capped(f"d{i}", names.get("ld"), names.get("hd")) + f" AS d{i}")
        if m.has_covariate:
            columns.append(_capped(f"x{i}", names.get("lm"), names.get("hm")) + f" AS x{i}")
        if names:
            beyond = [
                f"{part}{i} {'<' if side == 'l' else '>'} {name}"
                for (side, part), name in ((tuple(k), v) for k, v in names.items())
            ]
            columns.append(f"CASE WHEN {' OR '.join(beyond)} THEN 1 ELSE 0 END AS c{i}")
            report.append(f"sum(c{i}) AS c{i}")
    percentiles = any(b.startswith("percentile_cont") for b in bounds)
    caps = f"SELECT {', '.join(bounds)}{' FROM covs' if percentiles else ''}" if bounds else ""
    return caps, params, columns, report


def arm_sums_sql(
    dataset: Dataset, variant: str, measures: Sequence[Measure], rows: Rows, units: Units
) -> tuple[str, list]:
    """Per variant and day (a unit's day is its first date), and, with a segment, per variant
    and segment (``by_segment`` = 1): the number of units n and, per measure i, Σm, Σm², Σd,
    Σd², Σm·d (columns n, m{i}, mm{i}, d{i}, dd{i}, md{i}); with a covariate Σx, Σx², Σm·x
    (x{i}, xx{i}, mx{i}); with a cap, its bounds and the units capped (lm{i}, hm{i}, ld{i},
    hd{i}, c{i}); grouped units with dates, the most days between a unit's first and last row
    (span). Capping, exclusions and CUPED all happen here, on per-unit values."""
    base, params = _rows_sql(dataset, variant, rows)
    ctes = [f"base AS ({base})", f"units AS ({_units_sql(dataset, variant, measures, units)})"]
    pre = [i for i, m in enumerate(measures) if m.pre_period]
    if pre:
        pre_sql, pre_params = _pre_period_sql(dataset, measures, units, rows)
        ctes.append(f"pre AS ({pre_sql})")
        params += pre_params
        filled = ", ".join(f"coalesce(pre.x{i}, 0) AS x{i}" for i in pre)
        ctes.append(f"covs AS (SELECT u.*, {filled} FROM units u LEFT JOIN pre ON pre.k0 = u.k0)")
    else:
        ctes.append("covs AS (SELECT * FROM units)")
    caps, cap_params, columns, report = _caps_sql(measures)
    spans = not units.one_row_each and dataset.date_column is not None
    keep = ["variant", "day", *(["segment"] if units.segment else []), *(["span"] if spans else [])]
    if caps:
        ctes.append(f"caps AS ({caps})")
        params += cap_params
        source = "covs CROSS JOIN caps"
    else:
        source = "covs"
    ctes.append(f"capped AS (SELECT {', '.join(keep + columns)} FROM {source})")
    sums = ["count(*) AS n"]
    for i, m in enumerate(measures):
        sums += _moments(i)
        if m.has_covariate:
            sums += [
                f"sum(x{i}) AS x{i}",
                f"sum(x{i} * x{i}) AS xx{i}",
                f"sum(m{i} * x{i}) AS mx{i}",
            ]
    sums += report + (["max(span) AS span"] if spans else [])
    if units.segment:
        head = "variant, day, segment, 1 - grouping(segment) AS by_segment"
        groups = "GROUPING SETS ((variant, day), (variant, segment))"
    else:
        head, groups = "variant, day", "variant, day"
    return (
        f"WITH {', '.join(ctes)} SELECT {head}, {', '.join(sums)} FROM capped GROUP BY {groups}",
        params,
    )


def exposure_weeks_sql(
    dataset: Dataset, variant: str, measures: Sequence[Measure], rows: Rows, units: Units
) -> tuple[str, list]:
    """Per variant, first day and week since exposure (0 = the first 7 days): each measure's
    sums over the units' rows of that week (columns n, m{i}, mm{i}, d{i}, dd{i}, md{i}).
    Units without rows in a week are not rows here: the caller counts them from the days."""
    base, params = _rows_sql(dataset, variant, rows)
    key, day = q(units.keys[0]), q(dataset.date_column)
    shared = units.exclude_shared
    first = (
        f"SELECT {key} AS k0, {'min(' + _as_text(variant) + ')' if shared else _as_text(variant)}"
        f" AS variant, min({day}) AS day FROM base"
        f" GROUP BY {key if shared else _as_text(variant) + ', ' + key}"
        + (f" HAVING {_one_variant(variant)}" if shared else "")
    )
    week = f"CAST(floor(date_diff('day', f.day, b.{day}) / 7) AS INTEGER)"
    cols = []
    for i, m in enumerate(measures):
        total = f"CAST(coalesce(sum(b.{q(m.num)}), 0) AS DOUBLE)"
        cols.append(f"CAST({total} > 0 AS DOUBLE) AS m{i}" if m.binary else f"{total} AS m{i}")
        den = f"CAST(coalesce(sum(b.{q(m.den)}), 0) AS DOUBLE)" if m.den else ONE
        cols.append(f"{den} AS d{i}")
    same_variant = "" if shared else f" AND CAST(b.{q(variant)} AS VARCHAR) = f.variant"
    per = (
        f"SELECT f.variant AS variant, f.day AS day, {week} AS week, {', '.join(cols)}"
        f" FROM first f JOIN base b ON b.{key} = f.k0{same_variant}"
        f" GROUP BY f.variant, f.day, f.k0, {week}"
    )
    sums = ["count(*) AS n", *(s for i in range(len(measures)) for s in _moments(i))]
    return (
        f"WITH base AS ({base}), first AS ({first}), per AS ({per})"
        f" SELECT variant, day, week, {', '.join(sums)} FROM per GROUP BY variant, day, week",
        params,
    )


def variant_totals_sql(
    dataset: Dataset, variant: str, users: str, measures: Sequence[Measure], rows: Rows
) -> tuple[str, list]:
    """Totals per variant, and per day when the data has dates (n = Σusers, m{i} = Σnumerator),
    for data that has only totals."""
    base, params = _rows_sql(dataset, variant, rows)
    day = q(dataset.date_column) if dataset.date_column else None
    cols = [f"sum({q(users)}) AS n"] + [f"sum({q(m.num)}) AS m{i}" for i, m in enumerate(measures)]
    return (
        f"SELECT {_as_text(variant)} AS variant, {day or 'NULL'} AS day, {', '.join(cols)}"
        f" FROM ({base}) b GROUP BY {_as_text(variant)}{', ' + day if day else ''}",
        params,
    )


def shared_units_sql(dataset: Dataset, variant: str, unit: str, rows: Rows) -> tuple[str, list]:
    """How many units appear in more than one variant (``shared``), of how many (``units``)."""
    base, params = _rows_sql(dataset, variant, rows)
    return (
        "SELECT coalesce(sum(CASE WHEN one THEN 0 ELSE 1 END), 0) AS shared, count(*) AS units"
        f" FROM (SELECT {_one_variant(variant)} AS one FROM ({base}) b GROUP BY {q(unit)}) s",
        params,
    )
