"""KPI Lab's engine: ingest, the store, and a folder per feature (kpis, experiments, budget,
sharing) over pure statistics (stats). It never imports streamlit."""
