"""``python -m kpi_engine``: the engine's functions for analysts and scripts.

Every subcommand takes ``--db PATH`` and ``--json``. Bad input ends with exit status 2 and
one line on stderr that says what is wrong and how to fix it; an error about a setting names
the flag that set it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence

from kpi_engine.cli.parser import build_parser, field_names
from kpi_engine.errors import KpiLabError
from kpi_engine.sharing.tokens import well_formed

EXIT_BAD_INPUT = 2
EXIT_NOT_DELIVERED = 3  # monitor: some alert could not be delivered (the summary says which)


def _tokens_as_values(argv: list[str]) -> list[str]:
    """``share open|revoke TOKEN``: a token may start with "-" (links made before tokens
    avoided it), which argparse would read as a flag, and a user may have written "--" before
    it, the usual way around that. The token moves to the end, after the one "--"."""
    if argv[:1] != ["share"] or argv[1:2] not in (["open"], ["revoke"]):
        return argv
    rest = [a for a in argv[2:] if a != "--"]
    dashed = [a for a in rest if a.startswith("-") and well_formed(a)]
    if not dashed:
        return [*argv[:2], *rest]
    return [*argv[:2], *(a for a in rest if a != dashed[0]), "--", dashed[0]]


def _refused(exc: KpiLabError, args) -> int:
    print(f"error: {exc.describe(field_names(args))}", file=sys.stderr)
    return EXIT_BAD_INPUT


def main(argv: Sequence[str] | None = None) -> int:
    """Parse first, then import the engine: ``--help`` and a wrong flag answer at once."""
    args = None
    try:
        argv = _tokens_as_values(list(sys.argv[1:] if argv is None else argv))
        args = build_parser().parse_args(argv)
    except KpiLabError as exc:
        return _refused(exc, args)
    from kpi_engine.cli.commands import COMMANDS, NO_WORKSPACE
    from kpi_engine.cli.human import print_human, to_plain
    from kpi_engine.cli.identity import acting
    from kpi_engine.compute import local
    from kpi_engine.store import Store

    local.caching(False)  # one call's queries: no copy into the cache would pay off
    try:
        if args.command in NO_WORKSPACE:
            result = COMMANDS[args.command](None, args)
        else:
            store = Store(args.db)
            try:
                result = COMMANDS[args.command](acting(store, args), args)
            finally:
                store.close()
    except KpiLabError as exc:
        return _refused(exc, args)
    try:
        if args.json:
            json.dump(result, sys.stdout, default=to_plain, ensure_ascii=False)
            sys.stdout.write("\n")
        else:
            print_human(args.command, result)
        sys.stdout.flush()
    except BrokenPipeError:  # `... | head`: the reader left; that is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_NOT_DELIVERED if args.command == "monitor" and result["failed"] else 0
