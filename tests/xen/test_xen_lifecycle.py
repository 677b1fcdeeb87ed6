"""Every lifecycle action libxl supports, on the real PV guest `tiny`, through Host.act."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest

from tests.xen.conftest import Rig
from xentui.backend.actions import ACTIONS, why_not
from xentui.backend.errors import NotAllowed, Unsupported
from xentui.backend.libvirt.host import LibvirtHost as Host
from xentui.backend.models import ZERO_UUID, DomainEvent, DomainFigures, DomainState

pytestmark = pytest.mark.xen

S = DomainState


@pytest.fixture
async def host(rig: Rig) -> AsyncIterator[Host]:
    h = Host(rig.uri, interval=1.0)
    await h.connect()
    await h.sample()
    try:
        yield h
    finally:
        await h.close()


def tiny_uuid(host: Host) -> str:
    assert host.last is not None
    return next(u for u, f in host.last.domains.items() if f.sample.name == "tiny")


async def until(pred: Callable[[], object], timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or pred}")
        await asyncio.sleep(0.2)


async def state_of(host: Host, uuid: str) -> DomainFigures:
    fig = await host.refresh_domain(uuid)
    assert fig is not None
    return fig


async def wait_state(host: Host, uuid: str, want: set[S], timeout: float = 90) -> DomainFigures:
    deadline = time.monotonic() + timeout
    while True:
        fig = await state_of(host, uuid)
        if fig.sample.state in want:
            return fig
        if time.monotonic() > deadline:
            raise AssertionError(f"tiny is {fig.sample.state}, wanted {want}")
        await asyncio.sleep(0.5)


async def test_start_pause_resume_destroy(tiny_off: Rig, host: Host) -> None:
    uuid = tiny_uuid(host)
    assert (await host.act(uuid, "start")).endswith("started")
    fig = await wait_state(host, uuid, {S.RUNNING, S.BLOCKED})
    assert fig.sample.id == tiny_off.xl_id()
    assert "paused" in await host.act(uuid, "pause")
    assert (await state_of(host, uuid)).sample.state is S.PAUSED
    assert "p" in tiny_off.sh("xl list tiny | tail -n 1").split()[4]
    assert "resumed" in await host.act(uuid, "resume")
    assert (await state_of(host, uuid)).sample.state in (S.RUNNING, S.BLOCKED)
    assert "forced off" in await host.act(uuid, "destroy")
    assert (await state_of(host, uuid)).sample.state is S.SHUTOFF
    assert tiny_off.state() == "shut off"


async def test_save_and_restore(tiny_running: Rig, host: Host) -> None:
    uuid = tiny_uuid(host)
    t = time.monotonic()
    assert "saved" in await host.act(uuid, "save")
    print(f"\nmanaged save of tiny (128 MiB) took {time.monotonic() - t:.1f} s")
    fig = await wait_state(host, uuid, {S.SHUTOFF})
    assert fig.sample.id is None
    assert "Managed save:   yes" in tiny_running.virsh("dominfo", "tiny")
    detail = await host.detail(uuid)
    assert detail.managed_save is True
    t = time.monotonic()
    assert "restored" in await host.act(uuid, "restore")
    print(f"restore took {time.monotonic() - t:.1f} s")
    await wait_state(host, uuid, {S.RUNNING, S.BLOCKED})
    assert "Managed save:   no" in tiny_running.virsh("dominfo", "tiny")


async def test_autostart_toggles(tiny_off: Rig, host: Host) -> None:
    uuid = tiny_uuid(host)
    assert await host.act(uuid, "autostart") == "tiny: autostart on"
    assert "Autostart:      enable" in tiny_off.virsh("dominfo", "tiny")
    assert (await host.detail(uuid)).autostart is True
    assert await host.act(uuid, "autostart") == "tiny: autostart off"
    assert "Autostart:      disable" in tiny_off.virsh("dominfo", "tiny")


async def test_reboot_events_and_row_end_running_as_the_new_instance(
    tiny_running: Rig, host: Host
) -> None:
    """libxl sends 'Started booted' then 'Stopped shutdown' while the new instance runs."""
    uuid = tiny_uuid(host)
    old_id = tiny_running.xl_id()
    events: list[DomainEvent] = []
    rows: list[DomainFigures | None] = []
    host.event_listeners.append(events.append)
    host.domain_listeners.append(lambda u, f: rows.append(f) if u == uuid else None)
    assert "reboot requested" in await host.act(uuid, "reboot")
    await until(lambda: any(e.event == "Stopped" for e in events), 90, "the reboot's events")
    await until(lambda: host._flush_task is not None and host._flush_task.done(), 30)
    seen = [(e.event, e.detail) for e in events if e.uuid == uuid]
    print(f"\nreboot events: {seen}")
    assert ("Stopped", "shutdown") in seen and ("Started", "booted") in seen
    last = rows[-1]
    assert last is not None and last.sample.state in (S.RUNNING, S.BLOCKED)
    assert last.sample.id == tiny_running.xl_id() != old_id
    assert host.last is not None
    assert host.last.domains[uuid].sample.state in (S.RUNNING, S.BLOCKED)


async def test_start_right_after_shutdown(tiny_running: Rig, host: Host) -> None:
    uuid = tiny_uuid(host)
    time.sleep(5)  # let tiny's init reach its shell, so it honours the shutdown
    assert "shutdown requested" in await host.act(uuid, "shutdown")
    await wait_state(host, uuid, {S.SHUTOFF}, timeout=60)
    assert (await host.act(uuid, "start")).endswith("started")
    await wait_state(host, uuid, {S.RUNNING, S.BLOCKED})


@pytest.mark.parametrize("action", ["snapshot", "revert", "snapshot-delete", "reset"])
async def test_unsupported_actions_are_refused_with_the_reason(
    tiny_running: Rig, host: Host, action: str
) -> None:
    uuid = tiny_uuid(host)
    sample = (await state_of(host, uuid)).sample
    reason = why_not(ACTIONS[action], sample, host.caps)
    assert reason is not None and reason.endswith("not supported by the Xen driver")
    with pytest.raises(Unsupported, match="not supported by the Xen driver"):
        await host.act(uuid, action)


@pytest.mark.parametrize("action", sorted(ACTIONS))
async def test_domain0_refuses_every_action(host: Host, action: str) -> None:
    sample = (await state_of(host, ZERO_UUID)).sample
    assert sample.id == 0
    reason = why_not(ACTIONS[action], sample, host.caps)
    assert reason is not None and "Domain-0" in reason
    with pytest.raises(NotAllowed, match="Domain-0"):
        await host.act(ZERO_UUID, action)
