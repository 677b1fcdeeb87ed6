"""The `xentui` command in batch mode, run as a real subprocess."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import libvirt
import pytest

from tests.support.child_stacks import STACKS_ON_ABORT, abort_with_stacks
from xentui import __version__
from xentui.backend.models import DomainState
from xentui.demo import demo_uri

XENTUI = str(Path(sys.executable).with_name("xentui"))
PROMISED = (
    "time host uri name uuid id state cpu_pct cpu_seconds vcpus mem_kib maxmem_kib mem_pct "
    "disk_rd_bps disk_wr_bps net_rx_bps net_tx_bps"
).split()
RATES = ("cpu_pct", "disk_rd_bps", "disk_wr_bps", "net_rx_bps", "net_tx_bps")
NUMBERS = (*RATES, "cpu_seconds", "vcpus", "mem_kib", "maxmem_kib", "mem_pct")
# The CLI under test gets neither a default URI nor asyncio debug mode (set by the test
# command for this process): debug mode prints slow-callback warnings on a busy machine.
_NOT_PASSED = ("LIBVIRT_DEFAULT_URI", "PYTHONASYNCIODEBUG")
ENV = {k: v for k, v in os.environ.items() if k not in _NOT_PASSED}


def run(*args: str, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    return subprocess.run([XENTUI, *args], capture_output=True, text=True, timeout=timeout,
                          env=ENV)


@pytest.fixture(scope="module")
def demo_domains() -> dict[str, libvirt.virDomain]:
    """The demo host as libvirt itself shows it (a separate, independent open)."""
    conn = libvirt.open(demo_uri())
    yield {d.UUIDString(): d for d in conn.listAllDomains(0)}
    conn.close()


def test_version():
    res = run("--version")
    assert res.returncode == 0 and __version__ in res.stdout


def test_json_lines_keep_the_contract(demo_domains):
    res = run("-c", demo_uri(), "--batch", "-n", "2", "-d", "0.3", "--format", "json")
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    n = len(demo_domains)
    assert len(rows) == 2 * n
    first, second = rows[:n], rows[n:]
    for row in rows:
        assert list(row) == PROMISED
        stamp = datetime.fromisoformat(row["time"])
        assert stamp.tzinfo is not None
        assert row["uri"] == demo_uri()
        assert row["host"] == "localhost"
        dom = demo_domains[row["uuid"]]
        assert row["name"] == dom.name()
        state = DomainState(row["state"])
        assert state is DomainState.from_libvirt(dom.state()[0])
        assert (row["id"] is None) == (not state.active)
        if state.active:
            assert row["id"] == dom.ID()
            assert row["mem_kib"] == dom.info()[2]
        assert row["maxmem_kib"] == dom.info()[1]
        for key in NUMBERS:
            assert row[key] is None or row[key] >= 0
    assert {r["uuid"] for r in first} == {r["uuid"] for r in second} == set(demo_domains)
    assert len({r["time"] for r in first}) == 1
    assert all(r[key] is None for r in first for key in RATES)
    assert all(r["cpu_pct"] is not None for r in second if DomainState(r["state"]).active)


def test_csv_has_one_header_row(demo_domains):
    res = run("-c", demo_uri(), "-b", "-n", "2", "-d", "0.2", "--format", "csv")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].split(",") == PROMISED
    assert sum(1 for line in lines if line.startswith("time,")) == 1
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert len(rows) == 2 * len(demo_domains)
    assert {r["uuid"] for r in rows} == set(demo_domains)


def test_table_has_a_header(demo_domains):
    res = run("-c", demo_uri(), "-b", "-n", "1")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].split()[:2] == ["NAME", "STATE"]
    assert len(lines) == 1 + len(demo_domains)
    names = {d.name()[:23] for d in demo_domains.values()}
    assert all(any(n in line for n in names) for line in lines[1:])


@pytest.mark.parametrize(
    "args",
    [["-b", "-c", "::not a uri"], ["-b", "-c", "nosuchdriver:///system"], ["--frobnicate"],
     ["-b", "-c", "test:///default", "-d", "0"]],
    ids=["bad-uri", "unknown-driver", "unknown-option", "bad-interval"],
)
def test_errors_are_one_line_and_nonzero(args):
    t0 = time.monotonic()
    res = run(*args, timeout=10)
    assert time.monotonic() - t0 < 10
    assert res.returncode != 0
    assert "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and res.stderr.startswith("xentui: ")
    assert res.stdout == ""


def test_sigint_ends_a_running_batch_cleanly():
    proc = subprocess.Popen(
        [XENTUI, "-c", demo_uri(), "-b", "-d", "0.2", "--format", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**ENV, **STACKS_ON_ABORT},
    )
    try:
        first = proc.stdout.readline()  # it is running and printing
        assert json.loads(first)["uri"] == demo_uri()
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # say where it hangs: every thread's stack
            out, err = abort_with_stacks(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    for line in out.splitlines():  # whatever it printed is whole lines
        json.loads(line)


def test_help_reads_like_a_synopsis():
    res = run("--help")
    assert res.returncode == 0
    out = res.stdout
    for option in ("--connect", "--demo", "--readonly", "--interval", "--batch",
                   "--iterations", "--format", "--per-domain", "--version"):
        assert option in out
    for needle in ("xen:///system", "xen+ssh://", "[[hosts]]", "config.toml", "events.jsonl",
                   "press ?", "exit status"):
        assert needle in out, needle
