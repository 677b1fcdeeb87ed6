"""Shared fixtures: a private test-driver node per test, and a connected Host on it.

libvirt's event loop is one daemon thread per process (``ensure_event_loop``) while
pytest-asyncio gives every test its own asyncio loop; a Host remembers the loop that
opened its connection and hands callbacks to that loop, so each test's Host is bound
to that test's loop and nothing leaks from one test into the next.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import settings

from xentui.backend.libvirt.host import LibvirtHost as Host
from xentui.demo import demo_uri, guest_xml, node_xml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `tests.support` importable however pytest is started
    sys.path.insert(0, str(ROOT))

# Hypothesis's per-example deadline (200 ms) is a timing assertion, which a busy machine
# fails at random (speed is measured in bench/); the examples and their checks stay.
settings.register_profile("xentui", deadline=None)
settings.load_profile("xentui")


def demo_like_node() -> str:
    """Domain-0 plus guests in every state the demo host has, with disks and NICs."""
    return node_xml(
        [
            guest_xml("web", vcpus=2, mem_mib=1024, vif=1, disks=2),
            guest_xml("db", vcpus=4, mem_mib=2048, maxmem_mib=4096, vif=2),
            guest_xml("cache", mem_mib=512, vif=3),
            guest_xml("batch", state="paused", mem_mib=768, vif=4),
            guest_xml("spare", state="shutoff", mem_mib=256, vif=5),
            guest_xml("old", state="shutoff", disks=0),
        ]
    )


@pytest.fixture
def node_file(tmp_path: Path) -> Path:
    """A fresh node XML for this test only (each open of it is an independent copy)."""
    path = tmp_path / "node.xml"
    path.write_text(demo_like_node())
    return path


@pytest.fixture
async def host(node_file: Path) -> AsyncIterator[Host]:
    """A Host connected to this test's node, closed afterwards."""
    h = Host(demo_uri(node_file), interval=0.5)
    await h.connect()
    try:
        yield h
    finally:
        await h.close()
