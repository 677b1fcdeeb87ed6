"""Fixtures that run real, private libvirt daemons and tiny QEMU guests.

Outside CI the fixtures skip when libvirtd/QEMU are not installed; with the
``CI`` environment variable set they fail instead (so CI can't go green by
silently skipping everything).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import libvirt
import pytest

from tests.support import daemons
from tests.support import lxc_daemon as lxc_rig
from tests.support.daemons import PrivateDaemon, TinyGuests
from tests.support.qemu_guest import make_guest


@pytest.fixture(scope="session")
def qemu_daemon() -> Iterator[PrivateDaemon]:
    """A private session-mode libvirtd with the QEMU driver (and its virtlogd)."""
    with daemons.running("qemu") as daemon:
        yield daemon


@pytest.fixture(scope="session")
def test_daemon() -> Iterator[PrivateDaemon]:
    """A private libvirtd serving the built-in test driver (``test+unix://``)."""
    with daemons.running("test") as daemon:
        yield daemon


@pytest.fixture
def daemon() -> Iterator[PrivateDaemon]:
    """A test-driver daemon of this test's own (tests may kill or freeze it)."""
    with daemons.running("test") as d:
        yield d


@pytest.fixture
def observer(daemon: PrivateDaemon) -> Iterator[libvirt.virConnect]:
    """A second connection to `daemon`; it also keeps `test:///default` alive."""
    conn = libvirt.open(daemon.uri)
    try:
        yield conn
    finally:
        conn.close()


def _unique_prefix(request: pytest.FixtureRequest) -> str:
    base = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-")[:24]
    return f"xt-{base}-{uuid.uuid4().hex[:6]}"


def _remove_guests(guests: TinyGuests) -> None:
    """Destroy and undefine the guests (concurrently: each destroy can take
    ~2 s where PID 1 is slow to reap the exited QEMU), then delete disks."""
    import libvirt

    def remove(name: str) -> None:
        try:
            conn = libvirt.open(guests.uri)
        except libvirt.libvirtError:
            return  # daemon gone: its stop()/cleanup() kills the QEMU processes
        try:
            dom = conn.lookupByName(name)
            if dom.isActive():
                with contextlib.suppress(libvirt.libvirtError):
                    dom.destroy()
            dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)
        except libvirt.libvirtError:
            pass
        finally:
            conn.close()

    with ThreadPoolExecutor(max_workers=max(1, len(guests.names))) as pool:
        list(pool.map(remove, guests.names))
    for disk in guests.disks:
        with contextlib.suppress(OSError):
            disk.unlink()


@pytest.fixture
def tiny_guests(qemu_daemon: PrivateDaemon, request: pytest.FixtureRequest) -> Iterator[TinyGuests]:
    """Two tiny running guests (unique names) on the shared QEMU daemon."""
    import libvirt

    if not qemu_daemon.running():
        qemu_daemon.start()  # an earlier test may have stopped it
    elif qemu_daemon.pid is not None:
        os.kill(qemu_daemon.pid, signal.SIGCONT)  # in case a test SIGSTOPped it
    guests = TinyGuests(qemu_daemon)
    prefix = _unique_prefix(request)
    conn = libvirt.open(qemu_daemon.uri)
    try:
        for i in (1, 2):
            name = f"{prefix}-{i}"
            xml, disk = make_guest(name, qemu_daemon.images_dir)
            qemu_daemon.chown(disk)
            guests.names.append(name)
            guests.disks.append(disk)
            conn.defineXML(xml).create()
    except BaseException:
        conn.close()
        _remove_guests(guests)
        raise
    conn.close()
    try:
        yield guests
    finally:
        _remove_guests(guests)


@pytest.fixture(scope="module")
def lxc() -> Iterator[lxc_rig.LxcDaemon]:
    """A private LXC daemon, one per test module (the LXC tests)."""
    with lxc_rig.running() as daemon:
        yield daemon


@pytest.fixture
def lxc_observer(lxc: lxc_rig.LxcDaemon) -> Iterator[libvirt.virConnect]:
    """A second connection to the LXC daemon, to check what xentui did."""
    conn = libvirt.open(lxc.uri)
    try:
        yield conn
    finally:
        conn.close()
