"""A timeline of what happened: people's notes on dates of the data (a promotion, an outage)
and the events KPI Lab knows of (imports, shared links and plans, alerts, tests)."""
