"""Every sentence of "why did this change?": on the KPIs page, in a shared link, on the
command line."""

from __future__ import annotations

from kpi_engine.explain.result import Contributor, Explanation, Part
from kpi_engine.formatting import format_change, format_value

TITLE = "Why did this change?"
NOTHING_TO_EXPLAIN = (
    "None of the chosen KPIs is a sum or a ratio of two sums (such as CPA, ROAS or spend),"
    " so none can be split: add one above."
)
SPLIT_HELP = (
    "Split the change across this column: how much came from the mix (share moving between"
    " groups) and how much from each group's own value."
)
NOISE_NOTE = (
    "Within noise: a change this size happens by chance on this many events (binomial or"
    " Poisson counts, 95%)."
)


NO_VALUE_TO_SPLIT = "the KPI has no value in one of the periods"
PERIOD_HELP = (
    "The dates chosen against as many days before them, or one point of the trend (a day, a"
    " week or a month, by the trend's grain) against the period of the same length just"
    " before it."
)


def no_parts(name: str) -> str:
    return f"{name} is not a product of other KPIs in the catalog"


def parts_need(name: str, lacking: list[str]) -> str:
    return f"splitting {name} into its parts needs {', '.join(lacking)}"


def units_in_several(by: str) -> str:
    return (
        f"the same units appear under more than one {by}, so the change cannot be split across"
        " it exactly"
    )


def too_many_groups(count: int, by: str) -> str:
    return (
        f"{by} has {count:,} values in these periods: too many to read a split from. Split by a"
        " column with fewer values (a channel, a campaign type)"
    )


def others(count: int) -> str:
    return f"({count} other groups)"


def signed_amount(value: float | None, unit: str, currency: str | None = None) -> str:
    """A change in the KPI's own units: +$3.20, −0.41 pp, +1,204."""
    if value is None:
        return format_value(None, unit)
    if unit == "percent":
        return f"{value * 100:+.2f} pp".replace("-", "−")
    sign = "−" if value < 0 else "+"
    return sign + format_value(abs(value), unit, currency)


def _part(part: Part) -> str:
    notes = ["within noise"] if part.within_noise else []
    if part.top_group is not None:
        notes.append(f"{part.top_group}: {format_change(part.top_group_change)}")
    extra = f" ({'; '.join(notes)})" if notes else ""
    return f"{part.name} {format_change(part.change)}{extra}"


def _mix_driver(e: Explanation) -> Contributor | None:
    """The group whose share moved the KPI most in the direction of the whole mix."""
    sign = 1 if (e.mix or 0) > 0 else -1
    named = [c for c in e.contributors if c.groups == 1 and c.weight is not None]
    best = max(named, key=lambda c: sign * c.mix, default=None)
    return best if best is not None and sign * best.mix > 0 else None


def _mix(e: Explanation) -> str | None:
    if e.mix is None or not e.previous or e.weight is None:
        return None
    points = abs(e.mix / e.previous) * 100
    driver = _mix_driver(e)
    if points < 0.05 or driver is None:
        return None
    toward = (driver.weight or 0) >= (driver.previous_weight or 0)
    moving = f"{e.weight} moving {'to' if toward else 'away from'} {driver.group}"
    rise = "rise" if (e.change or 0) >= 0 else "fall"
    if (e.mix > 0) == ((e.change or 0) >= 0):
        return f"{points:.1f} points of the {rise} come from {moving}"
    return f"{moving} held the {rise} back by {points:.1f} points"


def _own_move(e: Explanation) -> str | None:
    """The group whose own KPI moved the whole most: "CPA in Search +20.0% adds 4.9 points"."""
    named = [c for c in e.contributors if c.groups == 1 and c.previous and c.value is not None]
    leader = max(named, key=lambda c: abs(c.rate), default=None)
    if leader is None or not e.previous:
        return None
    points = leader.rate / e.previous * 100
    if abs(points) < 0.05:
        return None
    own = format_change(leader.value / leader.previous - 1)  # type: ignore[operator]
    verb = "adds" if points > 0 else "takes off"
    noise = " (within noise)" if leader.within_noise else ""
    return f"{e.name} in {leader.group} {own}{noise} {verb} {abs(points):.1f} points"


def _largest(e: Explanation) -> str | None:
    named = [c for c in e.contributors if c.groups == 1]
    if not named:
        return None
    shown = ", ".join(
        f"{c.group} {signed_amount(c.total, e.unit, e.currency)}"
        + (" (within noise)" if c.within_noise else "")
        for c in named[:3]
    )
    return f"by {e.by}: {shown}"


def sentence(e: Explanation) -> str:
    """One sentence: "CPA +18.0%: CPC +12.0% (Search: +21.0%), CVR −5.0%; 4.0 points of the
    rise come from conversions moving to Display; CPA in Search +21.0% adds 9.0 points"."""
    if e.value is None or e.previous is None:
        missing = e.period if e.value is None else e.vs
        return f"{e.name} has no value from {missing[0]} to {missing[1]}: nothing to compare."
    head = f"{e.name} {format_change(e.change)}"
    if e.change is None:
        head = (
            f"{e.name} went from {format_value(e.previous, e.unit, e.currency)} to"
            f" {format_value(e.value, e.unit, e.currency)}"
        )
    if e.within_noise:
        head += " (within noise: it could be chance)"
    clauses = []
    if e.parts and all(p.share is not None for p in e.parts):
        clauses.append(", ".join(_part(p) for p in e.parts))
    if e.weight is None and e.by and e.contributors:
        clauses.append(_largest(e) or "")
    else:
        clauses += [_mix(e) or "", _own_move(e) or ""]
    clauses = [c for c in clauses if c]
    return f"{head}: {'; '.join(clauses)}." if clauses else head + "."


def compared(e: Explanation) -> str:
    scope = f" ({e.currency})" if e.currency else ""
    return (
        f"{e.period[0]} to {e.period[1]} against {e.vs[0]} to {e.vs[1]}{scope}:"
        f" {format_value(e.previous, e.unit, e.currency)} →"
        f" {format_value(e.value, e.unit, e.currency)}."
    )


def noise_word(flag: bool | None) -> str:
    return {True: "within noise", False: "more than noise"}.get(flag, "not judged")  # type: ignore[arg-type]


def chart_title(e: Explanation) -> str:
    return f"What moved {e.name}, by {e.by}"


def mix_help(e: Explanation) -> str:
    return (
        f"Mix: the change that comes from {e.weight} moving between the groups of {e.by}."
        f" Rate: the change from each group's own {e.name} moving. Mix + rate = the whole"
        f" change, in {e.name}'s units. Noise: whether a group's own move could be chance."
    )
