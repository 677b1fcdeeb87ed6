"""Fixtures for backend tests that need a private libvirtd serving the test driver."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import daemons
from xentui.demo import synthetic_node


@pytest.fixture(scope="session")
def testd() -> Iterator[daemons.PrivateDaemon]:
    """A private libvirtd serving libvirt's test driver over a unix socket."""
    with daemons.running("test") as daemon:
        yield daemon


def daemon_node(daemon: daemons.PrivateDaemon, n_guests: int) -> str:
    """Write a node file with `n_guests` synthetic guests the daemon can read; return its
    URI through the daemon.

    Every connection opening it gets an independent copy of the node.
    """
    return daemon_node_of(daemon, synthetic_node(n_guests))


def daemon_node_of(daemon: daemons.PrivateDaemon, node: str) -> str:
    """Write the node file `node` (the test driver's XML) where the daemon can read it;
    its URI through the daemon (each connection opening it gets its own copy)."""
    folder = daemon.base / "nodes"
    folder.mkdir(exist_ok=True)
    daemon.chown(folder)
    path: Path = folder / f"node-{uuid.uuid4().hex[:8]}.xml"
    path.write_text(node)
    daemon.chown(path)
    return f"test+unix://{path}?socket={daemon.socket}"
