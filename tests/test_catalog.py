"""One parametrised test walks the whole catalog; every entry must be usable as declared."""

import pytest

from kpi_engine import formula as fx
from kpi_engine.catalog import CATALOG, DIRECTIONS, UNITS, get_kpi
from kpi_engine.errors import KpiLabError
from kpi_engine.ingest import import_file
from kpi_engine.kpi_query import KpiQuery, run_kpis
from kpi_engine.roles import ROLES
from tests.conftest import FIXTURES

STARTER_IDS = [
    "impressions",
    "clicks",
    "conversions",
    "spend",
    "revenue",
    "ctr",
    "cpc",
    "cpm",
    "cvr",
    "cpa",
    "roas",
    "aov",
]

# Totals of tests/fixtures/tiny_campaigns.csv, added up by hand.
IMPRESSIONS, CLICKS, SPEND, CONVERSIONS, REVENUE = 6500, 230, 145.0, 17, 790.0
EXPECTED = {
    "impressions": IMPRESSIONS,
    "clicks": CLICKS,
    "conversions": CONVERSIONS,
    "spend": SPEND,
    "revenue": REVENUE,
    "ctr": CLICKS / IMPRESSIONS,
    "cpc": SPEND / CLICKS,
    "cpm": SPEND / IMPRESSIONS * 1000,
    "cvr": CONVERSIONS / CLICKS,
    "cpa": SPEND / CONVERSIONS,
    "roas": REVENUE / SPEND,
    "aov": REVENUE / CONVERSIONS,
    "rpc": REVENUE / CLICKS,
}
# tests/fixtures/import/user_level_experiment.csv: 4 users, 2 converted, revenue 20 + 35
USER_LEVEL = FIXTURES / "import" / "user_level_experiment.csv"
EXPECTED_USER_LEVEL = {"conversion_rate": 2 / 4, "revenue_per_user": 55 / 4}


def test_starter_set_is_complete():
    assert set(STARTER_IDS) <= set(CATALOG)


@pytest.mark.parametrize("kpi_id", list(CATALOG))
def test_entry(kpi_id, store):
    kpi = CATALOG[kpi_id]
    node = fx.parse(kpi.formula)
    assert kpi.requires and set(kpi.requires) <= set(ROLES)
    assert tuple(fx.columns(node)) == kpi.requires
    assert kpi.unit in UNITS and kpi.direction in DIRECTIONS
    assert kpi.name and kpi.family and len(kpi.description) > 20
    per_user = kpi_id in EXPECTED_USER_LEVEL
    example = USER_LEVEL if per_user else FIXTURES / "tiny_campaigns.csv"
    dataset = import_file(store, example).dataset
    value = run_kpis(store, dataset, KpiQuery((kpi_id,))).iloc[0][kpi_id]
    assert value == pytest.approx({**EXPECTED, **EXPECTED_USER_LEVEL}[kpi_id])


def test_lower_is_better_for_costs():
    assert {k for k, v in CATALOG.items() if v.direction == "lower"} == {"cpc", "cpm", "cpa"}


def test_unknown_kpi():
    with pytest.raises(KpiLabError, match="unknown KPI 'ctrr': choose one of impressions"):
        get_kpi("ctrr")
