"""Saved views and read-only share links to frozen snapshots of them.

A view is the state of a page (dataset, KPIs, filters, period; experiment settings; budget
scenario). Sharing copies the dataset's table into a snapshot, so later uploads or appends do
not change what the stakeholder sees, and returns a link with an unguessable token. Only the
token's hash is stored; a revoked, expired, unknown or malformed token opens nothing.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from kpi_engine.budget.analysis import BudgetSpec, run_budget
from kpi_engine.errors import KpiLabError
from kpi_engine.experiments.analysis import ExperimentSpec, run_experiment
from kpi_engine.formatting import format_value
from kpi_engine.identifiers import quote_identifier as q
from kpi_engine.kpis.catalog import CATALOG
from kpi_engine.kpis.query import KpiQuery, kpi_availability, run_kpis
from kpi_engine.sharing.workspaces import TOKEN_BYTES, token_hash, well_formed
from kpi_engine.store import Column, Dataset, Store, clean_name

PAGES = ("kpis", "experiments", "budget")
SHARED_PATH = "shared"
DEFAULT_KPIS = ("spend", "revenue", "roas", "cpa", "ctr")
INVALID = "This link is not valid: check that it was copied whole, or ask its owner for a new one."


@dataclass(frozen=True)
class Shared:
    share_id: str
    title: str
    state: dict
    dataset: Dataset  # points at the frozen snapshot table
    created_at: datetime
    expires_at: datetime | None


def default_view(dataset: Dataset) -> dict:
    """The KPIs page's view of a dataset: default KPIs by campaign, all dates, by day."""
    needs = kpi_availability(dataset)
    kpis = [k for k in DEFAULT_KPIS if not needs[k]] or [k for k, m in needs.items() if not m][:5]
    dims = dataset.dimensions
    return {
        "page": "kpis",
        "dataset_id": dataset.dataset_id,
        "kpis": kpis,
        "by": dims[0] if dims else None,
        "grain": "day" if dataset.date_column else None,
        "start": None,
        "end": None,
        "filters": {},
        "currency": None,
    }


def validate_state(state: object) -> dict:
    """A view from a file or a page: the keys we know, with the types we expect."""
    if not isinstance(state, dict) or state.get("page") not in PAGES:
        raise KpiLabError(f"a view needs a 'page' of {', '.join(PAGES)}")
    if not isinstance(state.get("dataset_id"), str):
        raise KpiLabError("a view needs the 'dataset_id' it shows")
    return json.loads(json.dumps(state, default=str))


# -- saved views ------------------------------------------------------------------------------


def save_view(store: Store, name: str, state: dict) -> dict:
    state = validate_state(state)
    store.dataset(state["dataset_id"])  # the dataset must be in this workspace
    view = {"view_id": "vw_" + secrets.token_hex(6), "name": clean_name(name), "state": state}
    with store.transaction() as cur:
        cur.execute(
            "INSERT INTO views VALUES (?, ?, ?, ?, ?)",
            [view["view_id"], store.workspace, view["name"], json.dumps(state), datetime.now()],
        )
    return view


def saved_views(store: Store) -> list[dict]:
    with store.cursor() as cur:
        rows = cur.execute(
            "SELECT view_id, name, state, created_at FROM views WHERE workspace = ?"
            " ORDER BY created_at",
            [store.workspace],
        ).fetchall()
    return [
        {"view_id": v, "name": n, "state": json.loads(s), "created_at": c.isoformat()}
        for v, n, s, c in rows
    ]


# -- share links ------------------------------------------------------------------------------


def create_share(
    store: Store, state: dict, title: str | None = None, expires_days: float | None = None
) -> dict:
    """Freeze the view's dataset and return the link's token (shown once, never stored)."""
    state = validate_state(state)
    dataset = store.dataset(state["dataset_id"])
    if expires_days is not None and not expires_days > 0:
        raise KpiLabError("--expires-days must be a positive number of days")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    share_id = "sh_" + secrets.token_hex(6)
    snapshot = "snap_" + secrets.token_hex(8)
    now = datetime.now()
    expires = now + timedelta(days=expires_days) if expires_days else None
    title = clean_name(title or f"{dataset.name}: {state['page']}")
    frozen = dict(
        dataset.to_dict(),
        columns=[[c.name, c.type, c.role] for c in dataset.columns],
        currencies=list(dataset.currencies),
        kind=dataset.kind,
    )
    with store.transaction() as cur:
        cur.execute(f"CREATE TABLE {q(snapshot)} AS SELECT * FROM {dataset.table}")
        cur.execute(
            "INSERT INTO shares VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            [
                share_id,
                token_hash(token),
                store.workspace,
                title,
                json.dumps(state),
                snapshot,
                json.dumps(frozen, default=str),
                now,
                expires,
            ],
        )
    return {
        "token": token,
        "url_path": f"{SHARED_PATH}?token={token}",
        "share_id": share_id,
        "title": title,
        "created_at": now.isoformat(timespec="seconds"),
        "expires_at": expires.isoformat(timespec="seconds") if expires else None,
    }


def _row(store: Store, token: object):
    if not well_formed(token):
        raise KpiLabError(INVALID)
    wanted = token_hash(token)
    with store.cursor() as cur:
        row = cur.execute(
            "SELECT share_id, token_hash, workspace, title, state, snapshot, dataset, created_at,"
            " expires_at, revoked_at FROM shares WHERE token_hash = ?",
            [wanted],
        ).fetchone()
    if row is None or not hmac.compare_digest(row[1], wanted):
        raise KpiLabError(INVALID)
    return row


def open_share(store: Store, token: object, now: datetime | None = None) -> Shared:
    share_id, _, _, title, state, snapshot, frozen, created, expires, revoked = _row(store, token)
    if revoked is not None:
        raise KpiLabError("This link was revoked by its owner: ask them for a new one.")
    if expires is not None and (now or datetime.now()) > expires:
        raise KpiLabError(
            f"This link expired on {expires:%Y-%m-%d %H:%M}: ask its owner for a new one."
        )
    meta = json.loads(frozen)
    dataset = Dataset(
        snapshot,
        meta["name"],
        meta.get("source_file"),
        int(meta["rows"]),
        tuple(Column(*c) for c in meta["columns"]),
        created,
        meta.get("kind", "campaign"),
        meta.get("platform", "generic"),
        tuple(meta.get("currencies", [])),
    )
    return Shared(share_id, title, json.loads(state), dataset, created, expires)


def list_shares(store: Store) -> list[dict]:
    with store.cursor() as cur:
        rows = cur.execute(
            "SELECT share_id, title, created_at, expires_at, revoked_at FROM shares"
            " WHERE workspace = ? ORDER BY created_at",
            [store.workspace],
        ).fetchall()
    return [
        {
            "share_id": s,
            "title": t,
            "created_at": c.isoformat(timespec="seconds"),
            "expires_at": e.isoformat(timespec="seconds") if e else None,
            "revoked": r is not None,
        }
        for s, t, c, e, r in rows
    ]


def revoke_share(store: Store, token_or_id: str) -> dict:
    """Revoke by token, or by share id (the owner's list shows ids, never tokens)."""
    with store.cursor() as cur:
        if well_formed(token_or_id):
            row = cur.execute(
                "SELECT share_id FROM shares WHERE token_hash = ? AND workspace = ?",
                [token_hash(token_or_id), store.workspace],
            ).fetchone()
        else:
            row = cur.execute(
                "SELECT share_id FROM shares WHERE share_id = ? AND workspace = ?",
                [str(token_or_id), store.workspace],
            ).fetchone()
    if row is None:
        raise KpiLabError(INVALID)
    with store.transaction() as cur:
        cur.execute("UPDATE shares SET revoked_at = ? WHERE share_id = ?", [datetime.now(), row[0]])
    return {"share_id": row[0], "revoked": True}


# -- what a stakeholder sees ---------------------------------------------------------------------


def _date(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def share_content(store: Store, shared: Shared) -> dict:
    """Everything the shared page and the downloads show, computed on the snapshot."""
    state, dataset = shared.state, shared.dataset
    head = {
        "title": shared.title,
        "shared_at": shared.created_at.isoformat(timespec="minutes"),
        "page": state["page"],
        "dataset": dataset.name,
        "rows": dataset.rows,
    }
    if state["page"] == "experiments":
        spec = ExperimentSpec(
            state["variant_col"],
            state["control"],
            tuple(state["kpis"]),
            correction=state.get("correction", "holm"),
            family=state.get("family", "both"),
            sequential=bool(state.get("sequential")),
        )
        return {**head, "experiment": run_experiment(store, dataset, spec).to_dict()}
    if state["page"] == "budget":
        fields = {k: v for k, v in state.items() if k in BudgetSpec.__dataclass_fields__}
        for key in ("locks", "plan", "minimums", "maximums"):
            if key in fields:
                fields[key] = tuple(tuple(x) if isinstance(x, list) else x for x in fields[key])
        return {**head, "budget": run_budget(store, dataset, BudgetSpec(**fields)).to_dict()}
    filters = tuple((k, tuple(v)) for k, v in (state.get("filters") or {}).items())
    base = KpiQuery(
        tuple(state["kpis"]),
        (),
        _date(state.get("start")),
        _date(state.get("end")),
        filters,
        currency=state.get("currency"),
    )
    totals = run_kpis(store, dataset, base).iloc[0].to_dict()
    cards = [
        {
            "kpi": k,
            "name": CATALOG[k].name,
            "value": _plain(totals.get(k)),
            "formatted": format_value(totals.get(k), CATALOG[k].unit),
        }
        for k in base.kpis
    ]
    content = {
        **head,
        "cards": cards,
        "by": state.get("by"),
        "grain": state.get("grain"),
        "table": [],
        "trend": [],
    }
    if state.get("by"):
        table = run_kpis(
            store, dataset, replace(base, by=(state["by"],), sort=base.kpis[0], limit=1000)
        )
        content["table"] = _records(table)
    if state.get("grain") and dataset.date_column:
        content["trend"] = _records(run_kpis(store, dataset, replace(base, grain=state["grain"])))
    return content


def _plain(value: object) -> object:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _records(frame) -> list[dict]:
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
