"""What a watch finds in the data now: whether its rule fires, one sentence with the numbers,
and the view (spec and result) a link freezes so that the reader sees exactly those numbers.

KPI rules look at the data's last day ("anomaly", "range"), or at its last 7 days against the
7 before ("change", "typical"); "pace" at the KPI's targets on the dataset. The "now" of a
watch is the data's last day: a daily export that stops arriving says nothing new.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import pandas as pd

from kpi_engine.alerts import wording
from kpi_engine.alerts.watch import Watch
from kpi_engine.analyses import Result, Spec
from kpi_engine.annotations.notes import excluded_days
from kpi_engine.datasets import Dataset
from kpi_engine.errors import KpiLabError
from kpi_engine.experiments.analysis import run_experiment
from kpi_engine.experiments.spec import ExperimentSpec
from kpi_engine.experiments.wording import split_summary
from kpi_engine.explain.analysis import run_explain
from kpi_engine.explain.form import explainable
from kpi_engine.explain.spec import ExplainSpec
from kpi_engine.kpis.analysis import run_kpi_view
from kpi_engine.kpis.catalog import CATALOG, Kpi
from kpi_engine.kpis.custom import saved_custom
from kpi_engine.kpis.dashboard import (
    anomalies,
    comparable,
    days_with_data,
    period_values,
    previous_period,
    relative_change,
    targets,
)
from kpi_engine.kpis.query import KpiQuery, lookup, run_kpis
from kpi_engine.kpis.spec import KpiViewSpec
from kpi_engine.kpis.typical import channel_of, typical_for
from kpi_engine.store import Store

WEEK = 7
HISTORY_DAYS = 60  # the daily series an anomaly is judged against
FIRING_PACE = ("behind", "missed")


@dataclass(frozen=True)
class Finding:
    """A watch's look at the data: ``period`` names what it is about (a day, a week, a target
    and its status), so that the same alert is never sent twice."""

    watch: Watch
    period: str
    fired: bool
    sentence: str
    fields: dict = field(default_factory=dict)
    spec: Spec | None = None
    result: Result | None = None

    @property
    def text(self) -> str:
        """The sentence, and why the KPI moved when the finding explains a move."""
        return wording.with_why(self.sentence, self.fields.get("why"))


def evaluate(store: Store, watch: Watch, memo: dict | None = None) -> list[Finding]:
    """The watch's findings (one per target for "pace", else one), or an error saying why it
    cannot be evaluated (its dataset or KPI is gone). ``memo`` keeps what watches on the same
    dataset share (the dataset, its custom KPIs, its last day) for one monitor round."""
    memo = {} if memo is None else memo
    key = (store.workspace, watch.dataset_id)
    if key not in memo:
        dataset = store.dataset(watch.dataset_id)
        memo[key] = (dataset, saved_custom(store), store.date_range(dataset))
    dataset, custom, days = memo[key]
    if watch.experiment is not None:
        return [_experiment(store, dataset, watch)]
    kpi = lookup(watch.kpi or "", custom)
    rule = watch.parsed.name
    if rule == "pace":
        return _pace(store, dataset, watch, kpi)
    if not dataset.date_column:
        raise KpiLabError(f"{watch.rule} {wording.NO_DATES}; dataset {dataset.name!r} has none")
    if days is None:
        raise KpiLabError(f"dataset {dataset.name!r} has no dated rows")
    evaluator = {"anomaly": _anomaly, "change": _change, "range": _range, "typical": _typical}
    return [evaluator[rule](store, dataset, watch, kpi, days[1])]


def _own(kpi: Kpi) -> tuple[Kpi, ...]:
    """The custom KPIs a query of this KPI needs: itself, unless it is in the catalog."""
    return () if kpi.id in CATALOG else (kpi,)


def _currency(dataset: Dataset) -> str | None:
    """Money in several currencies is never summed: a watch looks at the first one."""
    return dataset.currencies[0] if len(dataset.currencies) > 1 else None


def _query(kpi: Kpi, dataset: Dataset, custom: tuple[Kpi, ...]) -> KpiQuery:
    return KpiQuery((kpi.id,), currency=_currency(dataset), custom=custom)


def _view(dataset: Dataset, kpi: Kpi, start: date, end: date, **more) -> KpiViewSpec:
    return KpiViewSpec(
        dataset.dataset_id,
        (kpi.id,),
        _own(kpi),
        start,
        end,
        currency=_currency(dataset),
        grain="day",
        **more,
    )


def _money(dataset: Dataset) -> str | None:
    return _currency(dataset) or (dataset.currencies[0] if dataset.currencies else None)


def _finding(
    store, dataset, watch, kpi, period, fired, sentence, fields, spec, day=None
) -> Finding:
    """A finding; fired, with its view's result and why the KPI moved: the view's own
    explanation (a week against the week before), or, for ``day``, that day against the same
    weekday a week before."""
    result = run_kpi_view(store, dataset, spec) if fired else None
    base = {"dataset": dataset.name, "kpi": kpi.id, "rule": watch.rule, "period": period}
    why = getattr(result, "why", None)
    if why is not None:
        base["why"] = why.sentence
    elif fired and day is not None:
        sentence_why = _day_why(store, dataset, kpi, day)
        if sentence_why:
            base["why"] = sentence_why
    return Finding(watch, period, fired, sentence, base | fields, spec, result)


def _day_why(store: Store, dataset: Dataset, kpi: Kpi, day: date) -> str | None:
    """One day's move against the same weekday a week before (the weekday pattern cancels),
    split by channel or campaign; None where the KPI cannot be explained or the explanation
    fails (it never stops an alert)."""
    split = _explained(dataset, kpi)
    if not split:
        return None
    before = day - timedelta(days=WEEK)
    question = ExplainSpec(
        dataset.dataset_id,
        kpi.id,
        (day, day),
        (before, before),
        split["why_by"],
        currency=_currency(dataset),
        custom=_own(kpi),
    )
    try:
        return run_explain(store, dataset, question).sentence
    except KpiLabError:
        return None


def _explained(dataset: Dataset, kpi: Kpi) -> dict:
    """A change over a week is explained against the week before, by channel (or campaign)
    where the data has one."""
    if not explainable([kpi]):
        return {}
    split = next((r for r in ("channel", "campaign") if r in dataset.roles), None)
    return {"why": kpi.id, "why_by": split}


def _anomaly(store: Store, dataset: Dataset, watch: Watch, kpi: Kpi, last: date) -> Finding:
    start = last - timedelta(days=HISTORY_DAYS - 1)
    custom = _own(kpi)
    query = _query(kpi, dataset, custom)
    daily = run_kpis(
        store,
        dataset,
        KpiQuery(
            query.kpis, start=start, end=last, grain="day", currency=query.currency, custom=custom
        ),
    )
    series = pd.Series(daily[kpi.id].to_numpy(dtype=float), index=pd.to_datetime(daily["period"]))
    series = series.reindex(pd.date_range(start, last, freq="D"))
    left_out = excluded_days(store, dataset)
    excluded = pd.Series([day.date() in left_out for day in series.index], series.index)
    flags = anomalies(series, excluded=excluded).iloc[-1]
    fired = bool(flags["anomaly"])
    money = _money(dataset)
    now, low, high = (wording.value(flags[k], kpi.unit, money) for k in ("value", "low", "high"))
    sentence = wording.anomaly(kpi.name, last.isoformat(), now, low, high, fired)
    fields = {
        "day": last.isoformat(),
        "value": flags["value"],
        "expected": flags["expected"],
        "low": flags["low"],
        "high": flags["high"],
    }
    spec = _view(dataset, kpi, start, last, smooth=True)
    period = last.isoformat()
    return _finding(store, dataset, watch, kpi, period, fired, sentence, fields, spec, last)


def _week(
    store: Store, dataset: Dataset, kpi: Kpi, last: date
) -> tuple[date, float | None, float | None]:
    """The last 7 days' value and the change on the 7 before (None when they have too little
    data to compare with)."""
    start = last - timedelta(days=WEEK - 1)
    before = previous_period(start, last)
    query = _query(kpi, dataset, _own(kpi))
    now = period_values(store, dataset, query, start, last)[kpi.id]
    then = period_values(store, dataset, query, *before)[kpi.id]
    days_now = days_with_data(store, dataset, query, start, last)
    days_then = days_with_data(store, dataset, query, *before)
    change = relative_change(now, then) if comparable(days_then, days_now) else None
    return start, now, change


def _change(store: Store, dataset: Dataset, watch: Watch, kpi: Kpi, last: date) -> Finding:
    limit = watch.parsed.pct or 0.0
    start, now, change = _week(store, dataset, kpi, last)
    fired = change is not None and abs(change) >= limit
    text = wording.value(now, kpi.unit, _money(dataset))
    sentence = wording.change(kpi.name, last.isoformat(), text, change, limit)
    fields = {
        "start": start.isoformat(),
        "end": last.isoformat(),
        "value": now,
        "change": change,
        "limit": limit,
    }
    spec = _view(dataset, kpi, start, last, **_explained(dataset, kpi))
    return _finding(store, dataset, watch, kpi, last.isoformat(), fired, sentence, fields, spec)


def _range(store: Store, dataset: Dataset, watch: Watch, kpi: Kpi, last: date) -> Finding:
    rule = watch.parsed
    query = _query(kpi, dataset, _own(kpi))
    now = period_values(store, dataset, query, last, last)[kpi.id]
    fired = now is not None and (
        (rule.low is not None and now < rule.low) or (rule.high is not None and now > rule.high)
    )
    money = _money(dataset)
    low = "…" if rule.low is None else wording.value(rule.low, kpi.unit, money)
    high = "…" if rule.high is None else wording.value(rule.high, kpi.unit, money)
    sentence = wording.outside(
        kpi.name, f"on {last.isoformat()}", wording.value(now, kpi.unit, money), low, high, fired
    )
    fields = {"day": last.isoformat(), "value": now, "low": rule.low, "high": rule.high}
    spec = _view(dataset, kpi, last, last)
    period = last.isoformat()
    return _finding(store, dataset, watch, kpi, period, fired, sentence, fields, spec, last)


def typical_range(dataset: Dataset, watch: Watch):
    """The typical range a "typical" watch compares with, or an error saying what is missing."""
    channel = watch.channel_type or channel_of(dataset.platform)
    if channel is None:
        raise KpiLabError(
            "needs a channel type (search, social, display, video, email): this dataset's"
            " platform does not say which",
            "channel_type",
        )
    found = typical_for(watch.kpi or "", channel, _money(dataset))
    if found is None:
        raise KpiLabError(
            f"KPI {watch.kpi!r} has no published typical range for {channel} in this data's"
            " currency: see the catalog for the KPIs that have one",
            "rule",
        )
    return found


def _typical(store: Store, dataset: Dataset, watch: Watch, kpi: Kpi, last: date) -> Finding:
    found = typical_range(dataset, watch)
    start, now, _ = _week(store, dataset, kpi, last)
    fired = now is not None and not found.low <= now <= found.high
    text = wording.value(now, kpi.unit, _money(dataset))
    sentence = wording.typical(kpi.name, last.isoformat(), text, found.text(kpi), fired)
    fields = {
        "start": start.isoformat(),
        "end": last.isoformat(),
        "value": now,
        "low": found.low,
        "high": found.high,
        "source": found.source,
    }
    spec = _view(dataset, kpi, start, last)
    return _finding(store, dataset, watch, kpi, last.isoformat(), fired, sentence, fields, spec)


def _pace(store: Store, dataset: Dataset, watch: Watch, kpi: Kpi) -> list[Finding]:
    mine = tuple(t for t in targets(store, dataset) if t.kpi == kpi.id)
    if not mine:
        return [Finding(watch, "no target", False, wording.no_target(kpi.name))]
    spec = KpiViewSpec(dataset.dataset_id, (kpi.id,), _own(kpi), targets=mine)
    result = run_kpi_view(store, dataset, spec)
    out = []
    for status in result.targets:
        money = _money(dataset)
        sentence = wording.target(
            kpi.name, wording.value(status.target, kpi.unit, money), status.deadline, status.text
        )
        period = f"{status.start}..{status.deadline} {status.scope} {status.status}".strip()
        fired = status.status in FIRING_PACE
        fields = {
            "dataset": dataset.name,
            "kpi": kpi.id,
            "rule": watch.rule,
            "period": period,
            "target": status.target,
            "value": status.value,
            "status": status.status,
            "deadline": status.deadline,
        }
        out.append(Finding(watch, period, fired, sentence, fields, spec, result if fired else None))
    return out


def _experiment(store: Store, dataset: Dataset, watch: Watch) -> Finding:
    view = {**json.loads(watch.experiment or "{}"), "dataset_id": dataset.dataset_id}
    spec = ExperimentSpec.from_view(view)
    if watch.parsed.name == "decision":
        # the monitor looks again and again: a fixed-horizon test read that way fires on
        # noise (23% of A/A tests over 20 looks), a confidence sequence does not
        spec = replace(spec, sequential=True)
    result = run_experiment(store, dataset, spec)
    fields = {"dataset": dataset.name, "rule": watch.rule}
    if watch.parsed.name == "srm":
        fired = result.srm.flag
        sentence = wording.experiment_line(dataset.name, split_summary(result.srm)[1])
        return Finding(
            watch,
            "srm",
            fired,
            sentence,
            fields | {"srm_p_value": result.srm.p_value, "period": "srm"},
            spec,
            result,
        )
    decided = [r for r in result.results if r.significant]
    if not decided:
        decided = [r for r in result.results if r.enough_data and r.days_more == 0]
    if not decided:
        return Finding(watch, "decision", False, wording.undecided(dataset.name), fields)
    verdicts = " ".join(r.verdict for r in decided)
    sentence = wording.experiment_line(dataset.name, verdicts + wording.PEEKING_SAFE)
    fields |= {
        "period": "decision",
        "kpis": [r.kpi for r in decided],
        "p_values": [r.p_value_adjusted for r in decided],
    }
    return Finding(watch, "decision", True, sentence, fields, spec, result)
