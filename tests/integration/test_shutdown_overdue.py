"""A guest with no OS ignores a graceful shutdown: the console says so and offers force off."""

from __future__ import annotations

import libvirt
import pytest

from tests.support.daemons import TinyGuests
from tests.support.pilot_helpers import asking, select, until
from xentui.config import Settings
from xentui.ui.launch import make_app

pytestmark = pytest.mark.integration


async def test_ignored_shutdown_offers_force_off(tiny_guests: TinyGuests) -> None:
    name = tiny_guests.names[0]
    observer = libvirt.open(tiny_guests.uri)
    app = make_app(tiny_guests.uri, settings=Settings(interval=0.5, shutdown_timeout=2.0),
                   log_to_file=False)
    try:
        async with app.run_test(size=(140, 40)) as pilot:
            await select(pilot, observer, name)
            await pilot.press("S", "y")  # shut down? yes
            await until(pilot, lambda: asking(app)
                        and "Force it off" in str(app.screen.question), timeout=10)
            log = " ".join(" ".join(ln.text for ln in app.main.log_pane.lines).split())
            assert "has not shut down after 2 s" in log
            assert observer.lookupByName(name).isActive() == 1
            await pilot.press("y")
            await until(pilot, lambda: observer.lookupByName(name).isActive() == 0, timeout=15)
    finally:
        observer.close()
