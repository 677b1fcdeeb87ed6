"""The real app on the demo host with every time-dependent figure held still.

Used by the SVG snapshot tests: one real pass (so rates read '-'), a fixed host name,
clock and node path, no Dom0 load, no timers.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import libvirt
import pytest

from xentui.backend.libvirt.host import LibvirtHost
from xentui.config import DEFAULT_COLUMNS, Settings
from xentui.demo import demo_uri, node_path
from xentui.ui.app import XentuiApp
from xentui.ui.launch import make_app

SHOWN_URI = "test:///tmp/xentui-snapshot/node.xml"
"""The URI the header shows, whatever private copy of the node is opened."""
FIXED_TIME = 1_790_000_000.0


def frozen_app(monkeypatch: pytest.MonkeyPatch, folder: Path | None = None) -> XentuiApp:
    """The frozen app on a private copy of the demo node in `folder` (a new temporary
    directory if None)."""
    folder = folder or Path(tempfile.mkdtemp(prefix="xentui-snapshot-"))
    node = folder / "node.xml"
    shutil.copyfile(node_path(), node)
    monkeypatch.setattr(libvirt.virConnect, "getHostname", lambda _self: "xen-demo")

    # CPU time in the test driver is the wall clock: leave that column out.
    columns = tuple(c for c in DEFAULT_COLUMNS if c != "cputime")
    settings = Settings(columns=columns)
    app = make_app(demo_uri(node), settings=settings, live=False, log_to_file=False)
    host = app.host
    assert isinstance(host, LibvirtHost)
    host.local = False
    host.uri = SHOWN_URI  # shown in the header and log; the connection keeps the real one
    app.clock = lambda: FIXED_TIME
    return app
