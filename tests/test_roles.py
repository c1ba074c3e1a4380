from kpi_engine.ingest.mapping import MappedColumn, map_columns, roles_of
from kpi_engine.ingest.parsing import ColumnParse
from kpi_engine.roles import normalise


def _mapped(columns: dict[str, str]) -> list[MappedColumn]:
    """Detection from headers alone: ``{column: kind}`` through the importer's own mapping."""
    return map_columns({col: ColumnParse(kind) for col, kind in columns.items()}, "generic")


def _roles(columns: dict[str, str]) -> dict[str, str]:
    return roles_of(_mapped(columns))


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
        "Campaign name": "text",
        "DAY": "date",
        "Amount spent (USD)": "number",
        "Impressions": "number",
        "Link clicks": "number",
        "Results": "number",
        "Cost per result": "number",
        "Purchases conversion value": "number",
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
        "ad_id": "number",
        "xyz_campaign_id": "number",
        "Impressions": "number",
        "Clicks": "number",
        "Spent": "number",
        "Total_Conversion": "number",
        "Approved_Conversion": "number",
    }
    found = {c.role: c for c in _mapped(cols) if c.role}
    assert found["spend"].name == "Spent" and found["spend"].confidence == 1.0
    assert found["conversions"].name == "Total_Conversion"
    assert found["campaign"].name == "xyz_campaign_id" and found["campaign"].confidence < 1


def test_user_level_experiment_file():
    cols = {"user_id": "text", "group": "text", "converted": "bool", "revenue": "number"}
    assert _roles(cols) == {
        "variant": "group",
        "unit": "user_id",
        "conversions": "converted",
        "revenue": "revenue",
    }


def test_metric_role_needs_numbers_or_text_never_a_date():
    assert "spend" not in _roles({"Cost": "date", "Clicks": "number"})


def test_normalise():
    assert normalise("\ufeffAmount Spent (EUR)") == "amount spent"
    assert normalise("Conv. value") == "conv value"


def test_currency_in_brackets_and_purchase_names():
    from kpi_engine.roles import header_currency

    roles = _roles({"Day": "date", "Spend [USD]": "number", "Purchase": "number"})
    assert roles == {"date": "Day", "spend": "Spend [USD]", "conversions": "Purchase"}
    assert [header_currency(h) for h in ("Spend [USD]", "Cost (€)", "Amount spent (eur)")] == [
        "USD",
        "EUR",
        "EUR",
    ]
    for header in ("Purchases", "Käufe", "Achats"):
        assert _roles({"Day": "date", header: "number"})["conversions"] == header


def test_typed_columns_read_as_stored():
    """Parquet and lake tables keep their types: one rule for both (dates, booleans, numbers;
    nested, binary and interval columns are text, never metrics)."""
    from kpi_engine.ingest.parsing import stored_parse

    kinds = {
        t: stored_parse(t).kind
        for t in (
            "BIGINT", "UINTEGER", "HUGEINT", "DECIMAL(18,2)", "DOUBLE", "DATE",
            "TIMESTAMP WITH TIME ZONE", "BOOLEAN", "VARCHAR", "BLOB", "INTERVAL",
            "INTEGER[]", "STRUCT(a INTEGER)", "ARRAY<INT>",
        )
    }  # fmt: skip
    assert [t for t, k in kinds.items() if k == "number"] == [
        "BIGINT", "UINTEGER", "HUGEINT", "DECIMAL(18,2)", "DOUBLE",
    ]  # fmt: skip
    assert kinds["DATE"] == kinds["TIMESTAMP WITH TIME ZONE"] == "date"
    assert kinds["BOOLEAN"] == "bool" and kinds["INTERVAL"] == kinds["INTEGER[]"] == "text"
