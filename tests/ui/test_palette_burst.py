"""Ctrl+P and keys right behind it, as a terminal delivers them: the command palette
opening and closing in one burst never ends the app (a tmux fuzz run found Textual's
palette querying its own list after it was gone)."""

from __future__ import annotations

from textual import events

from tests.support.pilot_helpers import ready


async def test_palette_opened_and_closed_in_bursts(demo_app) -> None:
    async with demo_app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        for i in range(30):
            demo_app.post_message(events.Key("ctrl+p", None))
            for ch in "/w"[: i % 3]:
                demo_app.post_message(events.Key("slash" if ch == "/" else ch, ch))
            demo_app.post_message(events.Key("escape", "\x1b"))
            await pilot.pause(0.01 * (i % 4))
        await pilot.pause(0.5)
        assert demo_app.is_running
        assert demo_app.return_code is None


async def test_a_closed_palettes_redraw_error_does_not_end_the_app(demo_app) -> None:
    """The error Textual raised in the fuzz run, delivered as it was: the app goes on."""
    from textual.css.query import NoMatches

    async with demo_app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        demo_app._handle_exception(NoMatches(
            "No nodes match 'CommandList' on CommandPalette(id='--command-palette')"))
        await pilot.pause(0.3)
        assert demo_app.is_running and demo_app.return_code is None


async def test_the_same_error_from_the_palettes_worker_does_not_end_the_app(demo_app) -> None:
    """The palette gathers commands in a worker: the error reaches the app wrapped in
    WorkerFailed (a full run on two workers ended the app this way)."""
    from textual.css.query import NoMatches
    from textual.worker import WorkerFailed

    async with demo_app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        demo_app._handle_exception(WorkerFailed(NoMatches(
            "No nodes match 'CommandList' on CommandPalette(id='--command-palette')")))
        await pilot.pause(0.3)
        assert demo_app.is_running and demo_app.return_code is None
