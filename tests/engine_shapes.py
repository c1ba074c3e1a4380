"""Every shape of analysis query, produced the way the app produces it: by running analyses
(KPI views, experiments of each kind, budget plans) through a store that records each query
it is asked to run. Used by the dialect test (every query translates to every engine) and by
the Spark parity suite (every query gives the same frame on DuckDB and on Spark)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from kpi_engine.aggregate_sql import Rows, date_range_sql, distinct_sql, kpi_sql, profile_sql
from kpi_engine.analyses import run
from kpi_engine.budget.spec import BudgetSpec
from kpi_engine.datasets import Dataset
from kpi_engine.experiments.spec import ExperimentSpec
from kpi_engine.kpis.definition import make_kpi
from kpi_engine.kpis.query import lookup
from kpi_engine.kpis.spec import KpiViewSpec
from kpi_engine.samples import SAMPLE_DIR
from kpi_engine.store import Store

# the datasets by what each stands for: the three samples and two made here
CAMPAIGNS, CAMPAIGN_TEST, USERS = "campaigns", "campaign_test", "users"
EVENTS, TOTALS = "events", "totals"
SAMPLE_FILES = {
    CAMPAIGNS: "campaigns.csv",
    CAMPAIGN_TEST: "ab_test_campaign.csv",
    USERS: "experiment_users.csv",
}


def write_datasets(folder: Path) -> dict[str, Path]:
    """Every dataset the shapes read, as CSV files: the samples, users with several rows
    each (some seen in both variants), and per-variant daily totals; seeded."""
    paths = {name: SAMPLE_DIR / file for name, file in SAMPLE_FILES.items()}
    rng = np.random.default_rng(13)
    events = ["user_id,date,variant,converted,revenue"]
    for i in range(600):
        variants = ["A", "B"] if i % 50 == 0 else [("A", "B")[i % 2]]
        for k in range(int(rng.integers(1, 4))):
            converted = int(rng.random() < 0.2)
            revenue = round(float(rng.gamma(2.0, 20.0)), 2) if converted else 0
            day = date(2026, 5, 1) + timedelta(days=int(rng.integers(0, 20)))
            events.append(f"u{i},{day},{variants[k % len(variants)]},{converted},{revenue}")
    totals = ["date,variant,users,conversions,revenue"]
    for d in range(14):
        for variant, rate in (("A", 0.05), ("B", 0.056)):
            users = int(rng.integers(900, 1100))
            conversions = int(rng.binomial(users, rate))
            totals.append(
                f"{date(2026, 5, 1) + timedelta(days=d)},{variant},{users},"
                f"{conversions},{conversions * 48.5:.2f}"
            )
    for name, lines in ((EVENTS, events), (TOTALS, totals)):
        paths[name] = folder / f"{name}.csv"
        paths[name].write_text("\n".join(lines) + "\n")
    return paths


FORMULAS = (
    "(revenue - spend) / clicks",
    "-(spend) / (conversions + 1)",
    "sum(revenue) * 2.5 - max(spend) + min(clicks) / count(clicks)",
)


@dataclass
class Recorder:
    """A store that records every analysis query (and runs it on the real store)."""

    store: Store
    queries: list[tuple[str, list, pd.DataFrame]] = field(default_factory=list)

    def query(self, dataset: Dataset, sql: str, params=()) -> pd.DataFrame:
        frame = self.store.query(dataset, sql, params)
        self.queries.append((sql, list(params), frame))
        return frame

    def __getattr__(self, name: str):
        return getattr(self.store, name)


@dataclass(frozen=True)
class Shape:
    name: str
    sample: str  # which sample dataset it reads
    queries: Callable[[Store, Dataset], list[tuple[str, list, pd.DataFrame]]]


def _analysis(make_spec: Callable[[Dataset], object]):
    def queries(store: Store, dataset: Dataset):
        recorder = Recorder(store)
        run(recorder, dataset, make_spec(dataset))  # type: ignore[arg-type]
        return recorder.queries

    return queries


def _direct(*builders: Callable[[Dataset], tuple[str, list]]):
    def queries(store: Store, dataset: Dataset):
        out = []
        for build in builders:
            sql, params = build(dataset)
            out.append((sql, params, store.query(dataset, sql, params)))
        return out

    return queries


def _custom(formula: str):
    return make_kpi("mine", formula, "ratio", "higher")


JULY = (date(2026, 7, 1), date(2026, 7, 31))

SHAPES = (
    Shape(
        "totals",
        CAMPAIGNS,
        _analysis(lambda d: KpiViewSpec(d.dataset_id, ("spend", "roas", "ctr"))),
    ),
    Shape(
        "one dimension, filtered, sorted and limited",
        CAMPAIGNS,
        _analysis(
            lambda d: KpiViewSpec(
                d.dataset_id,
                ("spend", "cpa", "roas"),
                start=JULY[0],
                end=JULY[1],
                filters=(("channel", ("Google Ads", "Meta Ads")),),
                by=("campaign",),
                sort="roas",
                limit=3,
            )
        ),
    ),
    Shape(
        "two dimensions",
        CAMPAIGNS,
        _analysis(lambda d: KpiViewSpec(d.dataset_id, ("cvr", "cpc"), by=("channel", "campaign"))),
    ),
    *(
        Shape(
            f"{grain} trend, one line per campaign",
            CAMPAIGNS,
            _analysis(
                lambda d, g=grain: KpiViewSpec(
                    d.dataset_id, ("spend", "roas"), grain=g, lines_by="campaign"
                )
            ),
        )
        for grain in ("day", "week", "month")
    ),
    Shape(
        "daily trend with anomalies and a compared period",
        CAMPAIGNS,
        _analysis(
            lambda d: KpiViewSpec(
                d.dataset_id,
                ("revenue",),
                start=JULY[0],
                end=JULY[1],
                grain="day",
                smooth=True,
                compare=(date(2026, 6, 1), date(2026, 6, 30)),
            )
        ),
    ),
    *(
        Shape(
            f"custom formula {formula}",
            CAMPAIGNS,
            _analysis(
                lambda d, f=formula: KpiViewSpec(
                    d.dataset_id, ("mine",), custom=(_custom(f),), by=("channel",)
                )
            ),
        )
        for formula in FORMULAS
    ),
    Shape(
        "experiment on campaign days",
        CAMPAIGN_TEST,
        _analysis(lambda d: ExperimentSpec(d.dataset_id, "variant", "A", ("cpa", "roas", "ctr"))),
    ),
    Shape(
        "experiment on campaign days, split by campaign",
        CAMPAIGN_TEST,
        _analysis(
            lambda d: ExperimentSpec(
                d.dataset_id, "variant", "A", ("cvr",), unit_col="campaign", sequential=True
            )
        ),
    ),
    Shape(
        "experiment on users, one row each, with CUPED and a cap",
        USERS,
        _analysis(
            lambda d: ExperimentSpec(
                d.dataset_id,
                "variant",
                "control",
                ("conversion_rate", "revenue_per_user"),
                covariates=(("revenue_per_user", "pre_revenue"),),
                caps=(("revenue_per_user", "p99"),),
                segment_col="device",
            )
        ),
    ),
    Shape(
        "experiment on users with several rows, some in both variants",
        EVENTS,
        _analysis(
            lambda d: ExperimentSpec(
                d.dataset_id, "variant", "A", ("conversion_rate", "revenue_per_user", "aov")
            )
        ),
    ),
    Shape(
        "experiment on users with several rows, each counted in every variant it saw",
        EVENTS,
        _analysis(
            lambda d: ExperimentSpec(
                d.dataset_id, "variant", "A", ("conversion_rate",), keep_multiple_exposures=True
            )
        ),
    ),
    Shape(
        "experiment on variant totals by day",
        TOTALS,
        _analysis(
            lambda d: ExperimentSpec(
                d.dataset_id, "variant", "A", ("conversion_rate", "revenue_per_user")
            )
        ),
    ),
    Shape(
        "budget window and plan",
        CAMPAIGNS,
        _analysis(lambda d: BudgetSpec(d.dataset_id, bootstrap=20, plan_days=14)),
    ),
    Shape(
        "date range, distinct values, totals by channel and the attach profile",
        CAMPAIGNS,
        _direct(
            lambda d: date_range_sql(d, Rows(start=JULY[0])),
            lambda d: distinct_sql(d, "campaign", 50),
            lambda d: kpi_sql(d, [lookup("spend"), lookup("ctr")], by=("channel",)),
            profile_sql,
        ),
    ),
)
