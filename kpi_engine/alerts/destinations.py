"""Where alerts go, and how they get there: a webhook (Slack- and Teams-compatible JSON: a
text summary plus the numbers as fields) or an e-mail through the SMTP server named by the
``KPILAB_SMTP_*`` environment variables (no password is ever stored in the database).

A webhook URL must reach a public address: a URL pointing at a private, loopback or
link-local address would let anyone who can add a watch make the server call into its own
network (server-side request forgery). The name is resolved once per send, every address
it resolves to is checked, and the connection goes to the address that was checked (a name
that resolves elsewhere a moment later, DNS rebinding, changes nothing). IPv6 forms that
carry an IPv4 address inside (NAT64, 6to4, IPv4-compatible and -mapped, Teredo) are refused
like private ones. ``KPILAB_ALLOW_PRIVATE_WEBHOOKS=1`` allows private addresses (an intranet
chat server, and the tests). Redirects are not followed.

Every send has a wall-clock deadline (``SEND_SECONDS``), not only a timeout per socket
operation: a reply dripped a byte at a time is cut off there. Whatever goes wrong in a send
(a refused connection, an answer that is not HTTP, a TLS failure) is a ``DeliveryError``
with a reason, so one bad destination never stops the others.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import os
import re
import smtplib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from urllib.parse import urlsplit

from kpi_engine.errors import KpiLabError

TIMEOUT_SECONDS = 10  # any one socket operation
SEND_SECONDS = 20  # a whole send, from connecting to the last byte of the answer
MAX_ANSWER = 64 * 1024
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
# IPv6 ranges that wrap an IPv4 address (or reach one through a relay): refused outright
_WRAPPED = tuple(
    ipaddress.ip_network(n)
    for n in ("64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "::/96", "::ffff:0:0/96", "2001::/32")
)


class DeliveryError(Exception):
    """A send that failed: the reason is recorded and the send is retried later."""


def private_allowed() -> bool:
    return os.environ.get("KPILAB_ALLOW_PRIVATE_WEBHOOKS") == "1"


def refused_address(address: str) -> str | None:
    """Why a webhook may not go to ``address``, or None when it is a public one."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if not ip.is_global and not private_allowed():
        return f"a private or local address ({ip})"
    if ip.version == 6 and any(ip in net for net in _WRAPPED) and not ip.is_loopback:
        return f"an IPv6 address that carries an IPv4 one ({ip})"
    return None


def public_addresses(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, all of them allowed; else an error naming one."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise KpiLabError(f"{host!r} does not resolve to an address", "webhook") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    for address in addresses:
        if reason := refused_address(address):
            raise KpiLabError(
                f"{host!r} is {reason}: webhooks must reach a public server (set"
                " KPILAB_ALLOW_PRIVATE_WEBHOOKS=1 to allow an intranet one)",
                "webhook",
            )
    if not addresses:
        raise KpiLabError(f"{host!r} does not resolve to an address", "webhook")
    return addresses


def _webhook_parts(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path and query) of a well-formed webhook URL."""
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
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port, target


def check_webhook(url: str) -> None:
    """A well-formed http(s) URL to a public address, or an error naming the field."""
    _, host, port, _ = _webhook_parts(url)
    public_addresses(host, port)


def check_email(address: str) -> None:
    if not _EMAIL.match(address):
        raise KpiLabError(f"{address!r} is not an e-mail address", "email")


def check_destination(destination: str) -> None:
    if re.match(r"^[a-z][a-z0-9+.-]*://", destination, re.I):
        check_webhook(destination)
    else:
        check_email(destination)


@contextmanager
def deadline(seconds: float, cut: Callable[[], None]) -> Iterator[threading.Event]:
    """Run the block with ``cut`` called after ``seconds`` (it closes the socket the block
    waits on); the event tells the block the deadline struck."""
    struck = threading.Event()

    def strike() -> None:
        struck.set()
        cut()

    timer = threading.Timer(seconds, strike)
    timer.daemon = True
    timer.start()
    try:
        yield struck
    finally:
        timer.cancel()


class _Pinned(http.client.HTTPConnection):
    """An HTTP connection to an address checked beforehand, with the URL's name as Host."""

    def __init__(self, host: str, port: int, address: str, tls: bool) -> None:
        super().__init__(host, port, timeout=TIMEOUT_SECONDS)
        self.address, self.tls = address, tls

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), TIMEOUT_SECONDS)
        if self.tls:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        self.sock = sock

    def cut(self) -> None:
        sock = self.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def send_webhook(url: str, text: str, fields: dict, seconds: float | None = None) -> None:
    """POST ``{"text": ..., "fields": {...}}``: Slack and Teams show the text."""
    seconds = seconds or SEND_SECONDS
    try:
        scheme, host, port, target = _webhook_parts(url)
        address = public_addresses(host, port)[0]
    except KpiLabError as exc:
        raise DeliveryError(str(exc)) from None
    body = json.dumps({"text": text, "fields": fields}).encode()
    connection = _Pinned(host, port, address, scheme == "https")
    try:
        with deadline(seconds, connection.cut) as struck:
            try:
                connection.request("POST", target, body, {"Content-Type": "application/json"})
                answer = connection.getresponse()
                status = answer.status
                answer.read(MAX_ANSWER)
            except Exception as exc:  # any failure of this one send is its reason
                if struck.is_set():
                    raise DeliveryError(
                        f"the webhook did not answer within {seconds:g} seconds"
                    ) from None
                raise DeliveryError(f"the webhook could not be reached: {_reason(exc)}") from None
    finally:
        connection.close()
    if 300 <= status < 400:
        raise DeliveryError(f"the webhook answered with a redirect ({status}); use the final URL")
    if not 200 <= status < 300:
        raise DeliveryError(f"the webhook answered {status}")


def _reason(exc: BaseException) -> str:
    """One short line: the exception's class and first line, never a traceback."""
    text = str(exc).strip().splitlines()
    detail = text[0][:200] if text else ""
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


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


def send_email(
    address: str, subject: str, text: str, html: str, seconds: float | None = None
) -> None:
    """A plain-text e-mail with an HTML alternative (the report renderer's page)."""
    seconds = seconds or SEND_SECONDS
    settings = smtp_settings()
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, settings["sender"], address
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    server = (
        smtplib.SMTP_SSL(timeout=TIMEOUT_SECONDS, context=ssl.create_default_context())
        if settings["tls"] == "ssl"
        else smtplib.SMTP(timeout=TIMEOUT_SECONDS)
    )

    def cut() -> None:
        if server.sock is not None:
            try:
                server.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    with deadline(seconds, cut) as struck:
        try:
            server.connect(settings["host"], settings["port"])
            if settings["tls"] == "starttls":
                server.starttls(context=ssl.create_default_context())
            if settings["user"]:
                server.login(settings["user"], settings["password"] or "")
            server.send_message(message)
            server.quit()
        except Exception as exc:  # any failure of this one send is its reason
            server.close()
            if struck.is_set():
                raise DeliveryError(
                    f"the mail server did not answer within {seconds:g} seconds"
                ) from None
            raise DeliveryError(
                f"the mail server refused or could not be reached: {_reason(exc)}"
            ) from None
