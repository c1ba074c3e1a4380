"""KPI Lab's engine: ingest, store, KPI catalog and queries. It never imports streamlit."""
