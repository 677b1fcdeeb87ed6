"""How long `c` takes to hand the terminal to a guest's serial console, and Ctrl+] to
give the console back, beside `virsh console` doing the same in the same run.

    python bench/console_attach.py [--rounds 5]

Starts a private QEMU session daemon with the talking guest of
tests/support/serial_guest.py, runs xentui in tmux, and per round measures (polling
`tmux capture-pane` every 10 ms, so figures carry about 10-20 ms of polling):

- attach: `c` sent -> the console's title line on screen;
- echo: a byte typed -> its echo from the guest on screen (attached);
- return: Ctrl+] sent -> the domain table back on screen;
- xentui's own `openConsole` time (from its log line "attached in").

Reference, same daemon and guest: `virsh console` launched -> "Escape character" on
screen (process start, connect and openConsole), echo, Ctrl+] -> virsh gone.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import libvirt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import daemons  # noqa: E402
from tests.support.serial_guest import serial_disk, serial_xml  # noqa: E402

SOCKET = f"xentui-bench-{uuid.uuid4().hex[:6]}"
TITLE = "xentui: console of"


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True,
                          timeout=10, env={**os.environ, "TMUX": ""}).stdout


def screen(target: str) -> str:
    return tmux("capture-pane", "-p", "-t", target)


def timed(send: Callable[[], None], cond: Callable[[], bool], limit: float = 20.0) -> float:
    """Seconds from `send()` until `cond()` holds (polled every 10 ms)."""
    t0 = time.perf_counter()
    send()
    while not cond():
        if time.perf_counter() - t0 > limit:
            raise TimeoutError("not seen in time")
        time.sleep(0.01)
    return time.perf_counter() - t0


def keys(target: str, *k: str, literal: bool = False) -> Callable[[], None]:
    return lambda: tmux("send-keys", "-t", target, *(["-l"] if literal else []), *k)


def xentui_rounds(uri: str, rounds: int, state: Path) -> dict[str, list[float]]:
    env = {"XDG_STATE_HOME": str(state), "XDG_CONFIG_HOME": str(state / "cfg"),
           "TERM": "xterm-256color", "LC_ALL": "C.UTF-8", "PYTHONPATH": str(ROOT)}
    exports = " ".join(f"{k}={v}" for k, v in env.items())
    cmd = f"cd {ROOT} && env {exports} {sys.executable} -m xentui -c '{uri}' -d 0.5"
    tmux("new-session", "-d", "-s", "x", "-x", "140", "-y", "40", "sh", "-c", cmd)
    out: dict[str, list[float]] = {"attach": [], "echo": [], "return": []}
    deadline = time.monotonic() + 30
    while "Domains 1 (1 running)" not in screen("x"):
        if time.monotonic() > deadline:
            raise TimeoutError(screen("x"))
        time.sleep(0.1)
    for i in range(rounds):
        mark = f"x{i}q"
        out["attach"].append(timed(keys("x", "c"), lambda: screen("x").startswith(TITLE)))
        out["echo"].append(timed(keys("x", mark, literal=True), lambda m=mark: m in screen("x")))
        out["return"].append(timed(keys("x", "C-]"),
                                   lambda: TITLE not in screen("x") and "Domains" in screen("x")))
        time.sleep(0.5)
    tmux("kill-session", "-t", "x")
    log = state / "xentui" / "events.jsonl"
    texts = [json.loads(ln)["text"] for ln in log.read_text().splitlines() if ln.strip()]
    out["openConsole (xentui's log)"] = [float(m.group(1)) for t in texts
                                         if (m := re.search(r"attached in ([\d.]+) s", t))]
    return out


def virsh_rounds(uri: str, name: str, rounds: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"attach": [], "echo": [], "return": []}
    virsh = shutil.which("virsh") or "virsh"
    for i in range(rounds):
        target = f"v{i}"
        mark = f"v{i}q"

        def launch(t: str = target) -> None:
            tmux("new-session", "-d", "-s", t, "-x", "140", "-y", "40",
                 f"{virsh} -c '{uri}' console {name}", ";", "set-option", "-t", t,
                 "remain-on-exit", "on")

        out["attach"].append(timed(launch, lambda t=target: "Escape character" in screen(t)))
        out["echo"].append(timed(keys(target, mark, literal=True),
                                 lambda t=target, m=mark: m in screen(t)))
        out["return"].append(timed(keys(target, "C-]"), lambda t=target: tmux(
            "display-message", "-p", "-t", t, "#{pane_dead}").strip() == "1"))
        tmux("kill-session", "-t", target)
        time.sleep(0.5)
    return out


def show(title: str, figures: dict[str, list[float]]) -> None:
    print(title)
    for what, values in figures.items():
        if values:
            print(f"  {what:<28} median {statistics.median(values) * 1000:7.0f} ms   "
                  f"min {min(values) * 1000:6.0f}   max {max(values) * 1000:6.0f}   "
                  f"(n={len(values)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    daemon = daemons.start_qemu_daemon()
    try:
        disk = serial_disk(daemon.images_dir, "web01")
        daemon.chown(disk)
        conn = libvirt.open(daemon.uri)
        conn.createXML(serial_xml("web01", disk), 0)
        with tempfile.TemporaryDirectory() as state:
            ours = xentui_rounds(daemon.uri, args.rounds, Path(state))
        ref = virsh_rounds(daemon.uri, "web01", args.rounds)
        conn.close()
    finally:
        tmux("kill-server")
        daemon.cleanup()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    show("xentui (c, then Ctrl+])", ours)
    show("virsh console (reference: launch, then Ctrl+])", ref)


if __name__ == "__main__":
    main()
