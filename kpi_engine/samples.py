"""Seed a new workspace with the bundled sample data, so every page is useful at once."""

from __future__ import annotations

import threading

from kpi_engine.ingest import import_file
from kpi_engine.store import PROJECT_DIR, Store

SAMPLE_DIR = PROJECT_DIR / "sample_data"
SAMPLES = (
    ("campaigns.csv", "Sample campaigns"),
    ("ab_test_campaign.csv", "Sample A/B test (campaign)"),
    ("experiment_users.csv", "Sample experiment (users)"),
)
_SEEDED_KEY = "samples_seeded"
_lock = threading.Lock()


def seed_samples(store: Store) -> bool:
    """Import the samples once per workspace; a workspace whose user deleted them stays empty."""
    with _lock:
        if store.get_meta(_SEEDED_KEY):
            return False
        for file_name, name in SAMPLES:
            import_file(store, SAMPLE_DIR / file_name, name=name)
        with store.transaction() as cur:
            store.set_meta(cur, _SEEDED_KEY, "1")
        return True
