"""Hosts' passes share one clock and a tick's results are handed on together, yet a slow
or failed host never holds the others back longer than the hold."""

from __future__ import annotations

import asyncio

from xentui.backend.models import HostInfo, PassResult
from xentui.backend.pass_ticks import (
    HOLD_LIMIT_SHARE,
    HOLD_SHARE,
    LATE_FACTOR,
    ON_TICK_SHARE,
    PassTicks,
)

INFO = HostInfo("u", "h", "Xen", "4.17", "9.0", 4, 2000, "cpu", 1 << 24)
INTERVAL = 0.2


def result(host: str) -> PassResult:
    return PassResult(INFO, {}, 0.0, 0.01, "per-domain", host, 0.0)


class Seen:
    """What the ticks handed on, with the loop time of each."""

    def __init__(self) -> None:
        self.got: list[tuple[str, float]] = []

    def __call__(self, host_id: str, res: PassResult) -> None:
        assert res.host_id == host_id
        self.got.append((host_id, asyncio.get_running_loop().time()))

    @property
    def hosts(self) -> list[str]:
        return [h for h, _ in self.got]


async def on_next_tick(ticks: PassTicks) -> None:
    loop = asyncio.get_running_loop()
    await asyncio.sleep(ticks.wait_after(INTERVAL, loop.time()))


async def test_a_tick_is_handed_on_once_every_host_of_it_has_ended() -> None:
    seen = Seen()
    ticks = PassTicks(seen)
    await on_next_tick(ticks)
    keys = [ticks.begin(h, INTERVAL) for h in ("a", "b", "c")]
    assert keys[0] is not None and keys.count(keys[0]) == 3
    ticks.end(keys[0], "a", result("a"))
    ticks.end(keys[1], "b", result("b"))
    assert seen.hosts == []
    ticks.end(keys[2], "c", result("c"))
    assert sorted(seen.hosts) == ["a", "b", "c"]
    ticks.close()


async def test_a_host_that_does_not_end_holds_the_others_for_the_hold_only() -> None:
    seen = Seen()
    ticks = PassTicks(seen)
    loop = asyncio.get_running_loop()
    await on_next_tick(ticks)
    fast, hung = ticks.begin("fast", INTERVAL), ticks.begin("hung", INTERVAL)
    ended = loop.time()
    ticks.end(fast, "fast", result("fast"))
    await asyncio.sleep(2 * HOLD_SHARE * INTERVAL)
    assert seen.hosts == ["fast"]
    assert seen.got[0][1] - ended >= HOLD_SHARE * INTERVAL * 0.9
    # The late one is handed on the moment it ends.
    ticks.end(hung, "hung", result("hung"))
    assert seen.hosts == ["fast", "hung"]
    ticks.close()


async def test_a_failed_pass_counts_as_ended_and_hands_on_nothing() -> None:
    seen = Seen()
    ticks = PassTicks(seen)
    await on_next_tick(ticks)
    a, b = ticks.begin("a", INTERVAL), ticks.begin("b", INTERVAL)
    ticks.end(a, "a", None)
    ticks.end(b, "b", result("b"))
    assert seen.hosts == ["b"]
    ticks.close()


async def test_a_pass_off_the_clock_is_handed_on_at_once() -> None:
    seen = Seen()
    ticks = PassTicks(seen)
    # The first pass (before the clock's first tick) and a pass asked for between ticks.
    first = ticks.begin("a", INTERVAL)
    assert first is None
    ticks.end(first, "a", result("a"))
    await on_next_tick(ticks)
    await asyncio.sleep((ON_TICK_SHARE + 0.2) * INTERVAL)
    between = ticks.begin("b", INTERVAL)
    assert between is None
    ticks.end(between, "b", result("b"))
    assert seen.hosts == ["a", "b"]


async def test_hosts_ending_at_different_moments_start_again_on_the_same_tick() -> None:
    ticks = PassTicks(Seen())
    loop = asyncio.get_running_loop()
    interval = 1.0
    started = loop.time()
    ticks.wait_after(interval, started)  # the clock starts here
    starts = []
    for pause in (0.01, 0.1, 0.2):
        await asyncio.sleep(pause - (loop.time() - started))
        starts.append(loop.time() + ticks.wait_after(interval, started))
    assert max(starts) - min(starts) < 0.01
    assert abs(starts[0] - (started + interval)) < 0.01
    # A pass that overran the interval starts again at once instead of waiting.
    assert ticks.wait_after(interval, loop.time() - 1.5 * interval) < interval / 2


async def test_a_host_whose_passes_run_long_is_waited_for_past_the_hold() -> None:
    """Under load a tick's passes end over more than the hold; a host whose last pass
    ran that long is waited for (one hand-over, one frame), a hung one only until the
    limit after the tick."""
    interval = 0.4
    slow_share = HOLD_LIMIT_SHARE / LATE_FACTOR * 0.9  # ends past the hold, within the limit
    assert HOLD_SHARE < slow_share
    seen = Seen()
    ticks = PassTicks(seen)
    loop = asyncio.get_running_loop()

    async def tick(slow_ends: bool) -> tuple[float, float | None]:
        """One tick: 'fast' ends at once, 'slow' after slow_share of the interval (or
        never); when each was handed on, relative to the tick."""
        await asyncio.sleep(ticks.wait_after(interval, loop.time()))
        start = loop.time()
        fast, slow = ticks.begin("fast", interval), ticks.begin("slow", interval)
        assert fast is not None and fast == slow
        seen.got.clear()
        ticks.end(fast, "fast", result("fast"))
        await asyncio.sleep(slow_share * interval - (loop.time() - start))
        if slow_ends:
            ticks.end(slow, "slow", result("slow"))
        await asyncio.sleep((HOLD_LIMIT_SHARE + 0.3) * interval - (loop.time() - start))
        got = dict(seen.got)
        assert "fast" in got
        late = got.get("slow")
        if not slow_ends:
            ticks.end(slow, "slow", None)
        return got["fast"] - start, None if late is None else late - start

    fast_at, slow_at = await tick(slow_ends=True)  # nothing known yet: the plain hold
    assert slow_at is not None and fast_at < slow_at - 0.02 * interval
    fast_at, slow_at = await tick(slow_ends=True)  # its last pass said it would end late
    assert slow_at is not None and slow_at - 0.01 * interval <= fast_at <= slow_at + 0.01
    fast_at, slow_at = await tick(slow_ends=False)  # hung: the others go at the limit
    assert slow_at is None
    assert fast_at <= (HOLD_LIMIT_SHARE + 0.1) * interval
    ticks.close()
