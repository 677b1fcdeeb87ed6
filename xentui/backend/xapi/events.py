"""`event.from` long polls on their own session and thread; changes go to asyncio.

XAPI's event API: `event.from(classes, token, timeout)` answers at once with what
changed since `token`, or blocks until something does or `timeout` passes. The first
call (empty token) dumps every object of the classes a pass uses: the host keeps those
records and applies every later change to them, so a pass reads no records at all.
Each answer is handed to the loop in one `call_soon_threadsafe` and the thread returns
to its poll at once; it holds no lock.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from xentui.backend.errors import BackendError
from xentui.backend.xapi.errors import failure_text
from xentui.backend.xapi.records import Change
from xentui.backend.xapi.session import Failure, XapiSession

POLL_S = 10.0
"""How long one poll may wait on the server (the socket waits a little longer)."""
CLASSES = ["pool", "host", "host_metrics", "vm", "vm_metrics"]
"""Every class whose records a pass uses (records.PoolRecords)."""

OnChanges = Callable[[list[Change], bool], object]
"""(the changes of one answer, whether it is the first answer's full dump), on the loop."""


class EventWatcher:
    """One thread polling `event.from` for the pool's changes until stopped or the link
    fails."""

    def __init__(
        self,
        session: XapiSession,
        loop: asyncio.AbstractEventLoop,
        on_changes: OnChanges,
        on_failed: Callable[[str], object],
        *,
        poll_s: float = POLL_S,
    ) -> None:
        self.session = session
        self.loop = loop
        self.on_changes = on_changes
        self.on_failed = on_failed
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="xapi-events", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end and log its session out (its blocked poll returns).

        Blocking (one short call): run it off the loop."""
        self._stop.set()
        self.session.logout()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _post(self, fn: Callable[..., object], *args: Any) -> None:
        if self._stop.is_set() or self.loop.is_closed():
            return
        try:
            self.loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the loop closed meanwhile
            pass

    def _poll(self, token: str, timeout: float) -> dict[str, Any]:
        answer = self.session.call(
            "event.from", CLASSES, token, timeout, timeout=timeout + self.session.timeout
        )
        return dict(answer)

    def _run(self) -> None:
        token = ""
        first = True
        while not self._stop.is_set():
            try:
                batch = self._poll(token, 0.0 if first else self.poll_s)
                changes = [_change(event) for event in batch.get("events", [])]
                token = str(batch.get("token", token))
            except Failure as err:
                if not self._stop.is_set():
                    self._post(self.on_failed, f"event.from failed: {failure_text(err.details)}")
                return
            except BackendError as err:
                self._post(self.on_failed, str(err))
                return
            except Exception as err:  # an answer of an unexpected shape: say so, not die mute
                self._post(self.on_failed, f"event.from answered oddly: {type(err).__name__}")
                return
            if changes or first:
                self._post(self.on_changes, changes, first)
            first = False


def _change(event: dict[str, Any]) -> Change:
    snapshot = event.get("snapshot")
    return (str(event.get("class", "")).lower(), str(event.get("operation", "")),
            str(event.get("ref", "")), dict(snapshot) if isinstance(snapshot, dict) else None)
