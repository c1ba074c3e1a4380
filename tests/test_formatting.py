import math

import pytest

from kpi_engine.formatting import format_compact, format_value


@pytest.mark.parametrize(
    "value, unit, text",
    [
        (None, "currency", "n/a"),
        (math.nan, "percent", "n/a"),
        (math.inf, "ratio", "n/a"),
        (0.035384, "percent", "3.54%"),
        (1234.5, "currency", "1,234.50"),
        (5.448, "ratio", "5.45"),
        (6500, "count", "6,500"),
        (0.5, "count", "0.5"),
    ],
)
def test_format_value(value, unit, text):
    assert format_value(value, unit) == text


@pytest.mark.parametrize(
    "value, unit, text",
    [
        (1_324_567.0, "currency", "1.32M"),
        (245_100, "count", "245.1K"),
        (9_999, "count", "9,999"),
        (2_500_000_000, "count", "2.50B"),
        (0.5, "percent", "50.00%"),
        (None, "count", "n/a"),
    ],
)
def test_format_compact(value, unit, text):
    assert format_compact(value, unit) == text
