"""What a server process tidies when it starts and every hour after: upload spool folders
of sessions that ended without saying so, data files no dataset names any more, and
visitors' workspaces that never held more than the samples."""

from __future__ import annotations

from kpi_engine.ingest.source import sweep_spool
from kpi_engine.sharing.workspaces import prune_untouched
from kpi_engine.store import Store

EVERY_SECONDS = 3600


def tidy(store: Store, prune_days: float | None) -> dict:
    """One round; ``prune_days`` None leaves workspaces alone."""
    done = {"spool_folders": sweep_spool(), "files_swept": len(store.sweep())}
    if prune_days is not None:
        done["workspaces_removed"] = prune_untouched(store, prune_days)["removed"]
    return done
