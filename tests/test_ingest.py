import gzip

import pytest

from kpi_engine.errors import KpiLabError
from kpi_engine.ingest import import_file
from tests.conftest import FIXTURES, nothing_stored
from tests.conftest import rows as stored_rows


def test_import_detects_roles_and_types(store):
    result = import_file(store, FIXTURES / "tiny_campaigns.csv")
    assert result.dataset.rows == 5
    assert result.dataset.name == "tiny_campaigns"
    assert result.to_dict()["columns"] == {
        "Day": "date",
        "Campaign": "campaign",
        "Channel": "channel",
        "Impr.": "impressions",
        "Clicks": "clicks",
        "Cost": "spend",
        "Conversions": "conversions",
        "Conv. value": "revenue",
    }
    assert [w["code"] for w in result.warnings] == ["date_gaps"]  # 03-03 .. 03-08 are missing


def test_numbers_exported_as_text_are_cleaned(store, write_csv):
    path = write_csv(
        "Day,Campaign,Impressions,Cost\n"
        '2026-01-01,A,"25,881",$1.50\n'
        '2026-01-02,A, --,"$1,234.50"\n'
        "2026-01-03,A,N/A,€ 3\n"
    )
    result = import_file(store, path)
    table = result.dataset.table
    found = stored_rows(
        store, result.dataset, f"SELECT Impressions, Cost FROM {table} ORDER BY Day"
    )
    assert found == [(25881.0, 1.5), (None, 1234.5), (None, 3.0)]
    assert {"code": "missing_impressions", "count": 2}.items() <= next(
        w for w in result.warnings if w["code"] == "missing_impressions"
    ).items()


def test_booleans_count_as_conversions(store, write_csv):
    path = write_csv("user_id,group,converted\nu1,A,TRUE\nu2,A,FALSE\nu3,B,true\n")
    result = import_file(store, path)
    assert stored_rows(
        store, result.dataset, f"SELECT sum(converted) FROM {result.dataset.table}"
    ) == [(2,)]


def test_semicolon_file_the_sniffer_misreads(store, write_csv):
    # one ragged row makes the sniffer settle on a single column; we try the usual delimiters
    path = write_csv(
        "Day;Campaign;Clicks;Cost\n2026-01-01;A;3;1\n2026-01-02;B;4;2;extra\n2026-01-03;C;5;3\n"
    )
    try:
        result = import_file(store, path)
    except KpiLabError as exc:  # a clear refusal is acceptable; a traceback is not
        assert "same columns as the header" in str(exc)
        assert nothing_stored(store)
    else:
        assert result.dataset.roles["clicks"] == "Clicks"


def test_tab_separated_and_gzip(store, tmp_path):
    text = "date\tcampaign\tclicks\tspend\n2026-01-01\tA\t3\t1.5\n2026-01-02\tB\t4\t2.5\n"
    path = tmp_path / "report.tsv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    result = import_file(store, path)
    assert result.dataset.rows == 2 and result.dataset.name == "report"
    assert result.dataset.roles["spend"] == "spend"


def test_a_type_that_breaks_after_the_sniffer_sample_is_reread(store, tmp_path):
    lines = (
        ["date,campaign,clicks"]
        + [f"2026-01-01,A,{i}" for i in range(30_000)]
        + ["2026-01-02,B,1.5"]
    )
    path = tmp_path / "long.csv"
    path.write_text("\n".join(lines) + "\n")
    result = import_file(store, path)
    (total,) = stored_rows(
        store, result.dataset, f"SELECT sum(clicks) FROM {result.dataset.table}"
    )[0]
    assert result.dataset.rows == 30_001
    assert total == pytest.approx(sum(range(30_000)) + 1.5)


def test_quality_warnings(store, write_csv):
    path = write_csv(
        "date,campaign,impressions,clicks,spend\n"
        "2026-01-01,A,10,20,-5\n2026-01-02,A,100,5,3\nnot a date,A,1,1,1\n"
    )
    codes = {w["code"]: w["count"] for w in import_file(store, path).warnings}
    assert codes == {
        "negative_spend": 1,
        "clicks_over_impressions": 1,
        "missing_date": 1,
        "unparsed_values": 1,
    }


def test_a_file_whose_metrics_are_all_zero_is_flagged(store, write_csv):
    """A paused account's export imported as a real period of nothing, without a word."""
    zero = write_csv(
        "date,campaign,impressions,clicks,spend\n2026-01-01,A,0,0,0\n2026-01-02,A,0,,0\n"
    )
    (found,) = [w for w in import_file(store, zero).warnings if w["code"] == "all_zero"]
    assert found["count"] == 2 and "Export it again" in found["message"]
    some = write_csv(
        "date,campaign,impressions,clicks,spend\n2026-01-01,A,0,0,0\n2026-01-02,A,0,0,1\n", "b.csv"
    )
    assert "all_zero" not in {w["code"] for w in import_file(store, some).warnings}


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty"),
        (b"date,campaign,clicks\n", "no data rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text CSV"),
        (b"PK\x03\x04\x14\x00\x06\x00", "damaged zip or Excel file"),
        (b"date,campaign,notes\n2026-01-01,A,hello\n", "no metric column"),
        (b"just one column\nvalue\n", "single column"),
        (b"a,b\x00,c\n1,2,3\n", "not a text CSV"),
    ],
)
def test_bad_files_get_a_message_and_leave_nothing(store, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(KpiLabError, match=message):
        import_file(store, path)
    assert nothing_stored(store)


def test_missing_file(store, tmp_path):
    with pytest.raises(KpiLabError, match="no such file"):
        import_file(store, tmp_path / "absent.csv")


def test_hostile_names_are_data_not_sql(store, write_csv):
    path = write_csv(
        'date,"campaign""; DROP TABLE datasets; --",clicks\n'
        '2026-01-01,"<script>alert(1)</script>",3\n'
    )
    result = import_file(store, path, name="x'); DROP TABLE datasets; --")
    assert store.dataset(result.dataset.dataset_id).name == "x'); DROP TABLE datasets; --"
    preview = store.preview(result.dataset.dataset_id)
    assert preview.iloc[0, 1] == "<script>alert(1)</script>"


def test_duplicate_rows_are_counted_exactly(store, write_csv):
    rows = ["2026-01-01,A,10,1.5", "2026-01-02,A,11,1.5", "2026-01-03,B,12,2"]
    copies = [rows[0]] * 2 + [rows[2]]  # rows[0] three times, rows[2] twice: 3 extra copies
    result = import_file(store, write_csv("Day,Campaign,Clicks,Cost\n" + "\n".join(rows + copies)))
    found = next(w for w in result.warnings if w["code"] == "duplicate_rows")
    assert found["count"] == 3
    assert result.dataset.rows == 6


def test_date_times_are_dates_and_keep_their_time(store, write_csv):
    """A user-level log with microsecond timestamps (found on a real 294k-row A/B file:
    setting the timestamp's role to date crashed the import)."""
    path = write_csv(
        "user_id,timestamp,group,converted\n"
        "u1,2017-01-21 22:11:48.556739,control,0\n"
        "u2,2017-01-12 08:01:45.159739,treatment,1\n"
        "u3,2017-01-11 16:55:06.154213,control,1\n"
        "u4,2017-01-08 18:28:03.143765,treatment,0\n"
    )
    dataset = import_file(store, path).dataset
    assert dataset.roles["date"] == "timestamp"
    assert {c.name: c.type for c in dataset.columns}["timestamp time"] == "TIMESTAMP"
    ((day, moment),) = stored_rows(
        store,
        dataset,
        f'SELECT "timestamp", "timestamp time" FROM {dataset.table} WHERE user_id = \'u1\'',
    )
    assert str(day.date()) == "2017-01-21" and str(moment) == "2017-01-21 22:11:48.556739"


@pytest.mark.parametrize(
    "mapping, message",
    [
        ({"group": "date"}, "column 'group' cannot be the date: its values ('control'"),
        ({"group": "spend"}, "column 'group' cannot be the spend: its values ('control'"),
        ({"user_id": "clicks"}, "are not numbers"),
    ],
)
def test_no_role_a_user_picks_crashes_the_import(store, write_csv, mapping, message):
    path = write_csv("user_id,day,group,converted\nu1,2026-01-01,control,0\nu2,2026-01-02,B,1\n")
    from kpi_engine.ingest import ImportOptions

    with pytest.raises(KpiLabError, match=message.replace("(", r"\(")):
        import_file(store, path, options=ImportOptions(mapping=mapping))
    assert nothing_stored(store)


def test_a_file_with_a_bom_cut_inside_a_character_is_read_or_refused_clearly(store, tmp_path):
    """Found by test_fuzz in CI: with a byte-order mark, the sample cut inside a character
    raised UnicodeDecodeError (the error's position counted from after the mark)."""
    path = tmp_path / "report.csv"
    path.write_bytes(
        b"\xef\xbb\xbfDate,Campaign,Spend,Clicks\n2026-01-01,Brand,1.50,3\n"
        b"2026-01-02,Brand,2.50,4\n\xc2\x80\xc2\x80\xc2"
    )
    try:
        dataset = import_file(store, path).dataset
    except KpiLabError as exc:
        assert "\n" not in str(exc)
        assert nothing_stored(store)
    else:
        assert dataset.rows >= 2


def test_counting_copies_that_fails_on_the_engine_does_not_stop_the_report(store, write_csv):
    """Attach counts an engine's row checks, then its exact copies (a shuffle of the whole
    table); a copy count past the engine's deadline is reported as not counted."""
    from kpi_engine.ingest.quality import counted_warnings

    path = write_csv("Day,Campaign,Cost\n2026-01-01,A,-3\n2026-01-01,A,-3\n2026-01-02,B,4\n")
    dataset = import_file(store, path).dataset

    def engine(sql: str):
        if "DISTINCT" in sql:
            raise KpiLabError("Spark did not answer within 120 s (KPILAB_SPARK_TIMEOUT)")
        return store.query(dataset, sql)

    found = {w["code"]: w for w in counted_warnings(dataset, engine)}
    assert found["negative_spend"]["count"] == 2
    assert "within 120 s" in found["duplicates_not_counted"]["message"]
    exact = {
        w["code"]: w["count"]
        for w in counted_warnings(dataset, lambda sql: store.query(dataset, sql))
    }
    assert exact["duplicate_rows"] == 1 and exact["negative_spend"] == 2
