"""A fleet in one console: three test-driver daemons shaped like Xen hosts and one QEMU
daemon, at once. One host frozen (SIGSTOP) and one killed (SIGTERM) hold back no other;
both come back by themselves. Checked on the app's feed and on separate connections."""

from __future__ import annotations

import os
import signal
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import libvirt
import pytest

from tests.support import daemons
from tests.support.daemons import PrivateDaemon, TinyGuests
from tests.support.demo_on_daemon import populate
from tests.support.pilot_helpers import Stopwatch, private_state, until  # noqa: F401
from xentui.backend.libvirt.connection import KEEPALIVE_COUNT, KEEPALIVE_INTERVAL_S
from xentui.backend.models import ZERO_UUID, DomainRef, PassResult
from xentui.config import HostEntry, Settings
from xentui.ui.launch import make_app
from xentui.ui.widgets.hosts_pane import HostsPane

pytestmark = pytest.mark.integration

INTERVAL = 0.5
KEEPALIVE_WINDOW = KEEPALIVE_INTERVAL_S * (KEEPALIVE_COUNT + 1)
NAMES = ("alpha", "beta", "gamma")


@pytest.fixture
def xen_shaped() -> Iterator[list[tuple[PrivateDaemon, libvirt.virConnect]]]:
    """Three test-driver daemons, each holding the demo host (Domain-0 included)."""
    with ExitStack() as stack:
        out = []
        for _ in NAMES:
            daemon = stack.enter_context(daemons.running("test"))
            conn = libvirt.open(daemon.uri)
            stack.callback(conn.close)
            populate(conn)
            out.append((daemon, conn))
        yield out


async def test_one_host_never_holds_back_another(
    xen_shaped: list[tuple[PrivateDaemon, libvirt.virConnect]],
    tiny_guests: TinyGuests,
    private_state: Path,  # noqa: F811
) -> None:
    entries = [HostEntry(n, d.uri) for n, (d, _) in zip(NAMES, xen_shaped, strict=True)]
    entries.append(HostEntry("qemu", tiny_guests.uri))
    app = make_app(entries, settings=Settings(interval=INTERVAL, shutdown_timeout=5))
    for host in app.fleet.hosts.values():
        host.open_timeout = 2.0  # type: ignore[attr-defined]
    passes: dict[str, list[float]] = defaultdict(list)
    app.fleet.subscribe(lambda rec: passes[rec.host_id].append(time.monotonic())
                        if isinstance(rec, PassResult) else None)
    watch = Stopwatch("fleet of 4")
    (alpha, _), (beta, _), (gamma, _) = xen_shaped
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: all(passes[h] for h in app.fleet.hosts), 20, "every host")
        table = app.main.table

        # Domain-0 of every Xen-shaped host has the all-zero UUID: one row each. (The
        # feed has delivered a pass of each; the screen takes them in its own time.)
        want = {DomainRef(n, ZERO_UUID) for n in NAMES}
        await until(pilot, lambda: {r for r, f in table.figures.items()
                                    if f.sample.is_dom0} == want, 10, "three Domain-0 rows")
        await until(pilot, lambda: {r.host for r in table.figures} == set(app.fleet.hosts), 10,
                    "rows of every host")
        assert "host" in [c.key for c in table.columns]
        pane = app.main.query_one(HostsPane)
        assert pane.display and pane.row_count == 4

        # Freeze beta, kill gamma.
        os.kill(beta.libvirtd.pid, signal.SIGSTOP)  # type: ignore[union-attr]
        gamma.stop_libvirtd()
        t0 = time.monotonic()
        try:
            worst_key = 0.0
            while app.stale_hosts != {"beta", "gamma"}:
                assert time.monotonic() - t0 < KEEPALIVE_WINDOW + 6, app.stale_hosts
                t = time.monotonic()
                await pilot.press("j")
                worst_key = max(worst_key, time.monotonic() - t)
                await pilot.pause(0.1)
            watch["frozen and killed hosts marked stale"] = time.monotonic() - t0
            watch["slowest key meanwhile"] = worst_key
            # Meanwhile the others kept refreshing: no gap in their passes near the
            # keepalive window a serial poller would have waited on the frozen host.
            for name in ("alpha", "qemu"):
                during = [t for t in passes[name] if t >= t0]
                gaps = [b - a for a, b in zip([t0, *during], during, strict=False)]
                watch[f"{name}: longest gap between passes"] = max(gaps)
                assert len(during) >= 3
                assert max(gaps) < KEEPALIVE_WINDOW / 2
            stale_rows = {r.host for r in table.figures if r.host in table.stale_hosts}
            assert stale_rows == {"beta", "gamma"}
            assert pane.row_count == 4
        finally:
            os.kill(beta.libvirtd.pid, signal.SIGCONT)  # type: ignore[union-attr]

        # Both come back by themselves.
        gamma.start()
        t1 = time.monotonic()
        seen = {h: len(passes[h]) for h in ("beta", "gamma")}
        await until(pilot, lambda: not app.stale_hosts
                    and all(len(passes[h]) > seen[h] for h in seen), 40, "both back")
        watch["frozen and killed hosts back"] = time.monotonic() - t1
        assert {r.host for r in table.figures} == set(app.fleet.hosts)
    assert alpha.libvirtd is not None and alpha.libvirtd.poll() is None


async def test_host_filter_and_sort_by_host(
    xen_shaped: list[tuple[PrivateDaemon, libvirt.virConnect]],
    private_state: Path,  # noqa: F811
) -> None:
    entries = [HostEntry(n, d.uri) for n, (d, _) in zip(NAMES, xen_shaped, strict=True)]
    app = make_app(entries, settings=Settings(interval=INTERVAL, sort="host"))
    async with app.run_test(size=(160, 50)) as pilot:
        table = app.main.table
        await until(pilot, lambda: {r.host for r in table.figures} == set(NAMES), 20, "rows")
        # Sorted by host: the groups follow each other, Domain-0 at the top of each.
        hosts_in_order = [r.host for r in table.order]
        assert hosts_in_order == sorted(hosts_in_order)
        for name in NAMES:
            first = next(r for r in table.order if r.host == name)
            assert first.uuid == ZERO_UUID
        await pilot.press("slash", *"host:beta", "enter")
        await until(pilot, lambda: {r.host for r in table.order} == {"beta"}, 5, "filtered")
        n_beta = sum(1 for r in table.figures if r.host == "beta")
        assert len(table.order) == n_beta


def test_batch_over_a_fleet_reports_the_unreachable_host(
    xen_shaped: list[tuple[PrivateDaemon, libvirt.virConnect]], tmp_path: Path
) -> None:
    import json
    import subprocess
    import sys

    (a, conn_a), (b, _), _ = xen_shaped
    bad = "qemu+tcp://127.0.0.1:1/system"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONASYNCIODEBUG"}
    env["XDG_CONFIG_HOME"] = str(tmp_path)
    res = subprocess.run([sys.executable, "-m", "xentui", "-b", "-n", "2", "-d", "0.3",
                          "--format", "json", "-c", a.uri, "-c", b.uri, "-c", bad],
                         capture_output=True, text=True, timeout=60, env=env)
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    per_host = defaultdict(int)
    for row in rows:
        per_host[(row["host"], row["uri"])] += 1
    n = len(conn_a.listAllDomains(0))
    assert sorted(per_host.values()) == [2 * n, 2 * n]
    assert {uri for _, uri in per_host} == {a.uri, b.uri}
    assert len({host for host, _ in per_host}) == 2
    assert "127.0.0.1" in res.stderr and "Connection refused" in res.stderr

    res = subprocess.run([sys.executable, "-m", "xentui", "-b", "-n", "1", "-c", bad, "-c",
                          "qemu+tcp://127.0.0.1:2/system"],
                         capture_output=True, text=True, timeout=60, env=env)
    assert res.returncode == 1
    assert res.stdout == ""
    assert res.stderr.count("cannot connect") == 2
