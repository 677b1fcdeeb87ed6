"""Hosts' passes on one shared clock, and the results of passes that started together
handed on together.

A screen over many hosts redraws after every result it is handed; a whole frame costs far
more than one host's figures, so twenty hosts whose passes end at twenty moments of each
second cost twenty frames a second where one host of the same size costs one. Here every
host with the same interval starts its passes on the same ticks, and the results of one
tick are held until every host of the tick has ended its pass, or for HOLD_SHARE of the
interval at most: a slow or hung host is handed on alone when it ends, never holding the
others back longer than that.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from xentui.backend.models import PassResult

HOLD_SHARE = 0.25
"""The longest a tick's results wait for the tick's other hosts, as a share of the interval."""
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
        return key

    def end(self, key: TickKey | None, host_id: str, result: PassResult | None) -> None:
        """A host's pass ended (None: it failed, and has nothing to hand on)."""
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
            tick.timer = loop.call_later(HOLD_SHARE * key[0], self._release, key)

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
