"""Private-link tokens and the visitors' workspaces' lifetime: plain functions with no
database, so that the command line can check a token before it opens anything."""

from __future__ import annotations

import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlsplit

DEFAULT_PRUNE_DAYS = 30
TOKEN_BYTES = 24  # 192 bits; token_urlsafe writes 32 characters
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


def new_token() -> str:
    """192 random bits as 32 URL-safe characters, never starting with "-" (a command line
    would read that as a flag)."""
    while (token := secrets.token_urlsafe(TOKEN_BYTES)).startswith("-"):
        pass
    return token


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: object) -> bool:
    return isinstance(token, str) and bool(_TOKEN.match(token))


def token_of(link_or_token: str) -> str:
    """The token in a private link (``https://host/?ws=TOKEN``), or the text itself."""
    text = link_or_token.strip()
    if "ws=" in text:
        values = parse_qs(urlsplit(text).query).get("ws")
        return values[0] if values else ""
    return text
