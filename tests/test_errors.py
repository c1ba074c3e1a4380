"""Messages shown to viewers name no file on the server (issue 24)."""

import pytest

from kpi_engine.errors import without_paths


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("the workspace database /srv/kpilab/workspace/kpilab.duckdb is in use", "is in use"),
        ("Spark cannot read file:/lake/ads/x.parquet: PATH_NOT_FOUND", "PATH_NOT_FOUND"),
        ("[Errno 28] No space left on device: '/var/lib/kpilab/spool/a.csv'", "No space left"),
    ],
)
def test_server_paths_are_left_out(text, kept):
    shown = without_paths(text)
    assert kept in shown and "/srv" not in shown and "/lake" not in shown and "/var" not in shown


@pytest.mark.parametrize(
    "text", ["see https://example.com/a/b", "a ratio of 3/4", "the week 2026/03/01", "CTR / CPC"]
)
def test_other_slashes_stay(text):
    assert without_paths(text) == text
