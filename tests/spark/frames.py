"""Two query results compared as the parity suite means it: the same column names, the same
kind of type per column, and the same values (numbers at 1e-9 relative)."""

from __future__ import annotations

import numpy as np
import pandas as pd

RTOL = 1e-9


def _kind(series: pd.Series) -> str:
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date"
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_numeric_dtype(series):
        return "number"
    return "text"


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in frame.columns if _kind(frame[c]) != "number"]
    keys += [c for c in frame.columns if c not in keys]
    return frame.sort_values(keys, kind="mergesort", na_position="last").reset_index(drop=True)


def differences(duck: pd.DataFrame, spark: pd.DataFrame) -> list[str]:
    """What differs, in words; empty when the frames agree."""
    if list(duck.columns) != list(spark.columns):
        return [f"columns {list(duck.columns)} != {list(spark.columns)}"]
    if len(duck) != len(spark):
        return [f"{len(duck)} rows != {len(spark)} rows"]
    kinds = {c: (_kind(duck[c]), _kind(spark[c])) for c in duck.columns}
    wrong = [f"{c}: {a} on DuckDB, {b} on Spark" for c, (a, b) in kinds.items() if a != b]
    if wrong or duck.empty:
        return wrong
    duck, spark = _sorted(duck), _sorted(spark)
    out = []
    for c, (kind, _) in kinds.items():
        a, b = duck[c], spark[c]
        if kind == "number":
            same = np.isclose(
                a.astype(float), b.astype(float), rtol=RTOL, atol=1e-12, equal_nan=True
            )
        else:
            same = (a == b) | (a.isna() & b.isna())
        if not same.all():
            at = int(np.argmin(np.asarray(same)))
            out.append(f"{c} row {at}: {a.iloc[at]!r} != {b.iloc[at]!r}")
    return out
