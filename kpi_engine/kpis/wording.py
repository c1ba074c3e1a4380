"""Every sentence a reader of the KPIs view sees, on the page, in a shared link and in the
report."""

from __future__ import annotations

from datetime import timedelta

from kpi_engine.formatting import format_change, format_value
from kpi_engine.kpis.dashboard import Pace
from kpi_engine.kpis.result import KpiMeta, TargetStatus

VANITY = (
    "These are volume metrics only: add an outcome KPI (CPA, ROAS, conversions) to see whether"
    " the volume pays off."
)
SEVERAL_CURRENCIES = (
    "This view holds money in several currencies, which are never added up: the totals are in"
    " the table, one row per currency."
)
NO_DATASET = "No dataset yet. Upload a campaign file to see its KPIs."
PICK_KPIS = "Pick at least one KPI above."
BREAKDOWN = "Breakdown"
TOTAL = "Total"
TREND = "Trend"
COMPARE = "Two periods side by side"
STATUS_ICONS = {
    "reached": "check_circle",
    "on track": "check_circle",
    "at risk": "error",
    "behind": "warning",
    "missed": "cancel",
}


def unavailable(needs: dict[str, tuple[str, list[str]]]) -> str:
    """KPI id -> (its name, the columns it still needs)."""
    return "; ".join(f"{name}: needs column {', '.join(cols)}" for name, cols in needs.values())


def no_date_column(period: tuple[str, str] | None) -> str:
    if period:
        first, last = period
        return f"No date column: the rows are totals for {first} to {last} (the file's header)."
    return "No date column: the KPIs cover all rows."


def target_scope(filters, currency: str | None) -> str:
    """The rows a target counts, when not all of them."""
    parts = [f"{name}: {', '.join(values)}" for name, values in filters]
    return " · ".join([*parts, *([f"in {currency}"] if currency else [])])


def scope(start: str | None, end: str | None, filters, currency: str | None) -> str:
    """Which rows the view covers, in one line."""
    dates = (
        f"{start or 'the first day'} to {end or 'the last day'}" if start or end else "all dates"
    )
    rows = target_scope(filters, currency)
    return f"{dates} · {rows}" if rows else dates


def not_compared(previous: tuple[str, str], days: tuple[int, int]) -> str:
    now, before = days
    return (
        f"No change against the previous period ({previous[0]} to {previous[1]}): it has data"
        f" on {before:,} day{'s' if before != 1 else ''}, the selected dates on {now:,}."
    )


def card_delta(change: float | None) -> str | None:
    """Short enough for six cards in a row; ``compared_with`` names the period. An ASCII
    minus: a card reads the direction of its arrow from it."""
    return None if change is None else format_change(change).replace("−", "-")


def compared_with(previous: tuple[str, str]) -> str:
    return f"Changes against the previous period, {previous[0]} to {previous[1]}."


def card_help(
    kpi: KpiMeta, value: float | None, currency: str | None = None, typical: str | None = None
) -> str:
    watch = f" Watch out: {kpi.pitfall}" if kpi.pitfall else ""
    guide = (
        f" {typical[0].upper()}{typical[1:]} (published benchmarks: a rough guide)."
        if typical
        else ""
    )
    return (
        f"{kpi.description}{watch} Formula: {kpi.formula}."
        f" Exact value: {format_value(value, kpi.unit, currency)}.{guide}"
    )


def dropped_rows(days: tuple[tuple[str, int], ...]) -> str:
    """ "1 row dropped on 2026-08-05: see Data" for the days a view's numbers miss rows."""
    total = sum(count for _, count in days)
    shown = ", ".join(day for day, _ in days[:5]) + (" and more" if len(days) > 5 else "")
    rows = "1 row" if total == 1 else f"{total:,} rows"
    return (
        f"{rows} dropped at import on {shown} (not the file's shape): these numbers miss them,"
        " so a dip on that day may not be real. See the Data page's quality report."
    )


def annotation_line(mark) -> str:
    """One line of the trend's timeline: "2026-07-10 to 2026-07-16 · Summer sale (left out
    of baselines)"."""
    when = mark.start if mark.start == mark.end else f"{mark.start} to {mark.end}"
    left_out = " (left out of baselines)" if mark.exclude else ""
    return f"{when} · {mark.text}{left_out}"


def breakdown_title(by: tuple[str, ...]) -> str:
    return f"{BREAKDOWN} by {', '.join(by)}" if by else BREAKDOWN


def truncated(count: int, by: tuple[str, ...], kpi: KpiMeta) -> str:
    return f"The {count:,} {', '.join(by)} values with the highest {kpi.name}."


def movers_caption(kpi: KpiMeta, among: int | None = None, by: str = "") -> str:
    if among:
        return (
            f"Movers on {kpi.name} against the previous period, among the {among:,} {by}"
            " values with the most spend (there are more):"
        )
    return f"Movers on {kpi.name} against the previous period:"


def trend_title(kpi: KpiMeta, grain: str) -> str:
    return f"{kpi.name} by {grain}"


def lines_note(shown: int, groups: int, more: bool, lines_by: str) -> str | None:
    if groups <= shown and not more:
        return None
    of = f"more than {groups:,}" if more else f"{groups:,}"
    return f"One line for each of the {shown} {lines_by} values with the most spend, of {of}."


def anomaly_help() -> str:
    return "Days outside the median of the previous 14 days ± 3.5 scaled MADs are marked."


def pace_text(pace: Pace) -> str:
    if pace.status == "no data":
        return "no data in the target period yet"
    if pace.progress is not None:
        if pace.status == "missed":
            return f"{pace.progress:.0%} of target by the deadline: missed"
        return (
            f"{pace.progress:.0%} of target with {pace.elapsed:.0%} of the period gone:"
            f" {pace.status}"
        )
    if pace.gap is None:
        return pace.status
    side = "at or better than" if pace.status in ("on track", "reached") else "short of"
    text = f"{side} target ({pace.gap:+.0%} vs target)"
    return text + (f": {pace.status}" if pace.status in ("reached", "missed") else "")


def target_line(status: TargetStatus, currency: str | None = None) -> str:
    scope = f" ({status.scope})" if status.scope else ""
    return (
        f"{status.name}{scope}: {format_value(status.value, status.unit, currency)} of"
        f" {format_value(status.target, status.unit, currency)} by {status.deadline}"
        f" · {status.text}"
    )


def period_label(period: tuple[str, str]) -> str:
    return f"{period[0]} to {period[1]}"


def trend_point(point: tuple | None, grain: str) -> str:
    """How the "Why did this change?" period picker names a trend point (and the dates it
    covers when the chosen dates cut it short)."""
    if point is None:
        return "The dates chosen"
    first, last = point
    if grain == "day":
        return first.isoformat()
    name = first.strftime("%B %Y") if grain == "month" else f"Week of {first.isoformat()}"
    full = (last + timedelta(days=1)).day == 1 if grain == "month" else (last - first).days == 6
    whole = full and (grain != "month" or first.day == 1)
    return name if whole else f"{name} ({first.isoformat()} to {last.isoformat()})"
