"""The monitor: evaluate every watch of every workspace in a database, send what is due,
and keep a log, so that a rerun never sends the same alert twice.

An alert is a watch's finding for one period (a day, a week, a target's status); a digest is
one message per workspace, destination and schedule holding every watch on it. Each send is
logged with a fingerprint of its content. A failed send is logged with its reason and tried
again on a later run (after 5 minutes, then 10, 20... up to 6 hours), with the message it
first had; one failing destination never stops the others.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pandas as pd

from kpi_engine.alerts import wording
from kpi_engine.alerts.destinations import DeliveryError, send_email, send_webhook
from kpi_engine.alerts.evaluate import Finding, evaluate
from kpi_engine.alerts.heartbeat import record_round
from kpi_engine.alerts.schedule import due_period
from kpi_engine.alerts.watch import Watch
from kpi_engine.alerts.watches import (
    Delivery,
    all_watches,
    claim_new,
    claim_retry,
    delivery,
    due_retries,
    record,
)
from kpi_engine.annotations.notes import notes
from kpi_engine.display.blocks import Table, text
from kpi_engine.display.html import page
from kpi_engine.errors import KpiLabError
from kpi_engine.kpis.wording import annotation_line
from kpi_engine.sharing.links import create_share, public_url
from kpi_engine.store import Store
from kpi_engine.time_zone import time_zone
from kpi_engine.typed_json import to_json

_LOG = logging.getLogger(__name__)
FIRST_RETRY = timedelta(minutes=5)
LEASE = timedelta(minutes=5)  # a send that is not recorded by then is taken again
LONGEST_RETRY = timedelta(hours=6)
LINK_DAYS = 90


@dataclass(frozen=True)
class Sent:
    watch_id: str
    destination: str
    status: str  # sent, or "would send" in a dry run


@dataclass(frozen=True)
class Failed:
    watch_id: str
    destination: str
    reason: str


@dataclass(frozen=True)
class MonitorResult:
    sent: tuple[Sent, ...]
    failed: tuple[Failed, ...]
    not_due: int

    def to_dict(self) -> dict:
        return to_json(self)


def run_monitor(root: Store, now: datetime | None = None, dry_run: bool = False) -> MonitorResult:
    """One round: retry what failed before and is due again, then evaluate every watch."""
    round_ = _Round(root, now or datetime.now(UTC), dry_run)
    if not dry_run:
        round_.retry()
    digests: dict[tuple[str, str, str], list[Watch]] = {}
    for watch in all_watches(root):
        if watch.digest:
            digests.setdefault((watch.workspace, watch.destination, watch.digest), []).append(watch)
        else:
            round_.alerts(watch)
    for (workspace, destination, schedule), group in digests.items():
        round_.digest(workspace, destination, schedule, group)
    if not dry_run:
        record_round(root, round_.now)
    return MonitorResult(tuple(round_.sent), tuple(round_.failed), round_.not_due)


@dataclass
class _Round:
    root: Store
    now: datetime
    dry_run: bool
    sent: list[Sent] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)
    not_due: int = 0
    memo: dict = field(default_factory=dict)  # what watches on one dataset share this round

    def alerts(self, watch: Watch) -> None:
        """Send each finding of the watch that fired and was not sent before."""
        store = self.root.for_workspace(watch.workspace)
        try:
            findings = evaluate(store, watch, self.memo)
        except Exception as exc:  # one watch that cannot be evaluated stops no other
            reason = _evaluation_problem(watch, exc)
            self.failed.append(Failed(watch.watch_id, watch.destination, reason))
            return
        for finding in findings:
            key = (watch.workspace, watch.watch_id, finding.period, watch.destination)
            if not finding.fired or not self.take(key):  # quiet, sent or taken already
                self.not_due += 1
                continue
            try:
                message = _alert_message(store, finding, self.dry_run)
            except Exception as exc:  # no link or message for this one: the others go on
                reason = _evaluation_problem(watch, exc)
                self.failed.append(Failed(watch.watch_id, watch.destination, reason))
                self.give_up(key, reason)
                continue
            self.send(key, message)

    def digest(self, workspace: str, destination: str, schedule: str, group: list[Watch]) -> None:
        """Send a due digest of every watch in the group."""
        store = self.root.for_workspace(workspace)
        hour, created = min(w.hour for w in group), min(w.created_at for w in group)
        period = due_period(self.now, time_zone(store), schedule, hour, created)
        key = (workspace, f"digest-{schedule}", period, destination)
        if period is None or not self.take(key):
            self.not_due += len(group)
            return
        lines, fields = [], []
        for watch in group:
            try:
                findings = evaluate(store, watch, self.memo)
            except Exception as exc:  # the digest goes out with the others
                lines.append(f"{watch.subject()}: {_evaluation_problem(watch, exc)}")
                continue
            for finding in findings:
                link = None if self.dry_run or finding.spec is None else _link(store, finding)
                lines.append(wording.with_link(finding.text, link))
                fields.append(finding.fields | {"watch_id": watch.watch_id, "fired": finding.fired})
        lines += _notes_of(store, {w.dataset_id for w in group})
        message = {
            "subject": wording.SUBJECT.format(what=wording.DIGEST_TITLE[schedule].lower()),
            "text": wording.digest_text(schedule, period, lines),
            "fields": {"digest": schedule, "period": period, "watches": fields},
        }
        self.send(key, message)

    def take(self, key: tuple[str, str, str, str]) -> bool:
        """This round sends ``key``: not sent or tried before, and no other monitor took it
        (a dry run takes nothing, it only looks)."""
        if delivery(self.root, *key):
            return False
        return self.dry_run or claim_new(self.root, key, _naive(self.now), LEASE)

    def give_up(self, key: tuple[str, str, str, str], reason: str) -> None:
        """No message could be made: the next rounds evaluate it again, after the wait."""
        if self.dry_run:
            return
        now = _naive(self.now)
        entry = Delivery(*key, "", "failed", 1, reason, "", now, now, now + FIRST_RETRY)
        record(self.root, entry)

    def send(self, key: tuple[str, str, str, str], message: dict) -> None:
        if self.dry_run:
            self.sent.append(Sent(key[1], key[3], "would send"))
            return
        payload = json.dumps(message, default=str, sort_keys=True)
        fingerprint = hashlib.sha256(payload.encode()).hexdigest()[:16]
        now = _naive(self.now)
        entry = Delivery(*key, fingerprint, "sending", 1, None, payload, now, now, None)
        record(self.root, entry, claimed_until=now + LEASE)  # resent as it is if we stop here
        self.attempt(entry, json.loads(payload))

    def attempt(self, entry: Delivery, message: dict) -> None:
        try:
            _deliver(entry.destination, message)
        except Exception as exc:  # any failure of one destination is recorded, never raised
            if not isinstance(exc, DeliveryError):
                _LOG.exception("delivery to a %s failed unexpectedly", _kind(entry.destination))
                exc = DeliveryError(f"the send failed: {type(exc).__name__}")
            wait = min(FIRST_RETRY * 2 ** (entry.attempts - 1), LONGEST_RETRY)
            record(
                self.root,
                replace(entry, status="failed", reason=str(exc), next_try=_naive(self.now + wait)),
            )
            self.failed.append(Failed(entry.watch_id, entry.destination, str(exc)))
            return
        record(self.root, replace(entry, status="sent", reason=None, next_try=None))
        self.sent.append(Sent(entry.watch_id, entry.destination, "sent"))

    def retry(self) -> None:
        """Send again what failed before and whose wait is over, as it was first written
        (and what a monitor that stopped mid-send left behind)."""
        now = _naive(self.now)
        for key in due_retries(self.root, now):
            entry = claim_retry(self.root, key, now, LEASE)
            if entry is None:  # another monitor took it, or it is to be evaluated anew
                continue
            again = replace(entry, attempts=entry.attempts + 1, last_try=now)
            self.attempt(again, json.loads(entry.message))


def _evaluation_problem(watch: Watch, exc: Exception) -> str:
    if isinstance(exc, KpiLabError):
        return f"cannot evaluate: {exc}"
    _LOG.exception(
        "watch %s of workspace %s could not be evaluated", watch.watch_id, watch.workspace
    )
    return f"cannot evaluate: an internal error ({type(exc).__name__}); it is logged"


def _notes_of(store: Store, dataset_ids: set[str]) -> list[str]:
    """The notes on the last 7 days of each dataset a digest covers (a promotion explains a
    jump before anyone asks)."""
    lines = []
    for dataset_id in sorted(dataset_ids):
        try:
            dataset = store.dataset(dataset_id)
        except KpiLabError:
            continue
        days = store.date_range(dataset)
        if days is None:
            continue
        week = (days[1] - timedelta(days=6), days[1])
        lines += [
            wording.digest_note(dataset.name, annotation_line(mark))
            for mark in notes(store, dataset)
            if mark.overlaps(*week)
        ]
    return lines


def _kind(destination: str) -> str:
    return "webhook" if destination.lower().startswith(("http://", "https://")) else "mailbox"


def _link(store: Store, finding: Finding) -> str:
    """A read-only link to a frozen view of exactly the finding's numbers."""
    title = f"{finding.fields.get('dataset', 'KPI Lab')}: {finding.sentence}"[:120]
    share = create_share(store, finding.spec, finding.result, title, LINK_DAYS)
    return public_url(share["token"])


def _alert_message(store: Store, finding: Finding, dry_run: bool) -> dict:
    link = None if dry_run or finding.spec is None else _link(store, finding)
    subject = finding.fields.get("kpi") or "experiment"
    return {
        "subject": wording.SUBJECT.format(what=f"{subject} ({finding.watch.rule})"),
        "text": wording.with_link(finding.text, link),
        "fields": finding.fields | {"watch_id": finding.watch.watch_id, "link": link},
    }


def _deliver(destination: str, message: dict) -> None:
    if destination.lower().startswith(("http://", "https://")):
        send_webhook(destination, message["text"], message["fields"])
        return
    rows = [
        {"field": k, "value": json.dumps(v) if isinstance(v, (list, dict)) else v}
        for k, v in message["fields"].items()
    ]
    table = pd.DataFrame(rows, columns=["field", "value"])
    blocks = (text(message["text"]), Table("numbers", table, {"field": "text", "value": "text"}))
    html = page(message["subject"], "", blocks)
    send_email(destination, message["subject"], message["text"], html)


def _naive(moment: datetime) -> datetime:
    """UTC without a zone, as the log stores times."""
    return moment.astimezone(UTC).replace(tzinfo=None)
