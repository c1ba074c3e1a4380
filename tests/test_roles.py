from kpi_engine.roles import detect_roles, normalise


def _roles(columns: dict[str, str]) -> dict[str, str]:
    return {role: c.column for role, c in detect_roles(columns).items()}


def test_google_ads_headers():
    numbers = [
        "Budget",
        "Avg. CPM",
        "Impr.",
        "Interactions",
        "Avg. cost",
        "Cost",
        "Conv. (Platform Comparable)",
        "Cost / Conv. (Platform Comparable)",
        "Conv. rate",
        "Conversions",
        "Cost / conv.",
        "Conv. value",
    ]
    cols = {"Campaign status": "text", "Campaign": "text", "Currency code": "text", "Day": "date"}
    cols.update({h: "number" for h in numbers})
    assert _roles(cols) == {
        "date": "Day",
        "campaign": "Campaign",
        "currency": "Currency code",
        "impressions": "Impr.",
        "conversions": "Conversions",
        "spend": "Cost",
        "revenue": "Conv. value",
    }


def test_meta_headers_with_currency_and_case():
    cols = {
        "Campaign name": "VARCHAR",
        "DAY": "DATE",
        "Amount spent (USD)": "DOUBLE",
        "Impressions": "BIGINT",
        "Link clicks": "BIGINT",
        "Results": "BIGINT",
        "Cost per result": "DOUBLE",
        "Purchases conversion value": "DOUBLE",
    }
    assert _roles(cols) == {
        "date": "DAY",
        "campaign": "Campaign name",
        "impressions": "Impressions",
        "clicks": "Link clicks",
        "conversions": "Results",
        "spend": "Amount spent (USD)",
        "revenue": "Purchases conversion value",
    }


def test_facebook_kaggle_headers_and_confidence():
    cols = {
        "ad_id": "BIGINT",
        "xyz_campaign_id": "BIGINT",
        "Impressions": "BIGINT",
        "Clicks": "BIGINT",
        "Spent": "DOUBLE",
        "Total_Conversion": "BIGINT",
        "Approved_Conversion": "BIGINT",
    }
    found = detect_roles(cols)
    assert found["spend"].column == "Spent" and found["spend"].confidence == 1.0
    assert found["conversions"].column == "Total_Conversion"
    assert found["campaign"].column == "xyz_campaign_id" and found["campaign"].confidence < 1


def test_user_level_experiment_file():
    cols = {"user_id": "VARCHAR", "group": "VARCHAR", "converted": "BOOLEAN", "revenue": "DOUBLE"}
    assert _roles(cols) == {
        "variant": "group",
        "unit": "user_id",
        "conversions": "converted",
        "revenue": "revenue",
    }


def test_metric_role_needs_numbers_or_text_never_a_date():
    assert "spend" not in _roles({"Cost": "DATE", "Clicks": "BIGINT"})


def test_normalise():
    assert normalise("\ufeffAmount Spent (EUR)") == "amount spent"
    assert normalise("Conv. value") == "conv value"
