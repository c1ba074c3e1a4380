"""Where alerts go, and how they get there: a webhook (Slack- and Teams-compatible JSON: a
text summary plus the numbers as fields) or an e-mail through the SMTP server named by the
``KPILAB_SMTP_*`` environment variables (no password is ever stored in the database).

A webhook URL must reach a public address: a URL pointing at a private, loopback or
link-local address would let anyone who can add a watch make the server call into its own
network (server-side request forgery). ``KPILAB_ALLOW_PRIVATE_WEBHOOKS=1`` allows them (for
an intranet chat server, and the tests). The check runs when a watch is added and again
before every send (the name may resolve elsewhere by then); redirects are not followed.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import smtplib
import socket
import ssl
import urllib.error
import urllib.request
from email.message import EmailMessage
from urllib.parse import urlsplit

from kpi_engine.errors import KpiLabError

TIMEOUT_SECONDS = 10
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


class DeliveryError(Exception):
    """A send that failed: the reason is recorded and the send is retried later."""


def private_allowed() -> bool:
    return os.environ.get("KPILAB_ALLOW_PRIVATE_WEBHOOKS") == "1"


def _public_host(host: str, port: int) -> None:
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, port)}
    except (socket.gaierror, UnicodeError):
        raise KpiLabError(f"{host!r} does not resolve to an address", "webhook") from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global and not private_allowed():
            raise KpiLabError(
                f"{host!r} is a private or local address ({ip}): webhooks must reach a public"
                " server (set KPILAB_ALLOW_PRIVATE_WEBHOOKS=1 to allow an intranet one)",
                "webhook",
            )


def check_webhook(url: str) -> None:
    """A well-formed http(s) URL to a public address, or an error naming the field."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise KpiLabError(f"{url!r} is not a URL", "webhook") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise KpiLabError(
            f"{url!r} is not a webhook URL: write https://host/path (from your chat tool's"
            " incoming-webhook settings)",
            "webhook",
        )
    if parts.username or parts.password:
        raise KpiLabError("must not carry a user name or password", "webhook")
    _public_host(parts.hostname, port)


def check_email(address: str) -> None:
    if not _EMAIL.match(address):
        raise KpiLabError(f"{address!r} is not an e-mail address", "email")


def check_destination(destination: str) -> None:
    if re.match(r"^[a-z][a-z0-9+.-]*://", destination, re.I):
        check_webhook(destination)
    else:
        check_email(destination)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ANN201
        raise DeliveryError(f"the webhook answered with a redirect ({code}); use the final URL")


def send_webhook(url: str, text: str, fields: dict) -> None:
    """POST ``{"text": ..., "fields": {...}}``: Slack and Teams show the text."""
    try:
        check_webhook(url)
    except KpiLabError as exc:
        raise DeliveryError(str(exc)) from None
    body = json.dumps({"text": text, "fields": fields}).encode()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"the webhook answered {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryError(f"the webhook could not be reached: {reason}") from None
    if not 200 <= status < 300:
        raise DeliveryError(f"the webhook answered {status}")


def smtp_settings() -> dict:
    """The SMTP server from the environment: KPILAB_SMTP_HOST (required), _PORT (587),
    _USER, _PASSWORD, _FROM (kpilab@localhost), _TLS (starttls, ssl or none)."""
    env = os.environ
    host = env.get("KPILAB_SMTP_HOST")
    if not host:
        raise DeliveryError("no SMTP server: set KPILAB_SMTP_HOST (and _PORT, _USER, _PASSWORD)")
    tls = env.get("KPILAB_SMTP_TLS", "starttls").lower()
    if tls not in ("starttls", "ssl", "none"):
        raise DeliveryError(f"KPILAB_SMTP_TLS={tls!r}: use starttls, ssl or none")
    try:
        port = int(env.get("KPILAB_SMTP_PORT", "465" if tls == "ssl" else "587"))
    except ValueError:
        raise DeliveryError("KPILAB_SMTP_PORT must be a number") from None
    return {
        "host": host,
        "port": port,
        "user": env.get("KPILAB_SMTP_USER"),
        "password": env.get("KPILAB_SMTP_PASSWORD"),
        "sender": env.get("KPILAB_SMTP_FROM", "kpilab@localhost"),
        "tls": tls,
    }


def send_email(address: str, subject: str, text: str, html: str) -> None:
    """A plain-text e-mail with an HTML alternative (the report renderer's page)."""
    settings = smtp_settings()
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, settings["sender"], address
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    try:
        if settings["tls"] == "ssl":
            server = smtplib.SMTP_SSL(
                settings["host"],
                settings["port"],
                timeout=TIMEOUT_SECONDS,
                context=ssl.create_default_context(),
            )
        else:
            server = smtplib.SMTP(settings["host"], settings["port"], timeout=TIMEOUT_SECONDS)
        with server:
            if settings["tls"] == "starttls":
                server.starttls(context=ssl.create_default_context())
            if settings["user"]:
                server.login(settings["user"], settings["password"] or "")
            server.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"the mail server refused or could not be reached: {exc}") from None
