"""One connection to a pool of several hosts is a fleet on screen: the Host column and
the Hosts pane with the pool's members, as several libvirt hosts get (checked against a
separate XenAPI session), and an SVG snapshot of that view."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.support.frozen_app import FIXED_TIME
from tests.support.pilot_helpers import ready, until
from tests.xapi.backend_rig import Pool
from xentui.config import Settings
from xentui.ui import format as fmt
from xentui.ui.app import XentuiApp
from xentui.ui.launch import make_app
from xentui.ui.widgets.hosts_pane import HostsPane

SNAPSHOT_COLUMNS = ("name", "state", "vcpus", "mem")
"""Columns whose figures hold still between runs (no rates, no uptime)."""


@pytest.fixture(autouse=True)
def private_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def _pane_rows(app: XentuiApp) -> dict[str, list[str]]:
    pane = app.main.query_one(HostsPane)
    return {str(pane.get_row(key)[0]).strip(" └"): [str(c) for c in pane.get_row(key)]
            for key in pane.rows}


async def test_one_pool_connection_shows_hosts_like_a_fleet(pool: Pool) -> None:
    app = make_app(pool.uri(), settings=Settings(interval=0.3), log_to_file=False)
    obs = pool.observer()
    hosts = obs.xenapi.host.get_all_records()
    metrics = obs.xenapi.host_metrics.get_all_records()
    free = {h["name_label"]: int(metrics[h["metrics"]]["memory_free"]) // 1024
            for h in hosts.values()}
    total = {h["name_label"]: int(metrics[h["metrics"]]["memory_total"]) // 1024
             for h in hosts.values()}
    assert len(free) > 1
    pool.master.db.set_host_live("xcp-ng-03", False)
    async with app.run_test(size=(160, 40)) as pilot:
        await ready(pilot)
        table = app.main.table
        assert len(app.fleet.hosts) == 1
        await until(pilot, lambda: "host" in [c.key for c in table.columns], 5,
                    "the Host column")
        pane = app.main.query_one(HostsPane)
        assert pane.display
        await until(pilot, lambda: set(free) <= set(_pane_rows(app)), 5, "member rows")
        rows = _pane_rows(app)
        assert "master" in rows["xcp-ng-01"][1] and "not live" in rows["xcp-ng-03"][1]
        assert rows["xcp-ng-02"][3] == (
            f"{fmt.bytes_kib(free['xcp-ng-02'])} of {fmt.bytes_kib(total['xcp-ng-02'])}")

        resident = {v["uuid"]: hosts[v["resident_on"]]["name_label"]
                    for v in obs.xenapi.VM.get_all_records().values()
                    if v["resident_on"] in hosts and not v["is_a_template"]
                    and not v["is_a_snapshot"]}
        await until(pilot, lambda: set(resident) <= {f.uuid for f in table.figures.values()},
                    5, "every running VM listed")
        col = next(c for c in table.columns if c.key == "host")
        by_uuid = {f.uuid: f for f in table.figures.values()}
        assert {u: col.cell(by_uuid[u]) for u in resident} == resident
        shown = "\n".join(table.render_line(y).text for y in range(table.size.height))
        assert "Host" in shown and all(name in shown for name in set(resident.values()))

        # Hidden by the operator, the pane stays hidden on later passes.
        await pilot.press("1")
        passes = app.passes
        await until(pilot, lambda: app.passes >= passes + 2, 5, "two more passes")
        assert not pane.display


def test_pool_view_snapshot(snap_compare, pool: Pool) -> None:
    settings = Settings(columns=SNAPSHOT_COLUMNS)
    app = make_app(pool.uri(), settings=settings, live=False, log_to_file=False)
    app.host.uri = "xapi://root@xcp-ng-01"  # shown; the connection keeps the real one
    app.clock = lambda: FIXED_TIME

    async def first_pass(pilot: Pilot[int]) -> None:
        await until(pilot, lambda: app.passes >= 1)
        await until(pilot, lambda: "host" in [c.key for c in app.main.table.columns])
        await pilot.press("2")  # the Performance pane plots the selected VM's CPU
        await pilot.pause()

    assert snap_compare(app, terminal_size=(140, 36), run_before=first_pass)
