"""Every lifecycle action through Host.act, its effect checked with raw libvirt calls."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace

import libvirt
import pytest

from xentui.backend.actions import ACTIONS, DOM0_REASON, TRANSIENT_REASON, why_not
from xentui.backend.errors import DomainGone, NotAllowed, PermissionDenied, Unsupported
from xentui.backend.libvirt.host import LibvirtHost as Host
from xentui.backend.models import ZERO_UUID, Capabilities, DomainSample, DomainState
from xentui.demo import demo_uri

S = DomainState
Dom = libvirt.virDomain


def state(dom: Dom) -> DomainState:
    return DomainState.from_libvirt(dom.state()[0])


def snaps(dom: Dom) -> list[str]:
    return sorted(s.getName() for s in dom.listAllSnapshots(0))


def gone(conn: libvirt.virConnect, uuid: str) -> bool:
    try:
        conn.lookupByUUIDString(uuid)
    except libvirt.libvirtError as err:
        return err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN
    return False


def unpause(dom: Dom) -> None:
    """Leave the domain running with a reason other than 'booted'."""
    dom.suspend()
    dom.resume()
    assert dom.state()[1] != libvirt.VIR_DOMAIN_RUNNING_BOOTED


def take_snapshot(dom: Dom, name: str = "before") -> None:
    dom.snapshotCreateXML(f"<domainsnapshot><name>{name}</name></domainsnapshot>", 0)


def rebooted(dom: Dom, _before: dict) -> bool:
    # The test driver reboots at once and says so in the state reason.
    return dom.state() == [libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_BOOTED]


def still_same_instance(dom: Dom, before: dict) -> bool:
    # The test driver's reset changes nothing it reports (no event, no reason): all we
    # can see is that the call went through and the domain runs on, same instance.
    return state(dom) is S.RUNNING and dom.ID() == before["id"]


# action -> (which domain: 'running' or 'shutoff', setup through raw libvirt,
#            check of the effect through raw libvirt given what setup recorded)
Scenario = tuple[str, Callable[[Dom], dict], Callable[[Dom, dict], bool]]
SCENARIOS: dict[str, Scenario] = {
    "start": ("shutoff", lambda d: {}, lambda d, b: state(d) is S.RUNNING),
    "shutdown": ("running", lambda d: {}, lambda d, b: state(d) is S.SHUTOFF),
    "reboot": ("running", lambda d: (unpause(d), {})[1], rebooted),
    "reset": ("running", lambda d: {"id": d.ID()}, still_same_instance),
    "destroy": ("running", lambda d: {}, lambda d, b: d.state() == [
        libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED]),
    "pause": ("running", lambda d: {}, lambda d, b: state(d) is S.PAUSED),
    "resume": ("running", lambda d: (d.suspend(), {})[1], lambda d, b: state(d) is S.RUNNING),
    "save": ("running", lambda d: {},
             lambda d, b: state(d) is S.SHUTOFF and d.hasManagedSaveImage(0) == 1),
    "restore": ("running", lambda d: (d.managedSave(0), {})[1],
                lambda d, b: state(d) is S.RUNNING and d.hasManagedSaveImage(0) == 0),
    "snapshot": ("running", lambda d: {"snaps": snaps(d)},
                 lambda d, b: len(snaps(d)) == len(b["snaps"]) + 1
                 and set(b["snaps"]) < set(snaps(d))),
    # Snapshot taken while running, then paused: reverting must bring it back running.
    "revert": ("running", lambda d: (take_snapshot(d), d.suspend(), {})[2],
               lambda d, b: state(d) is S.RUNNING and snaps(d) == ["before"]),
    "snapshot-delete": ("running", lambda d: (take_snapshot(d), {})[1],
                        lambda d, b: snaps(d) == []),
    "autostart": ("running", lambda d: {"auto": d.autostart()},
                  lambda d, b: d.autostart() == (not b["auto"])),
    "undefine": ("shutoff", lambda d: {}, lambda d, b: False),  # checked by lookup below
}


def test_every_action_has_a_scenario():
    assert set(SCENARIOS) == set(ACTIONS)


def pick(conn: libvirt.virConnect, want: DomainState) -> Dom:
    for dom in conn.listAllDomains(0):
        if dom.UUIDString() != ZERO_UUID and state(dom) is want and dom.isPersistent():
            return dom
    raise AssertionError(f"the node has no {want} guest")


@pytest.mark.parametrize("action", sorted(SCENARIOS))
async def test_action_takes_effect(host: Host, action: str):
    conn = host.link.conn
    which, setup, check = SCENARIOS[action]
    dom = pick(conn, S.RUNNING if which == "running" else S.SHUTOFF)
    uuid, name = dom.UUIDString(), dom.name()
    before = setup(dom)
    msg = await host.act(uuid, action)
    assert name in msg
    fresh = conn.lookupByUUIDString if action != "undefine" else None
    if fresh is None:
        assert gone(conn, uuid)
        return
    deadline = time.monotonic() + 5
    while not check(fresh(uuid), before):
        assert time.monotonic() < deadline, f"{action}: no effect seen, state {dom.state()}"
        await asyncio.sleep(0.05)


async def test_snapshots_twice_in_a_row(host: Host):
    dom = pick(host.link.conn, S.RUNNING)
    await host.act(dom.UUIDString(), "snapshot")
    await host.act(dom.UUIDString(), "snapshot")
    assert len(snaps(dom)) == 2


async def test_domain0_is_refused_everything(host: Host):
    conn = host.link.conn
    dom0 = conn.lookupByUUIDString(ZERO_UUID)
    before = (dom0.state(), dom0.autostart(), snaps(dom0))
    for action in ACTIONS:
        with pytest.raises(NotAllowed, match="Domain-0"):
            await host.act(ZERO_UUID, action)
    after = conn.lookupByUUIDString(ZERO_UUID)
    assert (after.state(), after.autostart(), snaps(after)) == before


NODE_STATES = {S.RUNNING, S.PAUSED, S.SHUTOFF}
STATEFUL = sorted(a for a, spec in ACTIONS.items() if not NODE_STATES <= spec.states)


@pytest.mark.parametrize("action", STATEFUL)
async def test_wrong_state_is_refused(host: Host, action: str):
    conn = host.link.conn
    spec = ACTIONS[action]
    candidates = [d for d in conn.listAllDomains(0)
                  if d.UUIDString() != ZERO_UUID and state(d) not in spec.states]
    assert candidates
    dom = candidates[0]
    before = dom.state()
    with pytest.raises(NotAllowed, match="not possible while"):
        await host.act(dom.UUIDString(), action)
    assert conn.lookupByUUIDString(dom.UUIDString()).state() == before


async def test_readonly_host_refuses_and_changes_nothing(node_file):
    h = Host(demo_uri(node_file), readonly=True)
    await h.connect()
    try:
        conn = h.link.conn
        dom = pick(conn, S.RUNNING)
        before = (dom.state(), dom.autostart(), snaps(dom))
        for action in ("pause", "destroy", "autostart", "snapshot"):
            with pytest.raises(PermissionDenied, match="read-only"):
                await h.act(dom.UUIDString(), action)
        fresh = conn.lookupByUUIDString(dom.UUIDString())
        assert (fresh.state(), fresh.autostart(), snaps(fresh)) == before
    finally:
        await h.close()


async def test_vanished_domain(host: Host):
    conn = host.link.conn
    dom = pick(conn, S.SHUTOFF)
    uuid = dom.UUIDString()
    dom.undefine()
    for action in ("start", "undefine", "autostart"):
        with pytest.raises(DomainGone):
            await host.act(uuid, action)


def test_missing_capability_reason_names_the_driver():
    caps = Capabilities(driver="NOSNAP", bulk_stats=True, snapshots=False, reset=True,
                        managed_save=True, console=False)
    sample = DomainSample("11111111-2222-3333-4444-555555555555", "g", 3, S.RUNNING)
    for name in ("snapshot", "revert", "snapshot-delete"):
        reason = why_not(ACTIONS[name], sample, caps)
        assert reason is not None and "NOSNAP" in reason and "snapshot" in reason
    assert why_not(ACTIONS["pause"], sample, caps) is None


async def test_unsupported_action_is_refused_with_reason(host: Host):
    conn = host.link.conn
    dom = pick(conn, S.RUNNING)
    host.caps = replace(host.caps, snapshots=False)
    with pytest.raises(Unsupported, match=conn.getType()):
        await host.act(dom.UUIDString(), "snapshot")
    assert snaps(conn.lookupByUUIDString(dom.UUIDString())) == []


async def test_transient_domain_cannot_be_saved_or_undefined(host: Host):
    conn = host.link.conn
    src = pick(conn, S.SHUTOFF)
    xml = src.XMLDesc(0)
    src.undefine()
    dom = conn.createXML(xml, 0)  # transient and running
    assert not dom.isPersistent()
    for action in ("save", "autostart"):
        with pytest.raises(NotAllowed, match="transient"):
            await host.act(dom.UUIDString(), action)
    assert state(conn.lookupByUUIDString(dom.UUIDString())) is S.RUNNING


def test_dom0_and_transient_reasons_come_from_the_sample():
    caps = Capabilities(driver="X", bulk_stats=True, snapshots=True, reset=True,
                        managed_save=True, console=False)
    dom0 = DomainSample(ZERO_UUID, "Domain-0", 0, S.RUNNING, is_dom0=True)
    assert why_not(ACTIONS["pause"], dom0, caps) == DOM0_REASON
    transient = DomainSample("11111111-2222-3333-4444-555555555555", "t", 3, S.RUNNING,
                             persistent=False)
    for name in ("save", "autostart"):
        assert why_not(ACTIONS[name], transient, caps) == TRANSIENT_REASON
    assert why_not(ACTIONS["pause"], transient, caps) is None
    unknown = replace(transient, persistent=None)
    assert why_not(ACTIONS["save"], unknown, caps) is None


async def test_transient_domain_is_read_as_transient(host: Host):
    """The sampler marks a transient domain (created, never defined) as such."""
    conn = host.link.conn
    dom = pick(conn, S.RUNNING)
    xml = dom.XMLDesc(0).replace(dom.name(), "ephemeral").replace(dom.UUIDString(),
                                                                   "0badc0de-0000-4000-8000-000000000001")
    conn.createXML(xml, 0)
    result = await host.sample()
    fig = result.domains["0badc0de-0000-4000-8000-000000000001"]
    assert fig.sample.persistent is False
    assert result.domains[dom.UUIDString()].sample.persistent is True
