"""Budget page in AppTest."""

from streamlit.testing.v1 import AppTest

from tests.pages.conftest import link_of, open_app, shown


def _open(name: str) -> AppTest:
    return open_app(name, "pages/budget.py")


def _plan_table(at: AppTest):
    return next(d.value for d in at.dataframe if "why" in d.value.columns)


def test_default_is_the_same_budget_split_better(workspace):
    at = _open("Sample campaigns")
    metrics = {m.label: m for m in at.metric}
    assert metrics["Spend a day"].delta in ("0.00", "-0.00")
    assert metrics["Revenue a day"].delta.startswith(("1", "2", "3", "4", "5", "6", "7", "8", "9"))
    table = _plan_table(at)
    assert {"campaign", "current", "suggested", "why", "tier"} <= set(table.columns)
    assert table["why"].str.match(r"^(increase|decrease|keep|hold)").all()
    assert len(at.get("plotly_chart")) == 2
    assert any("Move" in m.value for m in at.markdown)


def test_infeasible_budget_explains_the_way_out(workspace):
    at = _open("Sample campaigns")
    box = next(n for n in at.number_input if n.label == "Daily budget")
    box.set_value(100.0).run()
    assert "scale every minimum down" in shown(at.error[0])


def test_dataset_without_spend_explains(workspace):
    at = _open("Sample experiment (users)")
    assert "need daily rows per campaign" in at.info[0].value


def test_a_dataset_without_revenue_gets_a_conversions_plan(workspace, tmp_path):
    from kpi_engine.ingest import import_file
    from tests.pages.conftest import engine_store

    rows = ["date,campaign,spend,purchases"]
    for d in range(1, 29):
        for name, (s, p) in (("A", (100 + 3 * d, 5 + d % 3)), ("B", (80 + 2 * (d % 5), 2))):
            rows.append(f"2026-02-{d:02d},{name},{s},{p}")
    path = tmp_path / "purchases.csv"
    path.write_text("\n".join(rows) + "\n")
    first = open_app()
    import_file(engine_store(first), path)
    at = open_app("purchases", "pages/budget.py", token=link_of(first))
    assert "maximises conversions" in at.info[0].value
    assert "Conversions a day" in {m.label for m in at.metric}
    assert at.radio[0].options == ["conversions"]
    table = _plan_table(at)  # CPA everywhere: no ROAS of 0, no marginal ROAS of "None"
    assert "ROAS" not in " ".join(table.columns) and "marginal CPA now" in table.columns
    assert table["marginal CPA now"].notna().all()
    ranking = next(d.value for d in at.dataframe if "spend a day" in d.value.columns)
    assert "ROAS" not in ranking.columns and list(ranking["CPA"]) == sorted(ranking["CPA"])
    assert "Ranked by CPA" in [h.value for h in at.subheader]


def test_one_campaign_gets_one_sentence(workspace, tmp_path):
    from kpi_engine.ingest import import_file
    from tests.pages.conftest import engine_store

    rows = ["date,campaign,spend,conversions,revenue"]
    rows += [
        f"2026-02-{d:02d},Solo,{100 + 5 * (d % 4)},{4 + d % 3},{200 + 9 * d}" for d in range(1, 29)
    ]
    path = tmp_path / "solo.csv"
    path.write_text("\n".join(rows) + "\n")
    first = open_app()
    import_file(engine_store(first), path)
    at = open_app("solo", "pages/budget.py", token=link_of(first))
    assert not at.exception
    said = [i.value for i in at.info]
    assert any("nothing to reallocate" in t for t in said)
    assert not at.get("plotly_chart") and not at.metric  # no chart, no band, no spend test
    assert not any("spend test" in m.value.lower() for m in at.markdown)


def test_a_plan_for_the_coming_weeks_shows_its_weeks_and_carryover(workspace):
    at = _open("Sample campaigns")
    at.selectbox[0].set_value("period").run()
    assert not at.exception
    plan = next(m.value for m in at.markdown if m.value.startswith("From "))
    assert "counting the carryover" in plan
    weeks = next(d.value for d in at.dataframe if "week" in d.value.columns)
    assert len(weeks) == 4  # 28 days
    assert "half the effect within" in _plan_table(at).columns


def test_a_goal_by_a_date_says_what_to_spend(workspace):
    from datetime import date

    at = _open("Sample campaigns")
    at.selectbox[0].set_value("goal").run()
    assert "Pick the date" in at.info[0].value
    at.date_input[0].set_value(date(2026, 9, 30)).run()
    assert not at.exception
    said = [m.value for m in (*at.success, *at.warning, *at.markdown)]
    assert any("by 2026\\-09\\-30" in s for s in said), said
    assert not any(s.startswith("Only ") for s in said), said  # a budget cut is not doubt


def test_a_lift_test_typed_in_recalibrates_its_campaign(workspace):
    at = _open("Sample campaigns")
    name = _plan_table(at)["campaign"].iloc[0]
    assert any("standard error" in d.value.columns for d in at.dataframe)  # the editor
    key = next(k for k in at.session_state.keys() if str(k).startswith("blift"))
    at.session_state[key] = {
        "edited_rows": {},
        "added_rows": [
            {
                "campaign": name,
                "spend change a day": 100.0,
                "incremental a day": 10.0,
                "standard error": 2.0,
            }
        ],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception
    flags = _plan_table(at).set_index("campaign").loc[name, "flags"]
    assert "lift-calibrated" in flags


def test_an_unsure_split_says_so_first_and_proposes_a_spend_test(workspace, tmp_path):
    from kpi_engine.ingest import import_file
    from tests.budget_truth import TrueCampaign, simulate, write_csv
    from tests.pages.conftest import engine_store

    alike = [TrueCampaign(name, 30, 0.55, 0.0, 300) for name in ("A", "B", "C", "D")]
    path = write_csv(tmp_path / "alike.csv", simulate(alike, 60, 0.3, seed=2)[0])
    first = open_app()
    import_file(engine_store(first), path)
    at = open_app("alike", "pages/budget.py", token=link_of(first))
    assert not at.exception
    assert at.warning[0].value.startswith("Only ")  # before everything else
    said = " ".join(m.value for m in (*at.markdown, *at.subheader, *at.header))
    assert "on alternate days" not in said  # the test's simulations run when asked
    dataset_id = at.sidebar.selectbox(key="dataset").value
    at.session_state[f"btest_{dataset_id}"] = True
    at.run()
    said = " ".join(m.value for m in (*at.markdown, *at.subheader, *at.header))
    assert "on alternate days" in said
