"""Hosts' passes on one shared clock, and the results of passes that started together
handed on together.

A screen over many hosts redraws after every result it is handed; a whole frame costs far
more than one host's figures, so twenty hosts whose passes end at twenty moments of each
second cost twenty frames a second where one host of the same size costs one. Here every
host with the same interval starts its passes on the same ticks, and the results of one
tick are held until every host of the tick has ended its pass, or at most HOLD_SHARE of
the interval after the first end, longer only for hosts whose last pass says they will
end soon (never past HOLD_LIMIT_SHARE of the interval after the tick): under load a
tick's passes end over more than HOLD_SHARE, and each group handed on is a frame. A hung
host is handed on alone when it ends, never holding the others back past that.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from xentui.backend.models import PassResult

HOLD_SHARE = 0.25
"""How long a tick's results wait for the tick's other hosts after its first end, as a
share of the interval, when nothing says those hosts will end soon."""
HOLD_LIMIT_SHARE = 0.5
"""The hold lasts until the expected end of the hosts still running (LATE_FACTOR times
their last pass) when that is later, but never past this share of the interval after
the tick, so a hung host holds the others back little more than a slow pass would."""
LATE_FACTOR = 1.25
"""A host still running is expected to end within this many times its last pass's length."""
ON_TICK_SHARE = 0.5
"""A pass that starts within this share of the interval after a tick belongs to it (a busy
loop wakes late); later passes (a poll asked for between ticks) are handed on alone."""
MIN_WAIT_S = 0.05
"""The least wait between two passes of a host (one that overran starts again after it)."""

TickKey = tuple[float, int]
"""(interval, tick number): the hosts whose passes started on the same tick."""


@dataclass
class _Tick:
    members: set[str] = field(default_factory=set)
    ended: dict[str, PassResult | None] = field(default_factory=dict)
    timer: asyncio.TimerHandle | None = None


class PassTicks:
    """The shared clock of a fleet's pass loops and the gathering of each tick's results.
    `deliver` hears every result, in one burst per tick; all of it runs on the loop."""

    def __init__(self, deliver: Callable[[str, PassResult], None]) -> None:
        self._deliver = deliver
        self._epoch: float | None = None
        self._open: dict[TickKey, _Tick] = {}
        self._began: dict[str, float] = {}
        """When each host's on-tick pass under way began (loop time)."""
        self._took: dict[str, float] = {}
        """Each host's last on-tick pass, seconds from its start to its end."""

    def _now(self) -> float:
        now = asyncio.get_running_loop().time()
        if self._epoch is None:
            self._epoch = now
        return now

    def wait_after(self, interval: float, started: float) -> float:
        """Seconds until the host's next pass: the next tick of its interval's clock, or
        MIN_WAIT_S if the pass that began at `started` (loop time) overran an interval."""
        now = self._now()
        assert self._epoch is not None
        if now - started >= interval:
            return MIN_WAIT_S
        ticks = math.floor((now - self._epoch) / interval) + 1
        return max(MIN_WAIT_S, self._epoch + ticks * interval - now)

    def begin(self, host_id: str, interval: float) -> TickKey | None:
        """A host starts a pass now; the tick it belongs to (None: off the clock)."""
        now = self._now()
        assert self._epoch is not None
        number = math.floor((now - self._epoch) / interval)
        if number < 1 or now - (self._epoch + number * interval) > ON_TICK_SHARE * interval:
            return None
        key = (interval, number)
        self._open.setdefault(key, _Tick()).members.add(host_id)
        self._began[host_id] = now
        return key

    def end(self, key: TickKey | None, host_id: str, result: PassResult | None) -> None:
        """A host's pass ended (None: it failed, and has nothing to hand on)."""
        now = self._now()
        if key is not None and host_id in self._began:
            self._took[host_id] = now - self._began.pop(host_id)
        tick = self._open.get(key) if key is not None else None
        if tick is None:
            if result is not None:
                self._deliver(host_id, result)
            return
        assert key is not None
        tick.ended[host_id] = result
        if tick.members <= tick.ended.keys():
            self._release(key)
        elif tick.timer is None:
            loop = asyncio.get_running_loop()
            tick.timer = loop.call_at(self._hold_until(key, tick, now), self._release, key)

    def _hold_until(self, key: TickKey, tick: _Tick, now: float) -> float:
        """When the tick's results go on without the hosts still running (loop time)."""
        interval, number = key
        assert self._epoch is not None
        expected = max((self._began.get(host_id, now) + LATE_FACTOR * self._took.get(host_id, 0.0)
                        for host_id in tick.members - tick.ended.keys()), default=now)
        limit = self._epoch + (number + HOLD_LIMIT_SHARE) * interval
        return max(now + HOLD_SHARE * interval, min(expected, limit))

    def _release(self, key: TickKey) -> None:
        tick = self._open.pop(key, None)
        if tick is None:
            return
        if tick.timer is not None:
            tick.timer.cancel()
        for host_id, result in tick.ended.items():
            if result is not None:
                self._deliver(host_id, result)

    def close(self) -> None:
        """Drop what is held (the fleet is closing)."""
        for tick in self._open.values():
            if tick.timer is not None:
                tick.timer.cancel()
        self._open.clear()
