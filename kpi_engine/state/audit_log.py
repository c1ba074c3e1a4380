"""The audit log's rows: who did what to which thing, and when (``access.audit`` decides
when to write one and who may read them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select

from kpi_engine.state.schema import audit


def write(
    conn: Connection,
    workspace: str,
    actor: str,
    role: str,
    action: str,
    subject: str,
    detail: str | None = None,
) -> None:
    conn.execute(
        insert(audit).values(
            at=datetime.now(),
            workspace=workspace,
            actor=actor,
            role=role,
            action=action,
            subject=str(subject)[:200],
            detail=detail,
        )
    )


def read(conn: Connection, workspace: str, limit: int) -> list[dict]:
    """A workspace's entries, newest first."""
    c = audit.c
    rows = conn.execute(
        select(c.at, c.actor, c.role, c.action, c.subject, c.detail)
        .where(c.workspace == workspace)
        .order_by(c.at.desc(), c.entry_id.desc())
        .limit(limit)
    ).all()
    return [
        {
            "at": r.at.isoformat(timespec="seconds"),
            "actor": r.actor,
            "role": r.role,
            "action": r.action,
            "subject": r.subject,
            "detail": r.detail,
        }
        for r in rows
    ]
