"""Typed results to JSON and back: the JSON of a result has the shape of its dataclasses.

``to_json`` turns a dataclass (nested dataclasses, tuples, dicts, dates, numpy scalars) into
plain JSON values, with a missing or non-finite number as ``null``. ``from_json`` rebuilds the
dataclass from its type hints, so ``from_json(type(x), to_json(x)) == x`` for any result: a
shared link stores a result's JSON and draws exactly the result its owner saw.

A field can carry another name in JSON with ``field(metadata={"json": "from"})``.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from datetime import date, datetime
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


def finite(value: object) -> float | None:
    """A number as a float, or None where it is missing or not finite (n/a): results hold
    None for n/a, never NaN, so that they read back from JSON equal."""
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def json_name(field: dataclasses.Field) -> str:
    return field.metadata.get("json", field.name)


def to_json(value: Any) -> Any:
    """Plain JSON values (dicts, lists, str, float, int, bool, None) for ``value``."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {json_name(f): to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        value = value.item()
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_json(cls: type[T], data: Any) -> T:
    """Rebuild a ``cls`` (a dataclass or a type hint) from what ``to_json`` wrote."""
    return _build(cls, data)


def _build(hint: Any, data: Any) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if data is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        return _build(options[0], data)
    if dataclasses.is_dataclass(hint):
        if not isinstance(data, dict):
            raise ValueError(f"{hint.__name__} needs an object, not {data!r}")
        hints = _hints(hint)
        values = {}
        for f in dataclasses.fields(hint):
            name = json_name(f)
            if name in data:
                values[f.name] = _build(hints[f.name], data[name])
        return hint(**values)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_build(args[0], v) for v in data)
        return tuple(_build(a, v) for a, v in zip(args, data, strict=True))
    if origin is dict:
        return {k: _build(args[1], v) for k, v in data.items()}
    if origin is typing.Literal:
        return data
    if hint is Any:
        return data
    if hint is float:
        return None if data is None else float(data)
    if hint is date:
        return date.fromisoformat(data)
    if hint is datetime:
        return datetime.fromisoformat(data)
    return data
