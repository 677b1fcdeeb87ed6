"""Containers through libvirt's LXC driver: a private privileged libvirtd in its own mount
namespace (tests/support/lxc_daemon.py) runs a container whose init is a shell loop.

Figures are checked against the container's own cgroup files, actions through a second
libvirt connection, greying and the Type column in the real app.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import libvirt
import pytest

from tests.support import daemons
from tests.support import lxc_daemon as rig
from tests.support.demo_on_daemon import populate
from tests.support.pilot_helpers import private_state, until, wait_for  # noqa: F401
from xentui.backend.actions import ACTIONS, why_not
from xentui.backend.errors import Unsupported
from xentui.backend.libvirt.host import LibvirtHost
from xentui.backend.models import DomainKind, DomainState
from xentui.config import HostEntry, Settings
from xentui.ui.launch import make_app

pytestmark = pytest.mark.integration

SETTINGS = Settings(interval=0.3, shutdown_timeout=1.0)
DRIVER_LACKS = ("reset", "save", "restore", "snapshot", "revert", "snapshot-delete")
"""Actions whose libvirt calls the LXC driver 9.0 answers "not supported"."""


@pytest.fixture
def container(lxc: rig.LxcDaemon, lxc_observer: libvirt.virConnect) -> Iterator[str]:
    """A running container of this test's own (destroyed and undefined afterwards)."""
    name = lxc.new_name()
    try:
        lxc.start_container(lxc_observer, name)
    except rig.ContainerError as err:
        daemons.unavailable(f"the LXC driver could not start a container: {err}")
    try:
        yield name
    finally:
        with suppress(libvirt.libvirtError):
            dom = lxc_observer.lookupByName(name)
            if dom.isActive():
                if dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED:
                    dom.resume()
                dom.destroy()
            dom.undefine()


def _cgroup_int(lxc: rig.LxcDaemon, name: str, controller: str, file: str) -> int:
    return int(lxc.cgroup_file(name, controller, file).read_text().split()[0])


async def test_container_listed_with_its_figures(
    lxc: rig.LxcDaemon, lxc_observer: libvirt.virConnect, container: str
) -> None:
    host = LibvirtHost(lxc.uri, id="lxc", interval=0.3)
    await host.connect()
    try:
        assert host.caps is not None and host.caps.containers
        assert not host.caps.bulk_stats  # the driver has no getAllDomainStats
        uuid = lxc_observer.lookupByName(container).UUIDString()
        await host.sample()
        before = _cgroup_int(lxc, container, "cpuacct", "cpuacct.usage")
        result = await host.sample()
        after = _cgroup_int(lxc, container, "cpuacct", "cpuacct.usage")
        assert result.path == "per-domain"
        fig = result.domains[uuid]
        s = fig.sample
        assert s.name == container and s.state is DomainState.RUNNING
        assert s.kind is DomainKind.CONTAINER
        assert s.id == lxc_observer.lookupByName(container).ID()
        assert s.cpu_time_ns is not None and before <= s.cpu_time_ns <= after
        assert fig.rates.cpu_pct is not None and fig.rates.cpu_pct >= 0.0
        assert s.maxmem_kib == lxc_observer.lookupByName(container).maxMemory()
        assert s.mem_kib is not None and 0 < s.mem_kib <= s.maxmem_kib
        limit = _cgroup_int(lxc, container, "memory", "memory.limit_in_bytes")
        assert s.maxmem_kib * 1024 == limit  # the definition's memory is the cgroup's limit
        assert s.persistent is True and not s.is_dom0
    finally:
        await host.close()


async def test_supported_actions_take_effect(
    lxc: rig.LxcDaemon, lxc_observer: libvirt.virConnect, container: str
) -> None:
    host = LibvirtHost(lxc.uri, id="lxc", interval=0.3)
    await host.connect()
    dom = lxc_observer.lookupByName(container)
    uuid = dom.UUIDString()
    freezer = lxc.cgroup_file(container, "freezer", "freezer.state")
    try:
        await host.act(uuid, "pause")
        assert dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED
        assert freezer.read_text().strip() == "FROZEN"  # through the freezer cgroup

        await host.act(uuid, "resume")
        assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        assert freezer.read_text().strip() == "THAWED"

        first_id = lxc_observer.lookupByName(container).ID()
        await host.act(uuid, "destroy")
        assert dom.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF
        assert not lxc.cgroup_dirs(container)  # its processes and cgroups are gone

        await host.act(uuid, "start")
        assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        assert lxc_observer.lookupByName(container).ID() != first_id  # a new instance

        was = dom.autostart()
        await host.act(uuid, "autostart")
        assert dom.autostart() == (not was)

        await host.act(uuid, "destroy")
        # The driver refuses undefine's flags ("unsupported flags"): xentui falls back.
        await host.act(uuid, "undefine")
        with pytest.raises(libvirt.libvirtError):
            lxc_observer.lookupByUUIDString(uuid)
    finally:
        await host.close()


async def test_what_the_driver_lacks_is_greyed_and_a_slip_reads_clearly(
    lxc: rig.LxcDaemon, lxc_observer: libvirt.virConnect, container: str
) -> None:
    from dataclasses import replace

    host = LibvirtHost(lxc.uri, id="lxc", interval=0.3)
    await host.connect()
    uuid = lxc_observer.lookupByName(container).UUIDString()
    try:
        sample = (await host.sample()).domains[uuid].sample
        caps = host.caps
        assert caps is not None
        for name in DRIVER_LACKS:
            reason = why_not(ACTIONS[name], sample, caps)
            assert reason is not None and "not supported by the LXC driver" in reason, name
        for name in ("destroy", "pause", "reboot", "shutdown"):
            assert why_not(ACTIONS[name], sample, caps) is None, name

        # Had the probe missed it, libvirt's refusal reads as one clear line.
        host.caps = replace(caps, reset=True)
        with pytest.raises(Unsupported) as err:
            await host.act(uuid, "reset")
        text = str(err.value)
        assert "\n" not in text and container in text
        assert "does not support this (virDomainReset)" in text
        assert lxc_observer.lookupByName(container).state()[0] == libvirt.VIR_DOMAIN_RUNNING
    finally:
        await host.close()


async def test_app_greys_reset_with_its_reason_and_pauses_through_the_freezer(
    lxc: rig.LxcDaemon, lxc_observer: libvirt.virConnect, container: str,
    private_state: Path,  # noqa: F811
) -> None:
    app = make_app(lxc.uri, settings=SETTINGS, log_to_file=False)
    uuid = lxc_observer.lookupByName(container).UUIDString()
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: any(r.uuid == uuid for r in app.main.table.figures), 10,
                    "the container listed")
        main = app.main
        assert main.table.select(uuid)
        await pilot.pause()
        # One host holding only containers: no Type column.
        assert "type" not in [c.key for c in main.table.columns]
        assert main.check_action("lifecycle", ("reset",)) is None
        assert main.action_reason("reset") == "reset is not supported by the LXC driver"
        await pilot.press("X")
        await until(pilot, lambda: any("reset is not supported by the LXC driver" in n.message
                                       for n in app._notifications), 5, "the reason shown")
        assert lxc_observer.lookupByName(container).state()[0] == libvirt.VIR_DOMAIN_RUNNING

        assert main.check_action("lifecycle", ("pause",)) is True
        await pilot.press("p")
        await until(pilot, lambda: app.screen is not main, 5, "the pause question")
        await pilot.pause(0.2)
        await pilot.press("y")
        await pilot.pause()
        wait_for(lambda: lxc_observer.lookupByName(container).state()[0]
                 == libvirt.VIR_DOMAIN_PAUSED, 10, "the container paused")
        freezer = lxc.cgroup_file(container, "freezer", "freezer.state")
        assert freezer.read_text().strip() == "FROZEN"


async def test_type_column_in_a_fleet_of_vms_and_containers(
    lxc: rig.LxcDaemon, lxc_observer: libvirt.virConnect, container: str,
    private_state: Path,  # noqa: F811
) -> None:
    with daemons.running("test") as xen:
        vms = libvirt.open(xen.uri)
        try:
            populate(vms)
            vm_name = next(d.name() for d in vms.listAllDomains(0) if d.ID() != 0)
            app = make_app([HostEntry("ct", lxc.uri), HostEntry("xen", xen.uri)],
                           settings=SETTINGS, log_to_file=False)
            async with app.run_test(size=(160, 50)) as pilot:
                table = app.main.table
                await until(pilot, lambda: {r.host for r in table.figures} == {"ct", "xen"},
                            15, "rows of both hosts")
                await until(pilot, lambda: "type" in [c.key for c in table.columns], 5,
                            "the Type column")
                keys = [c.key for c in table.columns]
                assert keys[:3] == ["host", "type", "name"]
                by_name = {f.name: f for f in table.figures.values()}
                col = next(c for c in table.columns if c.key == "type")
                assert col.cell(by_name[container]) == "container"
                assert col.cell(by_name[vm_name]) == "VM"
                shown = "\n".join(table.render_line(y).text
                                  for y in range(table.size.height))
                assert "Type" in shown and "container" in shown
        finally:
            vms.close()
