"""libvirt keepalive on a local daemon's socket, switched on only once a call waits.

libvirt re-arms its keepalive timer on every message it receives, which wakes its event
thread (and takes the GIL) once per call: about 20 us of the event thread and 30 us of
the process per call here, 3 points of a core at 1000 domains a second. On a unix socket
to a daemon on this machine a daemon that dies closes the socket and the close callback
fires at once; only a frozen daemon (SIGSTOP, a deadlock) goes unnoticed, and only by a
call waiting for it. So keepalive is switched on when a call has had no answer for
ARM_AFTER_S (a pass that keeps getting answers is not waiting). libvirt counts the
silence from the last message received, so a frozen daemon is still declared dead about
interval * (count + 1) seconds after its last answer, as with keepalive from the start,
as long as the next call starts within half a second of that answer; a second later at
most with a 1 s interval (the link idle between passes).

libvirt cannot switch keepalive off again ("keepalive interval already set"), so once on
it stays on for the life of that connection; a reconnect starts without it.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable

ARM_AFTER_S = 1.0
"""A call that has had no answer this long switches keepalive on. Switched on within
KEEPALIVE_INTERVAL_S of the last answer, detection is as quick as with keepalive always on."""
CHECK_EVERY_S = 0.25
"""How often waiting calls are looked at once the oldest is past ARM_AFTER_S."""


class KeepaliveOnDemand:
    """Tracks the calls waiting on a connection (on the asyncio loop) and calls `arm()`,
    which must not block the loop, once one has waited ARM_AFTER_S without an answer.
    `answered()` is when the last answer came inside a long call (monotonic; a pass
    reading domain after domain keeps moving it); any call ending counts as an answer
    too. A long call while answers come is not waiting."""

    def __init__(self, arm: Callable[[], None], answered: Callable[[], float]) -> None:
        self._arm = arm
        self._answered = answered
        self._waiting: dict[int, float] = {}
        self._ids = itertools.count()
        self._timer: asyncio.TimerHandle | None = None
        self._last_end = 0.0
        self.armed = False
        self._closed = False

    def started(self) -> int:
        """A call starts waiting; returns its token for `ended`."""
        token = next(self._ids)
        self._waiting[token] = time.monotonic()
        if self._timer is None and not self.armed and not self._closed:
            self._timer = asyncio.get_running_loop().call_later(ARM_AFTER_S, self._check)
        return token

    def ended(self, token: int) -> None:
        """The call has its answer (or failed): the daemon answers."""
        self._waiting.pop(token, None)
        self._last_end = time.monotonic()

    def _check(self) -> None:
        self._timer = None
        if self._closed or self.armed or not self._waiting:
            return
        now = time.monotonic()
        since = max(min(self._waiting.values()), self._answered(), self._last_end)
        if now - since >= ARM_AFTER_S:
            self.armed = True
            self._arm()
            return
        wait = max(CHECK_EVERY_S, ARM_AFTER_S - (now - since))
        self._timer = asyncio.get_running_loop().call_later(wait, self._check)

    def close(self) -> None:
        """Stop watching (the connection is being released); safe from any thread: a
        check already scheduled finds it closed and ends."""
        self._closed = True
