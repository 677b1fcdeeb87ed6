"""Live migration on the real Xen rig: the rig is one host, so migrating `tiny` to it
(two fleet hosts on the same Dom0, one local and one over ssh) must fail with libvirt's
reason on one line while the guest keeps running; abort is greyed for libxl."""

from __future__ import annotations

import pytest

from tests.xen.conftest import Rig
from xentui.backend.errors import BackendError
from xentui.backend.fleet import Fleet
from xentui.backend.libvirt.host import LibvirtHost as Host
from xentui.backend.libvirt.migration import LIBXL_FLAGS, flags_for
from xentui.backend.models import DomainRef, MigrationOptions

pytestmark = pytest.mark.xen


async def test_migration_to_the_same_xen_host_fails_cleanly(tiny_running: Rig) -> None:
    here = Host(tiny_running.uri, interval=1.0, id="here")
    there = Host(tiny_running.ssh_uri, interval=1.0, id="there")
    fleet = Fleet([here, there], live=False)
    await here.connect()
    await there.connect()
    try:
        result = await here.sample()
        tiny = next(f for f in result.domains.values() if f.name == "tiny")
        caps = here.caps
        assert caps is not None and not caps.abort_migration
        assert "not supported by the Xen driver" in caps.missing_reason("abort_migration")
        for p2p in (False, True):
            opts = MigrationOptions(p2p=p2p)
            assert flags_for(opts, caps.driver) & ~LIBXL_FLAGS == 0
            with pytest.raises(BackendError) as failed:
                await fleet.migrate(DomainRef("here", tiny.uuid), "there", opts)
            text = str(failed.value)
            print(f"[xen migrate to itself, p2p={p2p}] {text}")
            assert "\n" not in text and text.startswith("Migrate")
            assert tiny_running.state() == "running"
    finally:
        await fleet.close()
