"""A driver that cannot migrate (libvirt's test driver, on two private daemons): both modes
fail with libvirt's own reason on one line -- managed direct through `migrate3`,
peer-to-peer through `migrateToURI3` -- and the guest keeps running where it was; abort
is greyed with the capabilities' reason. Two hosts of the fleet on one daemon are
refused by xentui's pre-flight before libvirt is asked."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import libvirt
import pytest
from textual.message import Message
from textual.pilot import Pilot

from tests.support.daemons import PrivateDaemon
from tests.support.pilot_helpers import asking, private_state, until  # noqa: F401
from xentui.backend.models import DomainRef
from xentui.config import HostEntry, Settings
from xentui.ui.app import XentuiApp
from xentui.ui.launch import make_app
from xentui.ui.messages import ActionDone
from xentui.ui.screens.migrate import MigrateScreen
from xentui.ui.widgets.migration_line import MigrationLine

pytestmark = pytest.mark.integration

GUEST_XML = """<domain type='test'>
  <name>{name}</name>
  <memory unit='KiB'>65536</memory>
  <os><type>hvm</type></os>
</domain>"""


@dataclass
class OnFirstHost:
    """A running guest on fleet host t1, selected in the app, and what the app posted."""

    app: XentuiApp
    pilot: Pilot[int]
    dom: libvirt.virDomain
    name: str
    messages: list[Message] = field(default_factory=list)

    def migrate_results(self) -> list[ActionDone]:
        return [m for m in self.messages if isinstance(m, ActionDone) and m.action == "migrate"]


@asynccontextmanager
async def guest_selected_on_t1(prefix: str, t1_uri: str, t2_uri: str) -> AsyncIterator[OnFirstHost]:
    """A new guest running on `t1_uri`, the app on hosts t1 and t2, the guest selected;
    the guest is removed afterwards (through its own connection)."""
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    observer = libvirt.open(t1_uri)  # also keeps the daemon's test:///default
    dom = observer.defineXML(GUEST_XML.format(name=name))
    dom.create()
    messages: list[Message] = []
    app = make_app([HostEntry("t1", t1_uri), HostEntry("t2", t2_uri)],
                   settings=Settings(interval=0.5), log_to_file=False)
    try:
        async with app.run_test(size=(160, 50), message_hook=messages.append) as pilot:
            ref = DomainRef("t1", dom.UUIDString())
            await until(pilot, lambda: ref in app.main.table.figures
                        and all(h.connected for h in app.fleet.hosts.values()), 20, "listed")
            assert app.main.table.select(ref)
            await pilot.pause()
            yield OnFirstHost(app, pilot, dom, name, messages)
    finally:
        if dom.isActive():
            dom.destroy()
        dom.undefine()
        observer.close()


async def test_a_driver_that_cannot_migrate_gives_its_reason_and_the_guest_stays(
    test_daemon: PrivateDaemon, daemon: PrivateDaemon, private_state: Path  # noqa: F811
) -> None:
    async with guest_selected_on_t1("nomig", test_daemon.uri, daemon.uri) as on:
        app, pilot, dom = on.app, on.pilot, on.dom
        reason = "aborting a migration is not supported by the TEST driver"
        assert app.abort_reason(app.main.selected()) == reason
        assert app.main.check_action("abort_migration", ()) is None
        await pilot.press("M")
        await pilot.pause(0.3)
        assert app.screen is app.main

        def failures() -> list[str]:
            return [m.text for m in on.migrate_results() if not m.ok]

        for keys, words in (((), "virDomainMigrate3"),
                            (("p",), "p2p migration is not supported")):
            await pilot.press("m")
            await until(pilot, lambda: isinstance(app.screen, MigrateScreen), 5, "dialog")
            await pilot.press(*keys, "enter")
            await until(pilot, lambda: asking(app), 5, "confirmation")
            count = len(failures())
            await pilot.press("y")
            await until(pilot, lambda n=count: len(failures()) > n, 10, "the failure")
            text = failures()[-1]
            assert words in text and "still on t1" in text and "\n" not in text, text
            assert dom.isActive() and dom.isPersistent()
        assert not app.main.query_one(MigrationLine).display
        assert app.fleet.migrations() == []


async def test_two_hosts_on_one_daemon_are_refused_before_libvirt_migrates(
    test_daemon: PrivateDaemon, private_state: Path  # noqa: F811
) -> None:
    async with guest_selected_on_t1("onemig", test_daemon.uri, test_daemon.uri) as on:
        app, pilot, dom = on.app, on.pilot, on.dom
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, MigrateScreen), 5, "dialog")
        await pilot.press("enter")
        await until(pilot, lambda: asking(app), 5, "confirmation")
        await pilot.press("y")
        await until(pilot, lambda: bool(on.migrate_results()), 10, "the refusal")
        done = on.migrate_results()[0]
        assert not done.ok
        assert done.text == (f"Migrate: t2 already runs {on.name} (a domain with its UUID) "
                             "(still on t1)")
        assert dom.isActive() and dom.isPersistent()
        assert app.fleet.migrations() == []
