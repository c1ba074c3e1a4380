import duckdb
import pytest

from kpi_engine.errors import KpiLabError
from kpi_engine.identifiers import quote_identifier
from kpi_engine.kpis import formula as fx


def _sql(text: str) -> str:
    return fx.to_sql(fx.parse(text), quote_identifier)


def test_precedence_and_columns():
    node = fx.parse("sum(spend) / sum(impressions) * 1000 - -max(clicks)")
    assert fx.columns(node) == ["spend", "impressions", "clicks"]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (spend DOUBLE, impressions BIGINT, clicks BIGINT)")
    con.execute("INSERT INTO t VALUES (10, 2000, 3), (20, 4000, 7)")
    (value,) = con.execute(
        f"SELECT {_sql('sum(spend) / sum(impressions) * 1000 - -max(clicks)')} FROM t"
    ).fetchone()
    assert value == pytest.approx(30 / 6000 * 1000 + 7)


def test_division_by_zero_is_null_not_inf():
    con = duckdb.connect()
    con.execute("CREATE TABLE t (spend DOUBLE, conversions BIGINT)")
    con.execute("INSERT INTO t VALUES (10, 0)")
    assert con.execute(f"SELECT {_sql('sum(spend) / sum(conversions)')} FROM t").fetchone() == (
        None,
    )


def test_quoted_column_names_are_quoted_in_sql():
    node = fx.parse('sum("Conv. value") / count("a""b")')
    assert fx.columns(node) == ["Conv. value", 'a"b']
    assert '"a""b"' in _sql('sum("Conv. value") / count("a""b")')


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("sum(clicks", "expected ')', found the end at position 11"),
        ("sum(clicks) +", "expected a number"),
        ("sum(clicks); DROP TABLE datasets", "unexpected character ';' at position 12"),
        ("avg(clicks)", "'avg' is not an aggregate: use sum, count, min, max"),
        ("sum(clicks) sum(spend)", "unexpected 'sum' at position 13"),
        ("", "formula is empty"),
        ("sum(1)", "expected name, found '1'"),
        ("x" * 600, "longer than 500"),
    ],
)
def test_bad_formulas_point_at_the_problem(text, fragment):
    with pytest.raises(KpiLabError, match=None) as info:
        fx.parse(text)
    assert fragment in str(info.value)


def test_a_bare_column_means_its_sum():
    assert fx.parse("(revenue - spend) / clicks") == fx.parse(
        "(sum(revenue) - sum(spend)) / sum(clicks)"
    )
    assert fx.parse('"Conv. value" / 2') == fx.parse('sum("Conv. value") / 2')


def test_quote_identifier_escapes_quotes():
    assert quote_identifier('x"; DROP TABLE t; --') == '"x""; DROP TABLE t; --"'
