"""Every sentence an alert, a digest or the Alerts page says: one place, so that the chat
message, the e-mail and the page read the same."""

from __future__ import annotations

from datetime import datetime, timedelta

from kpi_engine.alerts.heartbeat import MonitorStatus
from kpi_engine.formatting import format_value

RULE_NAMES = {
    "anomaly": "a day outside its expected band",
    "change": "a change against the previous 7 days beyond ±{pct:.0%}",
    "range": "a day outside {low} to {high}",
    "typical": "the last 7 days outside the typical range",
    "pace": "a target falling behind or missed",
    "srm": "a sample ratio mismatch",
    "decision": "a decision (a significant result on a peeking-safe sequential test, or enough"
    " data to call it)",
}
NO_DATES = "needs a date column to look at days"
DIGEST_TITLE = {"daily": "Daily KPI digest", "weekly": "Weekly KPI digest"}
REVIEW = (
    "Silent for {days} days: nothing of this watch was sent in that time. Is it still worth"
    " watching, or does its rule need another threshold?"
)
SUBJECT = "KPI Lab: {what}"


def stale_kpi(kpi: str, dataset: str, last_seen, days: int) -> str:
    when = f"since {last_seen:%Y-%m-%d}" if last_seen else "ever since it was set up"
    return (
        f"{kpi} on {dataset} has a target or a watch but nobody has looked at it {when}"
        f" (more than {days} days): is it still worth following?"
    )


def value(number: float | None, unit: str, currency: str | None = None) -> str:
    return format_value(number, unit, currency)


def anomaly(name: str, day: str, now: str, low: str, high: str, fired: bool) -> str:
    if fired:
        return f"{name} on {day} was {now}, outside its expected range {low} to {high}."
    return f"{name} on {day} was {now}, within its expected range {low} to {high}."


def change(name: str, end: str, now: str, change_pct: float | None, limit: float) -> str:
    if change_pct is None:
        return (
            f"{name} over the 7 days to {end} was {now}; the 7 days before have too little data"
            " to compare with."
        )
    direction = "up" if change_pct >= 0 else "down"
    over = "beyond" if abs(change_pct) >= limit else "within"
    return (
        f"{name} over the 7 days to {end} was {now}, {direction} {abs(change_pct):.0%} on the"
        f" 7 days before ({over} the ±{limit:.0%} you watch for)."
    )


def outside(name: str, when: str, now: str, low: str, high: str, fired: bool) -> str:
    where = "outside" if fired else "within"
    return f"{name} {when} was {now}, {where} {low} to {high}."


def typical(name: str, end: str, now: str, range_text: str, fired: bool) -> str:
    where = "outside" if fired else "within"
    return f"{name} over the 7 days to {end} was {now}, {where} the {range_text} (a rough guide)."


def target(name: str, target_value: str, deadline: str, pace_text: str) -> str:
    return f"{name} target {target_value} by {deadline}: {pace_text}."


def no_target(name: str) -> str:
    return f"{name} has no target on this dataset: set one on the KPIs page."


def experiment_line(dataset: str, sentence: str) -> str:
    return f"Experiment on {dataset}: {sentence}"


PEEKING_SAFE = " (A peeking-safe sequential test: it stays valid however often the monitor looks.)"


def undecided(dataset: str) -> str:
    return f"Experiment on {dataset}: no decision yet (nothing significant, more data needed)."


def digest_note(dataset: str, line: str) -> str:
    return f"Note on {dataset}: {line}"


def with_why(sentence: str, why: str | None) -> str:
    return f"{sentence} Why: {why}" if why else sentence


def with_link(sentence: str, link: str | None) -> str:
    return f"{sentence} {link}" if link else sentence


def digest_text(schedule: str, period: str, lines: list[str]) -> str:
    head = f"{DIGEST_TITLE[schedule]} ({period}):"
    return "\n".join([head, *(f"• {line}" for line in lines)])


# -- the Alerts page ----------------------------------------------------------------------

PAGE_INTRO = (
    "Be told instead of checking: a watch sends an alert to a chat webhook (Slack, Teams) or"
    " an e-mail address when its rule fires, or collects it into a daily or weekly digest."
    " The monitor sends what is due each time it runs (see the README for a crontab line, or"
    " set KPILAB_MONITOR_EVERY on the server); every alert links to a frozen view of its"
    " numbers and is sent once."
)
NO_WATCHES = "No watches yet: add one above."
NO_DATASET = "No dataset yet. Upload one on the Data page."
KPI_RULE_CHOICES = {
    "anomaly": "a day outside its expected band",
    "change": "a change on the previous 7 days beyond ±X%",
    "range": "a day outside a range",
    "typical": "outside the typical range for its channel",
    "pace": "its target falls behind or is missed",
}
EXPERIMENT_RULE_CHOICES = {
    "srm": "a sample ratio mismatch",
    "decision": "a decision (peeking-safe: a sequential test)",
}
DELIVERY_CHOICES = {None: "at once", "daily": "daily digest", "weekly": "weekly digest"}
NO_DELIVERIES = "Nothing sent yet."
NO_EXPERIMENT_VIEWS = (
    "To watch an experiment, save its view on the Experiments page (Save or share this view)."
)
DELIVERY_WORDS = {None: "at once", "daily": "in the daily digest", "weekly": "in the weekly digest"}


def watch_line(subject: str, rule: str, destination: str, digest: str | None, hour: int) -> str:
    """One watch in words: what, on which rule, where and when."""
    when = DELIVERY_WORDS[digest] + (f" ({hour}:00)" if digest else "")
    return f"**{subject}** · {rule} → {destination}, {when}"


def rule_words(rule: str, pct: float | None, low: float | None, high: float | None) -> str:
    return RULE_NAMES[rule].format(
        pct=pct or 0,
        low="…" if low is None else f"{low:g}",
        high="…" if high is None else f"{high:g}",
    )


def monitor_status(status: MonitorStatus, now: datetime, failing: int) -> tuple[str, str]:
    """(tone, sentence): whether watches here can send at all."""
    fails = (
        f" {failing} send{'s' if failing != 1 else ''} failed and will be tried again: see the"
        " deliveries below."
        if failing
        else ""
    )
    if status.last is None:
        return "warning", NO_MONITOR
    last = f"{status.last:%Y-%m-%d %H:%M} UTC ({_ago(now - status.last)} ago)"
    if status.stopped(now):
        return "warning", (
            f"The monitor last ran {last} and has missed its rounds since: alerts are not being"
            " sent. Check its cron line, systemd timer or KPILAB_MONITOR_EVERY." + fails
        )
    upcoming = f"; next round about {status.next_round:%H:%M} UTC" if status.next_round else ""
    return ("warning" if failing else "info"), f"The monitor last ran {last}{upcoming}.{fails}"


def _ago(gap: timedelta) -> str:
    minutes = max(0, int(gap.total_seconds() // 60))
    if minutes < 120:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // (24 * 60)} days"


NO_MONITOR = (
    "No monitor has run on this server yet, so watches send nothing. Ask whoever runs KPI Lab to"
    " set KPILAB_MONITOR_EVERY=15m on the server, or to run `python -m kpi_engine monitor` from"
    " cron (see the README's Alerts section)."
)
