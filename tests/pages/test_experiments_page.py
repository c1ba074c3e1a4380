"""Experiments page in AppTest."""

import re

from streamlit.testing.v1 import AppTest

from tests.pages.conftest import figure, open_app, shown


def _open(name: str) -> AppTest:
    return open_app(name, "pages/experiments.py")


def test_campaign_ab_test(workspace):
    at = _open("Sample A/B test (campaign)")
    verdicts = [m.value for m in at.markdown if "chance B is better" in m.value]
    assert len(verdicts) == 3  # the three default KPIs
    assert any("No split check" in c.value for c in at.caption)
    forest = figure(at, 0)
    assert forest["layout"]["title"]["text"].startswith("Relative lift")
    assert len(at.get("plotly_chart")) == 3  # forest, cumulative lift, daily values


def test_user_level_experiment_and_power(workspace):
    at = _open("Sample experiment (users)")
    assert "Split check passed" in at.success[0].value
    texts = " ".join(m.value for m in at.markdown)
    assert "treatment raises Conversion rate" in texts.replace("\\", "")
    assert "users per variant" in texts
    base = next(n for n in at.number_input if n.label.startswith("Baseline"))
    base.set_value(5.0).run()
    assert "**31,231** users per variant" in " ".join(m.value for m in at.markdown)


def test_dataset_without_variants_explains(workspace):
    at = _open("Sample campaigns")
    assert "no column detected as the variant" in at.info[0].value


def test_an_error_names_the_setting_by_its_label(workspace):
    at = _open("Sample A/B test (campaign)")
    split = next(t for t in at.text_input if t.label.startswith("Intended split"))
    split.set_value("50,30,20").run()
    assert shown(at.error[0]).startswith("Intended split has 3 shares for 2 variants (A, B)")
    assert "--split" not in shown(at.error[0])


def test_alpha_drives_every_verdict(workspace):
    at = _open("Sample A/B test (campaign)")
    next(n for n in at.number_input if n.label.startswith("Significance")).set_value(0.1).run()
    verdicts = [m.value for m in at.markdown if "chance B is better" in m.value]
    assert verdicts and all("90% CI" in v for v in verdicts)


def test_a_campaign_test_has_no_user_planner_and_a_picked_column_ends_the_banner(workspace):
    at = _open("Sample A/B test (campaign)")
    assert not any(s.label == "Power planner" for s in at.subheader)
    assert any("units are days" in c.value for c in at.caption)
    at = _open("Sample campaigns")
    assert "no column detected as the variant" in at.info[0].value
    next(s for s in at.selectbox if s.label == "Variant column").set_value("channel").run()
    assert not any("no column detected" in i.value for i in at.info)


def test_methods_capping_cuped_segments_and_non_inferiority(workspace):
    at = _open("Sample experiment (users)")
    assert not any("CUPED made" in m.value for m in at.markdown)
    next(s for s in at.selectbox if s.label == "CUPED").set_value("pre_revenue").run()
    next(s for s in at.selectbox if s.label == "Cap Revenue per user").set_value("p99").run()
    next(s for s in at.selectbox if s.label == "Segment by").set_value("device").run()
    ni = next(m for m in at.multiselect if m.label.startswith("Show not worse"))
    ni.set_value(["conversion_rate"]).run()
    assert not at.exception and not at.error
    texts = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert "CUPED made Revenue per user as precise as a test with" in texts
    assert "Revenue per user capped above at" in texts
    assert "than 2% (p" in texts  # the non-inferiority sentence with its margin
    assert any(h.value == "By segment" for h in at.subheader)
    segments = next(d for d in at.dataframe if "differs from the rest" in d.value.columns)
    assert set(segments.value["segment"]) == {"mobile", "desktop", "tablet"}


def test_no_variant_is_guessed_and_the_sample_test_is_one_click_away(workspace):
    at = _open("Sample campaigns")  # campaign, channel...: ordinary dimensions, no variants
    assert next(s for s in at.selectbox if s.label == "Variant column").value is None
    assert not any("chance" in m.value for m in at.markdown)  # no verdict until one is chosen
    assert not at.get("plotly_chart")
    next(b for b in at.button if b.label == "Open Sample A/B test (campaign)").click().run()
    assert next(s for s in at.sidebar.selectbox if s.label == "Dataset").value
    assert [m.value for m in at.markdown if "chance B is better" in m.value]


def test_the_planner_plans_for_the_settings_mde(workspace):
    at = _open("Sample experiment (users)")
    mde = next(n for n in at.number_input if n.label.startswith("Smallest lift worth"))
    mde.set_value(1.0).run()
    texts = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert "To detect a 1.0% lift" in texts
    assert re.search(r"takes about \d+ more days", texts)
