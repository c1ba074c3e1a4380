"""User text reaches owners and stakeholders as text (issue 24): a column header shown in
"Breakdown by ..." made a stakeholder's browser fetch a remote image, and a campaign named
``<a href=...>`` became a clickable link in a Plotly legend."""

from __future__ import annotations

import json

from kpi_engine.display.html import page
from kpi_engine.ingest import import_file
from kpi_engine.kpis.spec import KpiViewSpec
from kpi_engine.sharing.links import create_share, open_share
from tests.pages.conftest import APP, engine_store, link_of, shown

IMAGE = "![x](http://evil.example/pixel.png)"
LINK = '<a href="http://evil.example">win</a>'


def _hostile_dataset(tmp_path, store):
    rows = [f"date,campaign,{IMAGE},spend,clicks,impressions"]
    for day in range(1, 15):
        rows.append(f"2026-03-{day:02d},{LINK},[click](http://evil.example),{day},{day},100")
        rows.append(f"2026-03-{day:02d},Brand,other,{day},{day},100")
    path = tmp_path / "hostile.csv"
    path.write_text("\n".join(rows) + "\n")
    return import_file(store, path, name="hostile").dataset


def _figures(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def _no_tags(figure: dict) -> None:
    text = json.dumps([figure["data"], figure["layout"].get("title")])
    assert "<a" not in text and "&lt;a href" in text


def test_headers_and_names_are_text_on_the_page_and_in_a_link(workspace, tmp_path):
    from streamlit.testing.v1 import AppTest

    first = AppTest.from_file(APP, default_timeout=60).run()
    store = engine_store(first)
    dataset = _hostile_dataset(tmp_path, store)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["ws"] = link_of(first)
    at.query_params["dataset"] = dataset.dataset_id
    at.run()
    next(s for s in at.selectbox if s.label == "Break down by").set_value(IMAGE).run()
    toggle = next(t for t in at.toggle if t.label.startswith("One line per"))
    assert "![x](http" not in toggle.label and "One line per \\!\\[x\\]" in toggle.label
    next(s for s in at.selectbox if s.label == "Break down by").set_value("campaign").run()
    next(t for t in at.toggle if t.label.startswith("One line per")).set_value(True).run()
    assert not at.exception, at.exception
    (trend,) = [f for f in _figures(at) if f["data"] and f["data"][0].get("mode")]
    _no_tags(trend)
    assert "&lt;a href" in " ".join(trace.get("name", "") for trace in trend["data"])

    spec = KpiViewSpec(
        dataset.dataset_id, ("spend", "clicks"), by=(IMAGE,), grain="day", lines_by="campaign"
    )
    share = create_share(store, spec)
    stakeholder = AppTest.from_file(APP, default_timeout=60)
    stakeholder.query_params["token"] = share["token"]
    stakeholder.run()
    stakeholder.switch_page("pages/shared.py").run()
    assert not stakeholder.exception, stakeholder.exception
    heading = next(h for h in stakeholder.subheader if "Breakdown by" in shown(h))
    assert shown(heading) == f"Breakdown by {IMAGE}"
    assert "![x](http" not in heading.value  # escaped: drawn as text, never fetched
    figures = _figures(stakeholder)
    assert figures and all("<a" not in json.dumps(f["data"]) for f in figures)
    report = page("hostile", "", _report_blocks(store, share["token"]))
    assert '<a href="http://evil' not in report  # HTML reads no Markdown: the rest is text
    assert "&lt;a href" in report


def _report_blocks(store, token: str):
    from kpi_engine.analyses import ANALYSES

    shared = open_share(store, token)
    return ANALYSES[shared.page].blocks(shared.result)
