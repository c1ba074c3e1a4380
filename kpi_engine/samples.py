"""Seed a workspace with the bundled sample data, so every page is useful at once.

The sample files are imported once into a hidden template workspace; a new workspace gets
copies of those tables (milliseconds), not a fresh import.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime

from kpi_engine.ingest import import_file
from kpi_engine.paths import PROJECT_DIR
from kpi_engine.store import Store

SAMPLE_DIR = PROJECT_DIR / "sample_data"
SAMPLES = (
    ("campaigns.csv", "Sample campaigns"),
    ("ab_test_campaign.csv", "Sample A/B test (campaign)"),
    ("experiment_users.csv", "Sample experiment (users)"),
)
TEMPLATE = "__samples__"
SEEDED_KEY = "samples_seeded"
_lock = threading.Lock()


def _template(store: Store) -> Store:
    template = store.for_workspace(TEMPLATE)
    if not template.get_meta(SEEDED_KEY):
        for file_name, name in SAMPLES:
            import_file(template, SAMPLE_DIR / file_name, name=name)
        with template.transaction() as cur:
            template.set_meta(cur, SEEDED_KEY, "1")
    return template


def seed_samples(store: Store) -> bool:
    """Copy the samples into this workspace once; deleted samples stay deleted."""
    with _lock:
        if store.get_meta(SEEDED_KEY):
            return False
        template = _template(store)
        with store.transaction() as cur:
            for dataset in template.datasets():
                copy = replace(
                    dataset, dataset_id=store.new_dataset_id(), created_at=datetime.now()
                )
                cur.execute(f"CREATE TABLE {copy.table} AS SELECT * FROM {dataset.table}")
                store.register(cur, copy)
            store.set_meta(cur, SEEDED_KEY, "1")
        return True
