"""The session-state key of every widget that sets a spec's setting.

A page builds its spec from these widgets; opening a saved view (``ui/open_view.py``) sets
them from the view's spec. Keys carry the dataset id, so each dataset keeps its own choices.
"""

from __future__ import annotations


def widget_key(setting: str, dataset_id: str) -> str:
    return f"{setting}_{dataset_id}"
