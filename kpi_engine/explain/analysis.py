"""Why a KPI moved between two periods: one aggregate query per period (and one per period by
the dimension) reads every sum the explanation needs; the rest is arithmetic on those sums
(``stats.decompose``), so the parts are the catalog's own KPIs over the same rows."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

from kpi_engine.currencies.convert import note_if
from kpi_engine.datasets import Dataset
from kpi_engine.errors import KpiLabError
from kpi_engine.explain import wording
from kpi_engine.explain.form import Noise, Observed, RatioForm, noise_of, ratio_form
from kpi_engine.explain.result import Contributor, Explanation, Part
from kpi_engine.explain.spec import ExplainSpec
from kpi_engine.kpis.catalog import PARTS, Kpi, get_kpi, missing_columns
from kpi_engine.kpis.cells import cell
from kpi_engine.kpis.dashboard import relative_change
from kpi_engine.kpis.query import KpiQuery, available_columns, lookup, run_kpis
from kpi_engine.roles import MONEY_ROLES
from kpi_engine.stats.decompose import (
    log_change,
    log_shares,
    shift_share,
    sum_changes,
)
from kpi_engine.store import Store

MAX_CONTRIBUTORS = 12  # the largest groups by contribution; the rest folded into one row
MAX_GROUPS = 5000  # a split across more groups explains nothing one can read
BLANK = "(blank)"


@dataclass(frozen=True)
class _Measured:
    """A KPI (or a part, with its exponent) with its form and its noise."""

    kpi: Kpi
    form: RatioForm
    noise: Noise
    exponent: int = 1

    def value(self, seen: Observed) -> float | None:
        return self.form.value(seen.sums)


def run_explain(store: Store, dataset: Dataset, spec: ExplainSpec) -> Explanation:
    if not dataset.date_column:
        raise KpiLabError("this dataset has no date column, so there are no periods to compare")
    kpi = lookup(spec.kpi, spec.custom)
    names = available_columns(dataset)
    missing = missing_columns(kpi, names)
    if missing:
        raise KpiLabError(f"{kpi.name} needs {', '.join(missing)}, which this dataset lacks")
    main = _measured(kpi)
    parts, parts_note = _parts(kpi, names)
    currency = _currency(dataset, [main, *parts], spec.currency)
    aggregates = _aggregates([main, *parts])
    by_day = any(m.noise.kind == "days" for m in (main, *parts))
    now, before = (
        _sums(store, dataset, spec, aggregates, p, currency, by_day) for p in (spec.period, spec.vs)
    )
    value, previous = main.value(now), main.value(before)
    change = relative_change(value, previous)
    main_log = log_change(previous, value)
    found = Explanation(
        dataset_id=dataset.dataset_id,
        kpi=kpi.id,
        name=kpi.name,
        unit=kpi.unit,
        direction=kpi.direction,
        period=_iso(spec.period),
        vs=_iso(spec.vs),
        value=value,
        previous=previous,
        change=change,
        sentence="",
        within_noise=main.noise.within(before, now),
        noise=main.noise.kind,
        parts=tuple(_part(p, before, now, main_log) for p in parts),
        parts_note=parts_note,
        by=spec.by,
        weight=_role_name(main.form.denominator),
        currency=currency,
        filters=spec.filters,
        conversion=note_if(store, dataset, spec.convert, currency, _span(spec)),
    )
    if spec.by:
        found = _split(store, dataset, spec, found, (main, parts), aggregates, (before, now))
    return replace(found, sentence=wording.sentence(found))


def _span(spec: ExplainSpec) -> tuple[date, date]:
    return min(spec.period[0], spec.vs[0]), max(spec.period[1], spec.vs[1])


def _measured(kpi: Kpi, exponent: int = 1) -> _Measured:
    form = ratio_form(kpi)
    return _Measured(kpi, form, noise_of(form), exponent)


def _parts(kpi: Kpi, names: set[str]) -> tuple[list[_Measured], str | None]:
    declared = PARTS.get(kpi.id)
    if not declared:
        return [], wording.no_parts(kpi.name)
    lacking = sorted({c for part, _ in declared for c in missing_columns(get_kpi(part), names)})
    if lacking:
        return [], wording.parts_need(kpi.name, lacking)
    return [_measured(get_kpi(part), exponent) for part, exponent in declared], None


def _currency(dataset: Dataset, measured: list[_Measured], chosen: str | None) -> str | None:
    money = any(r in MONEY_ROLES for m in measured for r in m.kpi.requires)
    if chosen or not money or len(dataset.currencies) <= 1:
        return chosen or dataset.currency
    raise KpiLabError(
        f"this dataset has money in {', '.join(dataset.currencies)}, which cannot be added up:"
        " choose one currency",
        "currency",
    )


def _aggregates(measured: list[_Measured]) -> tuple[str, ...]:
    texts = [a for m in measured for a in (*m.form.aggregates, *m.noise.counts)]
    return tuple(dict.fromkeys(texts))


def _helpers(aggregates: tuple[str, ...]) -> tuple[Kpi, ...]:
    return tuple(
        Kpi(f"a{i}", text, "", text, "count", "neutral", "") for i, text in enumerate(aggregates)
    )


def _query(spec: ExplainSpec, aggregates, period, currency, by=(), grain=None) -> KpiQuery:
    helpers = _helpers(aggregates)
    return KpiQuery(
        tuple(h.id for h in helpers),
        by=by,
        grain=grain,
        start=period[0],
        end=period[1],
        filters=spec.filters,
        currency=currency,
        custom=helpers,
        convert=spec.convert,
    )


def _number(value: object) -> float:
    value = cell(value)
    return float(value) if isinstance(value, int | float) else 0.0


def _read(row: dict, aggregates) -> dict[str, float]:
    return {text: _number(row.get(f"a{i}")) for i, text in enumerate(aggregates)}


def _sums(store, dataset, spec, aggregates, period, currency, by_day: bool) -> Observed:
    frame = run_kpis(store, dataset, _query(spec, aggregates, period, currency))
    sums = _read(frame.iloc[0].to_dict() if len(frame) else {}, aggregates)
    if not by_day:
        return Observed(sums)
    days = run_kpis(store, dataset, _query(spec, aggregates, period, currency, grain="day"))
    return Observed(sums, [_read(row, aggregates) for row in days.to_dict(orient="records")])


def _label(value: object) -> str:
    value = cell(value)
    return BLANK if value is None else str(value)


def _grouped(store, dataset, spec, aggregates, period, currency, by_day) -> dict[str, Observed]:
    frame = run_kpis(store, dataset, _query(spec, aggregates, period, currency, (spec.by,)))
    sums = {_label(row[spec.by]): _read(row, aggregates) for row in frame.to_dict("records")}
    if not by_day:
        return {label: Observed(s) for label, s in sums.items()}
    query = _query(spec, aggregates, period, currency, (spec.by,), grain="day")
    daily: dict[str, list[dict[str, float]]] = {label: [] for label in sums}
    for row in run_kpis(store, dataset, query).to_dict(orient="records"):
        daily.setdefault(_label(row[spec.by]), []).append(_read(row, aggregates))
    return {label: Observed(s, daily[label]) for label, s in sums.items()}


def _part(m: _Measured, before: Observed, now: Observed, main_log: float | None) -> Part:
    previous, value = m.value(before), m.value(now)
    move = log_change(previous, value)
    (share,) = log_shares(main_log, [None if move is None else m.exponent * move])
    return Part(
        m.kpi.id,
        m.kpi.name,
        m.kpi.unit,
        m.exponent,
        value,
        previous,
        relative_change(value, previous),
        share,
        m.noise.within(before, now),
    )


def _arrays(form: RatioForm, labels, before, now) -> tuple[np.ndarray, ...]:
    def side(groups: dict[str, Observed], text: str | None) -> np.ndarray:
        if text is None:
            return np.ones(len(labels))
        return np.array([groups[g].sums[text] if g in groups else 0.0 for g in labels])

    return (
        side(before, form.numerator),
        side(before, form.denominator),
        side(now, form.numerator),
        side(now, form.denominator),
    )


def _split(store, dataset, spec, found, measured, aggregates, totals) -> Explanation:
    """The change across ``spec.by``: mix and rate per group, largest first."""
    main, parts = measured
    currency = found.currency
    if spec.by not in (*dataset.dimensions, *dataset.roles):
        raise KpiLabError(f"{spec.by!r} is not a column of this dataset", "by")
    if found.value is None or found.previous is None:
        return replace(found, by_note=wording.NO_VALUE_TO_SPLIT)
    now = _grouped(store, dataset, spec, aggregates, spec.period, currency, False)
    before = _grouped(store, dataset, spec, aggregates, spec.vs, currency, False)
    labels = list(dict.fromkeys([*before, *now]))
    if len(labels) > MAX_GROUPS:
        return replace(found, by_note=wording.too_many_groups(len(labels), spec.by))
    form = main.form
    n0, d0, n1, d1 = _arrays(form, labels, before, now)
    if not _adds_up(form, totals, (n0, d0, n1, d1)):
        return replace(
            found,
            by_note=wording.units_in_several(spec.by),
        )
    if form.denominator is None:
        split = sum_changes(n0 * form.scale, n1 * form.scale)
    else:
        split = shift_share(n0, d0, n1, d1, form.scale)
    rows = [
        _contributor(main, label, i, split, before, now, (n0, d0, n1, d1))
        for i, label in enumerate(labels)
    ]
    rows.sort(key=lambda c: -abs(c.total))
    shown = _folded(rows)
    if main.noise.kind == "days":  # the shown groups' days, for their permutations
        named = tuple(c.group for c in shown if c.groups == 1 and c.group != BLANK)
        daily = replace(spec, filters=(*spec.filters, (spec.by, named)))
        now = {**now, **_grouped(store, dataset, daily, aggregates, spec.period, currency, True)}
        before = {**before, **_grouped(store, dataset, daily, aggregates, spec.vs, currency, True)}
    judged = tuple(_judged(main, c, before, now) for c in shown)
    return replace(
        found,
        parts=_top_groups(found.parts, parts, labels, before, now),
        mix=float(split.mix.sum()),
        rate=float(split.rate.sum()),
        contributors=judged,
    )


def _judged(m: _Measured, row: Contributor, before, now) -> Contributor:
    """Whether a shown group's own change could be chance (both periods needed)."""
    g0, g1 = before.get(row.group), now.get(row.group)
    if row.groups != 1 or not g0 or not g1:
        return row
    return replace(row, within_noise=m.noise.within(g0, g1))


def _adds_up(form: RatioForm, totals, arrays) -> bool:
    """The groups' sums add up to the whole (distinct counts of users need not: a user seen
    under two groups counts once in the total)."""
    before, now = totals
    n0, d0, n1, d1 = arrays
    sides = [(n0, before, form.numerator), (n1, now, form.numerator)]
    if form.denominator:
        sides += [(d0, before, form.denominator), (d1, now, form.denominator)]
    return all(
        math.isclose(a.sum(), seen.sums[text], rel_tol=1e-9, abs_tol=1e-9)
        for a, seen, text in sides
    )


def _contributor(m: _Measured, label, i, split, before, now, arrays) -> Contributor:
    n0, d0, n1, d1 = arrays
    g0, g1 = before.get(label), now.get(label)
    weight = previous_weight = None
    if m.form.denominator is not None:
        weight, previous_weight = float(d1[i] / d1.sum()), float(d0[i] / d0.sum())
    return Contributor(
        label,
        float(split.mix[i]),
        float(split.rate[i]),
        float(split.total[i]),
        m.value(g1) if g1 else None,
        m.value(g0) if g0 else None,
        weight,
        previous_weight,
    )


def _folded(rows: list[Contributor]) -> tuple[Contributor, ...]:
    if len(rows) <= MAX_CONTRIBUTORS:
        return tuple(rows)
    kept, rest = rows[: MAX_CONTRIBUTORS - 1], rows[MAX_CONTRIBUTORS - 1 :]
    other = Contributor(
        wording.others(len(rest)),
        sum(c.mix for c in rest),
        sum(c.rate for c in rest),
        sum(c.total for c in rest),
        groups=len(rest),
    )
    return (*kept, other)


def _top_groups(found: tuple[Part, ...], parts, labels, before, now) -> tuple[Part, ...]:
    """Each part's largest mover: the group whose own change of that part moved it most, named
    when that move is at least a quarter of the part's whole change (CPC −6%, but Search's
    own CPC +20%)."""
    return tuple(_top_group(p, m, labels, before, now) for p, m in zip(found, parts, strict=True))


def _top_group(part: Part, m: _Measured, labels, before, now) -> Part:
    if m.form.denominator is None or part.value is None or part.previous is None:
        return part
    if part.within_noise:
        return part
    n0, d0, n1, d1 = _arrays(m.form, labels, before, now)
    rate = shift_share(n0, d0, n1, d1, m.form.scale).rate
    best = int(np.argmax(np.abs(rate)))
    whole = abs(part.value - part.previous)
    if rate[best] == 0 or abs(rate[best]) < whole / 4 or not (d0[best] > 0 and n0[best] > 0):
        return part
    moved = (n1[best] / d1[best]) / (n0[best] / d0[best]) - 1
    return replace(part, top_group=labels[best], top_group_change=float(moved))


def _role_name(aggregate: str | None) -> str | None:
    if aggregate is None:
        return None
    inner = aggregate[aggregate.index("(") + 1 : -1].strip('"')
    return "users" if aggregate.startswith("count(") else inner.replace("_", " ")


def _iso(period: tuple[date, date]) -> tuple[str, str]:
    return period[0].isoformat(), period[1].isoformat()
