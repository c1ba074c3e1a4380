"""Import a file as a dataset, or append it to one, or replace one.

The file is read, cleaned and checked in a scratch DuckDB of the import's own
(``staging``), its rows are written as a new Parquet file and published in the data folder,
and only then does one short transaction of the state database register it (an append or
a replace as a compare-and-set on the dataset's version). If anything fails before that
commit, no registry entry changes, and the file, if it was published, is swept as an
orphan. Two appends to one dataset at once both land: the second sees the first's version
and is done again on top of it.
"""

from __future__ import annotations

import csv
import io
import math
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import duckdb

from kpi_engine.access.principal import require
from kpi_engine.datasets import Column, Dataset, clean_name
from kpi_engine.errors import KpiLabError
from kpi_engine.identifiers import quote_identifier as q
from kpi_engine.ingest.mapping import (
    IGNORE,
    NO_ROLE,
    MappedColumn,
    dataset_kind,
    parse_overrides,
)
from kpi_engine.ingest.parsing import (
    day_sql,
    output_type,
    time_sql,
    to_sql,
    unparsed_sql,
)
from kpi_engine.ingest.plan import ImportPlan, long_row_error, make_plan, read_sql
from kpi_engine.ingest.platforms import PLATFORMS
from kpi_engine.ingest.quality import EXAMPLES, quality_warnings, warning
from kpi_engine.ingest.source import open_source, readable
from kpi_engine.ingest.staging import read_rows, sniffing, staging, write_parquet
from kpi_engine.roles import CURRENCY_SYMBOLS, METRIC_ROLES
from kpi_engine.state.registry import VersionConflict
from kpi_engine.store import Store
from kpi_engine.time_zone import DEFAULT_TIME_ZONE, time_zone

Progress = Callable[[float, str], None]
MAX_METRIC = 1e15  # larger numbers in a metric column are an export error, not spend
MAX_REJECTED_SHARE = 0.1
DROPPED_DAYS_READ = 1000  # the dropped rows whose dates the trend marks
CONFLICT_RETRIES = 20  # an append loses to another append at most once per other appender
ALL_CHANNELS = "(all channels)"
_TOTAL_WORDS = ("total", "gesamt", "summe", "grand total")
_TOTAL_LABEL = (
    r"^(total|totals|gesamt|gesamtergebnis|summe|grand total|total general)(\s*[:\-].*)?$"
)
TOTAL_FLAG = "__kpilab_total_label"
_READER_TYPES = {("number", "plain"): "DOUBLE", ("date", "%Y-%m-%d"): "DATE"}


@dataclass
class ImportOptions:
    name: str | None = None
    preset: str | None = None  # a platform id (google_ads, ...) or a saved preset's name
    mapping: dict[str, str] | list[str] | None = None  # column → role, "ignore" or "none"
    sheet: str | None = None
    unpivot: bool = False  # one column per channel → one row per channel
    append: str | None = None  # dataset id or name
    replace: str | None = None  # dataset id or name
    dataset_id: str | None = None  # a new dataset's id, when the caller names it (samples)
    force: bool = False  # replace even with a file that lacks metrics the dataset has


@dataclass
class ImportResult:
    dataset: Dataset
    warnings: list[dict] = field(default_factory=list)
    rows_read: int = 0
    rows_dropped: int = 0
    rows_replaced: int = 0
    action: str = "import"  # import, append, replace or attach

    def to_dict(self) -> dict:
        return {
            "dataset_id": self.dataset.dataset_id,
            "name": self.dataset.name,
            "rows": self.dataset.rows,
            "columns": {c.name: c.role for c in self.dataset.columns},
            "kind": self.dataset.kind,
            "platform": self.dataset.platform,
            "currencies": list(self.dataset.currencies),
            "engine": self.dataset.engine,
            "rows_read": self.rows_read,
            "rows_kept": self.rows_read - self.rows_dropped,
            "rows_dropped": self.rows_dropped,
            "rows_replaced": self.rows_replaced,
            "action": self.action,
            "warnings": self.warnings,
        }


def _no_progress(fraction: float, message: str) -> None:
    return None


def resolve_preset(store: Store, name: str | None) -> tuple[dict[str, str] | None, str | None]:
    """(a saved mapping, a platform id) for ``--preset NAME``."""
    if name is None:
        return None, None
    if name in PLATFORMS:
        return None, name
    saved = store.presets()
    if name in saved:
        return saved[name], None
    known = ", ".join([*PLATFORMS, *saved])
    raise KpiLabError(f"unknown preset {name!r}: choose one of {known}")


def inspect_file(
    store: Store,
    path: str | Path,
    options: ImportOptions | None = None,
    source_name: str | None = None,
) -> ImportPlan:
    """How the file would be imported, without importing it (for the mapping editor)."""
    options = options or ImportOptions()
    source = open_source(path, source_name, options.sheet)
    with readable(source) as src, sniffing() as cur:
        return _plan(store, cur, src, options)


def _plan(store: Store, cur: duckdb.DuckDBPyConnection, src, options: ImportOptions) -> ImportPlan:
    preset, platform = resolve_preset(store, options.preset)
    overrides = parse_overrides(options.mapping)
    if options.append and not overrides and preset is None:
        # the dataset's own mapping, for the columns this file has
        preset = mapping_of(store.dataset(options.append))
    return make_plan(cur, src, preset, platform, overrides or None)


def _keeps_metrics(target: Dataset, plan: ImportPlan) -> None:
    """A replacement must bring the metrics the dataset has: a file without them would turn
    its KPIs, views and links to n/a without a word."""
    found = set(plan.roles) | ({"revenue"} if plan.per_conversion else set())
    lacking = [role for role in target.roles if role in METRIC_ROLES and role not in found]
    if lacking:
        raise KpiLabError(
            f"this file has no {', '.join(lacking)}, which {target.name} has: replacing it would"
            " leave its KPIs without them. Map those columns, choose another dataset, or replace"
            ' anyway ("Replace even if…" on the Data page, --force on the command line)'
        )


def import_file(
    store: Store,
    path: str | Path,
    name: str | None = None,
    source_name: str | None = None,
    options: ImportOptions | None = None,
    progress: Progress = _no_progress,
) -> ImportResult:
    """Import one file. Bad input raises ``KpiLabError`` and leaves the workspace unchanged."""
    require(store, "edit")
    options = options or ImportOptions(name=name)
    if options.append and options.replace:
        raise KpiLabError("choose either append or replace, not both")
    for target in filter(None, (options.append, options.replace)):
        store.dataset(target).writable()
    progress(0.02, "Reading the file")
    source = open_source(path, source_name, options.sheet)
    with readable(source) as src:
        progress(0.1, "Detecting columns")
        with sniffing() as cur:
            plan = _plan(store, cur, src, options)
        if options.replace and not options.force:
            _keeps_metrics(store.dataset(options.replace), plan)
        progress(0.2, f"Importing {src.size / 1e6:,.1f} MB")
        result = _execute(store, plan, options, progress)
    progress(1.0, "Done")
    return result


# ------------------------------------------------------------------------------------------


def _strict_types(plan: ImportPlan) -> dict[str, str] | None:
    """Column → type for a strict read of a CSV, when the sample shows columns that DuckDB's
    reader can convert itself (plain numbers, ISO dates): much faster than reading every value
    as text. None when no column qualifies."""
    if plan.source.format != "csv":
        return None
    types = {
        c.name: "VARCHAR"
        if c.ignored
        else _READER_TYPES.get((c.parse.kind, c.parse.style), "VARCHAR")
        for c in plan.columns
    }
    return types if set(types.values()) != {"VARCHAR"} else None


def _select_list(
    plan: ImportPlan, typed: frozenset[str], zone: str = DEFAULT_TIME_ZONE
) -> tuple[list[str], list[Column]]:
    """SELECT expressions and the stored columns they make; ``typed`` columns arrive converted.
    A date-time's day is its date in the workspace's time zone ``zone``."""
    exprs: list[str] = []
    columns: list[Column] = []
    for c in plan.columns:
        if c.ignored:
            continue
        native = c.parse.native
        expr = _value(c, typed, zone)
        if native and c.parse.kind == "bool":
            expr = f"CAST({q(c.name)} AS DOUBLE)"
        exprs.append(f"{expr} AS {q(c.name)}")
        typ = "DOUBLE" if native and c.parse.kind in ("number", "bool") else output_type(c.parse)
        columns.append(
            Column(c.name, typ if not native or c.parse.kind != "date" else "DATE", c.role)
        )
    for c in plan.columns:  # a date-time's day is the date; its time stays beside it
        if not c.ignored and c.parse.has_time and c.name not in typed:
            name = free_name(f"{c.name} time", {x.name for x in columns})
            exprs.append(f"{time_sql(q(c.name), c.parse, zone)} AS {q(name)}")
            columns.append(Column(name, "TIMESTAMP", None))
    if flagged := _label_columns(plan, typed, stored=False):
        exprs.append(f"{_total_label_sql(flagged)} AS {q(TOTAL_FLAG)}")
    taken = {c.name for c in columns}
    roles = plan.roles
    if plan.per_conversion:
        conv = next(c for c in plan.columns if c.name == roles["conversions"])
        rate = next(c for c in plan.columns if c.name == plan.per_conversion)
        name = free_name("revenue", taken)
        exprs.append(f"({_value(conv, typed)}) * ({_value(rate, typed)}) AS {q(name)}")
        columns.append(Column(name, "DOUBLE", "revenue"))
        taken.add(name)
    symbols = _money_currencies(plan)
    if "currency" not in roles and len(symbols) > 1:
        money = next(c for c in plan.columns if c.role in ("spend", "revenue"))
        cases = " ".join(
            f"WHEN contains({q(money.name)}, '{sym}') THEN '{code}'"
            for sym, code in CURRENCY_SYMBOLS.items()
            if code in symbols
        )
        name = free_name("currency", taken)
        exprs.append(f"CASE {cases} END AS {q(name)}")
        columns.append(Column(name, "VARCHAR", "currency"))
    return exprs, columns


def _label_columns(plan: ImportPlan, typed: frozenset[str], stored: bool) -> list[str]:
    """Where a ``Total: ...`` footer row has its label: the raw first column and the campaign
    column. ``stored``: those kept as the raw text, checked on the stored table (fast: a
    dictionary-compressed column); the others are flagged while reading, before parsing turns
    the label into NULL. A typed column holds no label: a ``Total`` in it fails the strict read.
    """
    candidates = [c for c in plan.columns[:1] if not c.parse.native]
    if "campaign" in plan.roles:
        candidates += [c for c in plan.columns if c.name == plan.roles["campaign"]]
    names: list[str] = []
    for c in candidates:
        kept_as_text = c.parse.kind == "text" and not c.ignored
        if c.name not in typed and c.name not in names and kept_as_text == stored:
            names.append(c.name)
    return names


def _total_label_sql(names: list[str]) -> str:
    """The label of a ``Total: ...`` row in one of these text columns (NULL on every other
    row). A cheap ILIKE guards the regular expression."""
    cases = []
    for name in names:
        col = q(name)
        prefix = " OR ".join(f"{col} ILIKE '{word}%'" for word in _TOTAL_WORDS)
        cases.append(
            f"WHEN ({prefix}) AND regexp_matches(lower(trim({col})), '{_TOTAL_LABEL}') THEN {col}"
        )
    return f"CASE {' '.join(cases)} END" if cases else "CAST(NULL AS VARCHAR)"


def _value(column: MappedColumn, typed: frozenset[str], zone: str = DEFAULT_TIME_ZONE) -> str:
    if column.name in typed:
        return q(column.name)
    if column.parse.kind == "date":
        return day_sql(q(column.name), column.parse, zone)
    return q(column.name) if column.parse.native else to_sql(q(column.name), column.parse)


def _money_currencies(plan: ImportPlan) -> set[str]:
    return {
        code for c in plan.columns if c.role in ("spend", "revenue") for code in c.parse.currencies
    }


def free_name(wanted: str, taken: set[str]) -> str:
    name, n = wanted, 2
    while name.lower() in {t.lower() for t in taken}:
        name, n = f"{wanted} ({n})", n + 1
    return name


class _NotStrict(Exception):
    """The strict typed read met a value or a row it cannot convert."""


def _execute(
    store: Store, plan: ImportPlan, options: ImportOptions, progress: Progress
) -> ImportResult:
    """Try the strict typed read first; a file that is not that clean (a ``--``, a ``Total:``
    row, a ragged line...) is read again with every value as text and our parsing rules."""
    types = _strict_types(plan)
    if types is not None:
        try:
            return _load(store, plan, options, types, progress)
        except _NotStrict:
            progress(0.25, "Reading every value as text (some values need cleaning)")
    return _load(store, plan, options, None, progress)


def _load(
    store: Store,
    plan: ImportPlan,
    options: ImportOptions,
    types: dict[str, str] | None,
    progress: Progress,
) -> ImportResult:
    typed = frozenset(n for n, t in (types or {}).items() if t != "VARCHAR")
    exprs, columns = _select_list(plan, typed, time_zone(store))
    source_sql, params = read_sql(plan.source, plan.dialect, types)
    dataset_id = options.dataset_id or store.new_dataset_id()
    stage = q(f"stage_{dataset_id}")
    warnings = list(plan.notes)
    try:
        with store.data.scratch() as folder, staging(folder) as cur:
            _read_into(cur, stage, f"SELECT {', '.join(exprs)} FROM {source_sql}", params, types)
            progress(0.6, "Checking the rows")
            staged = cur.execute(f"SELECT count(*) FROM {stage}").fetchone()[0]
            rejected, days = (0, {}) if types else _rejected_rows(cur, plan, staged, warnings)
            dropped = rejected + _drop_summary_rows(cur, stage, plan, typed, columns, warnings)
            _check_values(cur, stage, plan, columns, typed, warnings)
            stage, columns = _wide_layout(cur, stage, plan, options, columns, warnings)
            kept = cur.execute(f"SELECT count(*) FROM {stage}").fetchone()[0]
            if kept == 0:
                raise KpiLabError(
                    f"{plan.source.label} has no data rows left after dropping"
                    " total and blank rows: export it again"
                )
            staged_rows = _Staged(
                stage, columns, staged + rejected, dropped, kept, dataset_id, days
            )
            dataset, replaced = _commit(
                store, cur, folder, plan, options, staged_rows, warnings, progress
            )
    except duckdb.OutOfMemoryException:
        raise KpiLabError(
            f"{plan.source.label} is too large for the memory limit: raise KPILAB_MEMORY_LIMIT"
        ) from None
    except duckdb.Error as exc:
        raise KpiLabError(
            f"{plan.source.label} could not be imported"
            f" ({str(exc).splitlines()[0]}): check the file"
        ) from None
    return ImportResult(dataset, warnings, staged + rejected, dropped, replaced, _action(options))


@dataclass(frozen=True)
class _Staged:
    """The file's rows, read and cleaned, as a table of the scratch database."""

    table: str
    columns: list[Column]
    read: int
    dropped: int
    kept: int
    dataset_id: str
    dropped_days: dict[str, int]  # rows dropped for their shape, by the day they name


def _commit(
    store: Store, cur, folder: Path, plan, options, staged: _Staged, warnings, progress
) -> tuple[Dataset, int]:
    """The new version's rows, checked, written and published, then registered. A target
    that another process changed meanwhile (``VersionConflict``) is read again: an append
    puts the staged rows on top of its new version (only this step is done again, not the
    file's read), a replace replaces that version."""
    change = _rows_of(store, cur, plan, options, staged)
    for attempt in range(CONFLICT_RETRIES):
        if attempt and options.append:
            cur.execute(f"DROP TABLE IF EXISTS {change.dataset.table}")
            change = _rows_of(store, cur, plan, options, staged)
        elif attempt:
            current = store.dataset(options.replace)
            change = replace(change, replaced=current.rows, previous=current.version)
        if attempt == 0 or options.append:
            found, report = _checked(cur, plan, options, staged, change, warnings)
            progress(0.85, "Writing the rows")
            written = folder / f"rows-{attempt}.parquet"
            write_parquet(cur, change.dataset.table, written)
            progress(0.9, "Publishing the rows")
            store.data.publish(written, change.location)
        progress(0.95, "Saving")
        try:
            dataset = _register(store, replace(change.dataset, report=report), change)
        except VersionConflict:
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
            continue
        warnings += found
        return dataset, change.replaced
    raise KpiLabError("the dataset kept changing while this file was being added: try again")


def _checked(cur, plan: ImportPlan, options, staged: _Staged, change: _Change, warnings):
    """The data-quality findings on the new version's rows, and the report it keeps."""
    found = quality_warnings(cur, change.dataset)
    if plan.wide and options.unpivot:  # channel rows have no totals, by construction
        found = [w for w in found if not w["code"].startswith("missing_")]
    counts = (staged.read, staged.dropped, change.replaced)
    report = _report_of(cur, plan, options, change.dataset, counts, [*warnings, *found])
    return found, report | {"dropped_days": staged.dropped_days}


def _read_into(cur, stage: str, select: str, params: list, types: dict | None) -> None:
    """The file's rows as the staged table; a strict typed read that meets a value it cannot
    convert raises ``_NotStrict`` (the file is then read again as text)."""
    try:
        cur.execute(f"CREATE TABLE {stage} AS {select}", params)
    except duckdb.Error as exc:
        if types is None or isinstance(exc, duckdb.OutOfMemoryException):
            raise
        raise _NotStrict from None


def _wide_layout(
    cur, stage: str, plan: ImportPlan, options: ImportOptions, columns: list[Column], warnings
) -> tuple[str, list[Column]]:
    """One column per channel: a row per channel when asked (``unpivot``), else a warning."""
    if not plan.wide:
        return stage, columns
    groups = ", ".join(sorted(plan.wide.groups))
    if not options.unpivot:
        warnings.append(
            warning(
                "wide_layout",
                len(plan.wide.groups),
                f"one column per channel ({groups}): import again with 'unpivot' to compare"
                " channels",
                sorted(plan.wide.columns),
            )
        )
        return stage, columns
    warnings.append(
        warning(
            "unpivoted",
            len(plan.wide.groups),
            f"one row per channel ({groups}); columns that belong to no channel are on the"
            f" {ALL_CHANNELS!r} rows",
        )
    )
    return _unpivot(cur, stage, plan, columns, stage.strip('"'))


def _register(store: Store, dataset: Dataset, change: _Change) -> Dataset:
    """One transaction: the new entry, or the target's entry if its rows are still the
    version this import started from (else ``VersionConflict``). Two new datasets given the
    same name at the same moment: the second takes the next free name."""
    what = f"{dataset.rows:,} rows from {dataset.report.get('file')}"
    for _ in range(CONFLICT_RETRIES):
        try:
            with store.transaction() as conn:
                store.log(conn, dataset.report.get("action", "import"), dataset.name, what)
                if change.previous is not None:
                    return store.update(conn, dataset, change.previous)
                named = replace(dataset, name=store.unique_name(conn, dataset.name))
                return store.register(conn, named)
        except KpiLabError:  # a name taken between our look and our insert: look again
            if change.previous is not None:
                raise
    raise KpiLabError("this workspace kept changing while the file was being added: try again")


HISTORY = 20  # the earlier imports whose findings a dataset keeps


def _report_of(
    cur, plan: ImportPlan, options: ImportOptions, dataset: Dataset, counts, warnings
) -> dict:
    """What the dataset keeps of this import (and, after an append, of the earlier ones)."""
    read, dropped, replaced = counts
    return {
        "action": _action(options),
        "file": plan.source.label,
        "rows_read": read,
        "rows_dropped": dropped,
        "rows_replaced": replaced,
        "warnings": warnings,
        "mapping": mapping_of_columns(plan.columns),
        "unique_units": _unique_units(cur, dataset),
        "imported_at": datetime.now().isoformat(timespec="seconds"),
        "version": secrets.token_hex(8),  # new with every import, append or replace
        "earlier": _history(dataset.report) if options.append else [],  # newest first
        "period": [d.isoformat() for d in plan.period] if plan.period else None,
    }


def _action(options: ImportOptions) -> str:
    return "append" if options.append else "replace" if options.replace else "import"


def _history(report: dict) -> list[dict]:
    """A dataset's import reports so far, newest first, for the one about to be added."""
    if not report:
        return []
    latest = {k: v for k, v in report.items() if k not in ("earlier", "mapping")}
    return [latest, *report.get("earlier", [])][:HISTORY]


def dropped_days(plan: ImportPlan, lines: list[str]) -> dict[str, int]:
    """The days of rows dropped for their shape, where their date field still reads: the
    trend marks them, so a dropped row is not a silent dip."""
    date = plan.roles.get("date")
    column = next((c for c in plan.columns if c.name == date), None)
    if column is None or column.parse.kind != "date" or plan.dialect is None:
        return {}
    position = [c.name for c in plan.columns].index(date)
    days: dict[str, int] = {}
    for line in lines:
        try:
            fields = next(csv.reader(io.StringIO(line), delimiter=plan.dialect.delimiter), [])
        except csv.Error:  # a row broken across lines: no date to mark
            continue
        if position >= len(fields):
            continue
        try:
            day = datetime.strptime(fields[position].strip(), column.parse.style).date()
        except ValueError:
            continue
        days[day.isoformat()] = days.get(day.isoformat(), 0) + 1
    return dict(sorted(days.items()))


def _rejected_rows(
    cur, plan: ImportPlan, kept: int, warnings: list[dict]
) -> tuple[int, dict[str, int]]:
    """Rows dropped for their shape (too few or too many fields), and the days they name."""
    if plan.source.format != "csv":
        return 0, {}
    try:
        # DuckDB reports an error per missing or extra field: a row is a line
        count, kinds, lines, texts = cur.execute(
            "SELECT count(*), list_distinct(flatten(list(kinds))), list(line ORDER BY line)[1:3],"
            f" list(csv_line ORDER BY line)[1:{DROPPED_DAYS_READ}] FROM (SELECT line,"
            " any_value(csv_line) AS csv_line, list(DISTINCT error_type) AS kinds FROM"
            " reject_errors GROUP BY line)"
        ).fetchone()
    except duckdb.CatalogException:
        return 0, {}
    if not count:
        return 0, {}
    if any("LINE SIZE" in str(k).upper() for k in kinds):
        raise long_row_error(plan.source, plan.dialect)
    if count >= 0.5 * (count + kept) or (
        count > MAX_REJECTED_SHARE * (count + kept) and count > 100
    ):
        raise KpiLabError(
            f"{plan.source.label}: {count:,} of {count + kept:,} rows do not have the header's"
            f" {len(plan.columns)} columns (first at line {lines[0]}): check the delimiter or"
            " export the report again"
        )
    warnings.append(
        warning(
            "malformed_rows",
            count,
            (
                f"{count:,} rows dropped: they do not have the header's {len(plan.columns)}"
                f" columns (lines {', '.join(str(n) for n in lines)})"
                if count > 1
                else f"1 row dropped: it does not have the header's {len(plan.columns)} columns"
                f" (line {lines[0]})"
            ),
            [t[:200] for t in texts[:3]],
        )
    )
    return count, dropped_days(plan, texts)


def _drop_summary_rows(
    cur,
    stage: str,
    plan: ImportPlan,
    typed: frozenset[str],
    columns: list[Column],
    warnings: list[dict],
) -> int:
    """``Total: ...`` footer rows and rows with no value at all."""
    flagged = bool(_label_columns(plan, typed, stored=False))
    labels = [q(TOTAL_FLAG)] if flagged else []
    if stored := _label_columns(plan, typed, stored=True):
        labels.append(_total_label_sql(stored))
    totals = 0
    if labels:
        label = f"coalesce({', '.join(labels)})"
        examples = cur.execute(
            f"SELECT {label} FROM {stage} WHERE {label} IS NOT NULL ORDER BY rowid LIMIT {EXAMPLES}"
        )
        examples = [e[0] for e in examples.fetchall()]
        totals = cur.execute(f"DELETE FROM {stage} WHERE {label} IS NOT NULL").fetchone()[0]
    if flagged:
        cur.execute(f"ALTER TABLE {stage} DROP COLUMN {q(TOTAL_FLAG)}")
    if totals:
        warnings.append(
            warning("total_rows", totals, f"{totals:,} total/summary rows dropped", examples)
        )
    blank = " AND ".join(f"{q(c.name)} IS NULL" for c in columns)
    n = cur.execute(f"DELETE FROM {stage} WHERE {blank}").fetchone()[0]
    if n:
        warnings.append(warning("blank_rows", n, f"{n:,} empty rows dropped"))
    return totals + n


def _not_a_number(cur, stage: str, numeric: list[str], warnings: list[dict]) -> None:
    """ "NaN" cells (a spreadsheet's or a script's "not a number") are missing values, not
    numbers: left empty, and counted."""
    if not numeric:
        return
    counts = cur.execute(
        "SELECT "
        + ", ".join(f"count(*) FILTER (WHERE isnan({q(n)}))" for n in numeric)
        + f" FROM {stage}"
    ).fetchone()
    for name, n in zip(numeric, counts, strict=True):
        if n:
            cur.execute(f"UPDATE {stage} SET {q(name)} = NULL WHERE isnan({q(name)})")
            warnings.append(warning("not_a_number", n, f"{n:,} of {name!r} read NaN: left empty"))


def _check_values(
    cur,
    stage: str,
    plan: ImportPlan,
    columns: list[Column],
    typed: frozenset[str],
    warnings: list[dict],
) -> None:
    """Refuse numbers too large to be real; count and show values that did not parse.

    Parsing turns both a missing value and an unreadable one into NULL. Most large exports
    have no NULLs at all, so the source is read a second time only for columns that have
    some, to tell the two apart. Typed columns need no check: the strict read had none.
    """
    by_name = {c.name: c for c in plan.columns}
    parsed = [
        c.name
        for c in columns
        if c.type in ("DOUBLE", "DATE")
        and c.name in by_name
        and not by_name[c.name].parse.native
        and c.name not in typed
    ]
    numeric = [c.name for c in columns if c.type == "DOUBLE" and c.name in by_name]
    _not_a_number(cur, stage, numeric, warnings)
    checks = [f"count(*) FILTER (WHERE {q(n)} IS NULL)" for n in parsed]
    checks += [f"max(abs({q(n)}))" for n in numeric]
    if not checks:
        return
    values = cur.execute(f"SELECT {', '.join(checks)} FROM {stage}").fetchone()
    for name, top in zip(numeric, values[len(parsed) :], strict=True):
        if top is not None and (top >= MAX_METRIC or math.isinf(top) or math.isnan(top)):
            raise KpiLabError(
                f"column {name!r} of {plan.source.label} holds a number too large to be real"
                f" ({top:.3g}): check the export (a formula error or a merged cell?)"
            )
    with_nulls = [n for n, count in zip(parsed, values[: len(parsed)], strict=True) if count]
    if not with_nulls or plan.source.format != "csv":
        return
    source_sql, params = read_sql(plan.source, plan.dialect)
    raw_labels = _label_columns(plan, frozenset(), stored=False)
    raw_labels += _label_columns(plan, frozenset(), stored=True)
    not_total = f"({_total_label_sql(raw_labels)}) IS NULL"
    tests = {n: unparsed_sql(q(n), by_name[n].parse) for n in with_nulls}
    found = cur.execute(
        "SELECT "
        + ", ".join(
            f"count(*) FILTER (WHERE {t}), list({q(n)}) FILTER (WHERE {t})[1:{EXAMPLES}]"
            for n, t in tests.items()
        )
        + f" FROM {source_sql} WHERE {not_total}",
        params,
    ).fetchone()
    for k, name in enumerate(with_nulls):
        n, examples = found[2 * k], found[2 * k + 1]
        if n:
            column = by_name[name]
            what = "dates" if column.parse.kind == "date" else "numbers"
            warnings.append(
                warning(
                    "unparsed_values",
                    n,
                    f"{n:,} values of {name!r} are not {what}"
                    f" ({column.parse.describe()}); left empty",
                    examples,
                )
            )


def _unpivot(cur, stage: str, plan: ImportPlan, columns: list[Column], dataset_id: str):
    """Wide → long: a row per channel with its spend/impressions..., plus one
    "(all channels)" row per original row carrying the columns that belong to no channel."""
    assert plan.wide is not None
    wide_cols = plan.wide.columns
    shared = [c for c in columns if c.name not in wide_cols]
    keys = [c for c in shared if c.type in ("VARCHAR", "DATE")]
    taken = {c.name for c in shared}
    channel = free_name("channel", taken)
    role_cols = {
        role: free_name(role, taken | {channel})
        for group in plan.wide.groups.values()
        for role in group
    }
    parts, params = [], []
    for prefix, group in sorted(plan.wide.groups.items()):
        metrics = ", ".join(f"{q(col)} AS {q(role_cols[role])}" for role, col in group.items())
        key_list = "".join(f"{q(c.name)}, " for c in keys)
        parts.append(f"SELECT {key_list}? AS {q(channel)}, {metrics} FROM {stage}")
        params.append(prefix)
    shared_list = "".join(f"{q(c.name)}, " for c in shared)
    parts.append(f"SELECT {shared_list}? AS {q(channel)} FROM {stage}")
    params.append(ALL_CHANNELS)
    long = q(f"long_{dataset_id}")
    cur.execute(f"CREATE TABLE {long} AS {' UNION ALL BY NAME '.join(parts)}", params)
    cur.execute(f"DROP TABLE {stage}")
    out = [Column(c.name, c.type, None if c.role == "channel" else c.role) for c in shared]
    out.append(Column(channel, "VARCHAR", "channel"))
    out += [Column(name, "DOUBLE", role) for role, name in role_cols.items()]
    return long, out


def _currencies(cur, table: str, columns: list[Column], plan: ImportPlan) -> tuple[str, ...]:
    currency_col = next((c.name for c in columns if c.role == "currency"), None)
    if currency_col:
        rows = cur.execute(
            f"SELECT DISTINCT upper(trim({q(currency_col)})) FROM {table}"
            f" WHERE {q(currency_col)} IS NOT NULL ORDER BY 1 LIMIT 50"
        ).fetchall()
        return tuple(r[0] for r in rows)
    return (plan.currency,) if plan.currency else ()


@dataclass(frozen=True)
class _Change:
    """What an import makes: the dataset (its new version's table staged), where its file
    goes, how many earlier rows it replaced, and the version it replaces (None: new)."""

    dataset: Dataset
    location: str
    replaced: int
    previous: str | None


def _rows_of(
    store: Store, cur, plan: ImportPlan, options: ImportOptions, staged: _Staged
) -> _Change:
    """The new version's rows as a table named like the dataset's table: the staged rows
    as a new dataset, the target's current rows with them (append) or them alone
    (replace; the staged table is renamed). An append keeps the staged table, for another
    try on a newer version."""
    columns = staged.columns
    currencies = _currencies(cur, staged.table, columns, plan)
    roles = {c.role: c.name for c in columns if c.role}
    named = options.append or options.replace
    target = store.dataset(named) if named else None
    version, location = store.data.new_location(
        store.workspace, target.dataset_id if target else staged.dataset_id
    )
    if options.append:
        draft = replace(target, version=version, location=location)
        replaced = _append(cur, staged.table, target, columns, draft.table)
        rows = cur.execute(f"SELECT count(*) FROM {draft.table}").fetchone()[0]
        merged = tuple(sorted(set(target.currencies) | set(currencies)))
        dataset = replace(
            draft,
            rows=rows,
            currencies=merged,
            source_file=f"{target.source_file} + {plan.source.label}",
        )
        return _Change(dataset, location, replaced, target.version)
    if options.replace:
        dataset = replace(
            target,
            source_file=plan.source.label,
            rows=staged.kept,
            columns=tuple(columns),
            kind=dataset_kind(roles),
            platform=plan.platform,
            currencies=currencies,
            created_at=datetime.now(),
            version=version,
            location=location,
        )
        cur.execute(f"ALTER TABLE {staged.table} RENAME TO {dataset.table}")
        return _Change(dataset, location, target.rows, target.version)
    wanted = options.name or name_from_label(plan.source.label)
    dataset = Dataset(
        staged.dataset_id,
        clean_name(wanted),
        plan.source.label,
        staged.kept,
        tuple(columns),
        datetime.now(),
        dataset_kind(roles),
        plan.platform,
        currencies,
        location=location,
        version=version,
    )
    cur.execute(f"ALTER TABLE {staged.table} RENAME TO {dataset.table}")
    return _Change(dataset, location, 0, None)


def _append(cur, stage: str, target: Dataset, columns: list[Column], merged: str) -> int:
    """``merged``: the target's rows and the staged ones, where a staged row replaces the
    target's rows with the same natural key (date and dimensions). Returns how many were
    replaced."""
    target_cols = set(target.column_names)
    extra = [c.name for c in columns if c.name not in target_cols]
    if extra:
        raise KpiLabError(
            f"the file has columns dataset {target.name!r} does not ({', '.join(extra[:5])}):"
            " import it as a new dataset, or replace the dataset instead"
        )
    clash = [c.name for c in columns if c.role and target.roles.get(c.role) not in (None, c.name)]
    if clash:
        raise KpiLabError(
            f"column {clash[0]!r} plays a different role in dataset {target.name!r}:"
            " map it the same way, or replace the dataset instead"
        )
    old = q("previous_rows")
    read_rows(cur, old, target.location)
    keys = [k for k in [target.date_column, *target.dimensions] if k]
    present = {c.name for c in columns}  # a key the new file lacks is empty in its rows
    match = " AND ".join(
        f"{'s.' + q(k) if k in present else 'NULL'} IS NOT DISTINCT FROM t.{q(k)}" for k in keys
    )
    kept_old = f"SELECT * FROM {old} t" + (
        f" WHERE NOT EXISTS (SELECT 1 FROM {stage} s WHERE {match})" if keys else ""
    )
    order = ", ".join(q(c) for c in target.column_names)
    cur.execute(
        f"CREATE TABLE {merged} AS SELECT {order} FROM ({kept_old})"
        f" UNION ALL BY NAME SELECT * FROM {stage}"
    )
    before = cur.execute(f"SELECT count(*) FROM {old}").fetchone()[0]
    after = cur.execute(f"SELECT count(*) FROM ({kept_old})").fetchone()[0] if keys else before
    return before - after


def _unique_units(cur, dataset: Dataset) -> bool | None:
    """One row per unit (user)? Computed once here, so that every experiment on the dataset
    can skip grouping millions of rows by user."""
    unit = dataset.roles.get("unit")
    if unit is None:
        return None
    rows, distinct = cur.execute(
        f"SELECT count(*), count(DISTINCT {q(unit)}) FROM {dataset.table}"
    ).fetchone()
    return rows == distinct


def mapping_of(dataset: Dataset) -> dict[str, str]:
    """The mapping a dataset was imported with, as a saved preset stores it: column → role,
    ``none`` or ``ignore`` (ignored columns are only known from the import's report)."""
    stored = {c.name: c.role or NO_ROLE for c in dataset.columns}
    return {**dataset.report.get("mapping", {}), **stored}


def mapping_of_columns(columns: list[MappedColumn]) -> dict[str, str]:
    """Column → role, ``none`` or ``ignore``: what an import or an attach keeps of its mapping."""
    return {c.name: IGNORE if c.ignored else (c.role or NO_ROLE) for c in columns}


def name_from_label(label: str) -> str:
    """A dataset's default name: the file's name without its extension."""
    stem = Path(label).name
    for suffix in (".gz", ".csv", ".tsv", ".txt", ".xlsx", ".parquet"):
        stem = stem.removesuffix(suffix)
    return stem or "dataset"
