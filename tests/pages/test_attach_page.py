"""Data page, "Attach a table": a Parquet copy of the sample campaigns attached on Spark
from the browser, marked in the picker, read again on demand, and shown on the KPIs page
with the same numbers as the imported sample (needs Spark: skips without it)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.pages.conftest import APP, engine_store, shown
from tests.spark.conftest import write_parquet
from ui.state import Keys

pytestmark = pytest.mark.slow  # real processes, a browser or Spark: make test runs it


@pytest.fixture
def data_page(workspace, spark_session) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("pages/data.py").run()
    assert not at.exception, at.exception
    return at


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _attach(at: AppTest, path: str, name: str) -> AppTest:
    at.text_input(key=Keys.ATTACH_SOURCE).input(path)
    at.text_input(key=Keys.ATTACH_NAME).input(name).run()
    _button(at, "Read its columns").click().run()
    assert not at.exception, at.exception
    return at


def _cards(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_a_lake_table_attached_from_the_browser_reads_as_the_sample(data_page, tmp_path):
    store = engine_store(data_page)
    sample = store.dataset("Sample campaigns")
    parquet = write_parquet(store, sample, tmp_path / "campaigns.parquet")
    at = _attach(data_page, str(parquet), "lake campaigns")
    mapping = at.dataframe[0].value
    assert dict(zip(mapping["column"], mapping["role"], strict=True))["spend"] == "spend"
    _button(at, "Attach").click().run()
    assert not at.exception, at.exception
    assert "Attached **lake campaigns**" in at.success[0].value
    attached = engine_store(at).dataset("lake campaigns")
    picker = at.sidebar.selectbox(key="dataset")
    assert picker.value == attached.dataset_id
    assert "lake campaigns (on Spark)" in picker.options
    version = attached.report["version"]
    _button(at, "Read it again").click().run()
    assert not at.exception, at.exception
    assert engine_store(at).dataset("lake campaigns").report["version"] != version

    at.switch_page("pages/kpis.py").run()
    on_spark = _cards(at)
    at.switch_page("pages/budget.py").run()
    assert not at.exception, at.exception
    spark_plan = [df.value.to_dict() for df in at.dataframe]
    at.sidebar.selectbox(key="dataset").set_value(sample.dataset_id).run()
    assert not at.exception, at.exception
    assert spark_plan and spark_plan == [df.value.to_dict() for df in at.dataframe]
    at.switch_page("pages/kpis.py").run()
    assert on_spark and on_spark == _cards(at)


def test_a_path_that_is_not_there_says_so_and_attaches_nothing(data_page, tmp_path):
    at = _attach(data_page, str(tmp_path / "missing.parquet"), "nothing")
    assert "does not exist" in shown(at.error[0])
    assert len(engine_store(at).datasets()) == 3
