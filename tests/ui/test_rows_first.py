"""Rows first, figures as they come: the domain listing puts every domain's row on
screen (name, id, state) while the first pass is still reading, with the figures blank,
not zero; the pass's figures then replace them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import libvirt
import pytest
from textual.pilot import Pilot

from tests.support.daemons import PrivateDaemon
from tests.support.frozen_app import frozen_app
from tests.support.pilot_helpers import until
from tests.ui.conftest import build_app
from xentui.backend.models import DomainState, PassResult
from xentui.ui import format as fmt


def row_text(app, uuid: str) -> str:
    table = app.main.table
    row = [r.uuid for r in table.order].index(uuid) + 1 - int(table.scroll_offset.y)
    return table.render_line(row).text


def after_state(text: str, state: DomainState) -> list[str]:
    """The cells right of the State cell."""
    words = text.split()
    return words[words.index(state.value) + 1:]


async def test_rows_show_before_the_first_pass_and_its_figures_replace_them(
        demo_daemon: tuple[PrivateDaemon, libvirt.virConnect]) -> None:
    daemon, obs = demo_daemon
    app = build_app(daemon.uri, per_domain=True)  # per-domain over a daemon: a Xen host
    host = app.host
    full_pass = host.sample
    release = asyncio.Event()

    async def held_back() -> PassResult:
        await release.wait()
        return await full_pass()

    host.sample = held_back  # type: ignore[method-assign]
    truth = {d.UUIDString(): (d.name(), DomainState.from_libvirt(d.state()[0]), d.info()[2])
             for d in obs.listAllDomains(0)}  # read on a second connection
    async with app.run_test(size=(200, 50)) as pilot:
        table = app.main.table
        await until(pilot, lambda: len(table.order) == len(truth), 10, "rows from the listing")
        await pilot.pause()
        assert app.passes == 0
        shown = {r.uuid: (f.name, f.sample.state) for r, f in table.figures.items()}
        assert shown == {u: (name, st) for u, (name, st, _mem) in truth.items()}
        states = {st for _n, st, _m in truth.values()}
        assert {DomainState.RUNNING, DomainState.PAUSED, DomainState.SHUTOFF} <= states
        for uuid, (name, st, _mem) in truth.items():
            text = row_text(app, uuid)
            assert name in text and st.value in text
            cells = after_state(text, st)
            assert cells and set(cells) == {fmt.UNKNOWN}, text  # blank, never a zero

        release.set()
        await until(pilot, lambda: app.passes >= 1, 10, "the first pass")
        await pilot.pause()
        assert not any(f.listed_only for f in table.figures.values())
        for uuid, (_name, st, mem) in truth.items():
            if st.active:
                assert fmt.bytes_kib(mem) in row_text(app, uuid)


def test_rows_before_figures_look(snap_compare, monkeypatch: pytest.MonkeyPatch,
                                  tmp_path: Path) -> None:
    """The screen while the first pass is still reading: every row, figures '-'."""
    app = frozen_app(monkeypatch, tmp_path)
    app.fleet.live = True  # the listing is for a person watching; the pass never lands
    app.host.rows_first = True  # in-process, as snapshots are: listed only when asked
    never = asyncio.Event()

    async def held_forever() -> PassResult:
        await never.wait()
        raise AssertionError("the held pass returned")

    app.host.sample = held_forever  # type: ignore[method-assign]

    async def rows_shown(pilot: Pilot[int]) -> None:
        await until(pilot, lambda: len(app.main.table.order) > 1, 10, "rows from the listing")
        bar = app.main.query_one("#hostbar")
        await until(pilot, lambda: "connected" in str(bar.render()), 10, "the header")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(160, 50), run_before=rows_shown)
