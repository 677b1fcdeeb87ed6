"""One libvirt connection: opened off the caller's thread, with keepalive, a close
callback and domain event callbacks whose data is handed to asyncio thread-safely."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import libvirt
from xentui.backend.errors import ConnectError, ConnectionLost
from xentui.backend.libvirt import events
from xentui.backend.libvirt.errors import LOST_CODES, libvirt_message
from xentui.backend.libvirt.eventloop import ensure_event_loop
from xentui.backend.libvirt.keepalive import KeepaliveOnDemand
from xentui.backend.models import DomainEvent

T = TypeVar("T")

KEEPALIVE_INTERVAL_S = 2
KEEPALIVE_COUNT = 3
"""A silent peer is declared dead after about interval * (count + 1) seconds."""
KEEPALIVE_ON_DEMAND = True
"""On a local daemon's unix socket, keepalive starts once a call waits (keepalive.py)."""
SHUTDOWN_GRACE_S = 2.0
"""How long closing waits for libvirt calls already running in the pool."""

_CLOSE_REASONS = {
    libvirt.VIR_CONNECT_CLOSE_REASON_ERROR: "a connection error",
    libvirt.VIR_CONNECT_CLOSE_REASON_EOF: "the daemon closed the connection",
    libvirt.VIR_CONNECT_CLOSE_REASON_KEEPALIVE: "keepalive timed out (no answer from the host)",
    libvirt.VIR_CONNECT_CLOSE_REASON_CLIENT: "closed by the client",
}

_LOST_WORDS = ("client socket is closed", "not connected", "connection reset", "end of file")


def is_local(uri: str) -> bool:
    """Whether a URI names this machine's hypervisor (no remote host part)."""
    host = urlsplit(uri).hostname
    return host in (None, "", "localhost", "127.0.0.1", "::1") and "+ssh" not in uri


def with_no_tty(uri: str) -> str:
    """An ssh URI with `no_tty=1` unless the user chose: ssh must never prompt for a
    password or a host key over the screen (it would hang the connection silently)."""
    parts = urlsplit(uri)
    if "+ssh" not in parts.scheme or any(k == "no_tty" for k, _ in parse_qsl(parts.query)):
        return uri
    return f"{uri}{'&' if parts.query else '?'}no_tty=1"


def host_label(uri: str) -> str:
    """A short name for the host behind a URI: its host part, else 'localhost'."""
    return urlsplit(uri).hostname or "localhost"


def in_process(uri: str) -> bool:
    """Whether the driver runs inside this process (no daemon, no round trips)."""
    parts = urlsplit(uri)
    return "+" not in parts.scheme and (parts.scheme == "test" or parts.path == "/embed")


def is_connection_error(err: libvirt.libvirtError) -> bool:
    """Whether a libvirt error means the connection itself is gone."""
    msg = (err.get_error_message() or "").lower()
    return err.get_error_code() in LOST_CODES or any(w in msg for w in _LOST_WORDS)


def keepalive_on_demand(uri: str) -> bool:
    """Whether keepalive may wait for a waiting call: a daemon on this machine over its
    unix socket (a dead one closes the socket; only a frozen one needs keepalive)."""
    return KEEPALIVE_ON_DEMAND and is_local(uri) and not in_process(uri)


def _open_blocking(uri: str, readonly: bool) -> libvirt.virConnect:
    if readonly:
        return libvirt.openReadOnly(uri)
    return libvirt.open(uri)


class HostConnection:
    """A libvirt connection plus the thread pool that makes its blocking calls.

    Callbacks given here (`on_event`, `on_closed`) run on the asyncio loop that opened
    the connection, never on libvirt's event thread.
    """

    def __init__(
        self,
        uri: str,
        *,
        readonly: bool = False,
        pool_size: int = 8,
        on_event: Callable[[DomainEvent], None] | None = None,
        on_closed: Callable[[str], None] | None = None,
    ) -> None:
        self.uri = uri
        self.readonly = readonly
        self.pool = ThreadPoolExecutor(pool_size, thread_name_prefix="libvirt-call")
        self.on_event = on_event
        self.on_closed = on_closed
        self.conn: libvirt.virConnect | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._callback_ids: list[int] = []
        self._close_registered = False
        self._in_flight = 0
        self._idle = threading.Condition()
        self._open_answered: threading.Event | None = None
        """Set once the last open's libvirt call returned (its thread may still be
        handing the answer over: a reconnect right after must not count it as waiting)."""
        self._keepalive: KeepaliveOnDemand | None = None
        self.answered: Callable[[], float] = lambda: 0.0
        """When the last answer came inside a long call (monotonic; the host's sampler
        tells), so that a pass being answered domain after domain is not 'waiting'."""

    async def open(self, timeout: float = 10.0) -> libvirt.virConnect:
        """Open the connection without blocking the loop; ConnectError on any failure."""
        ensure_event_loop()
        if self._open_answered is not None and not self._open_answered.is_set():
            # A host that never answers keeps its open blocked: never stack a second one.
            raise ConnectError(
                f"cannot connect to {self.uri}: the previous attempt is still waiting for an answer"
            )
        loop = asyncio.get_running_loop()
        self._loop = loop
        fut: asyncio.Future[libvirt.virConnect] = loop.create_future()
        answered = self._open_answered = threading.Event()

        def opener() -> None:
            failure: libvirt.libvirtError | None = None
            try:
                conn = _open_blocking(self.uri, self.readonly)
            except libvirt.libvirtError as err:
                failure = err
            finally:
                answered.set()
            if failure is not None:
                exc = ConnectError(f"cannot connect to {self.uri}: {libvirt_message(failure)}")
                _deliver(loop, fut, None, exc)
            elif not _deliver(loop, fut, conn, None):
                _close_quietly(conn)

        threading.Thread(target=opener, name="libvirt-open", daemon=True).start()
        try:
            conn = await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            raise ConnectError(
                f"cannot connect to {self.uri}: no answer within {timeout:g} s"
            ) from None
        self.conn = conn
        on_demand = keepalive_on_demand(self.uri)
        await self.call(self._setup, conn, not on_demand)
        if on_demand:
            self._keepalive = KeepaliveOnDemand(partial(self._arm_keepalive, loop, conn),
                                                lambda: self.answered())
        return conn

    def _setup(self, conn: libvirt.virConnect, keepalive: bool) -> None:
        # Every connection through a daemon (remote, or a local unix socket to a daemon
        # that may hang) gets keepalive, at once or while a call waits; in-process
        # drivers refuse it, which is fine.
        if keepalive:
            _set_keepalive(conn)
        try:
            conn.registerCloseCallback(self._closed_cb, None)
            self._close_registered = True
        except libvirt.libvirtError:
            self._close_registered = False
        self._register_events(conn)

    def _register_events(self, conn: libvirt.virConnect) -> None:
        wanted: list[tuple[int, Callable[..., None]]] = [
            (libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._lifecycle_cb),
            (libvirt.VIR_DOMAIN_EVENT_ID_REBOOT, self._reboot_cb),
            (libvirt.VIR_DOMAIN_EVENT_ID_WATCHDOG, self._watchdog_cb),
            (libvirt.VIR_DOMAIN_EVENT_ID_IO_ERROR, self._io_error_cb),
            (libvirt.VIR_DOMAIN_EVENT_ID_CONTROL_ERROR, self._control_error_cb),
            (libvirt.VIR_DOMAIN_EVENT_ID_METADATA_CHANGE, self._metadata_cb),
        ]
        self._callback_ids = []
        for event_id, cb in wanted:
            try:
                self._callback_ids.append(conn.domainEventRegisterAny(None, event_id, cb, None))
            except libvirt.libvirtError:
                continue

    def _arm_keepalive(self, loop: asyncio.AbstractEventLoop, conn: libvirt.virConnect) -> None:
        """Switch keepalive on off the loop (libvirt takes locks a waiting call may hold),
        counted as a call in flight so that releasing the connection waits for it."""

        def arm() -> None:
            with self.borrowed():
                if self.conn is conn:
                    _set_keepalive(conn)

        with contextlib.suppress(RuntimeError):  # the loop is closing
            loop.run_in_executor(None, arm)

    # Callbacks below run on libvirt's event thread: build plain data, hand it over, return.
    def _post(self, fn: Callable[..., None] | None, *args: Any) -> None:
        loop = self._loop
        if fn is None or loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:
            pass

    def _lifecycle_cb(self, _c: Any, dom: libvirt.virDomain, ev: int, detail: int, _o: Any) -> None:
        self._post(self.on_event, events.lifecycle(self.uri, dom, ev, detail))

    def _reboot_cb(self, _c: Any, dom: libvirt.virDomain, _o: Any) -> None:
        self._post(self.on_event, events.reboot(self.uri, dom))

    def _watchdog_cb(self, _c: Any, dom: libvirt.virDomain, action: int, _o: Any) -> None:
        self._post(self.on_event, events.watchdog(self.uri, dom, action))

    def _io_error_cb(
        self, _c: Any, dom: libvirt.virDomain, _src: str, dev: str, action: int, _o: Any
    ) -> None:
        self._post(self.on_event, events.io_error(self.uri, dom, dev, action))

    def _control_error_cb(self, _c: Any, dom: libvirt.virDomain, _o: Any) -> None:
        self._post(self.on_event, events.control_error(self.uri, dom))

    def _metadata_cb(self, _c: Any, dom: libvirt.virDomain, mtype: int, nsuri: str | None,
                     _o: Any) -> None:
        self._post(self.on_event, events.metadata_change(self.uri, dom, mtype, nsuri))

    def _closed_cb(self, _conn: Any, reason: int, _o: Any) -> None:
        if reason == libvirt.VIR_CONNECT_CLOSE_REASON_CLIENT:
            return
        self._post(self.on_closed, _CLOSE_REASONS.get(reason, f"reason {reason}"))

    @contextlib.contextmanager
    def borrowed(self) -> Iterator[None]:
        """Count a use of this connection from another host's thread (the target side of
        a migration) as a call in flight, so closing it waits for that use to end:
        closing a connection another thread is inside crashes the process."""
        with self._idle:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a blocking libvirt call in the pool; ConnectionLost if the link broke."""
        loop = asyncio.get_running_loop()
        with self._idle:
            self._in_flight += 1
        watch = self._keepalive
        token = watch.started() if watch is not None else 0

        started = dropped = False

        def run() -> T:
            nonlocal started
            with self._idle:
                if dropped:  # its caller was cancelled while it queued: nobody waits
                    raise asyncio.CancelledError
                started = True
            try:
                return fn(*args)
            finally:
                with self._idle:
                    self._in_flight -= 1
                    self._idle.notify_all()

        try:
            future = loop.run_in_executor(self.pool, run)
        except RuntimeError:  # the pool was shut down: this host is closing
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()
            raise ConnectionLost(f"{self.uri} is closing") from None
        try:
            return await future
        except asyncio.CancelledError:
            with self._idle:  # a call that never ran is no longer in flight
                if not started:
                    dropped = True
                    self._in_flight -= 1
                    self._idle.notify_all()
            raise
        except libvirt.libvirtError as err:
            if is_connection_error(err):
                raise ConnectionLost(f"lost {self.uri}: {libvirt_message(err)}") from err
            raise
        finally:
            if watch is not None:
                watch.ended(token)

    def is_alive(self) -> bool:
        """libvirt's own opinion of the link (local check, no round trip)."""
        conn = self.conn
        try:
            return conn is not None and conn.isAlive() == 1
        except libvirt.libvirtError:
            return False

    def wait_idle(self, timeout: float = SHUTDOWN_GRACE_S) -> bool:
        """Wait until no submitted call is queued or running (bounded); True if idle."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight <= 0, timeout)

    def release(self) -> None:
        """Forget the connection: deregister callbacks and close it (blocking).

        Closing a connection that a pool thread is about to use crashes the process
        (libvirt-python hands the freed pointer to libvirt) or deadlocks libvirt's client
        (seen: a pass still fanning calls out after the console ended), so calls already
        submitted get a short grace first. A call still running after it is not waited
        for, and the connection is not closed under it: it is dropped here and closes
        when the last call using it lets go of it.
        """
        conn, self.conn = self.conn, None  # first: a keepalive switch now leaves it be
        watch, self._keepalive = self._keepalive, None
        if watch is not None:
            watch.close()
        idle = self.wait_idle()
        if conn is None or not idle:
            return
        for cb_id in self._callback_ids:
            try:
                conn.domainEventDeregisterAny(cb_id)
            except libvirt.libvirtError:
                pass
        self._callback_ids = []
        if self._close_registered:
            try:
                conn.unregisterCloseCallback()
            except libvirt.libvirtError:
                pass
            self._close_registered = False
        _close_quietly(conn)

    def shutdown(self) -> None:
        """Stop the pool, give calls already running a short grace, release the connection.

        Closing the connection while a pool thread is about to use it crashes the
        process (libvirt-python hands the freed pointer to libvirt), so calls already
        submitted may finish first; a hung call is not waited for longer.
        """
        self.pool.shutdown(wait=False)
        self.release()


def _deliver(
    loop: asyncio.AbstractEventLoop,
    fut: asyncio.Future[libvirt.virConnect],
    value: libvirt.virConnect | None,
    exc: BaseException | None,
) -> bool:
    """Complete `fut` from another thread; False if nobody waits any more."""
    done = threading.Event()
    taken = [False]

    def settle() -> None:
        if not fut.done():
            if exc is not None:
                fut.set_exception(exc)
            else:
                fut.set_result(value)
            taken[0] = True
        done.set()

    try:
        loop.call_soon_threadsafe(settle)
    except RuntimeError:
        return False
    done.wait(5)
    return taken[0]


def _set_keepalive(conn: libvirt.virConnect) -> None:
    try:
        conn.setKeepAlive(KEEPALIVE_INTERVAL_S, KEEPALIVE_COUNT)
    except libvirt.libvirtError:
        pass


def _close_quietly(conn: libvirt.virConnect) -> None:
    try:
        conn.close()
    except libvirt.libvirtError:
        pass
