"""Properties over generated specs of every analysis (every setting, custom KPIs, filters,
dates): a spec reads back from its view JSON unchanged, and a shared link shows exactly the
result the page computed (``ui.cache.result_of``, the page's own path) or the same error."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as hs

from kpi_engine.aggregate_sql import GRAINS
from kpi_engine.analyses import spec_from_view
from kpi_engine.budget.spec import BudgetSpec
from kpi_engine.errors import KpiLabError
from kpi_engine.experiments import shapes
from kpi_engine.experiments.spec import FAMILIES, ExperimentSpec
from kpi_engine.kpis.dashboard import Target
from kpi_engine.kpis.definition import make_kpi
from kpi_engine.kpis.query import kpi_availability
from kpi_engine.kpis.spec import KpiViewSpec
from kpi_engine.samples import seed_samples
from kpi_engine.sharing.links import create_share, open_share
from kpi_engine.sharing.report import html_report
from kpi_engine.stats.multiple import CORRECTIONS
from kpi_engine.store import Store
from ui.cache import result_of

pytestmark = pytest.mark.slow  # hundreds of generated specs: make test runs it

SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FIRST, LAST = date(2026, 4, 20), date(2026, 9, 10)  # the samples cover May to August
CUSTOM_FORMULAS = {  # valid custom KPIs over the samples' columns
    "net_margin": ("(sum(revenue) - sum(spend)) / sum(revenue)", "percent", "higher"),
    "rev_per_click": ("sum(revenue) / sum(clicks)", "currency", "higher"),
    "cost_per_k": ("sum(spend) / sum(impressions) * 1000", "currency", "lower"),
    "clicks_less_conv": ("sum(clicks) - -sum(conversions) * 2", "count", "neutral"),
}


@pytest.fixture(scope="module")
def samples():
    store = Store(":memory:")
    seed_samples(store)
    yield store
    store.close()


def _check(store: Store, spec) -> None:
    """The view JSON round trip, then the page's result against the link's."""
    view = json.loads(json.dumps(spec.to_view()))
    assert spec_from_view(view) == spec
    dataset = store.dataset(spec.dataset_id)
    try:
        page = result_of(store, dataset, spec)
    except KpiLabError as exc:
        with pytest.raises(KpiLabError) as info:
            create_share(store, spec)
        assert str(info.value) == str(exc)  # no link to a view that shows an error
        event(f"{spec.PAGE}: an error ({exc.field or 'no field'})")
        return
    event(f"{spec.PAGE}: a result")
    shared = open_share(store, create_share(store, spec, page)["token"])  # as the page does
    assert shared.spec == spec and shared.result == page
    assert shared.result.to_dict() == page.to_dict()
    # a link made without the page's result (share create) computes it again: DuckDB adds
    # floats on several threads, so the last bits may differ, nothing more
    again = open_share(store, create_share(store, spec)["token"])
    _close(again.result.to_dict(), page.to_dict())
    assert "<h1>" in html_report(shared)  # the renderer draws every result it is given


def _close(a, b) -> None:
    """Equal documents, numbers to 1e-9 relative."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            _close(a[key], b[key])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            _close(x, y)
    elif isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12)
    else:
        assert a == b


@hs.composite
def periods(draw, store: Store, dataset) -> tuple[date | None, date | None]:
    """Often inside the data, sometimes a few days over its edges, sometimes open."""
    first, last = store.date_range(dataset)
    dates = hs.one_of(hs.none(), hs.dates(first - timedelta(days=3), last + timedelta(days=3)))
    a, b = draw(dates), draw(dates)
    if a and b and a > b:
        a, b = b, a
    return a, b


@hs.composite
def kpi_specs(draw, store: Store) -> KpiViewSpec:
    dataset = store.dataset("Sample campaigns")
    names = draw(hs.lists(hs.sampled_from(sorted(CUSTOM_FORMULAS)), max_size=2, unique=True))
    custom = tuple(make_kpi(n, *CUSTOM_FORMULAS[n]) for n in names)
    available = [k for k, m in kpi_availability(dataset, custom).items() if not m]
    kpis = tuple(draw(hs.lists(hs.sampled_from(available), min_size=1, max_size=5, unique=True)))
    start, end = draw(periods(store, dataset))
    channels = store.distinct_values(dataset, "channel")
    campaigns = store.distinct_values(dataset, "campaign")
    filters = []
    for role, values in (("channel", channels), ("campaign", campaigns)):
        chosen = draw(hs.lists(hs.sampled_from(values), max_size=3, unique=True))
        if chosen:
            filters.append((role, tuple(chosen)))
    by = tuple(draw(hs.lists(hs.sampled_from(["campaign", "channel"]), max_size=2, unique=True)))
    grain = draw(hs.one_of(hs.none(), hs.sampled_from(GRAINS)))
    smooth = grain == "day" and draw(hs.booleans())
    lines_by = None
    if grain is not None and not smooth:
        lines_by = draw(hs.one_of(hs.none(), hs.sampled_from(["campaign", "channel"])))
    compare = None
    if start and end and draw(hs.booleans()):
        compare = tuple(sorted((draw(hs.dates(FIRST, LAST)), draw(hs.dates(FIRST, LAST)))))
    targets = tuple(
        Target(k, draw(hs.floats(1, 2e6)), (s := draw(hs.dates(FIRST, LAST))),
               s + timedelta(days=draw(hs.integers(0, 60))))
        for k in draw(hs.lists(hs.sampled_from(kpis), max_size=2, unique=True))
    )  # fmt: skip
    return KpiViewSpec(
        dataset.dataset_id,
        kpis,
        tuple(k for k in custom if k.id in kpis),
        start,
        end,
        tuple(filters),
        None,
        by,
        draw(hs.one_of(hs.none(), hs.sampled_from(kpis))),
        draw(hs.one_of(hs.none(), hs.integers(1, 20))),
        grain,
        draw(hs.one_of(hs.none(), hs.sampled_from(kpis))),
        lines_by,
        smooth,
        compare,
        targets,
    )


@hs.composite
def experiment_specs(draw, store: Store) -> ExperimentSpec:
    name = draw(hs.sampled_from(["Sample A/B test (campaign)", "Sample experiment (users)"]))
    dataset = store.dataset(name)
    kind = shapes.data_kind(dataset)
    custom = ()
    if kind == "campaign" and draw(hs.booleans()):
        custom = (make_kpi("rev_per_click", *CUSTOM_FORMULAS["rev_per_click"]),)
    allowed = shapes.testable_kpis(dataset, kind, custom)
    kpis = tuple(draw(hs.lists(hs.sampled_from(allowed), min_size=1, max_size=3, unique=True)))
    variants = store.distinct_values(dataset, "variant")
    guard = draw(hs.lists(hs.sampled_from(allowed), max_size=2, unique=True))
    start, end = draw(periods(store, dataset))
    split = draw(
        hs.one_of(hs.none(), hs.lists(hs.floats(1, 99), min_size=2, max_size=3).map(tuple))
    )
    named = {*kpis, *guard}
    methods = draw(user_methods(kpis)) if kind == "users" else {}
    if draw(hs.booleans()):
        margins = draw(hs.lists(hs.sampled_from(kpis), max_size=2, unique=True))
        methods["non_inferiority"] = tuple((k, draw(hs.floats(0.005, 0.2))) for k in margins)
    return ExperimentSpec(
        dataset_id=dataset.dataset_id,
        variant_col="variant",
        control=draw(hs.sampled_from(variants)),
        kpis=kpis,
        custom=tuple(k for k in custom if k.id in named),
        unit_col=draw(hs.sampled_from([None, "campaign"])) if kind == "campaign" else None,
        correction=draw(hs.sampled_from(CORRECTIONS)),
        family=draw(hs.sampled_from(FAMILIES)),
        sequential=draw(hs.booleans()),
        tuning=draw(hs.floats(100, 100_000)),
        split=split,
        alpha=draw(hs.floats(0.01, 0.2)),
        guardrails=tuple((k, draw(hs.floats(0, 0.5))) for k in guard),
        start=start,
        end=end,
        **methods,
    )


@hs.composite
def user_methods(draw, kpis: tuple[str, ...]) -> dict:
    """Exposures, capping, CUPED and segments on the user-level sample."""
    methods: dict = {"keep_multiple_exposures": draw(hs.booleans())}
    if "revenue_per_user" in kpis:
        cap = draw(hs.sampled_from([None, "p99", "p1:p99", ":200", "0:150"]))
        methods["caps"] = (("revenue_per_user", cap),) if cap else ()
        cuped = draw(hs.sampled_from(["off", "rows", "column"]))
        if cuped == "rows":
            methods |= {"cuped": True, "pre_days": draw(hs.integers(1, 60))}
        elif cuped == "column":
            methods["covariates"] = (("revenue_per_user", "pre_revenue"),)
    methods["segment_col"] = draw(hs.sampled_from([None, "device"]))
    return methods


@hs.composite
def budget_specs(draw, store: Store) -> BudgetSpec:
    dataset = store.dataset("Sample campaigns")
    campaigns = store.distinct_values(dataset, "campaign")
    objective = draw(hs.sampled_from(["revenue", "conversions"]))
    question = draw(hs.sampled_from(["none", "budget", "roas", "cpa", "marginal", "same", "plan"]))
    kwargs: dict = {}
    if question == "budget":
        kwargs["daily_budget"] = draw(hs.floats(2_000, 20_000))
    elif question == "roas":
        kwargs["target_roas"] = draw(hs.floats(0.5, 4))
    elif question == "cpa":
        kwargs["target_cpa"], objective = draw(hs.floats(10, 80)), "conversions"
    elif question == "marginal":
        kwargs["target_marginal_roas"] = draw(hs.floats(0.5, 3))
    elif question == "same":
        kwargs["same_outcome"] = True
    elif question == "plan":
        names = draw(hs.lists(hs.sampled_from(campaigns), min_size=1, max_size=3, unique=True))
        kwargs["plan"] = tuple((n, draw(hs.floats(0, 3_000))) for n in names)
    return BudgetSpec(
        dataset_id=dataset.dataset_id,
        objective=objective,
        max_change=draw(hs.floats(0, 1)),
        min_spend=draw(hs.floats(0, 200)),
        maximums=tuple(
            (n, draw(hs.floats(100, 5_000)))
            for n in draw(hs.lists(hs.sampled_from(campaigns), max_size=2, unique=True))
        ),
        locks=tuple(draw(hs.lists(hs.sampled_from(campaigns), max_size=3, unique=True))),
        window_days=draw(hs.integers(14, 120)),
        lag_days=draw(hs.integers(0, 14)),
        bootstrap=draw(hs.integers(0, 12)),
        seed=draw(hs.integers(0, 2**31)),
        **kwargs,
    )


@SETTINGS
@given(data=hs.data())
def test_kpi_views(samples, data):
    _check(samples, data.draw(kpi_specs(samples)))


@SETTINGS
@given(data=hs.data())
def test_experiments(samples, data):
    _check(samples, data.draw(experiment_specs(samples)))


@SETTINGS
@given(data=hs.data())
def test_budgets(samples, data):
    _check(samples, data.draw(budget_specs(samples)))
