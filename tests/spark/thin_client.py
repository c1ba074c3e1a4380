"""A process with only Spark Connect's thin client (requirements-spark-connect.txt: the
``pyspark-client`` package, no JVM) attaches a lake table and answers ``kpis`` over a real
Connect server, as the DuckDB path does. Java is kept off its PATH, so any attempt to start
a JVM would fail. ``make test`` installs the client beside the test venv
(.venv/thin-client). Run by test_clusters, which holds the Connect server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kpi_engine.kpis.query import KpiQuery, run_kpis

ROOT = Path(__file__).resolve().parents[2]
THIN = Path(sys.prefix) / "thin-client"


def _thin(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=180
    )


def thin_client_answers(lake, url: str, tmp_path: Path) -> None:
    if not (THIN / "pyspark").is_dir():
        message = f"Spark Connect's thin client is not installed at {THIN} (make test does it)"
        if os.environ.get("KPILAB_REQUIRE_SPARK"):
            pytest.fail(message)
        pytest.skip(message)
    tmp_path = tmp_path / "thin"
    tmp_path.mkdir()
    empty = tmp_path / "no-java"
    empty.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": f"{THIN}{os.pathsep}{ROOT}",
        "PATH": str(empty),
        "JAVA_HOME": str(empty),
        "SPARK_HOME": str(empty),
        "KPILAB_SPARK_MASTER": url,
        "KPILAB_ATTACH_ROOTS": str(lake.folder),
        "KPILAB_DB": str(tmp_path / "ws.sqlite"),
    }
    probe = _thin(
        env,
        "-c",
        "import pyspark, pyspark.sql.utils as u; print(u.is_remote_only(), pyspark.__file__)",
    )
    assert probe.stdout.startswith(f"True {THIN}"), probe.stderr
    parquet = lake.folder / "campaigns.parquet"
    attached = _thin(env, "-m", "kpi_engine", "attach", str(parquet), "--name", "thin", "--json")
    assert attached.returncode == 0, attached.stderr
    assert json.loads(attached.stdout)["engine"] == "spark"
    answer = _thin(
        env, "-m", "kpi_engine", "kpis", "thin", "--kpi", "spend", "--kpi", "roas",
        "--by", "channel", "--json",
    )  # fmt: skip
    assert answer.returncode == 0, answer.stderr
    assert "Traceback" not in answer.stderr
    rows = {r["channel"]: r for r in json.loads(answer.stdout)["rows"]}
    local = lake.pairs["campaigns"][0]
    expected = run_kpis(lake.store, local, KpiQuery(("spend", "roas"), by=("channel",)))
    assert len(rows) == len(expected) > 2
    for row in expected.itertuples():
        assert rows[row.channel]["spend"] == pytest.approx(row.spend, rel=1e-9)
        assert rows[row.channel]["roas"] == pytest.approx(row.roas, rel=1e-9)

    classic = _thin(
        {**env, "KPILAB_SPARK_MASTER": "local[2]"},
        "-m",
        "kpi_engine",
        "kpis",
        "thin",
        "--kpi",
        "spend",
    )
    assert classic.returncode == 2
    assert "only Spark Connect's client is installed here" in classic.stderr
    assert "Traceback" not in classic.stderr
