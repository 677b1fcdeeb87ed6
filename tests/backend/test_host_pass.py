"""What one pass of a libvirt host costs the loop and the daemon: one pool job, and the
host's free memory read only when it may have moved (an event) or has grown old."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import libvirt
import pytest

from tests.backend.helpers import wait_for
from xentui.backend.libvirt import host as host_module
from xentui.backend.libvirt.host import LibvirtHost as Host
from xentui.backend.models import ZERO_UUID


@pytest.fixture
def free_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Counts getFreeMemory calls made on connections' pool threads (the host's own)."""
    counts: Counter[str] = Counter()
    orig = libvirt.virConnect.getFreeMemory

    def counted(conn: libvirt.virConnect) -> int:
        if threading.current_thread().name.startswith("libvirt-call"):
            counts["free"] += 1
        return orig(conn)

    monkeypatch.setattr(libvirt.virConnect, "getFreeMemory", counted)
    yield counts


async def test_a_pass_is_one_pool_job(host: Host) -> None:
    """The domains and the host's figures are read in one job handed to the pool: each
    hand-off wakes a pool thread and then the loop, twenty hosts' worth every interval."""
    loop_thread = threading.current_thread()
    handed: list[Any] = []
    submit = host.link.pool.submit

    def counted(fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        if threading.current_thread() is loop_thread:
            handed.append(fn)
        return submit(fn, *args, **kwargs)

    host.link.pool.submit = counted  # type: ignore[method-assign]
    for _ in range(3):
        result = await host.sample()
        assert result.domains and result.host.free_kib is not None
    assert len(handed) == 3


async def test_free_memory_is_read_when_due(host: Host, free_reads: Counter[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    first = await host.sample()
    assert free_reads["free"] == 1
    assert first.host.free_kib == host.link.conn.getFreeMemory() // 1024
    second = await host.sample()
    assert free_reads["free"] == 1, "read again within FREE_MEMORY_EVERY_S and no event"
    assert second.host.free_kib == first.host.free_kib

    events: list[object] = []
    host.event_listeners.append(events.append)
    running = [d for d in host.link.conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_RUNNING)
               if d.UUIDString() != ZERO_UUID]
    await host.act(running[0].UUIDString(), "pause")
    assert await wait_for(lambda: bool(events))
    await host.sample()
    assert free_reads["free"] == 2, "a domain event makes the next pass read it"
    await host.sample()
    assert free_reads["free"] == 2

    monkeypatch.setattr(host_module, "FREE_MEMORY_EVERY_S", 0.0)
    await host.sample()
    assert free_reads["free"] == 3, "an old figure is read again"


async def test_free_memory_is_read_again_after_a_reconnect(host: Host,
                                                          free_reads: Counter[str]) -> None:
    """A new connection's first pass reads it (the host's facts are read afresh without
    it), however recent the last read on the old connection."""
    await host.sample()
    await host.sample()
    assert free_reads["free"] == 1
    host.mark_lost("test: dropped")
    assert await wait_for(lambda: host.connected, timeout=10)
    result = await host.sample()
    assert free_reads["free"] == 2
    assert result.host.free_kib == host.link.conn.getFreeMemory() // 1024
