"""Import campaign files: detect the format, dialect, column roles and number locales, then
let DuckDB load the file in one transaction, with a data-quality report."""

from kpi_engine.ingest.importer import (
    ImportOptions,
    ImportResult,
    import_file,
    inspect_file,
    mapping_of,
    resolve_preset,
)
from kpi_engine.ingest.plan import ImportPlan

__all__ = [
    "ImportOptions",
    "ImportPlan",
    "ImportResult",
    "import_file",
    "inspect_file",
    "mapping_of",
    "resolve_preset",
]
