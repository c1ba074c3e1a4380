"""The database (one per path for the whole server process) and this session's workspace."""

from __future__ import annotations

import os
import secrets

import streamlit as st

from kpi_engine.alerts import background
from kpi_engine.cli.identity import MODE_SETTING
from kpi_engine.errors import KpiLabError
from kpi_engine.housekeeping import EVERY_SECONDS, tidy
from kpi_engine.ingest.source import drop_spool
from kpi_engine.repeat import every as repeat
from kpi_engine.samples import templates
from kpi_engine.sharing.tokens import DEFAULT_PRUNE_DAYS
from kpi_engine.store import SYSTEM_SETTINGS, Store
from ui.mode import server_mode


def _prune_days() -> float | None:
    """``$KPILAB_PRUNE_DAYS``: days after which untouched workspaces go; None for ``off``."""
    text = os.environ.get("KPILAB_PRUNE_DAYS", str(DEFAULT_PRUNE_DAYS)).strip().lower()
    if text == "off":
        return None
    try:
        days = float(text)
    except ValueError:
        days = -1.0
    if not days >= 0:
        raise KpiLabError(f"KPILAB_PRUNE_DAYS={text!r} is not valid: write a number of days or off")
    return days


@st.cache_resource(show_spinner=False)
def _open_root(path: str | None) -> Store:
    """Opened once per server process. Then and every hour after, visitors' workspaces left
    with only the sample data for ``$KPILAB_PRUNE_DAYS`` days (default 30) are removed, and
    files a crash left in the upload spool or the data folder are swept. With
    ``$KPILAB_MONITOR_EVERY`` the monitor runs on a schedule inside this process."""
    days = _prune_days()
    store = Store(path)
    with store.transaction() as conn:  # the command line asks a member's token with sign-in
        store.for_workspace(SYSTEM_SETTINGS).set_setting(conn, MODE_SETTING, server_mode())
    templates(store)  # the samples, imported once per database, before any session asks
    tidy(store, days)
    repeat(EVERY_SECONDS, "kpilab-housekeeping", lambda: tidy(store, days))
    every = os.environ.get("KPILAB_MONITOR_EVERY")
    if every:
        background.start(store, background.parse_every(every))
    return store


def root_store() -> Store:
    """The state database (``$KPILAB_DATABASE_URL``, ``$KPILAB_DB`` or the default file),
    not limited to a workspace."""
    return _open_root(os.environ.get("KPILAB_DB"))


@st.cache_resource(scope="session", on_release=drop_spool, show_spinner=False)
def session_spool() -> str:
    """This browser session's folder name in the upload spool; the folder is emptied when
    the session ends (Streamlit releases session resources 2 minutes after a disconnect)."""
    return secrets.token_urlsafe(24)
