"""The server's mode: local, signin or anonymous (see ``ui.identity``)."""

from __future__ import annotations

import os

import streamlit as st


def server_mode() -> str:
    """signin with an ``[auth]`` section in secrets.toml; anonymous with
    ``KPILAB_ANONYMOUS=1``; local otherwise."""
    try:
        if "auth" in st.secrets:
            return "signin"
    except Exception:  # no secrets file at all
        pass
    return "anonymous" if os.environ.get("KPILAB_ANONYMOUS") == "1" else "local"
