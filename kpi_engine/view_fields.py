"""Reading a spec's settings from its view JSON (a saved view, a link, a ``--view`` file).

A view is ``{"version": 2, "page": ..., "dataset_id": ..., <settings>}``. Each reader takes
one setting, turns JSON values into Python ones, and raises an error naming the setting's
field when a value has the wrong type ("alpha must be a number, not 'x'"); the spec's own
checks then judge the values. A setting the page does not know is an error too, so a typo
in a view file is not silently ignored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from kpi_engine.errors import KpiLabError
from kpi_engine.kpis.catalog import Kpi
from kpi_engine.kpis.definition import make_kpi

VIEW_VERSION = 2
HEADER = ("version", "page", "dataset_id")


def header(page: str, dataset_id: str) -> dict:
    return {"version": VIEW_VERSION, "page": page, "dataset_id": dataset_id}


def custom_to_view(custom: Iterable[Kpi]) -> list[dict]:
    """Custom KPIs by value: a view opens the same way after one is edited or deleted."""
    return [
        {"id": k.id, "formula": k.formula, "unit": k.unit, "direction": k.direction} for k in custom
    ]


class ViewFields:
    """The settings of one view document, read one at a time."""

    def __init__(self, doc: Mapping[str, Any], known: Iterable[str]) -> None:
        known = set(known) | set(HEADER)
        unknown = sorted(str(k) for k in doc if k not in known)
        if unknown:
            raise KpiLabError(
                f"is not a setting of this page: known settings are {', '.join(sorted(known))}",
                unknown[0],
            )
        self.doc = doc

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.doc.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise KpiLabError(f"must be text, not {value!r}", key)
        return str(value)

    def number(self, key: str, default: float | None = None) -> float | None:
        value = self.doc.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise KpiLabError(f"must be a number, not {value!r}", key)
        try:
            number = float(value)
        except ValueError:
            raise KpiLabError(f"must be a number, not {value!r}", key) from None
        if not math.isfinite(number):
            raise KpiLabError(f"must be a finite number, not {value!r}", key)
        return number

    def integer(self, key: str, default: int | None = None) -> int | None:
        number = self.number(key, default)
        if number is None:
            return None
        if number != int(number):
            raise KpiLabError(f"must be a whole number, not {number!r}", key)
        return int(number)

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.doc.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise KpiLabError(f"must be true or false, not {value!r}", key)
        return value

    def day(self, key: str) -> date | None:
        value = self.doc.get(key)
        if value is None or value == "":
            return None
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            raise KpiLabError(f"must be a date written YYYY-MM-DD, not {value!r}", key) from None

    def texts(self, key: str) -> tuple[str, ...]:
        value = self.doc.get(key) or []
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise KpiLabError(f"must be a list, not {value!r}", key)
        return tuple(self._one_text(key, v) for v in value)

    def _one_text(self, key: str, value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise KpiLabError(f"must hold text, not {value!r}", key)
        return str(value)

    def numbers(self, key: str) -> tuple[float, ...] | None:
        value = self.doc.get(key)
        if value is None:
            return None
        if not isinstance(value, (list, tuple)):
            raise KpiLabError(f"must be a list of numbers, not {value!r}", key)
        return tuple(ViewFields({key: v}, [key]).number(key) for v in value)

    def pairs(self, key: str) -> tuple[tuple[str, float], ...]:
        """``[[name, number], ...]`` or ``{name: number}``."""
        value = self.doc.get(key) or []
        items = value.items() if isinstance(value, Mapping) else value
        out = []
        for item in items:
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise KpiLabError(f"must be pairs of a name and a number, not {item!r}", key)
            out.append(
                (self._one_text(key, item[0]), ViewFields({key: item[1]}, [key]).number(key))
            )
        return tuple(out)

    def named_numbers(self, key: str, count: int) -> tuple[tuple, ...]:
        """``[[name, number or null, ... count numbers], ...]``."""
        value = self.doc.get(key) or []
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise KpiLabError(f"must be a list, not {value!r}", key)
        out = []
        for item in value:
            if not isinstance(item, (list, tuple)) or len(item) != count + 1:
                raise KpiLabError(f"must hold a name and {count} numbers, not {item!r}", key)
            numbers = (ViewFields({key: v}, [key]).number(key) for v in item[1:])
            out.append((self._one_text(key, item[0]), *numbers))
        return tuple(out)

    def text_pairs(self, key: str) -> tuple[tuple[str, str], ...]:
        """``[[name, text], ...]`` or ``{name: text}``."""
        value = self.doc.get(key) or []
        items = value.items() if isinstance(value, Mapping) else value
        out = []
        for item in items:
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise KpiLabError(f"must be pairs of a name and a text, not {item!r}", key)
            out.append((self._one_text(key, item[0]), self._one_text(key, item[1])))
        return tuple(out)

    def filters(self, key: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """``{column: [values]}`` or ``[[column, [values]], ...]``."""
        value = self.doc.get(key) or {}
        items = value.items() if isinstance(value, Mapping) else value
        out = []
        for item in items:
            if not isinstance(item, (list, tuple)) or len(item) != 2:
                raise KpiLabError(f"must map a column to a list of values, not {item!r}", key)
            name, values = item
            out.append((self._one_text(key, name), ViewFields({key: values}, [key]).texts(key)))
        return tuple(out)

    def custom(self, key: str = "custom") -> tuple[Kpi, ...]:
        value = self.doc.get(key) or []
        if not isinstance(value, (list, tuple)):
            raise KpiLabError(f"must be a list of KPI definitions, not {value!r}", key)
        out = []
        for item in value:
            if not isinstance(item, Mapping) or not {"id", "formula"} <= set(item):
                raise KpiLabError(f"needs an id and a formula for each KPI, not {item!r}", key)
            out.append(
                make_kpi(
                    str(item["id"]),
                    str(item["formula"]),
                    str(item.get("unit", "ratio")),
                    str(item.get("direction", "neutral")),
                )
            )
        return tuple(out)
