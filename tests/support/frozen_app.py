"""The real app on the demo host with every time-dependent figure held still.

Used by the SVG snapshot tests: one real pass (so rates read '-'), a fixed host name,
clock and node path, no Dom0 load, no timers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import libvirt
import pytest

from xentui.config import COLUMNS, Settings
from xentui.demo import demo_uri, node_path
from xentui.ui.app import XentuiApp, make_app

FIXED_NODE = Path("/tmp/xentui-snapshot/node.xml")
FIXED_TIME = 1_790_000_000.0


def frozen_app(monkeypatch: pytest.MonkeyPatch) -> XentuiApp:
    FIXED_NODE.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(node_path(), FIXED_NODE)
    monkeypatch.setattr(libvirt.virConnect, "getHostname", lambda _self: "xen-demo")
    # CPU time in the test driver is the wall clock: leave that column out.
    columns = tuple(c for c in COLUMNS if c != "cputime")
    settings = Settings(columns=columns)
    app = make_app(demo_uri(FIXED_NODE), settings=settings, live=False, log_to_file=False)
    app.host.local = False
    app.clock = lambda: FIXED_TIME
    return app
