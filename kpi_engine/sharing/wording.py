"""The sentences around a shared or saved view."""

from __future__ import annotations

from datetime import datetime


def subtitle(title_of_data: str, rows: int, created: datetime, expires: datetime | None) -> str:
    expiry = f" · link valid until {expires:%Y-%m-%d}" if expires else ""
    return (
        f"Shared {created:%Y-%m-%d %H:%M} · {title_of_data} ({rows:,} rows, as they were"
        f" then){expiry} · read-only"
    )


def left_out(settings: list[str]) -> str:
    return (
        f"This saved view also has {', '.join(settings)}, which this page cannot show: its"
        " read-only link shows them."
    )
