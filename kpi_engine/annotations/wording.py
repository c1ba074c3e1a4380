"""Every sentence about the timeline's notes."""

NOTES_HELP = (
    "Mark what happened on a day or over a range (a promotion, an outage, a price change): it is"
    " drawn on the trend, kept in this workspace and frozen into links, with imports, shared"
    " links and plans, alerts and tests, which KPI Lab marks by itself."
)
EXCLUDE_HELP = (
    "A promotion or an outage is not normal: its days are left out of the anomaly flags'"
    " baselines (and never flagged themselves) and of the budget's curve fits."
)
