"""Hosts' passes handed on together (one tick of the fleet's clock) reach the screen as
one message: every host's row changes, and the columns, header and Hosts pane are worked
out once for the burst, not once per host; the Hosts pane draws the new figures."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import pytest
from textual import events
from textual.pilot import Pilot

from tests.support.pilot_helpers import log_lines, until
from xentui.backend.models import LinkState, LinkStatus
from xentui.config import Settings
from xentui.demo.host import demo_fleet
from xentui.ui.app import XentuiApp
from xentui.ui.screens.detail import DetailScreen
from xentui.ui.widgets.hosts_pane import COLUMNS, HostsPane

INTERVAL = 3600.0
"""Passes come only when the test feeds them (after the first)."""


@asynccontextmanager
async def demo_fleet_app() -> AsyncIterator[tuple[XentuiApp, Pilot[None]]]:
    """The demo fleet's console at 160x50, once every host's first pass is in."""
    app = XentuiApp(demo_fleet(interval=INTERVAL, past_s=0), Settings(interval=INTERVAL),
                    live=True)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: app.passes >= len(app.fleet.hosts), 10.0,
                    "every host's first pass")
        yield app, pilot


@pytest.mark.parametrize("ms", [1, 111], ids=["as-wide", "wider"])
async def test_a_burst_of_passes_is_handled_once_and_shows_every_host(ms: int) -> None:
    """`ms`: host n's pass takes n*ms; 1 keeps the Pass column's width (the pane redraws
    only the changed rows), 111 makes it wider (the column grows)."""
    async with demo_fleet_app() as (app, pilot):
        hosts = list(app.fleet.hosts.values())
        screen = app.main
        pane = screen.query_one(HostsPane)
        calls: list[str] = []
        fit = screen.fit_columns
        show = pane.show

        def counted_fit() -> None:
            calls.append("fit")
            fit()

        def counted_show(*args: object, **kw: object) -> None:
            calls.append("pane")
            show(*args, **kw)  # type: ignore[arg-type]

        screen.fit_columns = counted_fit  # type: ignore[method-assign]
        pane.show = counted_show  # type: ignore[method-assign]
        before = app.passes
        # One tick's results, handed on in one burst as the fleet's clock does.
        for n, host in enumerate(hosts, start=1):
            assert host.last is not None
            host.last = replace(host.last, took_s=n * ms / 1000)  # type: ignore[misc]
            app._record(host.last)
        await until(pilot, lambda: app.passes == before + len(hosts), 5.0, "the burst")
        await pilot.pause(0.1)
        assert calls == ["fit", "pane"]
        drawn = "\n".join(strip.text for strip in pane.render_lines(pane.region.reset_offset))
        for n, host in enumerate(hosts, start=1):
            assert pane.get_cell(host.id, COLUMNS[-1]) == f"{n * ms} ms"
            # What the pane draws, not only what it holds: no row is drawn from a stale
            # render (the pane drops only the changed rows' renders).
            line = next(ln for ln in drawn.splitlines() if host.id in ln)
            assert f"{n * ms} ms" in line


async def test_a_burst_whose_rows_move_is_sorted_once_for_every_host() -> None:
    """Each host's pass renames a domain (its place in the name order changes): the rows
    are sorted once for the tick, and every host's new name is on the table."""
    async with demo_fleet_app() as (app, pilot):
        hosts = list(app.fleet.hosts.values())
        table = app.main.table
        table.set_sort("name", reverse=False)
        sorts: list[int] = []
        reorder = table._reorder

        def counted() -> None:
            sorts.append(len(table.figures))
            reorder()

        table._reorder = counted  # type: ignore[method-assign]
        before = app.passes
        for n, host in enumerate(hosts):
            assert host.last is not None
            uuid, fig = next((u, f) for u, f in host.last.domains.items()
                             if not f.sample.is_dom0)
            renamed = replace(fig, sample=replace(fig.sample, name=f"aaa-moved-{n}"))
            domains = {**host.last.domains, uuid: renamed}
            host.last = replace(host.last, domains=domains)  # type: ignore[misc]
            app._record(host.last)
        await until(pilot, lambda: app.passes == before + len(hosts), 5.0, "the burst")
        await pilot.pause(0.1)
        assert len(sorts) == 1
        names = [table.figures[ref].name for ref in table._order]
        for n in range(len(hosts)):
            assert f"aaa-moved-{n}" in names


async def test_a_passs_notice_is_logged_with_its_host() -> None:
    """A reading path given up in a pass (a failed libxenstat read) is a warning in the
    log, naming the host in a fleet; its text is data, not markup."""
    async with demo_fleet_app() as (app, pilot):
        hosts = list(app.fleet.hosts.values())
        host = hosts[1]
        assert host.last is not None
        text = "libxenstat read failed ([b]x): CPU and memory are read through libvirt"
        host.last = replace(host.last, notice=text)  # type: ignore[misc]
        app._record(host.last)
        bare = text.replace(" ", "")  # the pane's wrapped lines join without a space

        def logged() -> list[str]:
            return [ln for ln in log_lines(app) if bare in ln.replace(" ", "")]

        await until(pilot, lambda: bool(logged()), 5.0, "the notice")
        assert len(logged()) == 1 and "WARN" in logged()[0] and host.id in logged()[0]


async def test_the_hosts_pane_moves_with_keys_and_enter_lists_that_hosts_domains() -> None:
    """Tab into the Hosts pane, `j` down a row, Enter: the Domains pane lists only that
    host's domains (the `host:` filter); the cursor row is drawn reversed while the pane
    has the focus, and only then."""
    async with demo_fleet_app() as (app, pilot):
        hosts = list(app.fleet.hosts)
        screen = app.main
        pane = screen.query_one(HostsPane)

        def reversed_rows() -> list[int]:
            lines = pane.render_lines(pane.region.reset_offset.shrink(pane.styles.gutter))
            return [y for y, strip in enumerate(lines)
                    if any(seg.style is not None and seg.style.reverse for seg in strip)]

        assert not pane.has_focus and reversed_rows() == []
        while not pane.has_focus:
            await pilot.press("tab")
        await pilot.pause()
        assert reversed_rows() == [1]  # the header is line 0
        await pilot.press("j", "j", "k")
        await pilot.pause()
        assert pane.selected_host() == hosts[1] and reversed_rows() == [2]
        await pilot.press("enter")
        await until(pilot, lambda: bool(screen.table.order) and all(
            r.host == hosts[1] for r in screen.table.order), 5.0, f"only {hosts[1]} listed")
        assert len(screen.table.order) < len(screen.table.figures)



@pytest.mark.parametrize(("typed", "row"), [("jj\r", 2), ("j\r", 1), ("jjk\r", 1)])
async def test_moves_and_enter_typed_in_one_burst_in_the_hosts_pane_run_in_order(
        typed: str, row: int) -> None:
    """A burst (keys read together, as from a terminal): Tab into the Hosts pane, moves,
    Enter. Each runs as it is read, so the moves go to the pane the Tabs focused and run
    before the Enter behind them: the host listed is the one moved to."""
    async with demo_fleet_app() as (app, pilot):
        hosts = list(app.fleet.hosts)
        screen = app.main
        pane = screen.query_one(HostsPane)
        chain = screen.focus_chain
        tabs = (chain.index(pane) - chain.index(screen.table)) % len(chain)
        assert screen.table.has_focus and tabs > 0
        keys = {"\r": "enter", "\t": "tab"}
        for ch in "\t" * tabs + typed:  # Tab into the pane in the same burst
            app.post_message(events.Key(keys.get(ch, ch), ch))
        await until(pilot, lambda: bool(screen.table.order) and all(
            r.host == hosts[row] for r in screen.table.order), 5.0, f"only {hosts[row]} listed")
        assert len(screen.table.order) < len(screen.table.figures)

async def test_a_lost_hosts_retry_counts_down_and_the_countdown_stops_once_it_is_back() -> None:
    """No pass comes (an hour's interval): only the countdown's own tick can move the
    'retrying in' figure. Once the host is connected again the tick stops."""
    async with demo_fleet_app() as (app, pilot):
        pane = app.main.query_one(HostsPane)
        host = app.fleet.hosts["xen-c"]
        lost = LinkStatus(LinkState.LOST, host.uri, message="connection to xen-c lost",
                          retry_in=9.0, at=time.time(), host_id="xen-c")
        host.status = lost
        for listener in list(host.status_listeners):
            listener(lost)

        def left() -> int | None:
            found = re.search(r"retrying in (\d+) s", str(pane.get_cell("xen-c", "Link")))
            return None if found is None else int(found[1])

        await until(pilot, lambda: left() is not None, 3.0, "the countdown shown")
        first = left()
        assert first is not None and first >= 7
        await until(pilot, lambda: (left() or 99) <= first - 2, 4.0, "the countdown ticking")
        await host.connect()
        await until(pilot, lambda: "connected" in str(pane.get_cell("xen-c", "Link")), 3.0,
                    "connected again")
        await pilot.pause(1.3)  # one more tick finds no link lost and stops the timer
        ticking = [t for t in app._timers if t._task is not None and not t._task.done()]
        assert not ticking, [t.name for t in ticking]


async def test_esc_moves_and_enter_in_one_burst_clear_the_host_filter_then_open_detail() -> None:
    """After Enter in the Hosts pane lists one host's domains, `Esc j j Enter` in one
    burst: Esc clears the filter first, the moves go down the whole list, and Enter opens
    the domain moved to (before, Esc ran last: it closed the detail Enter had opened and
    left the filter on)."""
    async with demo_fleet_app() as (app, pilot):
        screen = app.main
        pane = screen.query_one(HostsPane)
        while not pane.has_focus:
            await pilot.press("tab")
        await pilot.press("enter")
        await until(pilot, lambda: screen.table.has_focus and bool(screen.table.order)
                    and len(screen.table.order) < len(screen.table.figures), 5.0, "one host")
        start = screen.table.selected
        for key, ch in (("escape", "\x1b"), ("j", "j"), ("j", "j"), ("enter", "\r")):
            app.post_message(events.Key(key, ch))
        await until(pilot, lambda: isinstance(app.screen, DetailScreen), 5.0, "detail")
        await pilot.pause(0.3)
        assert isinstance(app.screen, DetailScreen)  # still open: Esc did not close it
        order = screen.table.order
        assert len(order) == len(screen.table.figures)  # the filter is off
        assert start is not None
        assert app.screen.uuid == order[order.index(start) + 2].uuid
