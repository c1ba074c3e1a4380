"""Who the command line acts as, never with more power than that person has in the app:

- ``--token TOKEN`` (or ``KPILAB_TOKEN``): the team member a personal token names, with
  their role now (an admin issues tokens on the Team page);
- ``--workspace LINK``: a visitor's private workspace (anonymous mode), as that visitor;
- neither: the local owner of the local workspace, unless the app runs with sign-in (it
  records its mode in the state database), where a token is required.

The server-wide commands (``monitor``, ``prune``, ``migrate``, ``team create``) are the
operator's: whoever can reach the state database runs them, as a cron job does.
"""

from __future__ import annotations

import argparse
import os

from kpi_engine.access.principal import ANONYMOUS
from kpi_engine.access.tokens import acting_by_token
from kpi_engine.errors import KpiLabError
from kpi_engine.sharing.tokens import token_of
from kpi_engine.sharing.workspaces import open_workspace
from kpi_engine.store import SYSTEM_SETTINGS, Store

MODE_SETTING = "server_mode"
OPERATOR_COMMANDS = ("monitor", "prune", "migrate")


def acting(store: Store, args: argparse.Namespace) -> Store:
    """``store`` as the person the command line acts for (see the module's docstring)."""
    if args.command in OPERATOR_COMMANDS or (args.command, getattr(args, "action", "")) == (
        "team",
        "create",
    ):
        return store
    token = getattr(args, "member_token", None) or os.environ.get("KPILAB_TOKEN")
    if token:
        member = acting_by_token(store, token)
        if member is None:
            raise KpiLabError(
                "is not a live personal token of this server: ask a team admin for one (Team page)",
                "member_token",
            )
        return member
    if args.workspace is not None:
        opened = open_workspace(store, token_of(args.workspace))
        if opened is None:
            raise KpiLabError(
                "opens no workspace in this database: paste the private link from the Sharing"
                " page (…/?ws=TOKEN), and pass --db if the app uses another database",
                "workspace",
            )
        return opened.acting(ANONYMOUS)
    if store.for_workspace(SYSTEM_SETTINGS).setting(MODE_SETTING) == "signin":
        raise KpiLabError(
            "this server signs people in: pass --token with your personal token (a team admin"
            " issues one on the Team page), or set KPILAB_TOKEN"
        )
    return store
