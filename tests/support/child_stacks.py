"""A child xentui that will not end: have it print every thread's stack, then end it."""

from __future__ import annotations

import signal
import subprocess

STACKS_ON_ABORT = {"PYTHONFAULTHANDLER": "1"}
"""Environment for a child: on SIGABRT Python's faulthandler prints each thread's stack
to stderr before the process dies, so a hang says where it is."""


def abort_with_stacks(proc: subprocess.Popen[str], *, read: bool = True) -> tuple[str, str]:
    """SIGABRT the child (started with STACKS_ON_ABORT), then SIGKILL if it still runs;
    its remaining stdout and stderr (empty where another reader drains them, `read`
    False)."""
    proc.send_signal(signal.SIGABRT)
    try:
        if read:
            return proc.communicate(timeout=5)
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        if read:
            return proc.communicate()
        proc.wait()
    return "", ""
