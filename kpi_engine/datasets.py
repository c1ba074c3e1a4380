"""A dataset as the registry describes it: its columns and their roles, where its rows live
and which version of them is current. Pure data: no database, no engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from kpi_engine.errors import KpiLabError
from kpi_engine.identifiers import quote_identifier
from kpi_engine.roles import DIMENSION_ROLES

MAX_NAME_LENGTH = 120


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    role: str | None = None


@dataclass(frozen=True)
class Dataset:
    dataset_id: str
    name: str
    source_file: str | None
    rows: int
    columns: tuple[Column, ...]
    created_at: datetime
    kind: str = "campaign"  # campaign | user_level | variant_totals
    platform: str = "generic"
    currencies: tuple[str, ...] = ()
    report: dict = field(default_factory=dict)  # the last import's rows and warnings
    engine: str = "duckdb"  # where the rows live and analyses run: duckdb or spark
    source: dict | None = None  # an attached dataset's path or table and format
    location: str | None = None  # an imported dataset's Parquet file (where it is read)
    version: str = ""  # new with every change of the rows

    @property
    def header_period(self) -> tuple[str, str] | None:
        """For rows without dates: the period the file's header named (their totals cover
        it), as ISO dates."""
        found = None if self.date_column else self.report.get("period")
        if isinstance(found, list) and len(found) == 2 and all(isinstance(d, str) for d in found):
            return found[0], found[1]
        return None

    @property
    def dropped_days(self) -> dict[str, int]:
        """Day → rows dropped at import for their shape (this import's and earlier ones'),
        so the numbers of those days can say they miss them."""
        days: dict[str, int] = {}
        for report in (self.report, *self.report.get("earlier", [])):
            for day, count in (report.get("dropped_days") or {}).items():
                days[day] = days.get(day, 0) + int(count)
        return dict(sorted(days.items()))

    @property
    def attached(self) -> bool:
        """Read where it lives, never copied here: its rows cannot be changed from KPI Lab."""
        return self.engine != "duckdb"

    def writable(self) -> None:
        """Nothing, or the error for changing the rows of an attached dataset."""
        if self.attached:
            raise KpiLabError(
                f"dataset {self.name!r} is attached from {self.source_file} on {self.engine}:"
                " KPI Lab only reads it; change the rows where they live, or import a file"
                " as a new dataset"
            )

    @property
    def table_name(self) -> str:
        """The name analysis SQL reads the rows by: one per version, so a process never
        reads a version through a name another version had."""
        return f"{self.dataset_id}@{self.version}" if self.version else self.dataset_id

    @property
    def table(self) -> str:
        return quote_identifier(self.table_name)

    @property
    def roles(self) -> dict[str, str]:
        """role → column name."""
        return {c.role: c.name for c in self.columns if c.role}

    @property
    def date_column(self) -> str | None:
        return self.roles.get("date")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def dimensions(self) -> list[str]:
        """Columns a table can be broken down by: campaign, channel, variant, other text."""
        roles = self.roles
        dims = [roles[r] for r in (*DIMENSION_ROLES, "currency") if r in roles]
        dims += [
            c.name
            for c in self.columns
            if c.role is None and c.name not in dims and c.type.upper() in ("VARCHAR", "BOOLEAN")
        ]
        return dims

    @property
    def currency(self) -> str | None:
        """The one currency of the money columns, when there is exactly one."""
        return self.currencies[0] if len(self.currencies) == 1 else None

    def to_dict(self) -> dict:
        return {
            "dataset_id": self.dataset_id,
            "name": self.name,
            "source_file": self.source_file,
            "rows": self.rows,
            "kind": self.kind,
            "platform": self.platform,
            "currencies": list(self.currencies),
            "columns": {c.name: c.role for c in self.columns},
            "engine": self.engine,
            "created_at": self.created_at.isoformat(timespec="seconds"),
        }


def clean_name(name: str) -> str:
    name = " ".join(str(name).split())
    if not name:
        raise KpiLabError("a dataset name cannot be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise KpiLabError(f"a dataset name can have at most {MAX_NAME_LENGTH} characters")
    return name
