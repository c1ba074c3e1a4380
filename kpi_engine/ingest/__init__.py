"""Import campaign files: detect the format, dialect, column roles and number locales, then
let DuckDB load the file in one transaction, with a data-quality report.

The names below load their modules when first used, so that a light submodule (the platform
list the command line's help shows) does not bring the importer and pandas with it."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kpi_engine.ingest.importer import (
        ImportOptions,
        ImportResult,
        import_file,
        inspect_file,
        mapping_of,
        resolve_preset,
    )
    from kpi_engine.ingest.plan import ImportPlan

_HOMES = {
    "ImportOptions": "importer",
    "ImportResult": "importer",
    "import_file": "importer",
    "inspect_file": "importer",
    "mapping_of": "importer",
    "resolve_preset": "importer",
    "ImportPlan": "plan",
}

__all__ = [  # noqa: F822 (the names resolve through __getattr__)
    "ImportOptions",
    "ImportPlan",
    "ImportResult",
    "import_file",
    "inspect_file",
    "mapping_of",
    "resolve_preset",
]


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
