"""Live migration from the keyboard, on the two-daemon QEMU rig: `m`, pick the target,
confirm; the guest runs on the target and has left the source (checked on fresh
connections) and the console lists it once, on the target."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.support import migration_rig
from tests.support.migration_rig import MigrationRig
from tests.support.pilot_helpers import Stopwatch, asking, private_state, until  # noqa: F401
from xentui.config import HostEntry, Settings
from xentui.ui.launch import make_app
from xentui.ui.screens.migrate import MigrateScreen

pytestmark = pytest.mark.integration


@pytest.fixture
def rig() -> Iterator[MigrationRig]:
    with migration_rig.running() as r:
        yield r


def where(rig: MigrationRig, name: str) -> dict[str, int]:
    """The guest's state on each daemon that has it, read on fresh connections."""
    out = {}
    for label, uri in (("src", rig.source_uri), ("dst", rig.target_uri)):
        conn = libvirt.open(uri)
        try:
            try:
                out[label] = conn.lookupByName(name).state()[0]
            except libvirt.libvirtError:
                pass
        finally:
            conn.close()
    return out


async def test_migrate_with_m_moves_the_row_and_the_guest(
    rig: MigrationRig, private_state: Path  # noqa: F811
) -> None:
    name = rig.start_guest()
    app = make_app([HostEntry("src", rig.source_uri), HostEntry("dst", rig.target_uri)],
                   settings=Settings(interval=0.5))
    watch = Stopwatch("migrate from the keyboard")
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.main.table
        await until(pilot, lambda: any(f.name == name for f in table.figures.values()), 20,
                    "the guest listed")
        uuid = next(f.uuid for f in table.figures.values() if f.name == name)
        assert table.select(uuid)
        await pilot.pause()
        await until(pilot, lambda: all(h.connected for h in app.fleet.hosts.values()), 20,
                    "both hosts connected")
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, MigrateScreen), 5, "target list")
        assert app.screen.targets == ["dst"]
        await pilot.press("enter")
        await until(pilot, lambda: asking(app), 5, "confirmation")
        await pilot.press("y")
        took = await until(pilot, lambda: where(rig, name) == {"dst": libvirt.VIR_DOMAIN_RUNNING},
                           30, "running on the target only")
        watch["m … y to running on the target"] = took
        await until(pilot, lambda: [r.host for r in table.figures if r.uuid == uuid] == ["dst"],
                    5, "one row, on the target")
        await until(pilot, lambda: "migrated to dst" in " ".join(
            ln.text for ln in app.main.log_pane.lines), 3, "the outcome line")


async def test_migrate_is_greyed_with_one_host(rig: MigrationRig,
                                              private_state: Path) -> None:  # noqa: F811
    name = rig.start_guest()
    app = make_app(rig.source_uri, settings=Settings(interval=0.5))
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.main.table
        await until(pilot, lambda: any(f.name == name for f in table.figures.values()), 20)
        assert table.select(next(f.uuid for f in table.figures.values() if f.name == name))
        await pilot.pause()
        assert app.main.check_action("migrate", ()) is None
        assert app.main.migrate_reason() == "no other connected host"
        await pilot.press("m")
        await pilot.pause(0.3)
        assert not isinstance(app.screen, MigrateScreen)
    assert where(rig, name) == {"src": libvirt.VIR_DOMAIN_RUNNING}
