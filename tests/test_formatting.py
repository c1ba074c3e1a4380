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
        (245_100, "count", "245K"),  # three significant digits: cards never cut a value off
        (66_818, "currency", "66.8K"),
        (9_999, "count", "10.0K"),
        (999, "count", "999"),
        (999_999, "count", "1.00M"),
        (2_500_000_000, "count", "2.50B"),
        (0.5, "percent", "50.00%"),
        (None, "count", "n/a"),
    ],
)
def test_format_compact(value, unit, text):
    assert format_compact(value, unit) == text


def test_one_set_of_rules_money_percentages_and_zero():
    from kpi_engine.formatting import d3_format, format_cell, format_change, format_value

    assert format_value(1234.5, "currency", "EUR") == "€1,234.50"
    assert format_value(-12, "currency", "USD") == "-$12.00"
    assert format_value(1234.5, "currency", "CHF") == "1,234.50 CHF"
    assert format_compact(1_324_924.56, "currency", "GBP") == "£1.32M"
    assert (
        format_value(-0.001, "currency") == "0.00" and format_value(-0.00001, "percent") == "0.00%"
    )
    assert [format_cell(v, "percent") for v in (0.0411, 0.0851, 0.01)] == [
        "4.11%",
        "8.51%",
        "1.00%",
    ]
    assert format_change(-0.0001) == "+0.0%" and format_change(-0.031) == "−3.1%"
    assert format_cell(None, "ratio") == "n/a" and format_cell(float("nan"), "text") == "n/a"
    assert d3_format("count") == ",.3~s" and d3_format("percent") == ".2~%"
