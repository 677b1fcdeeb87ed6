"""Bad connection input, each with what the user must see: a clear line, no traceback,
no frozen screen. Malformed URIs, unknown drivers, closed ports, silent hosts, and
permission denied."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.bad_input import app_on, closed_port, silent_listener
from tests.support.daemons import PrivateDaemon
from tests.support.pilot_helpers import (
    header,
    log_has,
    log_lines,
    private_state,  # noqa: F401  (fixture)
    until,
    wait_for,
)
from xentui.backend.models import LinkState
from xentui.ui.screens.help import HelpScreen

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]



# -- connection failures in the app ------------------------------------------------------

@pytest.mark.parametrize(
    ("case", "expect"),
    [
        ("malformed", "Unable to parse URI"),
        ("unknown-driver", "cannot connect to nosuchdriver:///system"),
        ("closed-port", "Connection refused"),
        ("never-answers", "no answer within 4 s"),
    ],
)
async def test_connect_failure_is_a_clear_line_and_the_app_keeps_running(
    case: str, expect: str
) -> None:
    with contextlib.ExitStack() as stack:
        uri = {
            "malformed": "::not a uri",
            "unknown-driver": "nosuchdriver:///system",
            "closed-port": f"qemu+tcp://127.0.0.1:{closed_port()}/system",
            "never-answers": "",
        }[case] or f"qemu+tcp://127.0.0.1:{stack.enter_context(silent_listener())}/system"
        app = app_on(uri)
        # Long enough that help is on screen while the open still waits, on a busy machine.
        app.host.open_timeout = 4.0 if case == "never-answers" else 1.5
        async with app.run_test(size=(120, 30)) as pilot:
            # Keys and screens work while the open waits (or right after it failed).
            # (A screen that waited for the open would show help only after it failed.)
            await pilot.press("question_mark")
            await until(pilot, lambda: isinstance(app.screen, HelpScreen), 5, "help shown")
            if case == "never-answers":
                assert app.host.status.state is LinkState.CONNECTING, "help waited for the open"
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, HelpScreen), 5, "help closed")
            await until(pilot, lambda: log_has(app, "ERROR", uri, expect), 5, "error line")
            await until(pilot, lambda: "retrying in" in header(app), 3, "retry in the header")
            assert "lost" in header(app)
            assert app.is_running and app.passes == 0
            lines = [ln for ln in log_lines(app) if "ERROR" in ln]
            assert len(lines) == len(set(lines)), "the same error logged twice"
            assert not any("Traceback" in ln for ln in log_lines(app))
            print(f"[{case}] {lines[0]}")


def _no_dac_override() -> list[str]:
    """A prefix that runs a command as root without CAP_DAC_OVERRIDE: file modes apply."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv (util-linux) is not installed")
    if os.geteuid() != 0:
        return []  # unprivileged already: the daemon's 0700 dirs keep us out
    drop = "-dac_override,-dac_read_search"
    return [setpriv, f"--bounding-set={drop}", f"--inh-caps={drop}"]


def test_permission_denied_batch_and_console(daemon: PrivateDaemon, tmp_path: Path) -> None:
    """The daemon's socket sits in a 0700 directory of another user: connecting is
    refused by the kernel. Batch prints one line and exits 1; the console logs it,
    shows lost/retrying and keeps running."""
    prefix = _no_dac_override()
    if os.geteuid() != 0 and daemon.user.pw_uid == os.geteuid():
        pytest.skip("the daemon runs as this user: nothing to be denied")
    env = {**os.environ, "LC_ALL": "C.UTF-8", "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    # asyncio's debug mode reports slow callbacks on stderr (a busy machine has them):
    # the batch run counts its own stderr lines, so it runs without it.
    batch_env = {k: v for k, v in env.items() if k != "PYTHONASYNCIODEBUG"}
    res = subprocess.run([*prefix, sys.executable, "-m", "xentui", "-c", daemon.uri, "-b",
                          "-n", "1", "--format", "json"], capture_output=True, text=True,
                         timeout=30, cwd=ROOT, env=batch_env)
    print(f"[permission denied, batch] {res.stderr.strip()}")
    assert res.returncode == 1 and res.stdout == ""
    assert res.stderr.count("\n") == 1 and "Permission denied" in res.stderr
    assert "Traceback" not in res.stderr

    code = ("import sys; from xentui.config import Settings; from xentui.ui.launch import make_app;"
            "make_app(sys.argv[1], settings=Settings(interval=0.5)).run(headless=True)")
    proc = subprocess.Popen([*prefix, sys.executable, "-c", code, daemon.uri], cwd=ROOT, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    log = tmp_path / "state" / "xentui" / "events.jsonl"
    try:
        wait_for(lambda: log.exists() and "Permission denied" in log.read_text(), 30,
                 "the denial in the console's log file")
        time.sleep(1.5)  # a retry or two
        assert proc.poll() is None, "the console exited"
    finally:
        proc.kill()
        _, err = proc.communicate(timeout=10)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    denied = [r for r in records if "Permission denied" in r["text"]]
    assert denied[0]["level"] == "error" and denied[0]["kind"] == "connection"
    assert "Traceback" not in err
    print(f"[permission denied, console] {denied[0]['text']}")
