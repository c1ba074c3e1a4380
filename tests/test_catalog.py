"""One parametrised test walks the whole catalog; every entry must be usable as declared."""

import pytest

from kpi_engine.errors import KpiLabError
from kpi_engine.ingest import import_file
from kpi_engine.kpis import formula as fx
from kpi_engine.kpis.catalog import (
    CATALOG,
    DIRECTIONS,
    FAMILIES,
    OBJECTIVES,
    RECOMMENDED,
    UNITS,
    get_kpi,
    only_vanity,
)
from kpi_engine.kpis.query import KpiQuery, run_kpis
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


def test_starter_set_is_complete():
    assert set(STARTER_IDS) <= set(CATALOG)


def _evaluate(node, sums: dict[str, float], rows: int) -> float:
    """The formula evaluated in Python on column sums: a second path, independent of SQL."""
    if isinstance(node, fx.Number):
        return node.value
    if isinstance(node, fx.Aggregate):
        # count(unit) and users(x): every row here is a different user with x above 0
        return float(rows) if node.func in ("count", "users") else sums[node.column]
    if isinstance(node, fx.Negate):
        return -_evaluate(node.operand, sums, rows)
    left, right = _evaluate(node.left, sums, rows), _evaluate(node.right, sums, rows)
    return {"+": left + right, "-": left - right, "*": left * right, "/": left / right}[node.op]


@pytest.fixture(scope="module")
def every_column(tmp_path_factory):
    """Three rows with a column for every metric role (values chosen at random, seeded)."""
    import numpy as np

    from kpi_engine.roles import METRIC_ROLES
    from kpi_engine.store import Store

    rng = np.random.default_rng(1)
    values = {role: rng.integers(50, 5000, 3).astype(float) for role in METRIC_ROLES}
    header = ["date", "campaign", "user_id", *METRIC_ROLES]
    lines = [",".join(header)]
    for i in range(3):
        lines.append(
            ",".join(
                [f"2026-01-0{i + 1}", "A", f"u{i}"] + [str(values[r][i]) for r in METRIC_ROLES]
            )
        )
    path = tmp_path_factory.mktemp("catalog") / "every_column.csv"
    path.write_text("\n".join(lines) + "\n")
    store = Store(":memory:")
    mapping = {r: r for r in METRIC_ROLES} | {
        "user_id": "unit",
        "date": "date",
        "campaign": "campaign",
    }
    from kpi_engine.ingest import ImportOptions

    dataset = import_file(store, path, options=ImportOptions(mapping=mapping)).dataset
    return store, dataset, {r: float(v.sum()) for r, v in values.items()}


@pytest.mark.parametrize("kpi_id", list(CATALOG))
def test_entry(kpi_id, every_column):
    kpi = CATALOG[kpi_id]
    node = fx.parse(kpi.formula)
    assert kpi.requires and set(kpi.requires) <= set(ROLES)
    assert tuple(fx.columns(node)) == kpi.requires
    assert kpi.unit in UNITS and kpi.direction in DIRECTIONS and kpi.family in FAMILIES
    assert kpi.name and len(kpi.description) > 20 and len(kpi.pitfall) > 20
    assert set(kpi.objectives) <= set(OBJECTIVES)
    store, dataset, sums = every_column
    value = run_kpis(store, dataset, KpiQuery((kpi_id,))).iloc[0][kpi_id]
    assert value == pytest.approx(_evaluate(node, sums, dataset.rows), rel=1e-12)


@pytest.mark.parametrize("kpi_id", STARTER_IDS + ["rpc"])
def test_starter_kpis_on_hand_added_totals(kpi_id, store):
    dataset = import_file(store, FIXTURES / "tiny_campaigns.csv").dataset
    value = run_kpis(store, dataset, KpiQuery((kpi_id,))).iloc[0][kpi_id]
    assert value == pytest.approx(EXPECTED[kpi_id])


def test_catalog_size_objectives_and_vanity():
    assert len(CATALOG) >= 30 and {k.family for k in CATALOG.values()} == set(FAMILIES)
    for objective, ids in RECOMMENDED.items():
        assert objective in OBJECTIVES and all(k in CATALOG for k in ids)
    assert only_vanity(["impressions", "clicks"]) and not only_vanity(["impressions", "roas"])


def test_lower_is_better_for_costs_bounces_and_churn():
    lower = {k for k, v in CATALOG.items() if v.direction == "lower"}
    assert lower == {
        "cpc",
        "cpm",
        "cpa",
        "cost_per_lead",
        "cac",
        "cpi",
        "bounce_rate",
        "churn_rate",
    }


def test_unknown_kpi():
    with pytest.raises(KpiLabError, match="unknown KPI 'ctrr': choose one of impressions"):
        get_kpi("ctrr")
