"""The daemon dies (SIGTERM) or freezes (SIGSTOP) under a running console or batch run:
the screen stays responsive, the link shows as lost within the keepalive window, the
last figures stay up marked STALE, and when the daemon is back xentui reconnects by
itself, re-registers its event callbacks and resumes passes with no duplicate or lost
domains. Times from fault to "lost" and from recovery to "connected" are printed
(`pytest -s`)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from itertools import pairwise
from pathlib import Path

import libvirt
import pytest

from tests.support.child_stacks import STACKS_ON_ABORT, abort_with_stacks
from tests.support.daemons import PrivateDaemon
from tests.support.demo_on_daemon import populate
from tests.support.pilot_helpers import (
    Stopwatch,
    header,
    log_has,
    log_lines,
    private_state,  # noqa: F401  (fixture)
    ready,
    until,
    virsh,
    wait_for,
)
from xentui.backend.libvirt.connection import KEEPALIVE_COUNT, KEEPALIVE_INTERVAL_S
from xentui.backend.models import LinkState, LinkStatus
from xentui.config import Settings
from xentui.ui.launch import make_app

pytestmark = pytest.mark.integration

KEEPALIVE_WINDOW = KEEPALIVE_INTERVAL_S * (KEEPALIVE_COUNT + 1)
INTERVAL = 0.3




def listing(uri: str) -> set[str]:
    """UUIDs of every domain, read through a fresh connection."""
    conn = libvirt.open(uri)
    try:
        return {d.UUIDString() for d in conn.listAllDomains(0)}
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("fault", "frozen_past_open"),
    [("SIGTERM", False), ("SIGSTOP", False), ("SIGSTOP", True)],
    ids=["SIGTERM", "SIGSTOP-cont-while-opening", "SIGSTOP-past-open-timeout"],
)
async def test_console_survives_daemon_loss(daemon: PrivateDaemon, fault: str,
                                            frozen_past_open: bool,
                                            private_state: Path) -> None:  # noqa: F811
    observer = libvirt.open(daemon.uri)
    populate(observer)
    app = make_app(daemon.uri, settings=Settings(interval=INTERVAL, shutdown_timeout=5))
    if frozen_past_open:
        app.host.open_timeout = 1.0
    statuses: list[tuple[float, LinkStatus]] = []
    app.host.status_listeners.append(lambda st: statuses.append((time.monotonic(), st)))
    watch = Stopwatch(f"console {fault}{' past the open timeout' if frozen_past_open else ''}")
    try:
        async with app.run_test(size=(140, 40)) as pilot:
            await ready(pilot)
            before = {r.uuid for r in app.main.table.figures}
            assert before == {d.UUIDString() for d in observer.listAllDomains(0)}
            assert len(app.host.history) >= 1  # the graphs have something to show
            history_len = len(app.host.history)

            # -- the fault ---------------------------------------------------------
            assert daemon.pid is not None
            t_fault = time.monotonic()
            os.kill(daemon.pid, getattr(signal, fault))
            if fault == "SIGTERM":
                assert daemon.libvirtd is not None
                daemon.libvirtd.wait(10)
                observer = None  # type: ignore[assignment]  (dead with the daemon)
            worst_key, presses = 0.0, 0
            while app.host.status.state is not LinkState.LOST:
                assert time.monotonic() - t_fault < KEEPALIVE_WINDOW + 2, "never shown as lost"
                t_key = time.monotonic()
                await pilot.press("jk"[presses % 2])  # the screen keeps answering keys
                presses += 1
                worst_key = max(worst_key, time.monotonic() - t_key)
                await pilot.pause(0.05)
            watch["fault -> lost"] = time.monotonic() - t_fault
            watch["slowest key press while the daemon was gone"] = worst_key
            assert worst_key < 5.0  # a liveness bound (never stuck); the speed is printed
            limit = 4.0 if fault == "SIGTERM" else KEEPALIVE_WINDOW + 2.0
            assert watch.marks["fault -> lost"] < limit

            # -- while lost: last figures kept, marked stale, retried with backoff --
            await until(pilot, lambda: app.main.table.stale, 2, "table marked stale")
            await until(pilot, lambda: "STALE" in header(app), 2, "STALE in the header")
            # (between retries: a retry under way shows "connecting" for its moment)
            await until(pilot, lambda: "lost" in header(app) and "retrying in" in header(app),
                        3, "lost, retrying in the header")
            assert {r.uuid for r in app.main.table.figures} == before
            assert len(app.host.history) >= history_len  # history kept, not cleared
            await until(pilot, lambda: log_has(app, "ERROR", "lost"), 3, "the lost line")
            if fault == "SIGTERM":
                # Stay down through two attempts: the second waits longer than the first.
                await until(pilot, lambda: sum(
                    1 for _, st in statuses
                    if st.state is LinkState.LOST and st.message.startswith("cannot connect")
                ) >= 2, 6, "two failed reconnect attempts")
                waits = [st.retry_in for _, st in statuses
                         if st.state is LinkState.LOST and st.retry_in is not None]
                assert 1.0 in waits and 2.0 in waits, waits
                await until(pilot, lambda: log_has(app, "cannot connect"), 3, "the retry line")
                t_back = time.monotonic()
                daemon.start()
            elif frozen_past_open:
                # A reconnect attempt gives up on the frozen daemon; its open stays stuck.
                await until(pilot, lambda: log_has(app, "no answer within 1 s"), 5,
                            "an attempt timed out")
                t_back = time.monotonic()
                os.kill(daemon.pid, signal.SIGCONT)
            else:
                await pilot.pause(1.5)  # the first reconnect attempt now waits on the frozen daemon
                t_back = time.monotonic()
                os.kill(daemon.pid, signal.SIGCONT)
            assert app.is_running

            # -- back: reconnects by itself and resumes ----------------------------
            await until(pilot, lambda: app.host.status.state is LinkState.CONNECTED, 20,
                        "reconnected")
            watch["daemon back -> connected"] = time.monotonic() - t_back
            passes = app.passes
            await until(pilot, lambda: app.passes > passes and not app.main.table.stale, 5,
                        "a fresh pass")
            assert "STALE" not in header(app) and "connected" in header(app)
            fresh = listing(daemon.uri)
            await until(pilot, lambda: {r.uuid for r in app.main.table.figures} == fresh, 3,
                        "fresh rows")
            order = app.main.table.order
            assert len(order) == len(set(order)) == len(fresh)
            if fault == "SIGSTOP":
                assert fresh == before  # nothing was lost by the freeze

            # One chain of passes, not one more per reconnect.
            passes, t0 = app.passes, time.monotonic()
            await pilot.pause(2.0)
            rate = (app.passes - passes) / (time.monotonic() - t0)
            assert rate <= 1.5 / INTERVAL, f"{rate:.1f} passes/s at a {INTERVAL} s interval"

            # Event callbacks were registered again on the new connection.
            app.host.interval = 60.0  # so only an event can show the change
            name = "test" if fault == "SIGTERM" else "web01"
            virsh(daemon.uri, "suspend", name)
            t_ev = time.monotonic()
            await until(pilot, lambda: log_has(app, f"{name}: Suspended"), 1.0,
                        "event line after reconnect")
            watch["virsh suspend -> log line"] = time.monotonic() - t_ev
            uuid = next(f.uuid for f in app.main.table.figures.values() if f.name == name)
            await until(pilot, lambda: app.main.table.by_uuid(uuid).sample.state.value
                        == "paused", 1.0, "row follows the event")

            squeezed = [ln.replace(" ", "") for ln in log_lines(app)]
            lost_at = next(i for i, ln in enumerate(squeezed) if "ERROR" in ln and "lost" in ln)
            assert any("connectedto" in ln for ln in squeezed[lost_at:]), squeezed
    finally:
        if fault == "SIGSTOP" and daemon.pid is not None:
            # A failure while the daemon is frozen must not hang closing the observer.
            with contextlib.suppress(ProcessLookupError):
                os.kill(daemon.pid, signal.SIGCONT)
        if observer is not None:
            observer.close()
    records = [json.loads(line) for line in private_state.read_text().splitlines()]
    conn_lines = [r["text"] for r in records if r["kind"] == "connection"]
    assert any("lost" in t for t in conn_lines), conn_lines
    lost_at = next(i for i, t in enumerate(conn_lines) if "lost" in t)
    assert any("connected to" in t for t in conn_lines[lost_at:]), conn_lines


def test_batch_reports_the_gap_and_resumes(daemon: PrivateDaemon, tmp_path: Path) -> None:
    """`xentui -b --format json` across a daemon restart: stderr tells, stdout resumes."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "xentui", "-c", daemon.uri, "-b", "-d", "0.5",
         "--format", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "LC_ALL": "C.UTF-8", **STACKS_ON_ABORT},
        cwd=Path(__file__).resolve().parents[2],
    )
    out: list[tuple[float, str]] = []
    err: list[tuple[float, str]] = []

    def pump(stream, into) -> None:  # type: ignore[no-untyped-def]
        for line in stream:
            into.append((time.monotonic(), line.rstrip("\n")))

    threads = [threading.Thread(target=pump, args=(proc.stdout, out), daemon=True),
               threading.Thread(target=pump, args=(proc.stderr, err), daemon=True)]
    for t in threads:
        t.start()
    watch = Stopwatch("batch SIGTERM")
    try:
        wait_for(lambda: len(out) >= 2, 15, "first JSON lines")
        assert daemon.pid is not None
        t_fault = time.monotonic()
        os.kill(daemon.pid, signal.SIGTERM)
        wait_for(lambda: any("lost" in line for _, line in err), 5, "'lost' on stderr")
        watch["fault -> lost on stderr"] = next(t for t, ln in err if "lost" in ln) - t_fault
        time.sleep(1.5)
        t_back = time.monotonic()
        daemon.start()
        wait_for(lambda: any(t > t_back and "connected:" in ln for t, ln in err), 20,
                 "'connected' on stderr")
        watch["daemon back -> connected on stderr"] = next(
            t for t, ln in err if t > t_back and "connected:" in ln) - t_back
        wait_for(lambda: any(t > t_back for t, _ in out), 5, "JSON lines after the gap")
        wait_for(lambda: sum(1 for t, _ in out if t > t_back) >= 2, 5, "two passes after")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:  # say where it hangs: every thread's stack
            abort_with_stacks(proc, read=False)
        for t in threads:
            t.join(5)
    assert proc.returncode == 0, [ln for _, ln in err]
    records = [json.loads(line) for _, line in out]  # every stdout line is JSON
    assert all(r["uri"] == daemon.uri for r in records)
    gap = [ln for t, ln in err if t_fault <= t]
    assert any(ln.startswith("xentui: lost:") for ln in gap), gap
    assert any(ln.startswith("xentui: connected:") for ln in gap), gap
    assert not any("Traceback" in ln for _, ln in err)
    assert all(a != b for a, b in pairwise(gap)), gap  # no line said twice
    after = [json.loads(ln) for t, ln in out if t > t_back]
    assert {r["name"] for r in after} == {"test"}
    print(f"[batch SIGTERM] stderr during the gap: {gap}")
