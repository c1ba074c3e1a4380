"""KPIs: the catalog, the formula grammar, custom KPIs, the KPI query, the dashboard view."""
