"""Import a campaign file into the workspace: file → DuckDB, no pandas in between.

DuckDB reads the file from disk; column roles are detected from the headers; metric columns
exported as text (``"1,234"``, ``$12.50``, `` --``) are turned into numbers in SQL; and the
table plus its registry entry are written in one transaction.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from kpi_engine.errors import KpiLabError
from kpi_engine.formula import quote_identifier
from kpi_engine.roles import METRIC_ROLES, detect_roles
from kpi_engine.store import Column, Dataset, Store

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
DELIMITERS = (",", ";", "\t", "|")
_PROBE_ROWS = 10_000
_MIN_PARSED_SHARE = 0.5
_MISSING_TOKENS = ("", "-", "--", "n/a", "na", "null", "none", "nan")


@dataclass
class ImportResult:
    dataset: Dataset
    warnings: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "dataset_id": self.dataset.dataset_id,
            "name": self.dataset.name,
            "rows": self.dataset.rows,
            "columns": {c.name: c.role for c in self.dataset.columns},
            "warnings": self.warnings,
        }


def _warning(code: str, count: int, message: str, examples: list | None = None) -> dict:
    return {"code": code, "count": int(count), "message": message, "examples": examples or []}


def _check_file(path: Path, label: str) -> None:
    if not path.is_file():
        raise KpiLabError(f"{label}: no such file; check the path")
    if path.stat().st_size == 0:
        raise KpiLabError(f"{label} is empty: export the report again with at least one row")
    head = _head(path) if path.suffix != ".gz" else _gunzip_head(path, label)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise KpiLabError(f"{label} is UTF-16 text: save it as 'CSV UTF-8' and upload it again")
    if b"\x00" in head or head.startswith((b"PK\x03\x04", b"\x89PNG", b"%PDF", b"\xff\xd8")):
        raise KpiLabError(
            f"{label} is not a text CSV (it looks like a binary, image or spreadsheet file):"
            " export the report as CSV and upload that"
        )


def _head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(8192)


def _gunzip_head(path: Path, label: str) -> bytes:
    try:
        with gzip.open(path) as fh:
            return fh.read(8192)
    except (OSError, EOFError):
        raise KpiLabError(
            f"{label} is not a valid gzip file: compress it again or upload the CSV"
        ) from None


def _read_sql(delimiter: str | None, sample_all: bool = False) -> str:
    options = ["header = true"]
    if delimiter is not None:
        options.append("delim = ?")
    if sample_all:
        options.append("sample_size = -1")
    return f"read_csv(?, {', '.join(options)})"


def _read_params(path: Path, delimiter: str | None) -> list:
    return [str(path)] + ([delimiter] if delimiter is not None else [])


def _describe(
    cur: duckdb.DuckDBPyConnection, path: Path, delimiter: str | None, relaxed: bool = False
) -> dict[str, str]:
    source = _read_sql(delimiter)
    if relaxed:  # only to count columns per delimiter; the import itself stays strict
        source = source[:-1] + ", strict_mode = false, null_padding = true)"
    rows = cur.execute(f"DESCRIBE SELECT * FROM {source}", _read_params(path, delimiter)).fetchall()
    return {r[0]: r[1] for r in rows}


def _sniff(cur: duckdb.DuckDBPyConnection, path: Path, label: str) -> tuple[str | None, dict]:
    """The delimiter and columns; when the sniffer finds one column, try the usual delimiters."""
    first_error: Exception | None = None
    try:
        columns = _describe(cur, path, None)
        if len(columns) > 1:
            return None, columns
    except duckdb.Error as exc:
        first_error, columns = exc, {}
    best: tuple[str | None, dict] = (None, columns)
    for delimiter in DELIMITERS:
        try:
            candidate = _describe(cur, path, delimiter, relaxed=True)
        except duckdb.Error:
            continue
        if len(candidate) > len(best[1]):
            best = (delimiter, candidate)
    if not best[1]:
        reason = str(first_error).splitlines()[0] if first_error else "no columns found"
        raise KpiLabError(f"{label} could not be read as a CSV ({reason}): export it as CSV again")
    return best


def _number_sql(col: str) -> str:
    """A text column of exported numbers → DOUBLE; missing markers → NULL."""
    cleaned = f"regexp_replace(trim({col}), '[\\s$€£¥₹,%]', '', 'g')"
    missing = ", ".join(f"'{t}'" for t in _MISSING_TOKENS)
    return (
        f"CASE WHEN lower(trim({col})) IN ({missing}) THEN NULL"
        f" ELSE TRY_CAST({cleaned} AS DOUBLE) END"
    )


def _column_sql(name: str, duck_type: str, role: str | None) -> str:
    col = quote_identifier(name)
    typ = duck_type.upper()
    if role in METRIC_ROLES:
        if typ == "VARCHAR":
            return f"{_number_sql(col)} AS {col}"
        if typ == "BOOLEAN":
            # not CAST: DuckDB 2.0 pushes a cast into the CSV reader, which then fails on "TRUE"
            return f"CASE WHEN {col} THEN 1 WHEN NOT {col} THEN 0 END AS {col}"
    if role == "date" and typ == "VARCHAR":
        # trim() keeps DuckDB from pushing the cast into the reader, where TRY_CAST turns strict
        return f"TRY_CAST(trim({col}) AS DATE) AS {col}"
    if role == "date" and typ != "DATE":
        return f"CAST({col} AS DATE) AS {col}"
    return col


def _output_type(duck_type: str, role: str | None) -> str:
    typ = duck_type.upper()
    if role in METRIC_ROLES and typ == "VARCHAR":
        return "DOUBLE"
    if role in METRIC_ROLES and typ == "BOOLEAN":
        return "INTEGER"
    if role == "date":
        return "DATE"
    return duck_type


def _unparsable_roles(
    cur: duckdb.DuckDBPyConnection, source: str, params: list, columns: dict, roles: dict
) -> dict[str, tuple[int, int, list]]:
    """For text columns given a metric/date role: (values, unparsable, examples) on a probe."""
    checks = {
        role: name
        for role, name in roles.items()
        if (role in METRIC_ROLES or role == "date") and columns[name].upper() == "VARCHAR"
    }
    found: dict[str, tuple[int, int, list]] = {}
    for role, name in checks.items():
        col = quote_identifier(name)
        parsed = _column_sql(name, "VARCHAR", role).rsplit(" AS ", 1)[0]
        missing = ", ".join(f"'{t}'" for t in _MISSING_TOKENS)
        values, bad, examples = cur.execute(
            f"SELECT count(*) FILTER (WHERE lower(trim({col})) NOT IN ({missing})),"
            f" count(*) FILTER (WHERE lower(trim({col})) NOT IN ({missing}) AND {parsed} IS NULL),"
            f" list({col}) FILTER (WHERE lower(trim({col})) NOT IN ({missing})"
            f" AND {parsed} IS NULL)[1:3]"
            f" FROM (SELECT * FROM {source} LIMIT {_PROBE_ROWS})",
            params,
        ).fetchone()
        found[role] = (values, bad, examples or [])
    return found


def import_file(
    store: Store, path: str | Path, name: str | None = None, source_name: str | None = None
) -> ImportResult:
    """Import one CSV file as a new dataset. Bad input raises ``KpiLabError``; nothing is kept."""
    path = Path(path)
    label = source_name or path.name
    _check_file(path, label)
    warnings: list[dict] = []
    with store.cursor() as cur:
        delimiter, columns = _sniff(cur, path, label)
        if len(columns) < 2:
            raise KpiLabError(
                f"{label} has a single column: it needs a header row and columns separated by"
                " commas, semicolons, tabs or |"
            )
        roles = {role: cr.column for role, cr in detect_roles(columns).items()}
        source, params = _read_sql(delimiter), _read_params(path, delimiter)
        for role, (values, bad, examples) in _unparsable_roles(
            cur, source, params, columns, roles
        ).items():
            if values and bad / values > 1 - _MIN_PARSED_SHARE:
                warnings.append(
                    _warning(
                        "role_not_parsable",
                        bad,
                        f"column {roles[role]!r} looked like {role} but most values are not"
                        f" {'dates' if role == 'date' else 'numbers'}; kept it as text",
                        examples,
                    )
                )
                del roles[role]
    if not any(role in roles for role in METRIC_ROLES):
        found = ", ".join(list(columns)[:12])
        raise KpiLabError(
            f"{label} has no metric column: it needs at least one of Impressions, Clicks,"
            f" Conversions, Cost/Spend, Revenue or Users (found: {found})"
        )
    role_of = {col: role for role, col in roles.items()}
    table_columns = [
        Column(n, _output_type(t, role_of.get(n)), role_of.get(n)) for n, t in columns.items()
    ]
    select = ", ".join(_column_sql(n, t, role_of.get(n)) for n, t in columns.items())
    dataset = _create(store, path, label, name, select, delimiter, table_columns)
    warnings += _quality_warnings(store, dataset)
    return ImportResult(dataset, warnings)


def _create(
    store: Store,
    path: Path,
    label: str,
    name: str | None,
    select: str,
    delimiter: str | None,
    columns: list[Column],
) -> Dataset:
    dataset_id = store.new_dataset_id()
    table = quote_identifier(dataset_id)
    params = _read_params(path, delimiter)
    for sample_all in (False, True):
        try:
            with store.transaction() as cur:
                source = _read_sql(delimiter, sample_all)
                cur.execute(
                    f"CREATE TABLE {table} AS SELECT {select} FROM {source}",
                    params,
                )
                rows = cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                if rows == 0:
                    raise KpiLabError(f"{label} has a header but no data rows: export it again")
                wanted = name or _stem(label)
                return store.register(
                    cur, dataset_id, store.unique_name(cur, wanted), label, rows, columns
                )
        except (duckdb.ConversionException, duckdb.InvalidInputException) as exc:
            if not sample_all:
                continue  # a type guessed from the first rows broke later: sniff the whole file
            reason = str(exc).splitlines()[0]
            raise KpiLabError(
                f"{label} could not be read ({reason}): check that every row has the same"
                " columns as the header"
            ) from None
        except duckdb.OutOfMemoryException:
            raise KpiLabError(
                f"{label} is too large for the memory limit: raise KPILAB_MEMORY_LIMIT"
            ) from None
    raise AssertionError("unreachable")


def _stem(label: str) -> str:
    stem = Path(label).name
    for suffix in (".gz",) + TEXT_SUFFIXES:
        stem = stem.removesuffix(suffix)
    return stem or "dataset"


def _quality_warnings(store: Store, dataset: Dataset) -> list[dict]:
    """Counts over the stored table: missing metric values, negative spend, clicks > impressions."""
    roles = dataset.roles
    checks: list[tuple[str, str, str]] = [
        (f"missing_{role}", f"{quote_identifier(col)} IS NULL", f"rows with no {role} value")
        for role, col in roles.items()
        if role in METRIC_ROLES
    ]
    if "spend" in roles:
        checks.append(
            (
                "negative_spend",
                f"{quote_identifier(roles['spend'])} < 0",
                "rows with negative spend",
            )
        )
    if "clicks" in roles and "impressions" in roles:
        checks.append(
            (
                "clicks_over_impressions",
                f"{quote_identifier(roles['clicks'])} > {quote_identifier(roles['impressions'])}",
                "rows with more clicks than impressions",
            )
        )
    if roles.get("date"):
        checks.append(
            (
                "missing_date",
                f"{quote_identifier(roles['date'])} IS NULL",
                "rows whose date could not be read (left out of date filters)",
            )
        )
    if not checks:
        return []
    counts_sql = ", ".join(f"count(*) FILTER (WHERE {cond})" for _, cond, _ in checks)
    with store.cursor() as cur:
        counts = cur.execute(f"SELECT {counts_sql} FROM {dataset.table}").fetchone()
    return [
        _warning(code, n, f"{n} {text}")
        for (code, _, text), n in zip(checks, counts, strict=True)
        if n
    ]
