"""A domain's console over the connection xentui already holds: `openConsole` on a
non-blocking stream whose callbacks run on libvirt's event thread.

The callbacks only move bytes that are already there (non-blocking `recv`/`send`) and
hand them to asyncio with `call_soon_threadsafe`; tearing the stream down (`abort`
waits for the daemon) is done by the host in its pool, never on the event thread.
"""

from __future__ import annotations

import asyncio
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import libvirt
from xentui.backend.console import ConsoleSession
from xentui.backend.errors import BackendError, ConsoleBusy, DomainGone, NotAllowed, Unsupported
from xentui.backend.libvirt.errors import libvirt_message, translate

READABLE = libvirt.VIR_STREAM_EVENT_READABLE
WRITABLE = libvirt.VIR_STREAM_EVENT_WRITABLE
ENDED = libvirt.VIR_STREAM_EVENT_ERROR | libvirt.VIR_STREAM_EVENT_HANGUP
READ_EVENTS = READABLE | ENDED
WRITE_EVENTS = READ_EVENTS | WRITABLE
RECV_CHUNK = 64 * 1024
RECV_PER_EVENT = 256 * 1024
"""At most this much is read in one callback, so one chatty guest cannot hog the thread."""
SEND_CHUNK = 64 * 1024
OUT_LIMIT = 1 << 20
"""Bytes typed (or pasted) that the guest has not taken yet; more are dropped."""
EOF_REASON = "the console closed (the guest stopped, or the host closed its console)"
HANGUP_REASON = "the host hung up the console"
BUSY_WORDS = ("active console session exists",)
NO_DEVICE_WORDS = ("cannot find character device", "not using a pty", "cannot find console")
NO_DEVICE_REASON = "the domain has no serial port or console device"


def device_reason(xml: str) -> str | None:
    """Why the console named in a domain's XML cannot be attached (None: it can): the
    driver opens the first console, else the first serial port, and only a pty."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return None  # let openConsole decide
    dev = root.find("devices/console")
    if dev is None:
        dev = root.find("devices/serial")
    if dev is None:
        return NO_DEVICE_REASON
    kind = dev.get("type", "")
    if kind != "pty":
        return f"its console is a {kind or 'typeless'} device, not a pty: it cannot be attached"
    return None


def _open_error(err: libvirt.libvirtError, name: str) -> BackendError:
    msg = libvirt_message(err)
    low = msg.lower()
    if any(w in low for w in BUSY_WORDS):
        return ConsoleBusy(f"Console {name}: another session holds it ({msg})")
    if any(w in low for w in NO_DEVICE_WORDS):
        return Unsupported(f"Console {name}: {NO_DEVICE_REASON} ({msg})")
    if "not running" in low:
        return NotAllowed(f"Console {name}: the domain is not running")
    return translate(err, f"Console {name}")


class LibvirtConsole(ConsoleSession):
    """A console session fed by a libvirt stream (see the module docstring)."""

    def __init__(self, stream: libvirt.virStream, name: str, host: str,
                 loop: asyncio.AbstractEventLoop,
                 release: Callable[[LibvirtConsole], None]) -> None:
        super().__init__(name, host)
        self.stream = stream
        self._loop = loop
        self._release_by = release
        self._lock = threading.Lock()
        """Guards the outgoing bytes and the events asked for (never held while posting)."""
        self._out = bytearray()
        self._events = 0
        self._stopped = False
        self._released = False

    def start(self) -> None:
        """Register the stream callback (from the thread that opened the console)."""
        with self._lock:
            self._events = READ_EVENTS
            self.stream.eventAddCallback(READ_EVENTS, self._on_stream, None)

    # -- the loop's side -----------------------------------------------------------
    def _send(self, data: bytes) -> None:
        with self._lock:
            if self._stopped:
                return
            room = OUT_LIMIT - len(self._out)
            self._out += data[:max(room, 0)]
            self._want(WRITE_EVENTS)

    def _release(self) -> None:
        with self._lock:
            self._stopped = True
        if not self._released:
            self._released = True
            self._release_by(self)

    def teardown(self) -> None:
        """Drop the callback and abort the stream (blocking: run it in a pool)."""
        with self._lock:
            self._stopped = True
        for call in (self.stream.eventRemoveCallback, self.stream.abort):
            try:
                call()
            except libvirt.libvirtError:
                pass

    # -- libvirt's event thread ----------------------------------------------------
    def _want(self, events: int) -> None:
        """Ask for `events` (call with the lock held; the update does not wait on the
        daemon). A stream already gone reports its end through its own callback."""
        if events == self._events or self._stopped:
            return
        try:
            self.stream.eventUpdateCallback(events)
        except libvirt.libvirtError:
            return
        self._events = events

    def _post(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            self._loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            pass

    def _on_stream(self, stream: libvirt.virStream, events: int, _opaque: object) -> None:
        if self._stopped:
            return
        chunks, reason = self._drain(stream)
        if reason is None and events & WRITABLE:
            reason = self._flush(stream)
        if reason is None and events & ENDED:
            reason = HANGUP_REASON
        if chunks:
            self._post(self.received, b"".join(chunks))
        with self._lock:
            if reason is not None:
                self._want(0)
                self._stopped = True
            else:
                self._want(WRITE_EVENTS if self._out else READ_EVENTS)
        if reason is not None:
            self._post(self.close, reason)

    def _drain(self, stream: libvirt.virStream) -> tuple[list[bytes], str | None]:
        """Whatever the stream holds now, and the reason it ended if it did."""
        chunks: list[bytes] = []
        total = 0
        while total < RECV_PER_EVENT:
            try:
                data = stream.recv(RECV_CHUNK)
            except libvirt.libvirtError as err:
                return chunks, f"the console stream failed: {libvirt_message(err)}"
            if isinstance(data, int):  # -2: nothing more for now
                return chunks, None
            if not data:
                return chunks, EOF_REASON
            chunks.append(data)
            total += len(data)
        return chunks, None

    def _flush(self, stream: libvirt.virStream) -> str | None:
        """Send what is waiting, as much as the stream takes now."""
        with self._lock:
            data = bytes(self._out[:SEND_CHUNK])
        if not data:
            return None
        try:
            sent = stream.send(data)
        except libvirt.libvirtError as err:
            return f"the console stream failed: {libvirt_message(err)}"
        if sent > 0:
            with self._lock:
                del self._out[:sent]
        return None


def open_console(conn: libvirt.virConnect, uuid: str, force: bool, host: str,
                 loop: asyncio.AbstractEventLoop,
                 release: Callable[[LibvirtConsole], None]) -> LibvirtConsole:
    """Open the domain's console on `conn` (blocking: run it in the host's pool).

    ConsoleBusy if another session holds it and `force` is off; with `force`, that
    session is disconnected by the daemon.
    """
    try:
        dom = conn.lookupByUUIDString(uuid)
        name = dom.name()
    except libvirt.libvirtError as err:
        if err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            raise DomainGone("Console: the domain no longer exists") from err
        raise translate(err, "Console") from err
    stream = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
    try:
        dom.openConsole(None, stream, libvirt.VIR_DOMAIN_CONSOLE_FORCE if force else 0)
    except libvirt.libvirtError as err:
        raise _open_error(err, name) from err
    session = LibvirtConsole(stream, name, host, loop, release)
    try:
        session.start()
    except libvirt.libvirtError as err:
        session.teardown()
        raise translate(err, f"Console {name}") from err
    return session


def check_console(conn: libvirt.virConnect, uuid: str) -> tuple[int | None, str | None]:
    """A running domain's id and why its console cannot be attached (None: it can);
    blocking."""
    dom = conn.lookupByUUIDString(uuid)
    dom_id = dom.ID()
    return (dom_id if dom_id >= 0 else None), device_reason(dom.XMLDesc(0))
