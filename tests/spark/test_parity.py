"""Every analysis query shape gives the same frame on DuckDB and on Spark reading the same
Parquet file the import wrote: same columns, same kinds of type, values at 1e-9 relative;
a generated custom formula agrees on both; and a copy attached as a lake table gets the
same roles and profile as the import."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi_engine.currencies.convert import forget_days
from kpi_engine.currencies.rates import parse_rates
from kpi_engine.ingest import import_file
from kpi_engine.kpis.definition import make_kpi
from kpi_engine.kpis.query import KpiQuery, run_kpis
from tests.engine_shapes import SHAPES
from tests.spark.conftest import on_spark
from tests.spark.frames import differences

pytestmark = pytest.mark.slow  # real processes, a browser or Spark: make test runs it


def test_attached_datasets_get_the_same_roles_and_profile(lake):
    for name, (local, remote) in lake.attached.items():
        assert remote.engine == "spark" and remote.rows == local.rows, name
        assert remote.roles == local.roles, name
        assert remote.kind == local.kind, name
        assert remote.report["unique_units"] == local.report["unique_units"], name


@pytest.mark.parametrize("shape", SHAPES, ids=[s.name for s in SHAPES])
def test_every_query_shape_is_the_same_on_spark(lake, shape):
    local, remote = lake.pairs[shape.sample]
    on_duckdb = shape.queries(lake.store, local)
    on_spark = shape.queries(lake.store, remote)
    assert len(on_duckdb) == len(on_spark)
    for (sql, _, duck), (_, _, spark) in zip(on_duckdb, on_spark, strict=True):
        assert not differences(duck, spark), (sql, differences(duck, spark))
    print(f"\n{shape.name}: {len(on_duckdb)} queries agree")


_COLUMN = st.sampled_from(["impressions", "clicks", "conversions", "spend", "revenue"])
_NUMBER = st.sampled_from(["1", "2.5", "0.1", "100"])


@st.composite
def _formula(draw, depth: int = 0) -> str:
    choice = draw(st.integers(0, 5 if depth < 3 else 1))
    if choice == 0:
        return draw(_COLUMN)
    if choice == 1:
        fn = draw(st.sampled_from(["sum", "min", "max", "count"]))
        return f"{fn}({draw(_COLUMN)})"
    if choice == 2:
        return draw(_NUMBER)
    if choice == 3:
        return f"-({draw(_formula(depth + 1))})"
    op = draw(st.sampled_from(["+", "-", "*", "/"]))
    return f"({draw(_formula(depth + 1))} {op} {draw(_formula(depth + 1))})"


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(formula=_formula())
def test_generated_custom_formulas_agree(lake, formula):
    kpi = make_kpi("mine", formula, "ratio", "higher")
    local, remote = lake.pairs["campaigns"]
    frames = [
        run_kpis(lake.store, d, KpiQuery(("mine",), by=("channel",), custom=(kpi,)))
        for d in (local, remote)
    ]
    assert not differences(*frames), (formula, differences(*frames))


def test_money_converted_into_one_currency_is_the_same_on_spark(lake, tmp_path):
    """The rates' runs reach Spark as a bound VALUES table joined on currency and day."""
    path = tmp_path / "mixed.csv"
    path.write_text(
        "Date,Campaign,Currency,Cost,Revenue\n"
        + "".join(
            f"2026-03-{day:02d},{name},{code},{100 + day * 7},{300 + day * 11}\n"
            for day in range(1, 15)
            for name, code in (("A", "EUR"), ("B", "INR"), ("C", "USD"))
        )
    )
    local = import_file(lake.store, path, name="mixed money").dataset
    rates = b"Date,USD,INR\n2026-03-02,1.07,93.5\n2026-03-06,1.1,95\n2026-03-09,1.09,94.2\n"
    store = lake.store.using_rates(parse_rates(rates, "ecb.csv"))
    for query in (
        KpiQuery(("spend", "roas"), currency="USD", convert=True, start=date(2026, 3, 2)),
        KpiQuery(("spend",), by=("campaign",), grain="week", currency="INR", convert=True,
                 start=date(2026, 3, 3), end=date(2026, 3, 12)),
    ):  # fmt: skip
        duck = run_kpis(store, local, query)
        forget_days()  # Spark reads each currency's days itself too
        spark = run_kpis(store, on_spark(local), query)
        assert not differences(duck, spark), differences(duck, spark)
        assert duck.notna().all().all()
