"""A pool in the console: its VMs as rows with the member they run on, an action
confirmed by keys and checked on the pool through a separate session."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.support.pilot_helpers import asking, ready, until
from tests.xapi.backend_rig import Pool
from xentui.config import DEFAULT_COLUMNS, HostEntry, Settings
from xentui.ui import format as fmt
from xentui.ui.app import XentuiApp
from xentui.ui.launch import make_app
from xentui.ui.screens.detail import DetailScreen
from xentui.ui.widgets.hosts_pane import MEMBER_SEP, HostsPane


@pytest.fixture(autouse=True)
def private_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def _row_text(app: XentuiApp, uuid: str) -> str:
    table = app.main.table
    row = [r.uuid for r in table.order].index(uuid) + 1 - int(table.scroll_offset.y)
    return table.render_line(row).text


async def _select(pilot: Pilot[int], app: XentuiApp, name: str) -> str:
    await until(pilot, lambda: any(f.name == name for f in app.main.table.figures.values()),
                what=f"{name} listed")
    fig = next(f for f in app.main.table.figures.values() if f.name == name)
    assert app.main.table.select(fig.ref)
    await pilot.pause()
    return fig.uuid


async def test_a_pool_in_the_console_with_a_confirmed_pause(pool: Pool) -> None:
    settings = Settings(interval=0.3, columns=("host", *DEFAULT_COLUMNS))
    # The Host column is as wide as its longest cell (a member's name or the pool's id).
    app = make_app([HostEntry("xcp-ng-pool", pool.uri())], settings=settings,
                   log_to_file=False)
    obs = pool.observer()
    async with app.run_test(size=(160, 40)) as pilot:
        await ready(pilot)
        vms = {v["name_label"]: v for v in obs.xenapi.VM.get_all_records().values()
               if not v["is_a_template"] and not v["is_a_snapshot"]}
        hosts = {r: h["name_label"] for r, h in obs.xenapi.host.get_all_records().items()}
        await until(pilot, lambda: len(app.main.table.figures) == len(vms), what="every VM")
        for name, vm in vms.items():
            text = _row_text(app, vm["uuid"])
            assert name[:24] in text
            where = hosts.get(vm["resident_on"], "xcp-ng-pool")
            assert where in text, (name, where, text)
        uuid = await _select(pilot, app, "web")
        assert app.main.action_reason("save") is None
        assert "does not allow start" in (app.main.action_reason("start") or "")
        await pilot.press("p")
        await until(pilot, lambda: asking(app), what="the confirmation")
        await pilot.press("y")
        ref = obs.xenapi.VM.get_by_uuid(uuid)
        await until(pilot, lambda: obs.xenapi.VM.get_power_state(ref) == "Paused",
                    what="web paused on the pool")
        await until(pilot, lambda: "paused" in _row_text(app, uuid), what="row shows paused")
        assert not any("ERROR" in line.text for line in app.main.log_pane.lines)


def _header(app: XentuiApp) -> str:
    return str(app.main.query_one("#hostbar").render())


async def test_the_console_says_when_the_master_stops_answering(pool: Pool) -> None:
    settings = Settings(interval=0.3)
    app = make_app([HostEntry("xcp-ng-pool", pool.uri())], settings=settings,
                   log_to_file=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await ready(pilot)
        await until(pilot, lambda: "Test pool (3 hosts)" in _header(app), what="pool header")
        pool.master.freeze("close")
        await until(pilot, lambda: "lost" in _header(app), what="lost shown")
        rows = len(app.main.table.figures)
        await pilot.press("j", "question_mark", "escape")
        assert len(app.main.table.figures) == rows > 3
        pool.master.thaw()
        await until(pilot, lambda: "connected" in _header(app), timeout=10,
                    what="connected again")


async def test_the_detail_screen_shows_a_pool_vm(pool: Pool) -> None:
    app = make_app([HostEntry("xcp-ng-pool", pool.uri())], settings=Settings(interval=0.3),
                   log_to_file=False)
    obs = pool.observer()
    (ref,) = obs.xenapi.VM.get_by_name_label("web")
    snapshots = {obs.xenapi.VM.get_name_label(s) for s in obs.xenapi.VM.get_snapshots(ref)}
    async with app.run_test(size=(160, 40)) as pilot:
        await ready(pilot)
        await _select(pilot, app, "web")
        await pilot.press("enter")
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        await until(pilot, lambda: screen.detail is not None, what="detail read")
        assert screen.detail is not None
        assert screen.detail.name == "web" and screen.detail.state.value == "running"
        assert "on xcp-ng-01" in screen.detail.reason
        assert set(screen.detail.snapshots) == snapshots
        assert len(screen.detail.disks) == len(obs.xenapi.VM.get_VBDs(ref))
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen)


def _pane_rows(app: XentuiApp) -> dict[str, list[str]]:
    pane = app.main.query_one(HostsPane)
    return {key: [str(c) for c in pane.get_row(key)] for key in pane.rows}


async def test_the_hosts_pane_lists_the_pools_members_beside_libvirt_hosts(pool: Pool) -> None:
    entries = [HostEntry("xcp-ng-pool", pool.uri()), HostEntry("lab", "test:///default")]
    app = make_app(entries, settings=Settings(interval=0.3), log_to_file=False)
    obs = pool.observer()
    metrics = obs.xenapi.host_metrics.get_all_records()
    free = {h["name_label"]: int(metrics[h["metrics"]]["memory_free"]) // 1024
            for h in obs.xenapi.host.get_all_records().values()}
    pool.master.db.set_host_live("xcp-ng-03", False)
    async with app.run_test(size=(160, 40)) as pilot:
        await ready(pilot)

        def members_shown() -> bool:
            return all(any(f"└ {n}" in r[0] for r in _pane_rows(app).values()) for n in free)

        await until(pilot, members_shown, what="member rows")
        rows = {r[0].strip(" └"): r for r in _pane_rows(app).values()}
        assert {"xcp-ng-pool", "lab"} <= set(rows)
        assert "master" in rows["xcp-ng-01"][1] and "not live" in rows["xcp-ng-03"][1]
        assert rows["xcp-ng-02"][3].startswith(f"{fmt.bytes_kib(free['xcp-ng-02'])} of ")
        pane = app.main.query_one(HostsPane)
        pane.focus()
        pane.move_cursor(row=pane.get_row_index(f"xcp-ng-pool{MEMBER_SEP}xcp-ng-02"))
        await pilot.press("enter")
        await until(pilot, lambda: app.main.table.order != [] and all(
            app.main.table.figures[r].sample.resident == "xcp-ng-02"
            for r in app.main.table.order), what="only xcp-ng-02's VMs listed")
