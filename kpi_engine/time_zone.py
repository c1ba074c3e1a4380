"""The workspace's time zone (UTC unless an editor sets one): when its digests and alerts
are due, and which day a timestamp falls on, on every engine."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kpi_engine.store import Store

DEFAULT_TIME_ZONE = "UTC"
TIME_ZONE = "time_zone"  # the setting's key


def time_zone(store: Store) -> str:
    return store.setting(TIME_ZONE) or DEFAULT_TIME_ZONE
