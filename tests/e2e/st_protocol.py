"""A browser session without the browser: Streamlit's own websocket protocol, spoken from
Python, so that many simulated users can drive one real server from one machine.

A ``Session`` sends what the web client sends (a rerun with the page, the query string and
widget values; an upload through ``/_stcore/upload_file``) and collects what the server
answers until the script run ends: the elements drawn, the URL's query string, errors.
"""

from __future__ import annotations

import itertools
import time
import urllib.parse
from contextlib import ExitStack
from dataclasses import dataclass, field

import requests
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.Common_pb2 import FileUploaderState, UploadedFileInfo
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates
from websockets.sync.client import connect

XSRF_COOKIE = "_streamlit_xsrf"
_FINISHED = ForwardMsg.ScriptFinishedStatus
_DONE = {_FINISHED.FINISHED_SUCCESSFULLY, _FINISHED.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}


class ProtocolError(RuntimeError):
    """The server did not answer as a browser would expect."""


@dataclass
class Run:
    """What one script run drew, and how long the user waited for it."""

    elements: list[Element] = field(default_factory=list)
    seconds: float = 0.0
    raw: bytes = b""  # every message's bytes: to look for text anywhere, tables included

    def of(self, kind: str) -> list:
        return [getattr(e, kind) for e in self.elements if e.WhichOneof("type") == kind]

    def widget_id(self, kind: str, label: str) -> str:
        for widget in self.of(kind):
            if widget.label == label:
                return widget.id
        raise ProtocolError(f"no {kind} labelled {label!r} on the page")

    @property
    def errors(self) -> list[str]:
        """Exceptions and st.error messages: a user must see neither in a normal flow."""
        found = [f"exception: {e.message}" for e in self.of("exception")]
        found += [f"error: {a.body}" for a in self.of("alert") if a.format == a.ERROR]
        return found


class Session:
    """One browser tab on the app at ``base_url`` (http://host:port)."""

    def __init__(self, base_url: str, timeout: float = 120.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()
        self.http.trust_env = False  # loopback: never through a proxy
        self.http.get(f"{self.base_url}/_stcore/health", timeout=timeout).raise_for_status()
        self.xsrf = self.http.cookies.get(XSRF_COOKIE, "")
        ws_url = "ws" + self.base_url.removeprefix("http") + "/_stcore/stream"
        self._open = ExitStack()
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)
        self.ws = self._open.enter_context(
            connect(
                ws_url,
                subprotocols=["streamlit", self.xsrf] if self.xsrf else ["streamlit"],
                max_size=None,
                open_timeout=timeout,
                proxy=None,
                additional_headers={"Cookie": cookies} if cookies else None,
            )
        )
        self.query = ""
        self.pages: dict[str, str] = {}  # url path ("" for the default page) -> script hash
        self.page_hash = ""
        self.session_id = ""
        self._ids = itertools.count()

    def close(self) -> None:
        self._open.close()
        self.http.close()

    @property
    def params(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.query))

    def run(
        self,
        page: str | None = None,
        params: dict[str, str] | None = None,
        widgets: list[WidgetState] = (),
    ) -> Run:
        """A rerun as the browser asks for it: on ``page`` (its URL path), with the current
        query string (or ``params``) and these widget values. A first run on a page (before
        the app named its pages) goes by the URL path, as a browser opening that address."""
        if params is not None:
            self.query = urllib.parse.urlencode(params)
        state = ClientState(
            query_string=self.query,
            page_script_hash=self.pages.get(page, "") if page is not None else self.page_hash,
            page_name=page if page and not self.pages else "",
            widget_states=WidgetStates(widgets=list(widgets)),
        )
        if page is not None and page not in self.pages and self.pages:
            raise ProtocolError(f"no page {page!r}: the app has {sorted(self.pages)}")
        start = time.perf_counter()
        self.ws.send(BackMsg(rerun_script=state).SerializeToString())
        run = Run()
        chunks = []
        while True:
            msg = self._receive()
            chunks.append(msg.SerializeToString())
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                self._new_session(msg)
            elif kind == "navigation":  # st.navigation's pages
                self.pages = {p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages}
                self.page_hash = msg.navigation.page_script_hash
            elif kind == "page_info_changed":
                self.query = msg.page_info_changed.query_string
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                run.elements.append(msg.delta.new_element)
            elif kind == "script_finished":
                if msg.script_finished == _FINISHED.FINISHED_WITH_COMPILE_ERROR:
                    raise ProtocolError("the script did not compile")
                if msg.script_finished in _DONE:
                    break
                run = Run()  # ended early for a rerun (st.rerun): what counts is the next run
                chunks = []
        run.seconds = time.perf_counter() - start
        run.raw = b"".join(chunks)
        return run

    def upload(self, uploader_id: str, name: str, data: bytes) -> WidgetState:
        """Send a file as the browser does; the widget value that names it."""
        request_id = f"upload-{next(self._ids)}"
        request = BackMsg()
        request.file_urls_request.request_id = request_id
        request.file_urls_request.file_names.append(name)
        request.file_urls_request.session_id = self.session_id
        self.ws.send(request.SerializeToString())
        while True:
            msg = self._receive()
            if msg.WhichOneof("type") == "file_urls_response":
                if msg.file_urls_response.response_id == request_id:
                    urls = msg.file_urls_response.file_urls[0]
                    break
        target = urls.upload_url
        if target.startswith("/"):
            target = self.base_url + target
        done = self._put(target, name, data)
        if done.status_code not in (200, 204):
            raise ProtocolError(f"upload refused: HTTP {done.status_code} {done.text[:200]}")
        info = UploadedFileInfo(name=name, size=len(data), file_id=urls.file_id, file_urls=urls)
        return WidgetState(
            id=uploader_id, file_uploader_state_value=FileUploaderState(uploaded_file_info=[info])
        )

    def _put(self, target: str, name: str, data: bytes) -> requests.Response:
        """PUT the file. A kept-alive connection the server closed while idle (uvicorn after
        5 s) fails before any reply; a browser then resends on a new connection, and so does
        this, once."""

        def put() -> requests.Response:
            return self.http.put(
                target,
                files={"file": (name, data, "text/csv")},
                headers={"X-Xsrftoken": self.xsrf},
                timeout=self.timeout,
            )

        try:
            return put()
        except requests.ConnectionError as exc:
            if "aborted" not in str(exc):
                raise
        return put()

    def _new_session(self, msg: ForwardMsg) -> None:
        new = msg.new_session
        self.session_id = new.initialize.session_id or self.session_id

    def _receive(self) -> ForwardMsg:
        try:
            data = self.ws.recv(timeout=self.timeout)
        except TimeoutError:
            raise ProtocolError(f"no answer from the server in {self.timeout:.0f} s") from None
        msg = ForwardMsg()
        msg.ParseFromString(data)
        return msg


def trigger(widget_id: str) -> WidgetState:
    """A button click."""
    return WidgetState(id=widget_id, trigger_value=True)
