"""Smoke tests for the private libvirt daemons (libvirt-python and virsh only)."""

from __future__ import annotations

import shutil
import subprocess
import time

import libvirt
import pytest

from tests.support import daemons
from tests.support.daemons import PrivateDaemon, TinyGuests

pytestmark = pytest.mark.integration


def _virsh(uri: str, *args: str) -> str:
    virsh = shutil.which("virsh")
    if virsh is None:
        pytest.skip("virsh not installed")
    res = subprocess.run(
        [virsh, "-q", "-c", uri, *args], check=False, capture_output=True, text=True, timeout=30
    )
    assert res.returncode == 0, res.stderr
    return res.stdout


def _cpu_times(conn: libvirt.virConnect, names: list[str]) -> dict[str, int]:
    stats = conn.getAllDomainStats(libvirt.VIR_DOMAIN_STATS_CPU_TOTAL)
    return {dom.name(): s["cpu.time"] for dom, s in stats if dom.name() in names}


def test_qemu_guests_run_and_cpu_time_advances(tiny_guests: TinyGuests) -> None:
    conn = libvirt.open(tiny_guests.uri)
    try:
        names = list(tiny_guests)
        for name in names:
            assert conn.lookupByName(name).isActive()
        first = _cpu_times(conn, names)
        assert set(first) == set(names)
        deadline = time.monotonic() + 20
        while True:
            now = _cpu_times(conn, names)
            if all(now[n] > first[n] for n in names):
                break
            assert time.monotonic() < deadline, f"cpu.time did not advance: {first} -> {now}"
            time.sleep(0.2)
        stats = dict(conn.getAllDomainStats())
        for dom, s in stats.items():
            if dom.name() in names:
                assert s["balloon.current"] == 64 * 1024
                assert s["vcpu.current"] == 1
                assert s["block.0.name"] == "vda"
                assert s["net.count"] == 1
    finally:
        conn.close()


def test_virsh_lists_guests(tiny_guests: TinyGuests) -> None:
    out = _virsh(tiny_guests.uri, "list", "--name")
    listed = set(out.split())
    assert set(tiny_guests) <= listed


def test_test_daemon_serves_default_test_domain(test_daemon: PrivateDaemon) -> None:
    assert test_daemon.uri.startswith("test+unix:///default?socket=")
    conn = libvirt.open(test_daemon.uri)
    try:
        assert [d.name() for d in conn.listAllDomains()] == ["test"]
        assert conn.getType() == "TEST"
    finally:
        conn.close()
    assert "test" in _virsh(test_daemon.uri, "list", "--all").split()


def test_stop_makes_connection_fail() -> None:
    if not daemons.test_driver_available():
        pytest.skip("libvirtd is not installed")
    daemon = daemons.start_test_daemon()
    try:
        assert daemon.running() and daemon.pid is not None
        libvirt.open(daemon.uri).close()
        daemon.stop()
        assert not daemon.running()
        with pytest.raises(libvirt.libvirtError):
            libvirt.open(daemon.uri)
        daemon.start()
        libvirt.open(daemon.uri).close()
    finally:
        daemon.cleanup()


def test_restart_keeps_running_guests(qemu_daemon: PrivateDaemon, tiny_guests: TinyGuests) -> None:
    old_pid = qemu_daemon.pid
    qemu_daemon.restart()
    assert qemu_daemon.pid != old_pid
    conn = libvirt.open(qemu_daemon.uri)
    try:
        for name in tiny_guests:
            assert conn.lookupByName(name).isActive()
    finally:
        conn.close()
