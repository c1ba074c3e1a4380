import io

import pandas as pd
import pytest

from kpi_engine.export import neutralise, to_csv_bytes


def test_formulas_are_neutralised_numbers_are_not():
    frame = pd.DataFrame(
        {
            "campaign": ['=HYPERLINK("http://evil")', "+1+2", "-cmd", "@SUM(A1)", "\tx", "Brand"],
            "spend": [-5.0, 1.0, 2.0, 3.0, 4.0, 5.0],
            "=bad header": [1, 2, 3, 4, 5, 6],
        }
    )
    text = to_csv_bytes(frame).decode("utf-8-sig")
    back = pd.read_csv(io.StringIO(text))
    assert list(back.columns) == ["campaign", "spend", "'=bad header"]
    assert list(back["campaign"]) == [
        '\'=HYPERLINK("http://evil")',
        "'+1+2",
        "'-cmd",
        "'@SUM(A1)",
        "'\tx",
        "Brand",
    ]
    assert list(back["spend"]) == [-5.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_neutralise_leaves_other_values():
    assert neutralise("Brand") == "Brand" and neutralise(3) == 3 and neutralise(None) is None


def _cells(raw: str, delimiter: str) -> list[str]:
    """Every cell a spreadsheet could make of ``raw``: it may treat a bare CR as a row end
    and, in a ";" locale, split at ";" outside quotes."""
    import csv

    rows = raw.replace("\r\n", "\n").replace("\r", "\n")
    return [cell for row in csv.reader(io.StringIO(rows), delimiter=delimiter) for cell in row]


def test_no_formula_starts_after_a_line_break_a_tab_or_a_semicolon():
    """Issue 24: a bare CR inside a cell was not quoted, so a formula began the next row; a
    ";" inside a value made a formula cell for ";" locales."""
    from kpi_engine.export import to_excel_bytes

    hostile = [
        "Brand\r=cmd|' /C calc'!A0",
        "a\n+1+2",
        "x\t@SUM(A1)",
        'name;=HYPERLINK("http://evil")',
        "ok; -2+3",
        "  =1+1",
    ]
    frame = pd.DataFrame({"campaign": hostile, "spend": [1.0] * len(hostile)})
    raw = to_csv_bytes(frame).decode("utf-8-sig")
    for delimiter in (",", ";"):
        for cell in _cells(raw, delimiter):
            assert not cell.strip(' "').startswith(("=", "+", "@")), (delimiter, cell)
            assert not cell.strip(' "').startswith("-2"), (delimiter, cell)
    back = pd.read_csv(io.StringIO(raw))
    assert back["campaign"][3] == 'name;\'=HYPERLINK("http://evil")'
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(to_excel_bytes(frame))).active
    values = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert all(v.startswith("'") or "'" in v for v in values)
    assert all(row[0].data_type == "s" for row in sheet.iter_rows(min_row=2))


def _breakdown(store):
    """The KPIs view's breakdown table by channel on the sample campaigns, as drawn."""
    from kpi_engine.display.blocks import Section, Table
    from kpi_engine.kpis.analysis import run_kpi_view
    from kpi_engine.kpis.display import blocks
    from kpi_engine.kpis.spec import KpiViewSpec
    from kpi_engine.samples import seed_samples

    seed_samples(store)
    dataset = store.dataset("Sample campaigns")
    spec = KpiViewSpec(dataset.dataset_id, ("spend", "ctr", "roas"), by=("channel",))
    section = next(b for b in blocks(run_kpi_view(store, dataset, spec)) if b.id == "breakdown")
    assert isinstance(section, Section)
    return next(b for b in section.blocks if isinstance(b, Table))


def test_a_ratio_kpis_csv_total_is_a_ratio_of_sums_with_formatted_columns(store):
    from kpi_engine.samples import SAMPLE_DIR

    table = _breakdown(store)
    frame = table.with_totals()
    text = to_csv_bytes(frame, table.units, table.currency).decode("utf-8-sig")
    back = pd.read_csv(io.StringIO(text))
    raw = pd.read_csv(SAMPLE_DIR / "campaigns.csv")
    total = back[back["channel"] == "Total"].iloc[0]
    assert total["CTR"] == pytest.approx(raw["clicks"].sum() / raw["impressions"].sum(), rel=1e-12)
    assert total["CTR"] != back[back["channel"] != "Total"]["CTR"].mean()
    assert total["ROAS"] == pytest.approx(raw["revenue"].sum() / raw["spend"].sum(), rel=1e-12)
    assert total["CTR (formatted)"] == f"{total['CTR']:.2%}"
    assert list(back.columns[:3]) == ["channel", "Spend", "Spend (formatted)"]


def test_the_excel_file_carries_number_formats_and_a_bold_totals_row(store):
    from openpyxl import load_workbook

    from kpi_engine.export import to_excel_bytes

    table = _breakdown(store)
    frame = table.with_totals()
    data = to_excel_bytes(frame, units=table.units, currency=table.currency, totals=True)
    sheet = load_workbook(io.BytesIO(data)).active
    header = [c.value for c in sheet[1]]
    last = len(frame) + 1
    assert sheet.cell(last, 1).value == "Total" and sheet.cell(last, 1).font.bold
    ctr, spend = header.index("CTR") + 1, header.index("Spend") + 1
    assert sheet.cell(2, ctr).number_format == "0.00%"
    assert sheet.cell(2, spend).number_format == "#,##0.00"  # the sample has no currency
    assert isinstance(sheet.cell(last, ctr).value, float)  # numbers stay numbers


def test_money_formats_carry_the_currency():
    from kpi_engine.export import excel_format

    assert excel_format("currency", "EUR") == '"€"#,##0.00'
    assert excel_format("currency", "CHF") == '#,##0.00 "CHF"'
    assert excel_format("count") == "#,##0" and excel_format("text") is None
