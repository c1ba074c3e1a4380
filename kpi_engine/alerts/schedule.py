"""When a digest is due. A daily digest goes out at its hour, a weekly one on Monday at its
hour, both in the workspace's time zone. The period a digest covers is named by its local
date (daily) or ISO week (weekly), so a rerun, a late run or a daylight-saving change can
neither send it twice nor skip it: a run after a missed hour still sends the latest one."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from kpi_engine.alerts.watches import check_time_zone


def due_period(
    now: datetime, zone: str, schedule: str, hour: int, created_at: datetime | None = None
) -> str | None:
    """The period whose digest is due at ``now`` (aware), or None before the first one after
    the watch was created (``created_at`` naive local time, as the store keeps it)."""
    tz = check_time_zone(zone)
    local = now.astimezone(tz)
    day = local.date()
    if schedule == "weekly":
        day -= timedelta(days=day.weekday())
    if day == local.date() and local.hour < hour:
        day -= timedelta(days=7 if schedule == "weekly" else 1)
    occurrence = datetime.combine(day, time(hour), tzinfo=tz)
    if created_at is not None and occurrence < created_at.astimezone(UTC):
        return None
    if schedule == "weekly":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return day.isoformat()
