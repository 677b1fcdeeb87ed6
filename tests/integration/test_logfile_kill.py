"""Nothing lost: the real console, run as its own process, is killed with SIGKILL while
events pour in. Its log file (and the files rotated out of the way) must hold only
complete JSON lines, except possibly the very last one, and each line must reach the
file as soon as it is logged, not at exit."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import libvirt
import pytest

from tests.support.daemons import PrivateDaemon
from tests.support.pilot_helpers import Stopwatch, virsh, wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
HEADLESS = """\
import sys
from xentui.config import Settings
from xentui.ui.launch import make_app
app = make_app(sys.argv[1], settings=Settings(interval=0.5))
assert app.logfile is not None
app.logfile.max_bytes = int(sys.argv[2])
app.run(headless=True)
"""




def _child_of(pid: int) -> int | None:
    """The first child process of `pid` (Linux /proc), or None."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            kids = fh.read().split()
    except OSError:
        return None
    return int(kids[0]) if kids else None


def _records(files: list[Path]) -> tuple[int, list[str]]:
    """(complete JSON lines, problems) over the given log files."""
    complete, problems = 0, []
    for path in files:
        data = path.read_bytes()
        lines = data.split(b"\n")
        tail = lines.pop()  # after the last newline: empty, or the line in flight
        for n, raw in enumerate(lines):
            try:
                rec = json.loads(raw)
                assert {"time", "level", "kind", "text"} <= set(rec)
                complete += 1
            except (ValueError, AssertionError):
                problems.append(f"{path.name}:{n + 1}: {raw[:80]!r}")
        if tail and path.name != "events.jsonl":
            problems.append(f"{path.name}: rotated file ends mid-line: {tail[:80]!r}")
    return complete, problems


def _burst(uri: str, stop: threading.Event) -> None:
    conn = libvirt.open(uri)
    try:
        dom = conn.lookupByName("test")
        i = 0
        while not stop.is_set():
            (dom.suspend if i % 2 == 0 else dom.resume)()
            i += 1
    finally:
        conn.close()


@pytest.mark.parametrize("how", ["cli-under-pty", "headless-rotating"])
def test_sigkill_leaves_only_complete_lines(daemon: PrivateDaemon, tmp_path: Path,
                                            how: str) -> None:
    state = tmp_path / "state"
    log = state / "xentui" / "events.jsonl"
    env = {**os.environ, "XDG_STATE_HOME": str(state), "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
           "LC_ALL": "C.UTF-8", "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    holder = libvirt.open(daemon.uri)  # keeps test:///default alive between clients
    if how == "cli-under-pty":
        script = shutil.which("script")
        if script is None:
            pytest.skip("script (util-linux) is not installed")
        cmd = f"exec {sys.executable} -m xentui -c '{daemon.uri}' -d 0.5"
        proc = subprocess.Popen([script, "-qfec", cmd, "/dev/null"], cwd=ROOT, env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        wait_for(lambda: _child_of(proc.pid) is not None, 10, "xentui under the pty")
        victim = _child_of(proc.pid)
    else:
        proc = subprocess.Popen([sys.executable, "-c", HEADLESS, daemon.uri, "4000"], cwd=ROOT,
                                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        victim = proc.pid
    assert victim is not None
    watch = Stopwatch(f"log kill {how}")
    stop = threading.Event()
    try:
        wait_for(lambda: log.exists() and b"connected to" in log.read_bytes(), 20,
                 "the connection line in the log file")
        # Flushed per line: one event reaches the file while the app runs on.
        virsh(daemon.uri, "suspend", "test")
        t0 = time.monotonic()
        wait_for(lambda: b"test: Suspended" in log.read_bytes(), 2, "the event line")
        watch["virsh suspend -> line in the file"] = time.monotonic() - t0
        virsh(daemon.uri, "resume", "test")
        burst = threading.Thread(target=_burst, args=(daemon.uri, stop), daemon=True)
        burst.start()
        time.sleep(1.0)  # lines pour in (and, headless, the file rotates)
        os.kill(victim, signal.SIGKILL)
        stop.set()
        burst.join(10)
        proc.wait(10)
    finally:
        stop.set()
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        holder.close()
    files = sorted(log.parent.glob("events.jsonl*"))
    complete, problems = _records(files)
    print(f"[log kill {how}] {complete} complete lines in {len(files)} file(s)")
    assert not problems, problems
    assert complete >= 20, f"only {complete} lines: the burst did not reach the log"
    if how == "headless-rotating":
        assert len(files) > 1, "the log never rotated"
        assert all(p.stat().st_size <= 4000 for p in files if p.name != "events.jsonl")
