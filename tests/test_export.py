import io

import pandas as pd

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
