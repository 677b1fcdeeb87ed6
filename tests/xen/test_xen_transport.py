"""xen+ssh:// (libvirt's ssh transport) as well as xen+tcp://: batch, events, reconnect."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from tests.xen.conftest import Rig, start_when_possible
from xentui.backend.libvirt.host import LibvirtHost as Host
from xentui.backend.models import ZERO_UUID, DomainEvent, LinkState, LinkStatus

pytestmark = pytest.mark.xen


async def until(pred: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.2)


@pytest.mark.parametrize("transport", ["tcp", "ssh"])
def test_batch_json(tiny_running: Rig, transport: str) -> None:
    uri = tiny_running.uri if transport == "tcp" else tiny_running.ssh_uri
    out = subprocess.run(
        [sys.executable, "-m", "xentui", "-c", uri, "-b", "-n", "2", "-d", "1",
         "--format", "json"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["name"] for r in records] == ["Domain-0", "tiny"] * 2
    dom0, tiny = records[2], records[3]
    assert dom0["id"] == 0 and dom0["uuid"] == ZERO_UUID and dom0["uri"] == uri
    assert tiny["id"] == tiny_running.xl_id() and tiny["state"] in ("running", "blocked")
    for rec in (dom0, tiny):
        assert rec["cpu_pct"] is not None and rec["cpu_pct"] >= 0
        assert rec["mem_kib"] > 0
    assert tiny["net_rx_bps"] is not None and tiny["disk_rd_bps"] is not None
    assert dom0["net_rx_bps"] is None  # Domain-0 has no devices in libvirt's view


async def test_events_over_ssh(tiny_off: Rig) -> None:
    rig = tiny_off
    host = Host(rig.ssh_uri, interval=1.0)
    await host.connect()
    events: list[DomainEvent] = []
    host.event_listeners.append(events.append)
    try:
        await host.sample()
        await asyncio.to_thread(start_when_possible, rig)
        await until(lambda: ("Started", "booted") in [(e.event, e.detail) for e in events],
                    30, "Started event")
        # (`xl pause` bypasses libvirt: libvirtd sends no event and even keeps reporting
        # "running"; see README "Real Xen". So pause through libvirtd, as another client.)
        await asyncio.to_thread(rig.virsh, "suspend", "tiny")
        await until(lambda: any(e.event == "Suspended" for e in events), 30, "Suspended event")
        await asyncio.to_thread(rig.virsh, "resume", "tiny")
        await until(lambda: any(e.event == "Resumed" for e in events), 30, "Resumed event")
        print(f"\nevents over xen+ssh: {[(e.name, e.event, e.detail) for e in events]}")
        assert all(e.name == "tiny" for e in events)
    finally:
        await host.close()


@pytest.mark.parametrize("transport", ["tcp", "ssh"])
async def test_reconnects_after_libvirtd_restart(rig: Rig, transport: str) -> None:
    uri = rig.uri if transport == "tcp" else rig.ssh_uri
    host = Host(uri, interval=1.0)
    seen: list[LinkStatus] = []
    host.status_listeners.append(seen.append)
    await host.connect()
    try:
        await host.sample()
        t = time.monotonic()
        await asyncio.to_thread(rig.exec, "systemctl", "restart", "libvirtd")
        # the keepalive or the closed socket tells; sampling also notices
        deadline = time.monotonic() + 90
        while not any(s.state is LinkState.LOST for s in seen):
            assert time.monotonic() < deadline, "the loss was never noticed"
            try:
                await host.sample()
            except Exception:
                pass
            await asyncio.sleep(0.5)
        await until(lambda: host.connected, 90, "CONNECTED again")
        took = time.monotonic() - t
        states = [s.state.value for s in seen]
        print(f"\n{transport}: {states} (connected again {took:.1f} s after the restart)")
        lost = states.index("lost")
        assert "connected" in states[lost:]
        result = await host.sample()
        assert ZERO_UUID in result.domains
    finally:
        await host.close()
