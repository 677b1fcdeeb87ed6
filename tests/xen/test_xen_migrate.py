"""Live migration on the real Xen rig: the rig is one host, so migrating `tiny` to it
(two fleet hosts on the same Dom0, one local and one over ssh) must fail with libvirt's
reason on one line while the guest keeps running; abort is greyed for libxl.

A failed managed direct migration leaves the domain's job held on libxl: libvirt's client
(virDomainMigrateVersion3Full) answers a failed Prepare3 with Confirm3, which ends the job
Begin3 took, only where the source driver offers change protection, and libxl does not; so
every later call that needs the job ("cannot acquire state change lock (held by
monitor=remoteDispatchDomainMigrateBegin3Params)") fails after 30 s until libvirtd restarts.
The module's fixture restarts libvirtd afterwards so that the tests after it start clean."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest

from tests.xen.conftest import Rig
from xentui.backend.errors import BackendError
from xentui.backend.fleet import Fleet
from xentui.backend.libvirt.host import LibvirtHost as Host
from xentui.backend.libvirt.migration import LIBXL_FLAGS, flags_for
from xentui.backend.models import DomainRef, MigrationOptions

pytestmark = pytest.mark.xen

JOB_PROBE_S = 45
"""Longer than libxl's 30 s wait for a domain job: a held job shows as an error, not a hang."""


def job_free(rig: Rig) -> str | None:
    """None if a call that takes tiny's job goes through; else libvirt's error."""
    try:
        out = rig.exec("sh", "-c", "virsh -c xen:///system dommemstat tiny 2>&1 >/dev/null",
                       timeout=JOB_PROBE_S, check=False).strip()
    except subprocess.TimeoutExpired:
        return f"dommemstat did not answer within {JOB_PROBE_S} s"
    return out or None


@pytest.fixture
def clean_daemon(tiny_running: Rig) -> Iterator[Rig]:
    """tiny running; afterwards libvirtd restarted if a migration left tiny's job held."""
    yield tiny_running
    if job_free(tiny_running) is not None:
        tiny_running.exec("systemctl", "restart", "libvirtd")
        tiny_running.wait_state("running")



@asynccontextmanager
async def to_itself(rig: Rig) -> AsyncIterator[tuple[Fleet, Host, DomainRef]]:
    """The rig's Dom0 as two fleet hosts ("here" local, "there" over ssh) and tiny on
    "here": a migration between them is one to the same host, which must fail."""
    here = Host(rig.uri, interval=1.0, id="here")
    there = Host(rig.ssh_uri, interval=1.0, id="there")
    fleet = Fleet([here, there], live=False)
    await here.connect()
    await there.connect()
    try:
        result = await here.sample()
        tiny = next(f for f in result.domains.values() if f.name == "tiny")
        yield fleet, here, DomainRef("here", tiny.uuid)
    finally:
        await fleet.close()


async def test_migration_to_the_same_xen_host_fails_cleanly(clean_daemon: Rig) -> None:
    tiny_running = clean_daemon
    async with to_itself(tiny_running) as (fleet, here, tiny):
        caps = here.caps
        assert caps is not None and not caps.abort_migration
        assert "not supported by the Xen driver" in caps.missing_reason("abort_migration")
        for p2p in (False, True):
            opts = MigrationOptions(p2p=p2p)
            assert flags_for(opts, caps.driver) & ~LIBXL_FLAGS == 0
            with pytest.raises(BackendError) as failed:
                await fleet.migrate(tiny, "there", opts)
            text = str(failed.value)
            print(f"[xen migrate to itself, p2p={p2p}] {text}")
            assert "\n" not in text and text.startswith("Migrate")
            assert tiny_running.state() == "running"


@pytest.mark.xfail(strict=True, reason=(
    "libvirt 9.0 + libxl: a failed direct migration's Begin3 job is never ended (no Confirm3 "
    "without change protection); tiny's job stays held until libvirtd restarts"))
async def test_failed_direct_migration_leaves_the_domain_usable(clean_daemon: Rig) -> None:
    rig = clean_daemon
    assert job_free(rig) is None, "tiny's job was held before the migration"
    async with to_itself(rig) as (fleet, _here, tiny):
        with pytest.raises(BackendError):
            await fleet.migrate(tiny, "there", MigrationOptions())
    held = job_free(rig)
    print(f"\nafter the failed direct migration: {held}")
    assert held is None
