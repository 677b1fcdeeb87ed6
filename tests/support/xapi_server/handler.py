"""The HTTP side of a simulated host: XML-RPC on ``POST /`` and ``GET /rrd_updates``.

One thread per connection (named ``xapi-sim :<port> request``, tracked so that
``XapiServer.stop`` can wait for every one of them), so that a blocked ``event.from``
long poll never delays other calls.  Answers are HTTP/1.0, one request per
connection, as xapi answers XML-RPC clients that do not ask for keep-alive.

While the owner is in an *outage* (``XapiServer.freeze``) every request is read and
then either held without an answer until the outage ends (``"hang"``: a stalled
master; the request is served afterwards) or dropped by closing the connection
without a byte of answer (``"close"``: a master whose xapi keeps crashing).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import threading
import xmlrpc.client
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from . import rrd
from .db import Database
from .errors import INTERNAL_ERROR, XapiError
from .rpc import failure

if TYPE_CHECKING:
    from .server import XapiServer


class Abort(Exception):
    """Drop the connection without an answer (an outage, or the server stopping)."""


class ThreadedHTTPServer(HTTPServer):
    """An HTTP server that serves each connection in its own tracked daemon thread."""

    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], owner: XapiServer) -> None:
        super().__init__(address, Handler)
        self.owner = owner
        self.handlers: list[threading.Thread] = []
        self.handlers_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        """Start a thread for one connection."""
        thread = threading.Thread(
            target=self._serve_one,
            args=(request, client_address),
            name=f"xapi-sim :{self.server_address[1]} request",
            daemon=True,
        )
        with self.handlers_lock:
            self.handlers = [t for t in self.handlers if t.is_alive()] + [thread]
        thread.start()

    def _serve_one(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Client hang-ups are normal here (timeouts in tests): stay quiet."""


class Handler(BaseHTTPRequestHandler):
    """Serves one request; ``Connection: close`` (HTTP/1.0)."""

    server: ThreadedHTTPServer
    server_version = "xapi/24.19"
    timeout = 2.0  # a client that connects and sends nothing cannot hold a thread

    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr."""

    def handle(self) -> None:
        """Serve, ignoring clients that gave up, outages and a stop in progress."""
        with contextlib.suppress(Abort, ConnectionError, TimeoutError):
            super().handle()

    def _gate(self) -> None:
        """Hold or drop the request while the owner is in an outage or stopping."""
        owner = self.server.owner
        while True:
            if owner.stopping or owner.outage == "close":
                raise Abort
            if owner.outage is None:
                return
            owner.answering.wait(0.05)

    def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        """Write one complete answer (after the gate)."""
        self._gate()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        """An XML-RPC call; the answer is always an XAPI envelope."""
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._gate()
        if urlsplit(self.path).path not in ("/", "/RPC2"):
            self._send(404, b"Not found", "text/plain")
            return
        try:
            params, method = xmlrpc.client.loads(body)
        except Exception as exc:  # not XML-RPC at all: a fault, as any XML-RPC server
            fault = xmlrpc.client.Fault(400, f"cannot parse request: {exc}")
            self._send(200, xmlrpc.client.dumps(fault).encode(), "text/xml")
            return
        envelope = self.server.owner.dispatcher.dispatch(method or "", params)
        try:
            payload = xmlrpc.client.dumps((envelope,), methodresponse=True)
        except TypeError as exc:
            error = XapiError(INTERNAL_ERROR, f"cannot marshal answer: {exc}")
            payload = xmlrpc.client.dumps((failure(error),), methodresponse=True)
        self._send(200, payload.encode(), "text/xml")

    def do_GET(self) -> None:
        """``/rrd_updates``; authenticated by ``session_id`` or HTTP basic auth."""
        self._gate()
        url = urlsplit(self.path)
        if url.path != "/rrd_updates":
            self._send(404, b"Not found", "text/plain")
            return
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        owner = self.server.owner
        if not self._authorised(owner.db, query):
            self._send(401, b"Unauthorised", "text/plain", WWW_Authenticate='Basic realm="xapi"')
            return
        if "application/json" in self.headers.get("Accept", ""):
            query.setdefault("json", "true")
        try:
            content_type, text = rrd.export(owner.db, owner.local_host, query)
        except (ValueError, KeyError) as exc:
            self._send(400, f"Bad request: {exc}".encode(), "text/plain")
            return
        self._send(200, text.encode(), content_type, Access_Control_Allow_Origin="*")

    def _authorised(self, db: Database, query: dict[str, str]) -> bool:
        """A valid session in the query or cookie, or good basic-auth credentials."""
        cookies = dict(
            part.strip().split("=", 1)
            for part in self.headers.get("Cookie", "").split(";")
            if "=" in part
        )
        session = query.get("session_id") or cookies.get("session_id")
        if session:
            try:
                db.check_session(session)
                return True
            except XapiError:
                return False
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            return db.check_password(user, password)
        return False
