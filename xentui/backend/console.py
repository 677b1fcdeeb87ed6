"""A domain's serial console as the UI sees it: a byte pipe with an end, and the one
judge of whether the console of a domain can be opened now. Neutral: no libvirt here.

A backend opens a `ConsoleSession` and feeds it from its own I/O; the session hands the
bytes and its end to the UI on the asyncio loop, in order, and keeps what arrives before
the UI is listening (the guest may speak the moment the console opens).
"""

from __future__ import annotations

from collections.abc import Callable

from xentui.backend.actions import READONLY_REASON
from xentui.backend.models import DomainSample, DomainState

S = DomainState
CONSOLE_STATES = frozenset({S.RUNNING, S.BLOCKED, S.PAUSED})
"""A console exists only while the guest has a running instance (paused: it is silent)."""
DOM0_CONSOLE_REASON = "Domain-0 is the control domain: its console is the host's own"
PENDING_LIMIT = 1 << 20
"""Bytes kept for a UI that is not listening yet; older ones are dropped beyond this."""


def console_why_not(sample: DomainSample, *, readonly: bool, known: str | None) -> str | None:
    """Why the console of this domain cannot be opened now, or None if it can.

    `known` is what its host already knows against it (the driver has no consoles, the
    domain has no console device); libvirt refuses consoles on read-only connections.
    """
    if readonly:
        return READONLY_REASON
    if sample.is_dom0:
        return DOM0_CONSOLE_REASON
    if sample.state not in CONSOLE_STATES:
        return f"not possible while the domain is {sample.state.value}"
    return known


class ConsoleSession:
    """One open console. Callbacks run on the asyncio loop that opened it.

    `write` never blocks; `close` returns at once and lets the backend tear the stream
    down in the background. `ended` holds the reason once the session is over.
    """

    def __init__(self, name: str, host: str) -> None:
        self.name = name
        """The domain's name (data from the hypervisor, not markup)."""
        self.host = host
        self.ended: str | None = None
        self._on_data: Callable[[bytes], None] | None = None
        self._on_end: Callable[[str], None] | None = None
        self._pending = bytearray()

    def listen(self, on_data: Callable[[bytes], None], on_end: Callable[[str], None]) -> None:
        """Start receiving: bytes kept so far arrive first; an end already seen is told."""
        self._on_data, self._on_end = on_data, on_end
        if self._pending:
            data, self._pending = bytes(self._pending), bytearray()
            on_data(data)
        if self.ended is not None:
            on_end(self.ended)

    def unlisten(self) -> None:
        """Stop handing bytes and the end to anyone (they are kept again)."""
        self._on_data = self._on_end = None

    def received(self, data: bytes) -> None:
        """Bytes from the guest (backends call this on the loop)."""
        if self._on_data is not None:
            self._on_data(data)
            return
        self._pending += data
        if len(self._pending) > PENDING_LIMIT:
            del self._pending[: len(self._pending) - PENDING_LIMIT]

    def finish(self, reason: str) -> None:
        """The session is over (backends call this on the loop); the first reason wins."""
        if self.ended is not None:
            return
        self.ended = reason
        if self._on_end is not None:
            self._on_end(reason)

    def write(self, data: bytes) -> None:
        """Send bytes to the guest without waiting; dropped once the session ended."""
        if self.ended is None and data:
            self._send(data)

    def close(self, reason: str = "closed by xentui") -> None:
        """End the session now; the backend releases the stream in the background."""
        self.finish(reason)
        self._release()

    def _send(self, data: bytes) -> None:
        raise NotImplementedError

    def _release(self) -> None:
        raise NotImplementedError

