"""The strict typed read (clean files) and its fall-back to reading every value as text.

The plan decides from the first 5,000 rows; these files hide their problem after them, so
only the fall-back can find it.
"""

from __future__ import annotations

import pytest

from kpi_engine.ingest import import_file, importer
from tests.conftest import rows as stored_rows

CLEAN_ROWS = 6_000


def _clean_lines(n: int = CLEAN_ROWS) -> list[str]:
    return [
        f"2026-{1 + i % 12:02d}-{1 + i % 28:02d},Campaign {i % 7},{100 + i},{i % 50},{i % 9}.25"
        for i in range(n)
    ]


def _csv(write_csv, lines: list[str], header: str = "Day,Campaign,Impressions,Clicks,Cost"):
    return write_csv("\n".join([header, *lines]) + "\n")


def _table(store, dataset) -> list[tuple]:
    return stored_rows(store, dataset, f"SELECT * FROM {dataset.table} ORDER BY ALL")


def test_a_clean_file_takes_the_strict_read(store, write_csv, monkeypatch):
    path = _csv(write_csv, _clean_lines())
    plan = importer.inspect_file(store, path)
    assert importer._strict_types(plan) == {
        "Day": "DATE",
        "Campaign": "VARCHAR",
        "Impressions": "DOUBLE",
        "Clicks": "DOUBLE",
        "Cost": "DOUBLE",
    }
    strict = import_file(store, path, name="strict")
    monkeypatch.setattr(importer, "_strict_types", lambda plan: None)
    text = import_file(store, path, name="text")
    assert _table(store, strict.dataset) == _table(store, text.dataset)
    assert strict.dataset.columns == text.dataset.columns
    assert strict.warnings == text.warnings
    assert strict.dataset.rows == CLEAN_ROWS


def test_the_strict_read_is_tried_and_abandoned_for_a_late_problem(store, write_csv, monkeypatch):
    calls = []
    load = importer._load

    def spy(store, plan, options, types, progress):
        calls.append(types is not None)
        return load(store, plan, options, types, progress)

    monkeypatch.setattr(importer, "_load", spy)
    lines = _clean_lines()
    lines[5_500] = "2026-03-03,Campaign 1,abc,4,1.25"
    result = import_file(store, _csv(write_csv, lines))
    assert calls == [True, False]
    unparsed = next(w for w in result.warnings if w["code"] == "unparsed_values")
    assert unparsed["count"] == 1 and unparsed["examples"] == ["abc"]
    assert result.dataset.rows == CLEAN_ROWS


@pytest.mark.parametrize(
    ("late_line", "code", "rows"),
    [
        ("2026-03-03,Campaign 1,--,4,1.25", "missing_impressions", CLEAN_ROWS + 1),
        ("Total: all campaigns,,123456,789,1000.50", "total_rows", CLEAN_ROWS),
        ("2026-03-03,Campaign 1,5,4,1.25,extra", "malformed_rows", CLEAN_ROWS),
        # the sample said plain numbers: a late "1,234" is reported, not guessed
        ('2026-03-03,Campaign 1,"1,234",4,1.25', "unparsed_values", CLEAN_ROWS + 1),
    ],
)
def test_late_problems_are_found_by_the_fallback(store, write_csv, late_line, code, rows):
    lines = _clean_lines()
    lines.insert(5_500, late_line)
    result = import_file(store, _csv(write_csv, lines))
    assert result.dataset.rows == rows
    assert code in [w["code"] for w in result.warnings]
    (total,) = stored_rows(
        store, result.dataset, f"SELECT sum(Impressions) FROM {result.dataset.table}"
    )[0]
    assert total == sum(100 + i for i in range(CLEAN_ROWS))
