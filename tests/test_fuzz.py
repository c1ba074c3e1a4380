"""Generated hostile input: a file, a formula or a URL gets a result or a clear message.

Never a traceback, never a registry entry without its table, never text run as SQL.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kpi_engine.errors import KpiLabError
from kpi_engine.ingest import import_file
from kpi_engine.kpis.definition import make_kpi
from kpi_engine.kpis.query import KpiQuery, run_kpis
from kpi_engine.store import Store

pytestmark = pytest.mark.slow  # hundreds of generated inputs: make test runs it

HOSTILE = [
    "'; DROP TABLE datasets; --",
    '"); DELETE FROM datasets; --',
    '=HYPERLINK("http://x")',
    "Robert'); DROP TABLE meta;--",
    "${jndi:ldap://x}",
    "\u202eevil",
    "Total:",
    "Total: account",
    "NULL",
    "\\N",
    "--",
    "N/A",
    "",
    " ",
    "ä€😀",
    "a\nb",
    "x" * 300,
]
METRIC_HEADERS = [
    "Impressions",
    "Clicks",
    "Cost",
    "Spend",
    "Conversions",
    "Revenue",
    "Conv. value",
    "CTR",
    "converted",
    "Cost (EUR)",
    "Amount spent (USD)",
]

numbers = st.one_of(
    st.integers(-(10**6), 10**9).map(str),
    st.floats(-1e7, 1e7, allow_nan=False).map(lambda x: f"{x:.2f}"),
    st.integers(0, 10**9).map(lambda n: f"{n:,}"),  # 1,234,567
    st.integers(0, 10**7).map(lambda n: f"{n / 100:,.2f}".replace(",", " ").replace(".", ",")),
    st.integers(0, 10**6).map(lambda n: f"${n:,}.50"),
    st.integers(0, 10**6).map(lambda n: f"€ {n}"),
    st.integers(0, 1000).map(lambda n: f"{n / 10}%"),
    st.integers(0, 1000).map(lambda n: f"({n}.25)"),
    st.sampled_from(["-0", "0x1A", "1.2.3", "1e5"]),
)
dates = (
    st.dates().map(str)
    | st.dates().map(lambda d: d.strftime("%d/%m/%Y"))
    | st.dates().map(lambda d: d.strftime("%b %d, %Y"))
)
extremes = st.sampled_from(["1e308", "1e999", "inf", "-inf", "NaN", "9" * 40])
cells = st.one_of(numbers, dates, st.sampled_from(HOSTILE), extremes, st.text(max_size=20))


@st.composite
def columns(draw) -> tuple[str, st.SearchStrategy[str]]:
    """A header and the strategy for its cells: a date, text or metric column, each mostly
    well-formed, sometimes with hostile or missing cells."""
    kind = draw(st.sampled_from(["date", "text", "metric", "metric", "metric", "junk"]))
    header = {
        "date": st.sampled_from(["Day", "Date", "date", "Week"]),
        "text": st.sampled_from(["Campaign", "Channel", "Ad group", "variant", "user_id"]),
        "metric": st.sampled_from(METRIC_HEADERS),
        "junk": st.sampled_from(HOSTILE) | st.text(max_size=12),
    }[kind]
    good = {"date": dates, "text": st.sampled_from(["A", "B", "Brand - Search"]), "metric": numbers}
    cell = good.get(kind, cells)
    noisy = st.one_of(cell, cell, cell, cell, cell, cell, cells)
    return draw(header), noisy


@st.composite
def csv_files(draw) -> tuple[bytes, str]:
    metric = draw(st.tuples(st.sampled_from(METRIC_HEADERS), st.just(numbers)))
    others = draw(st.lists(columns(), min_size=1, max_size=6))
    unique = {header.strip().lower(): (header, cell) for header, cell in [*others, metric]}
    cols = draw(st.permutations(list(unique.values())))
    nrows = draw(st.integers(0, 25) | st.integers(3, 25))
    rows = []
    for _ in range(nrows):
        width = len(cols) if draw(st.integers(0, 9)) else draw(st.integers(0, len(cols) + 2))
        rows.append([draw(cols[i % len(cols)][1]) for i in range(width)])  # ragged, sometimes
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator="\n")
    for line in draw(st.lists(st.sampled_from(HOSTILE[:6] + ["Report", "All time"]), max_size=2)):
        out.write(line.replace("\n", " ") + "\n")  # a preamble
    writer.writerow([header for header, _ in cols])
    writer.writerows(rows)
    if draw(st.booleans()):
        writer.writerow(["Total:"] + ["--"] * (len(cols) - 1))
    text = out.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 19)) == 0:
        data = data[: draw(st.integers(0, len(data)))]  # cut short
    return data, draw(st.sampled_from(["report.csv", "report.txt", "r.tsv", "x"]))


def _files(store: Store) -> set[str]:
    """The Parquet files of rows in the store's data folder."""
    root = Path(store.data.root)
    return {str(p) for p in root.rglob("*.parquet") if ".tmp" not in p.relative_to(root).parts}


@pytest.fixture(scope="module")
def fuzz_store():
    store = Store(":memory:")
    yield store
    store.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_files())
def test_any_file_becomes_a_dataset_or_a_clear_message(fuzz_store, tmp_path_factory, case):
    data, name = case
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_bytes(data)
    before = {d.dataset_id for d in fuzz_store.datasets()}
    try:
        result = import_file(fuzz_store, path)
    except KpiLabError as exc:
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message
        assert {d.dataset_id for d in fuzz_store.datasets()} == before  # nothing half-written
        event("refused")
    else:
        event("imported")
        dataset = result.dataset
        rows = fuzz_store.query(dataset, f"SELECT count(*) AS n FROM {dataset.table}")["n"][0]
        assert rows == dataset.rows > 0
    registered = {d.location for d in fuzz_store.datasets()}
    assert _files(fuzz_store) == registered  # every entry has its file, no stray files


HOSTILE_FRAGMENTS = [
    ";",
    "'",
    '"',
    "--",
    "/*",
    "DROP TABLE datasets",
    "read_csv('/etc/passwd')",
    "UNION SELECT 1",
    "\x00",
    "é",
    ")",
    "(",
    "sum(",
    "**",
    "1e400",
    '"a""b"',
]
atoms = st.one_of(
    st.builds(
        "{}({})".format,
        st.sampled_from(["sum", "count", "min", "max", "avg", "SUM"]),
        st.sampled_from(
            [
                "spend",
                "clicks",
                "revenue",
                "impressions",
                '"Cost"',
                '"Day"',
                "conversions",
                "nope",
                '"a""b"',
            ]
        ),
    ),
    st.sampled_from(["0", "1", "2.5", ".5", "100"]),
)
valid_formulas = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.builds("{} {} {}".format, inner, st.sampled_from(["+", "-", "*", "/"]), inner),
        inner.map("({})".format),
        inner.map("-{}".format),
    ),
    max_leaves=8,
)


@st.composite
def formulas(draw) -> str:
    text = draw(valid_formulas)
    for _ in range(draw(st.integers(0, 2))):  # damage it
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(HOSTILE_FRAGMENTS)) + text[at:]
    return text


@pytest.fixture(scope="module")
def formula_store(tmp_path_factory):
    store = Store(":memory:")
    path = tmp_path_factory.mktemp("formula") / "c.csv"
    path.write_text(
        "Day,Campaign,Clicks,Impressions,Cost,Revenue\n"
        "2026-01-01,A,10,100,5,20\n2026-01-02,B,0,50,0,0\n"
    )
    dataset = import_file(store, path).dataset
    yield store, dataset
    store.close()


@settings(max_examples=300, deadline=None)
@given(formulas() | st.text(max_size=60))
def test_any_formula_is_a_kpi_or_a_clear_message(formula_store, formula):
    store, dataset = formula_store
    try:
        kpi = make_kpi("custom_fuzz", formula)
        table = run_kpis(store, dataset, KpiQuery(("custom_fuzz",), ("Campaign",), custom=(kpi,)))
    except KpiLabError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        event("refused")
    else:
        event("computed")
        assert list(table["Campaign"]) == ["A", "B"]
    assert [d.dataset_id for d in store.datasets()] == [dataset.dataset_id]
    assert _files(store) == {dataset.location}
