"""Shutdown and reboot of containers, through libvirt's LXC driver (a private privileged
libvirtd, tests/support/lxc_daemon.py).

libvirt 9.0 asks a container's init to power off or reboot through its initctl FIFO and
falls back to SIGTERM / SIGHUP; it reports success whether or not init acts. A container
whose init listens (tests/support/lxc_listening_init.py) really stops and restarts; one
whose init is a shell loop ignores both, and xentui says so after the shutdown timeout and
offers force off. Effects are checked on a second libvirt connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import libvirt
import pytest

from tests.support import daemons
from tests.support import lxc_daemon as rig
from tests.support.pilot_helpers import (  # noqa: F401
    asking,
    log_lines,
    private_state,
    select,
    until,
    wait_for,
)
from xentui.backend.actions import SHUTDOWN_IGNORED_HINT
from xentui.backend.libvirt.host import LibvirtHost
from xentui.backend.models import DomainKind
from xentui.config import Settings
from xentui.ui.launch import make_app

pytestmark = pytest.mark.integration

TIMEOUT = 1.0
"""The app's shutdown timeout in these tests (seconds)."""


def _started(lxc: rig.LxcDaemon, lxc_observer: libvirt.virConnect, listening: bool) -> str:
    name = lxc.new_name()
    try:
        lxc.start_container(lxc_observer, name, listening=listening)
    except rig.ContainerError as err:
        daemons.unavailable(f"the LXC driver could not start a container: {err}")
    return name


def _remove(lxc_observer: libvirt.virConnect, name: str) -> None:
    with suppress(libvirt.libvirtError):
        dom = lxc_observer.lookupByName(name)
        if dom.isActive():
            dom.destroy()
        dom.undefine()


@pytest.fixture
def listening(lxc: rig.LxcDaemon, lxc_observer: libvirt.virConnect) -> Iterator[str]:
    """A running container whose init acts on shutdown and reboot."""
    name = _started(lxc, lxc_observer, listening=True)
    try:
        yield name
    finally:
        _remove(lxc_observer, name)


@pytest.fixture
def deaf(lxc: rig.LxcDaemon, lxc_observer: libvirt.virConnect) -> Iterator[str]:
    """A running container whose init (a shell loop) ignores shutdown and reboot."""
    name = _started(lxc, lxc_observer, listening=False)
    try:
        yield name
    finally:
        _remove(lxc_observer, name)


async def test_reboot_then_shutdown_act_on_a_listening_init(
    lxc: rig.LxcDaemon, lxc_observer: libvirt.virConnect, listening: str
) -> None:
    host = LibvirtHost(lxc.uri, id="lxc", interval=0.3)
    await host.connect()
    dom = lxc_observer.lookupByName(listening)
    uuid = dom.UUIDString()
    first = lxc.processes(listening)
    assert first
    try:
        await host.act(uuid, "reboot")
        # New processes in the container's cgroups: it really restarted.
        wait_for(lambda: lxc.processes(listening) and not lxc.processes(listening) & first,
                 15, "a new init")
        assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        lxc.wait_listening(listening)

        await host.act(uuid, "shutdown")
        wait_for(lambda: not dom.isActive(), 15, "the container stopped")
        assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_SHUTDOWN]
        assert not lxc.cgroup_dirs(listening)
    finally:
        await host.close()


async def test_a_deaf_init_stays_up_and_the_app_offers_force_off(
    lxc: rig.LxcDaemon, lxc_observer: libvirt.virConnect, deaf: str,
    private_state: Path,  # noqa: F811
) -> None:
    app = make_app(lxc.uri, settings=Settings(interval=0.3, shutdown_timeout=TIMEOUT),
                   log_to_file=False)
    dom = lxc_observer.lookupByName(deaf)
    async with app.run_test(size=(140, 40)) as pilot:
        await select(pilot, lxc_observer, deaf)
        await pilot.press("S")
        await until(pilot, lambda: asking(app), 5, "the shutdown question")
        await pilot.press("y")
        await until(pilot, lambda: asking(app) and "Force it off" in str(app.screen.question),
                    10, "the force-off offer")
        text = "".join("".join(log_lines(app)).split())  # wrapping may drop spaces
        assert f"hasnotshutdownafter{TIMEOUT:g}s" in text
        assert "".join(SHUTDOWN_IGNORED_HINT[DomainKind.CONTAINER].split()) in text
        assert "ACPI" not in text
        assert dom.isActive() == 1  # libvirt said yes; the container still runs
        await pilot.press("y")
        await until(pilot, lambda: dom.isActive() == 0, 15, "the container forced off")
        assert dom.state() == [libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_SHUTOFF_DESTROYED]
