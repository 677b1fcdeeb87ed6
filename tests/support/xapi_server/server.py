"""The server object: one simulated XAPI host listening on a TCP port.

Servers sharing one :class:`Database` form one pool (:meth:`XapiServer.member`).
A test controls the host "from outside" through ``srv.db`` (see ``db.py``) and the
methods here: :meth:`freeze` / :meth:`thaw` (a master that stops answering, by
hanging or by closing connections), :meth:`expire_sessions`,
:meth:`set_operation_delay`, :meth:`stop`.  :meth:`stop` waits for every thread the
server started and fails loudly if one is left.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
from collections.abc import Iterator
from typing import Any, ClassVar, Literal

from .db import Database
from .handler import ThreadedHTTPServer
from .rpc import Dispatcher
from .seed import default_database

Outage = Literal["hang", "close"]
_JOIN_TIMEOUT = 3.0


class XapiServer:
    """A simulated XAPI host on ``address:port`` (0: an ephemeral port).

    ``host`` (ref, uuid or name) is the host this server runs on; by default the
    pool master.  ``session_timeout``: seconds of inactivity after which a session
    expires (xapi's session GC; default never).  ``tls``: (certificate file, key file)
    to serve HTTPS as xapi does on port 443 (XCP-ng installs a self-signed certificate);
    the TLS handshake happens in the connection's own thread.
    """

    _live: ClassVar[set[XapiServer]] = set()
    _live_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        db: Database | None = None,
        *,
        host: str | None = None,
        address: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        users: dict[str, str] | None = None,
        session_timeout: float | None = None,
        tls: tuple[str, str] | None = None,
    ) -> None:
        self.owns_db = db is None
        self.db = db if db is not None else default_database(seed=seed, users=users)
        if session_timeout is not None:
            self.db.session_timeout = session_timeout
        self.local_host = self.db.find("host", host) if host else self.db.master
        self.dispatcher = Dispatcher(self.db, lambda: self.local_host, lambda: self.stopping)
        self.outage: Outage | None = None
        self.answering = threading.Event()
        self.answering.set()
        self.stopping = False
        self.members: list[XapiServer] = []
        self.address = address
        self._httpd = ThreadedHTTPServer((address, port), self)
        self.tls = tls
        if tls is not None:  # xapi serves HTTPS, by default with a self-signed certificate
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._httpd.socket = context.wrap_socket(
                self._httpd.socket, server_side=True, do_handshake_on_connect=False
            )
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The URL to give ``XenAPI.Session``."""
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.address}:{self.port}/"

    def start(self) -> XapiServer:
        """Serve in a background thread."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"xapi-sim :{self.port}",
            daemon=True,
        )
        with self._live_lock:
            self._live.add(self)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (members too): long polls, held and queued requests end at once.

        Raises RuntimeError when a thread of the server is still alive afterwards.
        """
        for member in self.members:
            member.stop()
        self.stopping = True
        self.answering.set()
        with self.db.cond:
            if self.owns_db:
                self.db.closed = True
            self.db.cond.notify_all()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(_JOIN_TIMEOUT)
        self._httpd.server_close()
        with self._httpd.handlers_lock:
            threads = list(self._httpd.handlers)
        if self.owns_db:
            with self.db.cond:
                threads += self.db.workers
        for thread in threads:
            thread.join(_JOIN_TIMEOUT)
        with self._live_lock:
            self._live.discard(self)
        left = [t.name for t in [self._thread, *threads] if t is not None and t.is_alive()]
        if left:
            raise RuntimeError(f"XAPI simulator threads still running after stop: {left}")

    @classmethod
    def live_servers(cls) -> list[XapiServer]:
        """Servers started and not stopped yet (for leak checks in fixtures)."""
        with cls._live_lock:
            return list(cls._live)

    def freeze(self, mode: Outage = "hang") -> None:
        """Stop answering until :meth:`thaw`.

        ``"hang"``: requests are read and held without an answer (a client times out);
        ``"close"``: each connection is closed without an answer (a client sees the
        server disconnect).  The port stays open either way.
        """
        self.outage = mode
        self.answering.clear()

    def thaw(self) -> None:
        """Answer again, including the requests held while frozen (``"hang"``)."""
        self.outage = None
        self.answering.set()

    def expire_sessions(self) -> None:
        """Time out every session: their next call answers SESSION_INVALID."""
        self.db.expire_sessions()

    def set_operation_delay(self, seconds: float) -> None:
        """How long each VM lifecycle operation takes from now on."""
        self.db.op_delay = seconds

    def member(self, host: str) -> XapiServer:
        """A started server for another host of this pool (shares the database).

        It answers ``HOST_IS_SLAVE`` to API calls while its host is not the master,
        and serves ``rrd_updates`` for its own host, as a pool member does.
        """
        server = XapiServer(self.db, host=host, address=self.address)
        self.members.append(server)
        return server.start()

    def urls_by_address(self) -> dict[str, str]:
        """Host ``address`` field -> URL of the server acting as that host."""
        with self.db.cond:
            return {
                self.db.get("host", s.local_host)["address"]: s.url for s in [self, *self.members]
            }

    def __enter__(self) -> XapiServer:
        return self if self._thread else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @classmethod
    @contextlib.contextmanager
    def running(cls, **kwargs: Any) -> Iterator[XapiServer]:
        """``with XapiServer.running() as srv:`` a started server, stopped afterwards."""
        server = cls(**kwargs).start()
        try:
            yield server
        finally:
            server.stop()
