"""Live migration from the keyboard with the dialog's options, on the two-daemon QEMU rig
(tests/support/migration_rig.py): managed direct and peer-to-peer there and back with
the options' effects read on fresh connections; a throttled guest that keeps dirtying
its RAM shows growing progress in the app and `M` aborts it, leaving it on the source;
migrating to the same daemon is refused by xentui's pre-flight (both daemons' host UUID,
from their capabilities) on one line."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest
from textual.message import Message
from textual.pilot import Pilot

from tests.support import migration_rig
from tests.support.migration_rig import MigrationRig
from tests.support.pilot_helpers import asking, log_has, private_state, until  # noqa: F401
from xentui.backend.models import DomainRef
from xentui.config import HostEntry, Settings
from xentui.ui.app import XentuiApp
from xentui.ui.launch import make_app
from xentui.ui.messages import ActionDone, MigrationProgressed
from xentui.ui.migration import NO_MIGRATION_REASON
from xentui.ui.screens.migrate import MigrateScreen
from xentui.ui.widgets.migration_line import MigrationLine

pytestmark = pytest.mark.integration

Seen = tuple[bool, bool] | None
"""(active, persistent) of a guest on one daemon; None: the daemon does not know it."""


@pytest.fixture(scope="module")
def rig() -> Iterator[MigrationRig]:
    with migration_rig.running() as r:
        yield r


def seen(uri: str, name: str) -> Seen:
    """The guest as a separate connection to the daemon at `uri` sees it."""
    conn = libvirt.open(uri)
    try:
        try:
            dom = conn.lookupByName(name)
        except libvirt.libvirtError as err:
            assert err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN, err
            return None
        return bool(dom.isActive()), bool(dom.isPersistent())
    finally:
        conn.close()


def both(rig: MigrationRig, name: str) -> tuple[Seen, Seen]:
    """(on the source daemon, on the target daemon)."""
    return seen(rig.source_uri, name), seen(rig.target_uri, name)


def fleet_app(uris: dict[str, str]) -> XentuiApp:
    return make_app([HostEntry(h, u) for h, u in uris.items()], settings=Settings(interval=0.5),
                    log_to_file=False)


def ref_of(app: XentuiApp, name: str, host: str) -> DomainRef | None:
    return next((r for r, f in app.main.table.figures.items()
                 if f.name == name and r.host == host), None)


async def migrate(pilot: Pilot[int], app: XentuiApp, name: str, host: str,
                  option_keys: tuple[str, ...] = ()) -> None:
    """Select `name` on `host`, press m, tick options with their keys, pick the only
    target and confirm."""
    await until(pilot, lambda: all(h.connected for h in app.fleet.hosts.values()), 20,
                "every host connected")
    await until(pilot, lambda: ref_of(app, name, host) is not None, 20, f"{name} on {host}")
    ref = ref_of(app, name, host)
    assert ref is not None and app.main.table.select(ref)
    await pilot.pause()
    await pilot.press("m")
    await until(pilot, lambda: isinstance(app.screen, MigrateScreen), 5, "the migrate dialog")
    await pilot.press(*option_keys, "enter")
    await until(pilot, lambda: asking(app), 5, "the confirmation")
    await pilot.press("y")


def outcomes(messages: list[Message]) -> list[ActionDone]:
    return [m for m in messages if isinstance(m, ActionDone) and m.action == "migrate"]


async def finished(pilot: Pilot[int], messages: list[Message], count: int,
                   timeout: float = 30) -> ActionDone:
    """Wait for the `count`-th migration outcome; it."""
    await until(pilot, lambda: len(outcomes(messages)) >= count, timeout, "migration outcome")
    return outcomes(messages)[count - 1]


@pytest.mark.parametrize("p2p", [False, True], ids=["direct", "peer-to-peer"])
async def test_there_and_back_with_the_options(
    rig: MigrationRig, private_state: Path, p2p: bool  # noqa: F811
) -> None:
    """There with the defaults (kept on the target, undefined on the source); back with
    `k` (not persistent on the target) and `u` (kept on the source) unticked."""
    name = rig.start_guest()
    mode = ("p",) if p2p else ()
    messages: list[Message] = []
    app = fleet_app({"src": rig.source_uri, "dst": rig.target_uri})
    try:
        async with app.run_test(size=(160, 50), message_hook=messages.append) as pilot:
            await migrate(pilot, app, name, "src", mode)
            there = await finished(pilot, messages, 1)
            assert there.ok, there.text
            assert both(rig, name) == (None, (True, True))
            await until(pilot, lambda: ref_of(app, name, "dst") is not None
                        and ref_of(app, name, "src") is None, 10, "the row on dst only")

            await migrate(pilot, app, name, "dst", (*mode, "k", "u"))
            back = await finished(pilot, messages, 2)
            assert back.ok, back.text
            # Transient on the source (it had no definition left there); the target
            # keeps its definition, shut off.
            assert both(rig, name) == ((True, False), (False, True))
            # The target keeps a shut-off row (its definition); the guest runs on src.
            await until(pilot, lambda: [r.host for r, f in app.main.table.figures.items()
                                        if f.name == name and f.sample.state.active] == ["src"],
                        10, "running on src only, on screen")
            assert ref_of(app, name, "dst") is not None
            await until(pilot, lambda: log_has(app, f"{name}: migrated to dst in"), 3)
            await until(pilot, lambda: log_has(app, f"{name}: migrated to src in"), 3)
    finally:
        rig.remove_guest(name)


async def test_throttled_migration_shows_progress_and_abort_keeps_it_on_the_source(
    rig: MigrationRig, private_state: Path  # noqa: F811
) -> None:
    name = rig.start_guest(memory_kib=32 * 1024, dirty_memory=True)
    watcher = libvirt.open(rig.source_uri)
    messages: list[Message] = []
    app = fleet_app({"src": rig.source_uri, "dst": rig.target_uri})
    try:
        dom = watcher.lookupByName(name)
        assert migration_rig.rewrites_memory(dom)
        dom.migrateSetMaxSpeed(1, 0)  # MiB/s: 32 MiB of RAM it keeps rewriting
        async with app.run_test(size=(160, 50), message_hook=messages.append) as pilot:
            await migrate(pilot, app, name, "src")

            def sent() -> list[int]:
                return [m.progress.processed_bytes for m in messages
                        if isinstance(m, MigrationProgressed)
                        and m.progress.processed_bytes is not None]

            uuid = dom.UUIDString()
            rows: list[list[str]] = []

            def four_samples() -> bool:
                rows.append(sorted(r.host for r in app.main.table.figures if r.uuid == uuid))
                return len(set(sent())) >= 4

            await until(pilot, four_samples, 20, "four progress samples")
            assert sent() == sorted(sent())
            assert rows and all(r == ["src"] for r in rows), rows  # never two rows, or none
            last = next(m.progress for m in reversed(messages)
                        if isinstance(m, MigrationProgressed))
            assert not last.finished and last.fraction is not None and 0 <= last.fraction < 1
            assert last.rate_bps is not None and 0 < last.rate_bps < 2 * 2**20
            assert last.eta_s is not None and last.eta_s > 1
            line = str(app.main.query_one(MigrationLine).render())
            assert app.main.query_one(MigrationLine).display
            assert name in line and "%" in line and "/s" in line and "ETA" in line
            assert outcomes(messages) == []

            assert app.main.check_action("abort_migration", ()) is True
            assert app.main.migrate_reason() == "its migration is under way"
            await pilot.press("M")
            await until(pilot, lambda: asking(app), 5, "the abort confirmation")
            await pilot.press("y")
            done = await finished(pilot, messages, 1)
            assert not done.ok and "\n" not in done.text
            assert done.text.endswith("; aborted on request (still on src)"), done.text
            assert both(rig, name) == ((True, True), None)
            assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
            await until(pilot, lambda: not app.main.query_one(MigrationLine).display, 5,
                        "the progress line gone")
            assert app.abort_reason(app.main.selected()) == NO_MIGRATION_REASON
            assert app.main.check_action("abort_migration", ()) is None
    finally:
        with contextlib.suppress(libvirt.libvirtError):  # a check failed mid-way
            watcher.lookupByName(name).abortJob()
        watcher.close()
        rig.remove_guest(name)


async def test_migrating_to_the_same_daemon_fails_on_one_line(
    rig: MigrationRig, private_state: Path  # noqa: F811
) -> None:
    """Two hosts of the fleet on one daemon: xentui's pre-flight finds one host UUID in
    both connections' capabilities and refuses before libvirt is asked (libvirt itself
    would say "Attempt to migrate guest to the same host"); the guest keeps running."""
    name = rig.start_guest()
    messages: list[Message] = []
    app = fleet_app({"here": rig.source_uri, "again": rig.source_uri})
    same_host = (f"Migrate: again is the same physical host as here "
                 f"(host UUID {rig.host_uuids[0]}); pick another host")
    try:
        async with app.run_test(size=(160, 50), message_hook=messages.append) as pilot:
            await migrate(pilot, app, name, "here")
            done = await finished(pilot, messages, 1)
            assert not done.ok and done.text == f"{same_host} (still on here)"
            await until(pilot, lambda: log_has(app, same_host), 3, "the failure line")
        assert both(rig, name) == ((True, True), None)
    finally:
        rig.remove_guest(name)
