"""The Alerts page's tables and lists, from the engine's records."""

from __future__ import annotations

import json

import pandas as pd

from kpi_engine.alerts import wording
from kpi_engine.alerts.watch import Watch
from kpi_engine.alerts.watches import Delivery
from kpi_engine.display.blocks import Table

DELIVERY_UNITS = {
    "last try (UTC)": "text",
    "watch": "text",
    "period": "text",
    "to": "text",
    "status": "text",
    "tries": "count",
    "reason": "text",
    "message": "text",
}


def describe(watch: Watch) -> str:
    rule = watch.parsed
    words = wording.rule_words(rule.name, rule.pct, rule.low, rule.high)
    subject = watch.kpi or "experiment"
    return wording.watch_line(subject, words, watch.destination, watch.digest, watch.hour)


def deliveries_table(deliveries: list[Delivery]) -> Table:
    rows = [
        {
            "last try (UTC)": d.last_try.strftime("%Y-%m-%d %H:%M"),
            "watch": d.watch_id,
            "period": d.period,
            "to": d.destination,
            "status": d.status,
            "tries": d.attempts,
            "reason": d.reason or "",
            "message": json.loads(d.message).get("text", ""),
        }
        for d in deliveries
    ]
    return Table("deliveries", pd.DataFrame(rows, columns=list(DELIVERY_UNITS)), DELIVERY_UNITS)
