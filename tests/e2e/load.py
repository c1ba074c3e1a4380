"""Many simulated users on one running server, through Streamlit's websocket protocol.

Each user opens the app (a workspace of its own), uploads a campaign file that carries a
marker of its own in every campaign name, imports it on the Data page, then visits the KPIs,
Experiments and Budget pages on it in a loop until the time is up. Every page a user gets is
checked: no exception and no error message, no other user's marker anywhere in what the
server sent, and the page computed on the user's own file. The server's memory is sampled
throughout.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from kpi_engine.formatting import format_compact
from tests.e2e.server import status_mb
from tests.e2e.st_protocol import Run, Session, trigger

PAGES = ("", "experiments", "budget")  # KPIs (the default page), Experiments, Budget
DAYS = 30
CAMPAIGNS = 4


def user_file(user: int, marker: str) -> tuple[bytes, float]:
    """A campaign x day x variant export whose campaign names carry ``marker``; its spend."""
    rng = np.random.default_rng(user)
    lines = ["date,campaign,variant,impressions,clicks,conversions,spend,revenue"]
    total = 0.0
    for day in range(DAYS):
        for c in range(CAMPAIGNS):
            for variant in ("A", "B"):
                spend = round(float(rng.uniform(10, 60)) * (1 + user / 50), 2)
                clicks = int(rng.integers(40, 120))
                conversions = int(rng.binomial(clicks, 0.05 if variant == "A" else 0.06))
                revenue = round(conversions * float(rng.uniform(20, 40)), 2)
                impressions = clicks * int(rng.integers(20, 40))
                total += spend
                lines.append(
                    f"2026-05-{day + 1:02d},{marker} campaign {c},{variant},"
                    f"{impressions},{clicks},{conversions},{spend:.2f},{revenue:.2f}"
                )
    return ("\n".join(lines) + "\n").encode(), round(total, 2)


@dataclass
class LoadReport:
    users: int
    seconds: float
    latencies: dict[str, list[float]] = field(default_factory=dict)  # action -> seconds
    errors: list[str] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)  # server RSS samples, in order
    baseline_mb: float = 0.0  # the server's RSS before the first user came
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def interactions(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def table(self) -> str:
        rows = [
            f"{'action':>14} {'count':>6} {'p50 s':>7} {'p95 s':>7} {'max s':>7}",
        ]
        everything = [s for values in self.latencies.values() for s in values]
        for action, values in [*sorted(self.latencies.items()), ("all", everything)]:
            if values:
                rows.append(
                    f"{action:>14} {len(values):>6} {percentile(values, 50):>7.3f}"
                    f" {percentile(values, 95):>7.3f} {max(values):>7.3f}"
                )
        rows.append(
            f"{self.users} users, {self.seconds:.0f} s: {self.interactions} page runs,"
            f" {self.interactions / self.seconds:.1f} per second; {len(self.errors)} errors;"
            f" server RSS {self.baseline_mb:.0f} MB before, {max(self.rss_mb, default=0):.0f} MB"
            f" peak, {self.rss_mb[-1] if self.rss_mb else 0:.0f} MB at the end"
        )
        return "\n".join(rows)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if len(values) > 1 else values[0]


class _User:
    def __init__(self, base_url: str, number: int, markers: list[str], report: LoadReport):
        self.base_url, self.number, self.markers, self.report = base_url, number, markers, report
        self.marker = markers[number]

    def check(self, what: str, run: Run) -> None:
        problems = list(run.errors)
        problems += [
            f"another user's data ({m})"
            for m in self.markers
            if m != self.marker and m.encode() in run.raw
        ]
        if problems:
            raise AssertionError(f"user {self.number}, {what}: {'; '.join(problems)[:500]}")

    def check_own(self, page: str, run: Run, spend: float) -> None:
        """The page computed on this user's own file: its spend on the KPI card, its
        campaigns in the budget table, verdicts and charts for its A/B test."""
        if page == "":
            card = {m.label: m.body for m in run.of("metric")}.get("Spend")
            if card != format_compact(spend, "currency") or self.marker.encode() not in run.raw:
                raise AssertionError(f"user {self.number}: KPI card Spend {card!r}, not its own")
        elif page == "budget" and self.marker.encode() not in run.raw:
            raise AssertionError(f"user {self.number}: the budget is not on its own campaigns")
        elif page == "experiments":
            verdicts = [
                m.body for m in run.of("markdown") if " B " in m.body and "95% CI" in m.body
            ]
            if not (verdicts and run.of("plotly_chart")):
                raise AssertionError(f"user {self.number}: no verdict for its own A/B test")

    def record(self, action: str, run: Run) -> None:
        with self.report.lock:
            self.report.latencies.setdefault(action, []).append(run.seconds)

    def __call__(self, deadline: float, start_gate: threading.Barrier, pause: float) -> None:
        session = None
        try:
            start_gate.wait()
            session = Session(self.base_url)
            first = session.run()
            self.record("open", first)
            self.check("first visit", first)
            data, spend = user_file(self.number, self.marker)
            page = session.run(page="data")
            self.record("data page", page)
            uploader = page.widget_id("file_uploader", "Campaign file")
            uploaded = session.run(widgets=[session.upload(uploader, "mine.csv", data)])
            self.record("upload", uploaded)
            self.check("upload", uploaded)
            imported = session.run(widgets=[trigger(uploaded.widget_id("button", "Import"))])
            self.record("import", imported)
            self.check("import", imported)
            own = session.params
            rng = random.Random(self.number)
            rounds = 0
            while rounds == 0 or time.monotonic() < deadline:  # every page at least once
                rounds += 1
                for name in PAGES:
                    # a person reading the page before the next click; people do not click
                    # in step, so the pause varies by +/-50%
                    time.sleep(pause * rng.uniform(0.5, 1.5))
                    run = session.run(page=name, params=own)
                    self.record(name or "kpis", run)
                    self.check(name or "kpis", run)
                    self.check_own(name, run, spend)
        except Exception as exc:  # every failure is counted, none stops the others
            with self.report.lock:
                self.report.errors.append(f"user {self.number}: {type(exc).__name__}: {exc}")
        finally:
            if session is not None:
                session.close()


def run_load(
    base_url: str, users: int, seconds: float, server_pid: int, pause: float = 0.0
) -> LoadReport:
    """``users`` simulated users at once for ``seconds``, each waiting about ``pause``
    seconds before each page visit of the loop (0: clicking without a break)."""
    report = LoadReport(users, seconds, baseline_mb=status_mb(server_pid))
    markers = [f"MKR{n:02d}x{secrets.token_hex(4)}" for n in range(users)]
    gate = threading.Barrier(users)
    start = time.monotonic()
    deadline = start + seconds
    threads = [
        threading.Thread(target=_User(base_url, n, markers, report), args=(deadline, gate, pause))
        for n in range(users)
    ]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        report.rss_mb.append(status_mb(server_pid))
        time.sleep(0.5)
    for t in threads:
        t.join()
    report.seconds = time.monotonic() - start
    report.rss_mb.append(status_mb(server_pid))
    return report
