"""Data page in AppTest: upload, check the mapping, import, report, rename, delete, bad files."""

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import FIXTURES
from tests.pages.conftest import APP, engine_store, shown

TINY = (FIXTURES / "tiny_campaigns.csv").read_bytes()
CORPUS = FIXTURES / "import"


@pytest.fixture
def data_page(workspace) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/data.py").run()
    assert not at.exception, at.exception
    return at


def _upload(at: AppTest, name: str, content: bytes) -> AppTest:
    at.file_uploader[0].set_value((name, content, "text/csv")).run()
    assert not at.exception, at.exception
    return at


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _import(at: AppTest, name: str, content: bytes) -> AppTest:
    _upload(at, name, content)
    _button(at, "Import").click().run()
    assert not at.exception, at.exception
    return at


def test_lists_the_sample_datasets(data_page):
    names = list(data_page.dataframe[0].value["name"])
    assert names == ["Sample campaigns", "Sample A/B test (campaign)", "Sample experiment (users)"]


def test_upload_shows_the_mapping_before_importing(data_page):
    at = _upload(data_page, "tiny.csv", TINY)
    assert len(engine_store(at).datasets()) == 3  # nothing imported yet
    mapping = at.dataframe[0].value
    assert dict(zip(mapping["column"], mapping["role"], strict=True))["Conv. value"] == "revenue"
    captions = " ".join(c.value for c in at.caption)
    assert "Campaign report" in captions and "delimiter ','" in captions


def test_import_selects_and_describes_the_file(data_page):
    at = _import(data_page, "q1 <b>report</b>.csv", TINY)
    assert "Imported **5** rows" in at.success[0].value
    assert "<b>" not in at.success[0].value  # user text is escaped, never markup
    (dataset,) = [d for d in engine_store(at).datasets() if d.source_file == "q1 <b>report</b>.csv"]
    assert at.sidebar.selectbox(key="dataset").value == dataset.dataset_id
    roles = at.dataframe[1].value
    assert (
        dict(zip(roles["column"], roles["detected role"], strict=True))["Conv. value"] == "revenue"
    )
    assert len(at.dataframe[2].value) == 5  # preview
    at.run()  # a rerun does not import the same upload again
    assert (
        len([d for d in engine_store(at).datasets() if d.source_file == "q1 <b>report</b>.csv"])
        == 1
    )


def test_corrected_mapping_is_used(data_page):
    at = _upload(data_page, "bom.csv", (CORPUS / "utf8_bom.csv").read_bytes())
    editor_key = next(k for k in at.session_state.keys() if str(k).startswith("mapping_editor"))
    # the user turns "Spend" into revenue and ignores "Clicks" in the editor
    at.session_state[editor_key] = {
        "edited_rows": {2: {"role": "revenue"}, 3: {"role": "ignore"}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    _button(at, "Import").click().run()
    assert not at.exception
    dataset = next(d for d in engine_store(at).datasets() if d.source_file == "bom.csv")
    assert dataset.roles.get("revenue") == "Spend" and "Clicks" not in dataset.column_names


def test_quality_report_is_shown(data_page):
    at = _import(data_page, "google.csv", (CORPUS / "google_ads_preamble_totals.csv").read_bytes())
    expander = next(e for e in at.expander if "Data quality" in e.label)
    text = " ".join(m.value for m in expander.markdown)
    assert "total_rows" in text and "preamble_lines" in text


def test_bad_upload_shows_the_reason_and_stores_nothing(data_page):
    before = len(engine_store(data_page).datasets())
    at = _upload(data_page, "notes.csv", b"date,campaign,notes\n2026-01-01,A,hello\n")
    assert "has no metric column" in shown(at.error[0])
    _button(at, "Cancel").click().run()
    assert not at.exception and len(engine_store(at).datasets()) == before


def test_rename_and_delete(data_page):
    at = _import(data_page, "tiny.csv", TINY)
    name_box = next(t for t in at.text_input if t.label == "New name")
    name_box.set_value("Renamed report")
    _button(at, "Rename").click().run()
    assert not at.exception
    assert "Renamed report" in list(at.dataframe[0].value["name"])
    assert _button(at, "Delete").disabled
    next(c for c in at.checkbox if c.label == "Yes, delete it for good").check().run()
    _button(at, "Delete").click().run()
    assert not at.exception
    assert "Renamed report" not in [d.name for d in engine_store(at).datasets()]


def test_rename_to_a_taken_name_is_refused(data_page):
    name_box = next(t for t in data_page.text_input if t.label == "New name")
    name_box.set_value("Sample experiment (users)")
    _button(data_page, "Rename").click().run()
    assert "already named" in data_page.error[0].value


def test_first_visit_straight_to_the_data_page_still_gets_the_app_shell(tmp_path, monkeypatch):
    """Regression: a pages/ folder made Streamlit run pages/data.py alone on a first visit."""
    import streamlit as st

    monkeypatch.setenv("KPILAB_DB", str(tmp_path / "ws.sqlite"))
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/data.py")  # legacy mode: this would run the page without app.py
    at.run()
    assert not at.exception
    assert at.sidebar.selectbox(key="dataset").value is not None
    assert at.title[0].value == "Data"


def test_an_append_says_so_and_keeps_every_import_s_findings(data_page):
    """After an append the panel showed only the new file's findings ("no issues") and the
    message said "Imported"."""
    at = _import(data_page, "tiny.csv", TINY)  # its finding: days without rows
    more = (
        b"Day,Campaign,Channel,Cost,Clicks\n"
        b"2026-03-20,Brand,Search,10,2\n2026-03-21,Brand,Search,11,3\n"
    )
    _upload(at, "more.csv", more)
    next(r for r in at.radio if r.label == "Import as").set_value("append").run()
    next(s for s in at.selectbox if s.label == "Dataset" and s.key != "dataset").set_value(
        next(d.dataset_id for d in engine_store(at).datasets() if d.name == "tiny")
    ).run()
    _button(at, "Append to tiny").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value.startswith("Appended **2** rows to **tiny**")
    assert "it now has 7 rows" in at.success[0].value
    text = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert "more.csv** · append (latest)" in text and "tiny.csv** · import" in text
    assert "date_gaps" in text  # the first import's finding is still there


def test_a_parquet_upload_shows_its_mapping(data_page, tmp_path):
    """Typed columns read "as stored" (the mapping table raised a KeyError on them before)."""
    import duckdb

    path = tmp_path / "report.parquet"
    duckdb.sql(
        "SELECT DATE '2026-01-01' AS date, 'Brand' AS campaign, 3.5 AS spend, 7 AS clicks"
    ).write_parquet(str(path))
    at = _upload(data_page, "report.parquet", path.read_bytes())
    mapping = at.dataframe[0].value
    reads = dict(zip(mapping["column"], mapping["reads as"], strict=True))
    assert reads["spend"] == "number (as stored)" and reads["date"] == "date (as stored)"
    _button(at, "Import").click().run()
    assert not at.exception, at.exception
    assert "Imported **1** rows" in at.success[0].value


def test_replace_targets_the_selected_dataset_asks_first_and_keeps_its_metrics(data_page):
    """Replace defaulted to the first dataset, asked nothing, and took a file with none of
    the dataset's metrics (a 59-row A/B dataset became a 4-column file)."""
    at = _import(data_page, "tiny.csv", TINY)  # tiny is now selected in the sidebar
    tiny = next(d for d in engine_store(at).datasets() if d.name == "tiny")
    _upload(at, "clicks only.csv", b"Day,Campaign,Clicks\n2026-03-20,Brand,2\n")
    next(r for r in at.radio if r.label == "Import as").set_value("replace").run()
    target = next(s for s in at.selectbox if s.label == "Dataset" and s.key != "dataset")
    assert target.value == tiny.dataset_id  # the sidebar's dataset, not the first one
    button = _button(at, "Replace tiny")
    assert button.disabled  # until the replacement is confirmed
    next(c for c in at.checkbox if c.label.startswith("Replace all 5 rows of tiny")).check().run()
    _button(at, "Replace tiny").click().run()
    assert "has no impressions, spend, conversions, revenue" in at.error[0].value
    assert engine_store(at).dataset(tiny.dataset_id).rows == 5  # untouched
    next(c for c in at.checkbox if c.label.startswith("Replace even if")).check().run()
    _button(at, "Replace tiny").click().run()
    assert not at.exception, at.exception
    assert engine_store(at).dataset(tiny.dataset_id).rows == 1
