"""One test per file of tests/fixtures/import: what marketers export, and what breaks imports.

Expected totals are added up by hand from the files (they are a few lines each).
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest

from kpi_engine.errors import KpiLabError
from kpi_engine.ingest import ImportOptions, import_file
from kpi_engine.kpis.query import KpiQuery, run_kpis
from tests.conftest import FIXTURES, nothing_stored

CORPUS = FIXTURES / "import"

REFUSED = {
    "empty.csv": "is empty",
    "header_only.csv": "has a header but no data rows",
    "image_named_csv.csv": "not a text CSV",
    "pdf_named_csv.csv": "not a text CSV",
    "zip_not_workbook.xlsx": "zip archive, not an Excel workbook",
    "broken_workbook.xlsx": "damaged zip or Excel file",
    "nul_bytes.csv": "contains NUL bytes",
    "no_metric_column.csv": "has no metric column",
    "one_column.csv": "has a single column",
    "duplicate_header.csv": "has two columns named 'clicks'",
    "no_header_row.csv": "has no header row",
    "overflowing_numbers.csv": "holds a number too large to be real",
    "broken_gzip.csv.gz": "is not a valid gzip file",
    "all_rows_ragged.csv": "the data rows have 5 fields but the header has 3",
}

# file → (options, {kpi: expected total}, {role: column}, warning codes that must appear)
IMPORTED = {
    "google_ads_preamble_totals.csv": (
        {},
        {"impressions": 3600, "clicks": 180, "spend": 90, "conversions": 9, "revenue": 450},
        {
            "date": "Day",
            "impressions": "Impr.",
            "revenue": "Conv. value",
            "currency": "Currency code",
        },
        {"preamble_lines", "total_rows", "missing_impressions"},
    ),
    "meta_german_semicolon.csv": (
        {},
        {"spend": 1234.56 + 12.50 + 100.00, "impressions": 15800, "clicks": 370, "conversions": 17},
        {"date": "Berichtsbeginn", "campaign": "Kampagnenname", "spend": "Betrag ausgegeben (EUR)"},
        {"date_gaps"},
    ),
    "french_export.csv": (
        {},
        {"spend": 1334.5, "revenue": 2150, "clicks": 330, "impressions": 11000},
        {"date": "Jour", "campaign": "Campagne", "spend": "Coût", "revenue": "Valeur de conv."},
        set(),
    ),
    "spanish_day_first.csv": (
        {},
        {"spend": 180.5, "revenue": 700, "conversions": 9},
        {"date": "Día", "campaign": "Campaña", "spend": "Coste", "revenue": "Ingresos"},
        set(),
    ),
    "utf16_excel_unicode_text.txt": ({}, {"spend": 30.5, "clicks": 7}, {"spend": "Cost"}, set()),
    "latin1.csv": ({}, {"spend": 30.5, "clicks": 7}, {"campaign": "Campagne"}, set()),
    "cp1252_euro.csv": ({}, {"spend": 30.5, "clicks": 7}, {"spend": "Cost"}, set()),
    "utf8_bom.csv": ({}, {"spend": 30, "clicks": 7}, {"date": "Date"}, set()),
    "pipe_delimited.csv": ({}, {"spend": 30, "clicks": 7}, {"spend": "Spend"}, set()),
    "tab_separated.tsv": ({}, {"spend": 30, "clicks": 7}, {"spend": "Spend"}, set()),
    "gzipped.csv.gz": ({}, {"spend": 30, "clicks": 7}, {"spend": "Spend"}, set()),
    "workbook_two_sheets.xlsx": (
        {"sheet": "Data"},
        {"spend": 30.5, "clicks": 7},
        {"date": "Date"},
        set(),
    ),
    "campaigns.parquet": ({}, {"spend": 60, "clicks": 6}, {"date": "date"}, set()),
    "tiktok_export.csv": (
        {},
        {"spend": 50, "revenue": 250},
        {"revenue": "Total complete payment", "date": "Stat time day"},
        set(),
    ),
    "linkedin_export.csv": (
        {},
        {"spend": 300, "clicks": 40},
        {"spend": "Total Spent", "leads": "Leads", "conversions": None},
        set(),
    ),
    "microsoft_ads_export.csv": (
        {},
        {"spend": 25, "revenue": 100},
        {"date": "Gregorian date"},
        set(),
    ),
    "wide_channels.csv": (
        {"unpivot": True},
        {
            "spend": 1000 + 500 + 1100 + 450,
            "impressions": 50000 + 80000 + 52000 + 70000,
            "conversions": 220,
            "revenue": 100 * 2.5 + 120 * 2.5,
        },
        {"channel": "channel", "spend": "spend", "date": "week"},
        {"unpivoted"},
    ),
    "user_level_experiment.csv": (
        {},
        {"conversions": 2, "revenue": 55},
        {"unit": "user_id", "variant": "group"},
        set(),
    ),
    "currency_in_header.csv": ({}, {"spend": 10.5}, {"spend": "Amount spent (USD)"}, set()),
    "hostile_content.csv": ({}, {"spend": 35, "clicks": 8}, {"spend": "Spend"}, set()),
    "ratio_disagrees.csv": (
        {},
        {"clicks": 100, "impressions": 2000},
        {"clicks": "Clicks"},
        {"ratio_mismatch"},
    ),
    "ambiguous_dates.csv": ({}, {"spend": 30}, {"date": "Date"}, {"ambiguous_format"}),
    "accounting_negatives.csv": ({}, {"spend": 30, "revenue": -12.5 + 30}, {}, set()),
    "duplicates_and_gaps.csv": ({}, {"spend": 45}, {}, {"duplicate_rows", "date_gaps"}),
    "missing_markers.csv": ({}, {"spend": 7, "clicks": 7}, {}, {"missing_spend", "missing_clicks"}),
    "monthly.csv": ({}, {"spend": 300}, {"date": "Month"}, set()),
    "weekly.csv": ({}, {"spend": 350}, {"date": "Week"}, {"date_gaps"}),
    "one_ragged_row.csv": (
        {},
        {"clicks": 3 + 5 + 6, "spend": 1.5 + 3.0 + 4.0},
        {},
        {"malformed_rows"},
    ),
    "conversions_over_clicks.csv": ({}, {"conversions": 14}, {}, {"conversions_over_clicks"}),
    "blank_rows.csv": ({}, {"spend": 30}, {}, {"blank_rows"}),
    "negative_spend.csv": ({}, {"spend": 10}, {}, {"negative_spend"}),
    "multi_currency.csv": ({}, {}, {"currency": "Currency"}, {"multiple_currencies"}),
}


def test_the_corpus_is_complete():
    files = {p.name for p in CORPUS.iterdir()}
    assert files == set(REFUSED) | set(IMPORTED)
    assert len(files) >= 30


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_with_a_clear_message_and_nothing_stored(store, name):
    with pytest.raises(KpiLabError) as info:
        import_file(store, CORPUS / name)
    message = str(info.value)
    assert REFUSED[name] in message
    assert "\n" not in message and "Traceback" not in message
    assert nothing_stored(store)


@pytest.mark.parametrize("name", sorted(IMPORTED))
def test_imported(store, name):
    options, totals, roles, codes = IMPORTED[name]
    result = import_file(store, CORPUS / name, options=ImportOptions(**options))
    dataset = result.dataset
    assert {role: dataset.roles.get(role) for role in roles} == roles
    if totals:
        row = run_kpis(store, dataset, KpiQuery(tuple(totals))).iloc[0]
        assert {k: row[k] for k in totals} == pytest.approx(totals)
    assert codes <= {w["code"] for w in result.warnings}
    for w in result.warnings:
        assert set(w) == {"code", "count", "message", "examples"} and w["count"] > 0


def test_platforms_are_detected(store):
    expected = {
        "google_ads_preamble_totals.csv": "google_ads",
        "tiktok_export.csv": "tiktok",
        "linkedin_export.csv": "linkedin",
        "microsoft_ads_export.csv": "microsoft_ads",
        "currency_in_header.csv": "meta_ads",
        "utf8_bom.csv": "generic",
    }
    found = {name: import_file(store, CORPUS / name).dataset.platform for name in expected}
    assert found == expected


def test_day_first_and_dotted_dates(store):
    spanish = import_file(store, CORPUS / "spanish_day_first.csv").dataset
    german = import_file(store, CORPUS / "meta_german_semicolon.csv").dataset
    assert store.date_range(spanish) == (date(2024, 1, 2), date(2024, 1, 13))
    assert store.date_range(german) == (date(2024, 8, 1), date(2024, 8, 13))


def test_currencies_are_never_summed_together(store):
    dataset = import_file(store, CORPUS / "multi_currency.csv").dataset
    assert dataset.currencies == ("EUR", "USD")
    table = run_kpis(store, dataset, KpiQuery(("spend", "roas")))
    assert table.to_dict(orient="records") == [
        {"currency": "EUR", "spend": 80.0, "roas": 2.5},
        {"currency": "USD", "spend": 150.0, "roas": 400 / 150},
    ]
    usd = run_kpis(store, dataset, KpiQuery(("spend",), currency="USD"))
    assert usd.to_dict(orient="records") == [{"spend": 150.0}]


def test_currency_from_cells_and_headers(store):
    assert import_file(store, CORPUS / "cp1252_euro.csv").dataset.currencies == ("EUR",)
    assert import_file(store, CORPUS / "currency_in_header.csv").dataset.currencies == ("USD",)


def test_hostile_text_is_stored_as_text(store):
    dataset = import_file(store, CORPUS / "hostile_content.csv").dataset
    names = set(store.preview(dataset.dataset_id).iloc[:, 1])
    assert names == {
        "<script>alert(1)</script>",
        '=HYPERLINK("http://evil")',
        "'; DELETE FROM meta; --",
    }
    assert len(store.datasets()) == 1 and store.setting("samples_seeded") is None


def test_user_level_file_is_recognised(store):
    dataset = import_file(store, CORPUS / "user_level_experiment.csv").dataset
    assert dataset.kind == "user_level"


def test_wide_file_without_unpivot_keeps_the_columns_and_says_so(store):
    result = import_file(store, CORPUS / "wide_channels.csv")
    assert "spend" not in result.dataset.roles
    assert "wide_layout" in {w["code"] for w in result.warnings}


def test_ratio_mismatch_names_the_column_and_rows(store):
    result = import_file(store, CORPUS / "ratio_disagrees.csv")
    (mismatch,) = [w for w in result.warnings if w["code"] == "ratio_mismatch"]
    assert mismatch["count"] == 1 and "'CTR'" in mismatch["message"]
    assert mismatch["examples"][0][4] == pytest.approx(0.09)


def test_file_over_the_size_limit(store, monkeypatch):
    monkeypatch.setenv("KPILAB_MAX_UPLOAD_MB", "0.0001")
    with pytest.raises(KpiLabError, match="over the 0 MB limit"):
        import_file(store, CORPUS / "french_export.csv")
    assert nothing_stored(store)


def test_three_thousand_columns(store, tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(3000)) + "\n" + ",".join("1" * 3000) + "\n")
    with pytest.raises(KpiLabError, match="3,000 columns, more than the 1,000"):
        import_file(store, path)
    assert nothing_stored(store)


def test_a_one_megabyte_cell(store, tmp_path):
    path = tmp_path / "cell.csv"
    path.write_text("Date,Campaign,Cost\n2024-01-01,A,1\n2024-01-02," + "x" * (1 << 20) + ",2\n")
    with pytest.raises(KpiLabError, match="row longer than 1 MB"):
        import_file(store, path)
    assert nothing_stored(store)


def test_a_quote_inside_an_unquoted_value_is_named_with_its_line(store, write_csv):
    """It was refused as "a row longer than 1 MB": the quote opened a value that never ended."""
    path = write_csv(
        "Day,Campaign,Cost,Clicks\n2026-01-01,A,10,3\n"
        '2026-01-02,=HYPERLINK("http://x","y"),20,4\n2026-01-03,B,30,5\n'
    )
    with pytest.raises(KpiLabError, match=r"line 3 has a quote inside a value") as info:
        import_file(store, path)
    assert "HYPERLINK" in str(info.value) and "1 MB" not in str(info.value)
    assert nothing_stored(store)


def test_one_short_row_is_one_row(store, write_csv):
    """A row missing six fields was counted six times ("6 of 9 rows" in a file of 4)."""
    path = write_csv(
        "Tag;Kampagne;Kosten;Klicks;Konversionen;Umsatz;Impressionen;Kanal\n"
        "01.01.2026;A;10,5;3;1;20;100;Suche\n02.01.2026;A;12,0;4;2;30;120;Suche\n"
        "03.01.2026;A\n04.01.2026;A;11,0;5;1;25;110;Suche\n"
    )
    result = import_file(store, path)
    assert (result.rows_read, result.dataset.rows, result.rows_dropped) == (4, 3, 1)
    [note] = [w for w in result.warnings if w["code"] == "malformed_rows"]
    assert note["count"] == 1 and note["examples"] == ["03.01.2026;A"]
    assert "1 row dropped" in note["message"] and "(line 4)" in note["message"]


def test_unparsed_values_are_reported_with_examples(store, write_csv):
    rows = "".join(f"2024-01-{d:02d},A,{d}\n" for d in range(1, 20))
    result = import_file(store, write_csv("Date,Campaign,Cost\n" + rows + "2024-01-20,A,oops\n"))
    (bad,) = [w for w in result.warnings if w["code"] == "unparsed_values"]
    assert bad["count"] == 1 and bad["examples"] == ["oops"]
    row = run_kpis(store, result.dataset, KpiQuery(("spend",))).iloc[0]
    assert row["spend"] == sum(range(1, 20)) and not math.isnan(row["spend"])


def test_mapping_overrides_and_ignore(store):
    options = ImportOptions(mapping=["Interactions=ignore", "Cost=revenue"])
    with pytest.raises(KpiLabError, match="no column 'Interactions' to map"):
        import_file(store, CORPUS / "utf8_bom.csv", options=options)
    options = ImportOptions(mapping=["Spend=revenue", "Clicks=ignore"])
    dataset = import_file(store, CORPUS / "utf8_bom.csv", options=options).dataset
    assert dataset.roles.get("revenue") == "Spend" and "spend" not in dataset.roles
    assert "Clicks" not in dataset.column_names
    with pytest.raises(KpiLabError, match="unknown role 'money'"):
        import_file(store, CORPUS / "utf8_bom.csv", options=ImportOptions(mapping=["Spend=money"]))


def test_saved_presets_and_platform_presets(store):
    store.save_preset("my export", {"Spend": "revenue", "Clicks": "none"})
    dataset = import_file(
        store, CORPUS / "utf8_bom.csv", options=ImportOptions(preset="my export")
    ).dataset
    assert dataset.roles.get("revenue") == "Spend" and "clicks" not in dataset.roles
    assert (
        import_file(
            store, CORPUS / "utf8_bom.csv", options=ImportOptions(preset="google_ads")
        ).dataset.platform
        == "google_ads"
    )
    with pytest.raises(KpiLabError, match="unknown preset 'nope'"):
        import_file(store, CORPUS / "utf8_bom.csv", options=ImportOptions(preset="nope"))


def test_append_deduplicates_on_date_and_dimensions(store, write_csv):
    first = import_file(
        store, write_csv("Date,Campaign,Cost\n2024-01-01,A,10\n2024-01-02,A,20\n", "jan.csv")
    ).dataset
    result = import_file(
        store,
        write_csv("Date,Campaign,Cost\n2024-01-02,A,25\n2024-01-03,A,30\n", "feb.csv"),
        options=ImportOptions(append=first.dataset_id),
    )
    assert result.rows_replaced == 1 and result.dataset.rows == 3
    assert result.dataset.dataset_id == first.dataset_id and len(store.datasets()) == 1
    total = run_kpis(store, result.dataset, KpiQuery(("spend",))).iloc[0]["spend"]
    assert total == 10 + 25 + 30


def test_append_refuses_a_different_layout(store, write_csv):
    first = import_file(store, write_csv("Date,Campaign,Cost\n2024-01-01,A,10\n", "a.csv")).dataset
    with pytest.raises(KpiLabError, match="has columns dataset 'a' does not"):
        import_file(
            store,
            write_csv("Date,Campaign,Cost,Clicks\n2024-01-02,A,1,2\n", "b.csv"),
            options=ImportOptions(append=first.dataset_id),
        )
    assert store.dataset(first.dataset_id).rows == 1


def test_replace_keeps_id_and_name(store, write_csv):
    first = import_file(
        store,
        write_csv("Date,Campaign,Cost\n2024-01-01,A,10\n", "a.csv"),
        options=ImportOptions(name="Q1"),
    ).dataset
    clicks_only = write_csv("Date,Campaign,Clicks\n2024-01-05,B,3\n2024-01-06,B,4\n", "b.csv")
    with pytest.raises(KpiLabError, match="this file has no spend, which Q1 has"):
        import_file(store, clicks_only, options=ImportOptions(replace="Q1"))
    assert store.dataset("Q1").rows == 1  # a replacement without the metrics is refused
    result = import_file(store, clicks_only, options=ImportOptions(replace="Q1", force=True))
    dataset = store.dataset("Q1")
    assert dataset.dataset_id == first.dataset_id and dataset.rows == 2
    assert dataset.roles.get("clicks") == "Clicks" and result.rows_replaced == 1


def test_progress_is_reported(store):
    steps = []
    import_file(store, CORPUS / "utf8_bom.csv", progress=lambda f, m: steps.append((f, m)))
    fractions = [f for f, _ in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(steps) >= 4


def test_failed_append_leaves_the_dataset_unchanged(store, write_csv):
    first = import_file(store, write_csv("Date,Campaign,Cost\n2024-01-01,A,10\n", "a.csv")).dataset
    with pytest.raises(KpiLabError):
        import_file(
            store,
            CORPUS / "overflowing_numbers.csv",
            options=ImportOptions(append=first.dataset_id),
        )
    again = store.dataset(first.dataset_id)
    assert again.rows == 1 and run_kpis(store, again, KpiQuery(("spend",))).iloc[0]["spend"] == 10
    assert Path(CORPUS / "overflowing_numbers.csv").exists()


def test_an_undated_export_takes_the_period_its_header_names(store, write_csv):
    """A Google Ads campaign report without a Day column: its preamble's date range was
    ignored, so nothing said which period the totals were for."""
    from kpi_engine.kpis.analysis import run_kpi_view
    from kpi_engine.kpis.spec import KpiViewSpec

    path = write_csv(
        'Campaign report\n"March 27, 2026 - April 23, 2026"\n'
        "Campaign,Currency code,Impr.,Clicks,Cost,Conversions,Conv. value\n"
        'Brand,USD,"1,200",60,30.00,3,150.00\nGeneric,USD,"2,400",120,60.00,6,300.00\n'
    )
    result = import_file(store, path)
    (note,) = [w for w in result.warnings if w["code"] == "period_from_header"]
    assert "cover 2026-03-27 to 2026-04-23" in note["message"]
    dataset = result.dataset
    assert dataset.header_period == ("2026-03-27", "2026-04-23")
    view = run_kpi_view(store, dataset, KpiViewSpec(dataset.dataset_id, ("spend",)))
    assert (view.start, view.end) == ("2026-03-27", "2026-04-23")
    dated = import_file(store, FIXTURES / "import" / "google_ads_preamble_totals.csv").dataset
    assert dated.header_period is None  # its rows carry their own dates


def test_a_dropped_ragged_row_is_marked_where_its_numbers_are_missing(store):
    """One ragged row of a real export was dropped: spend $66,818 against a spreadsheet SUM
    of $68,653, a fake dip on that day, and only the Data page said so."""
    from datetime import date

    from kpi_engine.display.blocks import Chart, Section
    from kpi_engine.kpis.analysis import run_kpi_view
    from kpi_engine.kpis.display import blocks
    from kpi_engine.kpis.spec import KpiViewSpec

    dataset = import_file(store, CORPUS / "one_ragged_row.csv").dataset
    assert dataset.dropped_days == {"2024-01-02": 1}
    spec = KpiViewSpec(
        dataset.dataset_id, ("spend",), start=date(2024, 1, 1), end=date(2024, 1, 4), grain="day"
    )
    view = run_kpi_view(store, dataset, spec)
    assert view.dropped == (("2024-01-02", 1),)
    drawn = blocks(view)
    cards = next(b for b in drawn if isinstance(b, Section) and b.id == "cards")
    assert any("1 row dropped at import on 2024-01-02" in str(t) for t in cards.blocks)
    trend = next(b for b in drawn if isinstance(b, Section) and b.id == "trend").blocks[0]
    assert isinstance(trend, Chart)
    assert [s.x0 for s in trend.figure.layout.shapes] == ["2024-01-02"]
    later = KpiViewSpec(
        dataset.dataset_id, ("spend",), start=date(2024, 1, 4), end=date(2024, 1, 4)
    )
    assert run_kpi_view(store, dataset, later).dropped == ()  # neither its day nor the one before


def test_a_dropped_row_broken_across_lines_is_not_marked_and_not_a_crash(store, tmp_path):
    """The fuzz test's case: a rejected row's text started with a line break."""
    path = tmp_path / "report.csv"
    path.write_bytes(b"Day,Impressions\n\n\n2000-01-01\n2000-01-01,0\n2000-01-01,0\n")
    result = import_file(store, path)
    assert result.dataset.rows == 2 and result.dataset.dropped_days == {}


def test_a_parquet_file_with_time_zone_aware_timestamps_imports(store, tmp_path):
    """It failed with "Required module 'pytz' failed to import" (issue 29)."""
    import duckdb

    path = tmp_path / "tz.parquet"
    duckdb.sql(
        "COPY (SELECT TIMESTAMPTZ '2026-01-01 10:00:00+01' + INTERVAL (i) DAY AS day, 'c' AS"
        " campaign, 10.0 AS spend, 2.5::DECIMAL(10, 2) AS revenue FROM range(5) t(i))"
        f" TO '{path}' (FORMAT parquet)"
    )
    dataset = import_file(store, path).dataset
    assert dataset.rows == 5 and dataset.date_column == "day"
    row = run_kpis(store, dataset, KpiQuery(("spend", "revenue"))).iloc[0]
    assert (row["spend"], row["revenue"]) == (50.0, 12.5)
