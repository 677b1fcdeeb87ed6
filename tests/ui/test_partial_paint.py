"""A pass writes only the cells that changed, and the screen it leaves is the screen a
full repaint draws: fed to a grid of cells as a terminal would be, the partial updates
of several passes (figures moving, a re-sort, cursor moves, a scroll) and a repaint of
every widget afterwards end on the same cells."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from textual._compositor import ChopsUpdate, CompositorUpdate
from textual.app import App
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import Footer

from tests.support.pilot_helpers import ready, until
from tests.support.terminal_grid import TerminalGrid
from tests.ui.conftest import build_app
from xentui.config import Settings
from xentui.demo import demo_uri, synthetic_node
from xentui.demo import host as demo_host_module
from xentui.demo.host import demo_fleet
from xentui.ui.app import XentuiApp
from xentui.ui.chops import ROW_GAP

SIZE = (160, 50)


def feed_grid(monkeypatch: pytest.MonkeyPatch) -> TerminalGrid:
    """Every update an app hands to Textual's display goes to a grid of cells, encoded
    as it would be for the terminal (headless Textual writes nothing)."""
    grid = TerminalGrid(*SIZE)
    shown = App._display

    def display(app: App[Any], screen: Any, renderable: Any) -> None:
        shown(app, screen, renderable)
        if isinstance(renderable, CompositorUpdate) and not app._batch_count:
            grid.feed(renderable.render_segments(app.console))

    monkeypatch.setattr(App, "_display", display)
    return grid


async def settle(pilot: Any, grid: TerminalGrid) -> None:
    """Let the app draw until nothing more is written."""
    for _ in range(50):
        written = grid.written
        await pilot.pause(0.05)
        if grid.written == written:
            return


async def full_repaint(app: Any, pilot: Any, grid: TerminalGrid) -> int:
    """Repaint every widget whole; the bytes that took (the reference for a pass)."""
    for widget in app.screen.walk_children(with_self=True):
        widget.refresh()
    before = grid.written
    await settle(pilot, grid)
    return grid.written - before


async def test_partial_updates_leave_the_screen_a_full_repaint_draws(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = tmp_path / "node.xml"
    node.write_text(synthetic_node(80))
    app = build_app(demo_uri(node), interval=3600.0)  # passes come when poll_now asks
    grid = feed_grid(monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)

        async def one_pass() -> int:
            """Run a pass; the bytes written meanwhile."""
            done, before = app.passes, grid.written
            app.poll_now()
            await until(pilot, lambda: app.passes > done)
            await pilot.pause()
            return grid.written - before

        for _ in range(3):
            await one_pass()
        app.main.table.set_sort("cpu", reverse=True)
        await one_pass()
        await pilot.press("down", "down", "down")
        await one_pass()
        await pilot.press("pagedown")
        await one_pass()
        app.main.table.set_sort("name", reverse=False)
        await one_pass()
        pass_bytes = await one_pass()
        after_passes = [list(row) for row in grid.cells]
        repaint_bytes = await full_repaint(app, pilot, grid)

    assert "Name" in "".join(grid.lines())
    assert grid.cells == after_passes
    # the figures of the rows on screen change each pass, yet a pass writes a small part
    # of what drawing the same screen whole writes
    assert 0 < pass_bytes < repaint_bytes / 10


async def test_a_fleet_pass_rewrites_the_hosts_pane_cells_that_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The demo fleet: three hosts, the Hosts pane shown, every guest's figures moving."""
    grid = feed_grid(monkeypatch)
    # Each demo pass takes 5 ms by the clock it is timed with: a pass that happened to
    # take 10 ms after ones of 9 would widen the Pass column and redraw the whole pane.
    ticks = itertools.count()
    monkeypatch.setattr(demo_host_module, "time", SimpleNamespace(
        time=time.time, monotonic=time.monotonic,
        perf_counter=lambda: next(ticks) * 0.005))
    app = XentuiApp(demo_fleet(interval=3600.0, past_s=0), Settings(), live=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.passes >= 3)
        await pilot.pause()
        for _ in range(4):
            done = app.passes
            app.poll_now()
            await until(pilot, lambda: app.passes >= done + 3)  # noqa: B023
            await pilot.pause()
        before = grid.written
        done = app.passes
        app.poll_now()
        await until(pilot, lambda: app.passes >= done + 3)
        await pilot.pause()
        pass_bytes = grid.written - before
        after_passes = [list(row) for row in grid.cells]
        repaint_bytes = await full_repaint(app, pilot, grid)

    assert "Hosts" in "".join(grid.lines()) and " 5 ms" in "".join(grid.lines())
    assert grid.cells == after_passes
    # rewriting the Hosts pane's rows whole on each host's pass alone is a tenth of it
    assert 0 < pass_bytes < repaint_bytes / 40


async def test_a_pass_asks_widgets_only_for_the_rows_it_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Textual asks every widget overlapping the box around all dirty cells for all its
    lines; the main screen asks only for the rows where a dirty span crosses a widget
    (joined across gaps under `ROW_GAP`): the log and the footer, which a pass leaves
    alone, are not asked at all."""
    node = tmp_path / "node.xml"
    node.write_text(synthetic_node(10))
    app = build_app(demo_uri(node), interval=3600.0)
    asked: list[tuple[Widget, int]] = []
    span_rows: set[int] = set()
    render_lines = Widget.render_lines

    def counted(widget: Widget, crop: Region) -> Any:
        top = widget.region.y + crop.y
        asked.extend((widget, y) for y in range(top, top + crop.height))
        return render_lines(widget, crop)

    shown = App._display

    def display(app: App[Any], screen: Any, renderable: Any) -> None:
        shown(app, screen, renderable)
        if isinstance(renderable, ChopsUpdate):
            span_rows.update(y for y, _, _ in renderable.spans)

    monkeypatch.setattr(Widget, "render_lines", counted)
    monkeypatch.setattr(App, "_display", display)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        for _ in range(2):
            asked.clear()
            span_rows.clear()
            done = app.passes
            app.poll_now()
            await until(pilot, lambda: app.passes > done)  # noqa: B023
            await pilot.pause()
        log, footer = app.main.log_pane, app.main.query_one(Footer)

    assert span_rows, "a pass changed nothing on screen"
    assert asked
    assert not [y for w, y in asked if w in (log, footer)]
    far = [y for _, y in asked if min(abs(y - s) for s in span_rows) > ROW_GAP]
    assert not far
