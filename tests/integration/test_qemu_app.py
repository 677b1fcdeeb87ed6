"""The console against a private QEMU daemon with two tiny guests (64 MiB, no OS).

Lifecycle keys pressed in the app are checked with `virsh` (a separate client), and
`virsh` actions must reach the app's row and log through events within a second. Kept
to a handful of actions: each QEMU destroy costs about two seconds here.
"""

from __future__ import annotations

import time

import pytest

from tests.support.daemons import TinyGuests
from tests.support.pilot_helpers import (
    Stopwatch,
    asking,
    log_has,
    passes_far_apart,
    private_state,  # noqa: F401  (fixture)
    ready,
    until,
    virsh,
)
from xentui.config import Settings
from xentui.ui.app import XentuiApp
from xentui.ui.launch import make_app
from xentui.ui.screens.confirm import ConfirmScreen

pytestmark = pytest.mark.integration


def domstate(uri: str, name: str) -> str:
    return virsh(uri, "domstate", name).stdout.strip()


def row_state(app: XentuiApp, uuid: str) -> str:
    fig = app.main.table.by_uuid(uuid)
    return "" if fig is None else fig.sample.state.value


async def test_app_and_virsh_see_each_other(tiny_guests: TinyGuests, private_state) -> None:  # noqa: F811
    uri = tiny_guests.uri
    one, two = tiny_guests.names
    app = make_app(uri, settings=Settings(interval=0.5, shutdown_timeout=2.0))
    watch = Stopwatch("qemu")
    async with app.run_test(size=(160, 40)) as pilot:
        await ready(pilot, 30)
        uuids = {f.name: f.uuid for f in app.main.table.figures.values()}
        assert {one, two} <= set(uuids)
        u1, u2 = uuids[one], uuids[two]
        assert row_state(app, u1) == row_state(app, u2) == "running"

        # Figures move: CPU time advances, so some pass shows CPU in use.
        def busy() -> bool:
            fig = app.main.table.by_uuid(u1)
            return fig is not None and (fig.rates.cpu_pct or 0) > 0

        watch["first cpu_pct > 0"] = await until(pilot, busy, 15, "cpu_pct > 0")
        first_cpu = app.main.table.by_uuid(u1).sample.cpu_time_ns or 0
        await until(pilot, lambda: (app.main.table.by_uuid(u1).sample.cpu_time_ns or 0)
                    > first_cpu, 5, "cpu time advancing")

        # -- keys in the app, checked with virsh --------------------------------------
        assert app.main.table.select(u1)
        await pilot.pause()
        await pilot.press("p", "y")
        await until(pilot, lambda: domstate(uri, one) == "paused", 5, "paused (virsh)")
        await until(pilot, lambda: row_state(app, u1) == "paused", 2, "paused row")
        await pilot.press("p")
        await until(pilot, lambda: domstate(uri, one) == "running", 5, "resumed (virsh)")
        await until(pilot, lambda: row_state(app, u1) == "running", 2, "resumed row")

        # A guest without an OS ignores the shutdown request: the app says so after
        # `shutdown_timeout`, and force off works.
        await pilot.press("S", "y")
        await until(pilot, lambda: log_has(app, one, "has not shut down"), 8,
                    "overdue shutdown reported")
        assert domstate(uri, one) == "running"
        if not isinstance(app.screen, ConfirmScreen):  # the app may already offer force off
            await pilot.press("F")
        # A `y` sent before the question is on screen is dropped, as a person's would be.
        await until(pilot, lambda: asking(app), 5, "confirm")
        await pilot.press("y")
        await until(pilot, lambda: domstate(uri, one) == "shut off", 10, "forced off (virsh)")
        await until(pilot, lambda: row_state(app, u1) == "shutoff", 2, "shut-off row")
        await pilot.press("s")
        await until(pilot, lambda: domstate(uri, one) == "running", 10, "started (virsh)")
        await until(pilot, lambda: row_state(app, u1) == "running", 2, "running row")

        # -- virsh actions, seen through events within a second ------------------------
        passes = await passes_far_apart(pilot, app)  # only events can tell now
        for verb, want, words in (
            ("suspend", "paused", "Suspended"),
            ("resume", "running", "Resumed"),
            ("destroy", "shutoff", "Stopped (destroyed)"),
        ):
            virsh(uri, verb, two)
            t0 = time.monotonic()
            await until(pilot, lambda w=want: row_state(app, u2) == w, 1.0, f"{verb} row")
            await until(pilot, lambda w=words: log_has(app, f"{two}: {w}"), 1.0, f"{verb} log")
            watch[f"virsh {verb} -> row and log"] = time.monotonic() - t0
        assert app.passes == passes, "a pass ran: the test proved nothing about events"
