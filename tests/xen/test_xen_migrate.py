"""Live migration on the real Xen rig: the rig is one host, so migrating `tiny` to it
(two fleet hosts on the same Dom0, one local and one over ssh) must be refused on one line
while the guest keeps running and its job stays free; abort is greyed for libxl.

libvirt really leaks the job (seen here, libvirt 9.0): a failed managed direct migration
leaves the domain's job held on libxl. libvirt's client (virDomainMigrateVersion3Full)
answers a failed Prepare3 with Confirm3, which ends the job Begin3 took, only where the
source driver offers change protection, and libxl does not; so every later call that
needs the job ("cannot acquire state change lock (held by
monitor=remoteDispatchDomainMigrateBegin3Params)") fails after 30 s until libvirtd
restarts, while `virDomainGetJobInfo` still answers at once (type unbounded). xentui's
pre-flight refuses such a migration before Begin3; when one fails anyway, its error names
the held job. The module's fixture restarts libvirtd after a test that left the job held
so that the tests after it start clean.

libxl reports no host UUID in its capabilities and the rig's SMBIOS has no system UUID
("Not Settable"), so here the pre-flight knows the target is the same machine from the
domain it already runs."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import libvirt
import pytest

from tests.xen.conftest import Rig
from xentui.backend.errors import BackendError, NotAllowed
from xentui.backend.fleet import Fleet
from xentui.backend.libvirt.held_job import held_job_note
from xentui.backend.libvirt.host import LibvirtHost as Host
from xentui.backend.libvirt.host_identity import caps_host_uuid, smbios_uuid
from xentui.backend.libvirt.migration import LIBXL_FLAGS, flags_for, migrate
from xentui.backend.libvirt.preflight import check_target
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
        capabilities = tiny_running.virsh("capabilities")
        sysinfo = tiny_running.virsh("sysinfo")
        assert caps_host_uuid(capabilities) is None and smbios_uuid(sysinfo) is None
        for p2p in (False, True):
            opts = MigrationOptions(p2p=p2p)
            assert flags_for(opts, caps.driver) & ~LIBXL_FLAGS == 0
            with pytest.raises(NotAllowed) as refused:
                await fleet.migrate(tiny, "there", opts)
            text = str(refused.value)
            print(f"[xen migrate to itself, p2p={p2p}] {text}")
            assert text == "Migrate: there already runs tiny (a domain with its UUID)"
            assert tiny_running.state() == "running"
            assert job_free(tiny_running) is None


def test_a_failed_direct_migration_names_the_job_libvirt_keeps_held(clean_daemon: Rig) -> None:
    """Past the pre-flight (xentui's `migrate()` called directly, as if the target had
    changed between the two), libvirt's migrate3 fails in Prepare3 and keeps tiny's job:
    xentui's error says so; a separate virsh in Dom0 sees the job held."""
    rig = clean_daemon
    assert job_free(rig) is None, "tiny's job was held before the migration"
    here, there = libvirt.open(rig.uri), libvirt.open(rig.ssh_uri)
    try:
        uuid = here.lookupByName("tiny").UUIDString()
        with pytest.raises(NotAllowed):
            check_target(here, there, uuid, "here", "there")
        assert job_free(rig) is None, "the pre-flight took tiny's job"
        opts = MigrationOptions()
        with pytest.raises(BackendError) as failed:
            migrate(here, there, rig.ssh_uri, uuid, "there", opts,
                    flags_for(opts, here.getType()), source_name="here")
    finally:
        here.close()
        there.close()
    text = str(failed.value)
    print(f"\n[xen failed direct migration] {text}")
    assert "\n" not in text and text.startswith("Migrate tiny to there failed after ")
    assert text.endswith("; " + held_job_note("tiny", "here"))
    held = job_free(rig)
    print(f"[xen failed direct migration] then, in Dom0: {held}")
    assert held is not None and "cannot acquire state change lock" in held
    assert rig.state() == "running"
