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
