"""Keepalive on a local daemon's socket is switched on once a call goes unanswered, and
not while calls are answered (each answer would wake libvirt's event thread)."""

from __future__ import annotations

import asyncio
import time

import pytest

from xentui.backend.libvirt import keepalive
from xentui.backend.libvirt.keepalive import KeepaliveOnDemand

ARM_AFTER = 0.2


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keepalive, "ARM_AFTER_S", ARM_AFTER)
    monkeypatch.setattr(keepalive, "CHECK_EVERY_S", 0.05)


class Arms:
    def __init__(self) -> None:
        self.at: list[float] = []

    def __call__(self) -> None:
        self.at.append(time.monotonic())


async def test_a_call_with_no_answer_switches_keepalive_on_once() -> None:
    arms = Arms()
    watch = KeepaliveOnDemand(arms, lambda: 0.0)
    t0 = time.monotonic()
    token = watch.started()
    await asyncio.sleep(4 * ARM_AFTER)
    assert len(arms.at) == 1 and watch.armed
    assert arms.at[0] - t0 >= ARM_AFTER
    watch.ended(token)
    # It stays on (libvirt cannot switch it off): a later wait does not arm it again.
    watch.started()
    await asyncio.sleep(2 * ARM_AFTER)
    assert len(arms.at) == 1


async def test_calls_that_are_answered_never_switch_it_on() -> None:
    arms = Arms()
    answered = [time.monotonic()]
    watch = KeepaliveOnDemand(arms, lambda: answered[0])
    # One long pass being answered domain after domain...
    long_pass = watch.started()
    # ...and short calls beside it, each ending well within the limit.
    end = time.monotonic() + 5 * ARM_AFTER
    while time.monotonic() < end:
        short = watch.started()
        await asyncio.sleep(ARM_AFTER / 4)
        answered[0] = time.monotonic()
        watch.ended(short)
    watch.ended(long_pass)
    await asyncio.sleep(2 * ARM_AFTER)
    assert arms.at == [] and not watch.armed


async def test_a_pass_whose_answers_stop_switches_it_on() -> None:
    arms = Arms()
    answered = [time.monotonic()]
    watch = KeepaliveOnDemand(arms, lambda: answered[0])
    watch.started()
    for _ in range(4):
        await asyncio.sleep(ARM_AFTER / 2)
        answered[0] = time.monotonic()
    stopped = answered[0]
    await asyncio.sleep(3 * ARM_AFTER)
    assert len(arms.at) == 1
    assert arms.at[0] - stopped >= ARM_AFTER


async def test_a_released_connection_is_never_switched() -> None:
    arms = Arms()
    watch = KeepaliveOnDemand(arms, lambda: 0.0)
    watch.started()
    watch.close()
    await asyncio.sleep(3 * ARM_AFTER)
    assert arms.at == []
