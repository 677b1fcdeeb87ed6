"""UI fixtures: the demo host on a private test-driver daemon, and the app on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import libvirt
import pytest

from tests.support import daemons
from tests.support.daemons import PrivateDaemon
from tests.support.demo_on_daemon import populate
from xentui.config import Settings
from xentui.ui.app import XentuiApp
from xentui.ui.launch import make_app


@pytest.fixture(autouse=True)
def private_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the user's settings or writes the user's log."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture
def demo_daemon() -> Iterator[tuple[PrivateDaemon, libvirt.virConnect]]:
    """A fresh test-driver daemon holding the demo host's domains, for one test.

    The daemon keeps `test:///default` only while a client holds it open, so the
    connection that populated it stays open for the test (as the observer).
    """
    with daemons.running("test") as daemon:
        conn = libvirt.open(daemon.uri)
        try:
            populate(conn)
            yield daemon, conn
        finally:
            conn.close()


@pytest.fixture
def observer(demo_daemon: tuple[PrivateDaemon, libvirt.virConnect]) -> libvirt.virConnect:
    """A second connection to the daemon, to check what the app did."""
    return demo_daemon[1]


def build_app(uri: str, **kw: object) -> XentuiApp:
    settings = kw.pop("settings", None) or Settings(interval=0.3, shutdown_timeout=1.0)
    return make_app(uri, settings=settings, log_to_file=False, **kw)  # type: ignore[arg-type]


@pytest.fixture
async def demo_app(
    demo_daemon: tuple[PrivateDaemon, libvirt.virConnect],
) -> AsyncIterator[XentuiApp]:
    yield build_app(demo_daemon[0].uri)
