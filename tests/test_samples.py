"""The sample data holds what the README says is planted in it (checked with numpy and pandas)."""

import importlib.util
import sys

import numpy as np
import pandas as pd
import pytest

from kpi_engine.samples import SAMPLE_DIR, SAMPLES, seed_samples
from kpi_engine.store import Store


def test_seeded_once_and_not_again_after_deletion(tmp_path):
    store = Store(tmp_path / "ws.sqlite")
    assert seed_samples(store) is True
    assert [d.name for d in store.datasets()] == [name for _, name in SAMPLES]
    for dataset in store.datasets():
        store.delete(dataset.dataset_id)
    assert seed_samples(store) is False and store.datasets() == []


def test_committed_files_are_what_the_generator_writes(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("generate", SAMPLE_DIR / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "generate", generate)  # dataclasses look their module up
    spec.loader.exec_module(generate)
    monkeypatch.setattr(generate, "HERE", tmp_path)
    generate.main()
    for file_name, _ in SAMPLES:
        assert (tmp_path / file_name).read_bytes() == (SAMPLE_DIR / file_name).read_bytes(), (
            file_name
        )


def test_campaigns_shape_and_diminishing_returns():
    frame = pd.read_csv(SAMPLE_DIR / "campaigns.csv", parse_dates=["date"])
    assert frame["date"].nunique() >= 90 and frame["campaign"].nunique() >= 12
    assert frame["channel"].nunique() >= 4
    assert (frame["clicks"] <= frame["impressions"]).all() and (
        frame["conversions"] <= frame["clicks"]
    ).all()
    slopes = []
    for _, part in frame[frame["revenue"] > 0].groupby("campaign"):
        slope = np.polyfit(np.log(part["spend"]), np.log(part["revenue"]), 1)[0]
        slopes.append(slope)
    assert np.median(slopes) < 0.95  # revenue grows slower than spend
    weekday = frame.groupby(frame["date"].dt.day_of_week)["revenue"].sum()
    assert weekday.iloc[:5].mean() > weekday.iloc[5:].mean()


def test_ab_test_campaign_lift_is_near_the_planted_15_percent():
    frame = pd.read_csv(SAMPLE_DIR / "ab_test_campaign.csv")
    sums = frame.groupby("variant")[["conversions", "clicks"]].sum()
    cvr = sums["conversions"] / sums["clicks"]
    assert cvr["B"] / cvr["A"] - 1 == pytest.approx(0.15, abs=0.08)


def test_user_experiment_lift_is_near_the_planted_12_percent():
    frame = pd.read_csv(SAMPLE_DIR / "experiment_users.csv")
    assert frame["user_id"].is_unique and len(frame) == 40_000
    rates = frame.groupby("variant")["converted"].agg(["mean", "count"])
    pa, pb = rates.loc["control", "mean"], rates.loc["treatment", "mean"]
    assert pa == pytest.approx(0.050, abs=0.005)
    # the planted +12% lies within 2.58 standard errors (99%) of the observed relative lift
    var_a = pa * (1 - pa) / rates.loc["control", "count"]
    var_b = pb * (1 - pb) / rates.loc["treatment", "count"]
    se = (var_b / pa**2 + var_a * pb**2 / pa**4) ** 0.5
    assert abs(pb / pa - 1 - 0.12) < 2.58 * se
    assert (frame.loc[frame["converted"] == 0, "revenue"] == 0).all()
