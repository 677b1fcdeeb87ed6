"""Same-run references for the CPU benchmarks: a private test-driver daemon, `top -d 1`
in a pseudo-terminal, a bare loop of the libvirt calls the sampler makes, and a counter
of libvirt calls per pass.

    python bench/refs.py raw|raw-reduced URI INTERVAL SECONDS DAEMON_PID   (the benches)

Every figure is "% of one core" over a window of wall time: CPU seconds / wall seconds.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SIZE = (160, 50)


def cpu_s(pid: int | None) -> float:
    """CPU seconds (user + system) a process has used so far; 0 if there is none.

    Counted in clock ticks (10 ms): fine for a busy process, coarse for `top`, whose
    0.1% over 20 s is two ticks. `Window` uses `_exec_s` for one-thread processes."""
    if pid is None:
        return 0.0
    try:
        t = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return t.user + t.system


def _exec_s(pid: int) -> float | None:
    """CPU seconds of a one-thread process to the nanosecond (the scheduler's
    sum_exec_runtime, /proc/PID/schedstat's first field); None where it is not there."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def _one_thread(pid: int | None) -> bool:
    try:
        return pid is not None and psutil.Process(pid).num_threads() == 1 \
            and _exec_s(pid) is not None
    except psutil.Error:
        return False


class Window:
    """CPU % of one core of a few processes over the same wall-clock window.

    A process with one thread when the window opens (`top`) is read from the scheduler's
    nanosecond count for the whole window; others (xentui, libvirtd) from psutil's ticks,
    which also count threads that have ended."""

    def __init__(self, **pids: int | None) -> None:
        self.pids = pids
        self.fine = {k for k, p in pids.items() if _one_thread(p)}
        self.t0 = time.perf_counter()
        self.c0 = {k: self._cpu(k) for k in pids}

    def _cpu(self, key: str) -> float:
        pid = self.pids[key]
        if key in self.fine and pid is not None:
            fine = _exec_s(pid)
            return fine if fine is not None else self.c0.get(key, 0.0)
        return cpu_s(pid)

    def close(self) -> dict[str, float]:
        wall = time.perf_counter() - self.t0
        out = {k: 100 * (self._cpu(k) - self.c0[k]) / wall for k in self.pids}
        out["wall_s"] = wall
        return out


# -- the daemon ----------------------------------------------------------------------------
def start_daemon() -> Any:
    """A private libvirtd serving the test driver (tests/support/daemons.py)."""
    from tests.support import daemons

    return daemons.start_test_daemon()


def daemon_uri(daemon: Any, n: int) -> str:
    """A node of `n` Xen-shaped guests the daemon serves (each open: its own copy)."""
    from tests.backend.conftest import daemon_node

    return daemon_node(daemon, n)


# -- top -d 1 ------------------------------------------------------------------------------
@contextmanager
def top_running(size: tuple[int, int] = SIZE) -> Iterator[Callable[[], dict[str, float]]]:
    """Run `top -d 1` in a pty of `size`; yields a function giving its CPU % and output
    KiB/s since it started (output is read and thrown away)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    proc = subprocess.Popen(["top", "-d", "1"], stdin=slave, stdout=slave, stderr=slave,
                            env={**os.environ, "TERM": "xterm-256color"}, close_fds=True)
    os.close(slave)
    written = [0]

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            written[0] += len(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    time.sleep(1.5)  # past top's first screen
    w = Window(top=proc.pid)
    b0 = written[0]

    def result() -> dict[str, float]:
        r = w.close()
        r["top_kib_s"] = (written[0] - b0) / 1024 / r["wall_s"]
        return r

    try:
        yield result
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        os.close(master)


# -- counting libvirt calls ----------------------------------------------------------------
LOCAL_METHODS = {"UUIDString", "UUID", "name", "ID", "connect", "getName", "__init__",
                 "__del__", "c_pointer", "registerCloseCallback", "isAlive"}
"""virDomain/virConnect methods answered from the client's own memory (no round trip)."""


class CallCounter:
    """Counts calls of libvirt's virDomain and virConnect methods while enabled."""

    def __init__(self) -> None:
        import libvirt

        self.counts: Counter[str] = Counter()
        self.enabled = False
        self._lock = threading.Lock()
        for cls in (libvirt.virDomain, libvirt.virConnect):
            for name, fn in list(vars(cls).items()):
                if name.startswith("_") or name in LOCAL_METHODS or not callable(fn):
                    continue
                setattr(cls, name, self._wrap(f"{cls.__name__}.{name}", fn))

    def _wrap(self, key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kw: Any) -> Any:
            if self.enabled:
                with self._lock:
                    self.counts[key] += 1
            return fn(*args, **kw)

        return counted

    def per_pass(self, passes: int) -> tuple[float, dict[str, float]]:
        """Total calls per pass and per method."""
        per = {k: v / max(1, passes) for k, v in sorted(self.counts.items())}
        return sum(per.values()), per


# -- the bare loop of libvirt calls --------------------------------------------------------
REDUCED_WATCHED = 48
REDUCED_EVERY = 10


def raw_pass(conn: Any, devices: dict[str, tuple[list[str], list[str]]],
             pool: ThreadPoolExecutor | None, turn: int | None = None) -> int:
    """What the per-domain path asks, with no Python work around it: the domain list,
    info() of each, block and interface counters of each running one.

    With `turn` (the pass number), the reduced set instead: info() of running domains
    and of a tenth of the inactive ones, I/O of the first REDUCED_WATCHED domains listed
    and of a tenth of the others (what the sampler asks with a screenful watched)."""
    from xentui.backend.libvirt.domxml import parse_devices

    def one(item: tuple[int, Any]) -> None:
        index, dom = item
        uuid = dom.UUIDString()
        due = turn is None or index < REDUCED_WATCHED or (
            hash(uuid) % REDUCED_EVERY == turn % REDUCED_EVERY)
        if not due and dom.ID() < 0:
            return
        state = dom.info()[0]
        if state in (5, 0) or not due:
            return
        devs = devices.get(uuid)
        if devs is None:
            d = parse_devices(dom.XMLDesc(0))
            devs = devices[uuid] = (list(d.disks), list(d.nets))
        for disk in devs[0]:
            dom.blockStats(disk)
        for nic in devs[1]:
            dom.interfaceStats(nic)

    doms = list(enumerate(conn.listAllDomains(0)))
    if pool is None:
        for d in doms:
            one(d)
    else:
        list(pool.map(one, doms))
    return len(doms)


def raw_loop(uri: str, interval: float, seconds: float, daemon_pid: int | None,
             threads: int = 5, reduced: bool = False) -> dict[str, float]:
    """Run `raw_pass` every `interval` for `seconds` (after two warm-up passes); CPU % of
    this process and of the daemon. `reduced`: the reduced call set, on one thread."""
    import libvirt

    from xentui.backend.libvirt.eventloop import ensure_event_loop

    ensure_event_loop()
    conn = libvirt.open(uri)
    remote = "+unix" in uri or "+ssh" in uri
    pool = ThreadPoolExecutor(threads) if remote and not reduced else None
    devices: dict[str, tuple[list[str], list[str]]] = {}
    for _ in range(2):
        raw_pass(conn, devices, pool)
    turn = 0
    w = Window(raw=os.getpid(), libvirtd=daemon_pid)
    end = time.perf_counter() + seconds
    passes = 0
    while time.perf_counter() < end:
        t = time.perf_counter()
        turn += 1
        raw_pass(conn, devices, pool, turn if reduced else None)
        passes += 1
        time.sleep(max(0.0, interval - (time.perf_counter() - t)))
    out = w.close()
    out["raw_passes"] = passes
    if pool is not None:
        pool.shutdown()
    conn.close()
    return out


def raw_in_subprocess(uri: str, interval: float, seconds: float,
                      daemon_pid: int | None, reduced: bool = False) -> dict[str, float]:
    """`raw_loop` in a fresh interpreter (so its CPU is its own)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "raw" + ("-reduced" * reduced), uri,
           str(interval), str(seconds), str(daemon_pid or 0)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds * 4 + 180)
    for line in done.stdout.splitlines():
        if line.startswith("RAW "):
            result: dict[str, float] = json.loads(line[4:])
            return result
    raise RuntimeError("raw loop failed: " + done.stderr.strip()[-300:])


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] in ("raw", "raw-reduced"):
        _iv, _secs, _pid = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
        _r = raw_loop(sys.argv[2], _iv, _secs, _pid or None, reduced=sys.argv[1] != "raw")
        print("RAW " + json.dumps(_r), flush=True)
    else:
        print(__doc__)
