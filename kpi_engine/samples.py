"""The bundled sample data, so every page is useful at once.

The sample files are imported once per state database into a hidden template workspace,
under ids derived from their file names; a workspace gets the samples as registry entries
naming the template's Parquet files (files are never changed, so many entries can name
one). Adding the samples to a workspace copies no rows.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import replace
from datetime import datetime

from kpi_engine.errors import KpiLabError
from kpi_engine.ingest import ImportOptions, import_file
from kpi_engine.paths import PROJECT_DIR
from kpi_engine.store import SAMPLES_WORKSPACE, Store

SAMPLE_DIR = PROJECT_DIR / "sample_data"
SAMPLE_AB = "Sample A/B test (campaign)"  # what the Experiments page offers to open
SAMPLES = (
    ("campaigns.csv", "Sample campaigns"),
    ("ab_test_campaign.csv", SAMPLE_AB),
    ("experiment_users.csv", "Sample experiment (users)"),
)
TEMPLATE = SAMPLES_WORKSPACE
SEEDED_KEY = "samples_seeded"
_lock = threading.Lock()


def sample_id(file_name: str) -> str:
    """The same in every workspace and process: a link to a sample survives a refresh."""
    return "ds_" + hashlib.sha256(file_name.encode()).hexdigest()[:12]


def templates(store: Store) -> Store:
    """The template workspace, its samples imported (once per database, whichever process
    comes first: a second process's import of the same sample is refused and dropped)."""
    template = store.for_workspace(TEMPLATE)
    if template.setting(SEEDED_KEY):
        return template
    with _lock:
        have = {d.dataset_id for d in template.datasets()}
        for file_name, name in SAMPLES:
            if sample_id(file_name) in have:
                continue
            try:
                options = ImportOptions(name=name, dataset_id=sample_id(file_name))
                import_file(template, SAMPLE_DIR / file_name, options=options)
            except KpiLabError:
                if sample_id(file_name) not in {d.dataset_id for d in template.datasets()}:
                    raise
        with template.transaction() as conn:
            template.set_setting(conn, SEEDED_KEY, "1")
    return template


def seed_samples(store: Store) -> bool:
    """Add the samples to this workspace once; deleted samples stay deleted."""
    if store.setting(SEEDED_KEY):
        return False
    samples = templates(store).datasets()
    try:
        with store.transaction() as conn:
            for dataset in samples:
                store.register(conn, replace(dataset, created_at=datetime.now()))
            store.set_setting(conn, SEEDED_KEY, "1")
    except KpiLabError:
        if store.setting(SEEDED_KEY):  # another session of this workspace did it first
            return False
        raise
    return True
