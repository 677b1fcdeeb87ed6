"""The per-domain sampler keeps the last full listing's handles while the running ids and
inactive names do not change; every change between passes still shows in the next pass
(no events delivered here: the sampler alone, on the test driver in-process)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import libvirt
import pytest

from xentui.backend.libvirt.sampler import IO_EVERY, RELIST_EVERY, Sampler
from xentui.backend.models import DomainSample, DomainState
from xentui.demo import demo_uri, guest_xml, synthetic_node


class CountingConn:
    """A connection that counts the full listings asked of it."""

    def __init__(self, conn: libvirt.virConnect) -> None:
        self.conn = conn
        self.full_listings = 0

    def listAllDomains(self, flags: int = 0) -> list[libvirt.virDomain]:
        if flags == 0:
            self.full_listings += 1
        return self.conn.listAllDomains(flags)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[Sampler, CountingConn, libvirt.virConnect]]:
    """A sampler on a node of 10 guests, and a second handle on the same driver state."""
    node = tmp_path / "node.xml"
    node.write_text(synthetic_node(10))
    conn = libvirt.open(demo_uri(node))
    counting = CountingConn(conn)
    pool = ThreadPoolExecutor(2)
    sampler = Sampler(counting, bulk=False, pool=pool, parallel=False)  # type: ignore[arg-type]
    try:
        yield sampler, counting, conn
    finally:
        pool.shutdown()
        conn.close()


def truth(conn: libvirt.virConnect) -> dict[str, tuple[str, DomainState, int | None]]:
    """Every domain's name, state and id from a fresh full listing."""
    out = {}
    for dom in conn.listAllDomains(0):
        state = DomainState.from_libvirt(dom.info()[0])
        out[dom.UUIDString()] = (dom.name(), state, dom.ID() if state.active else None)
    return out


def seen(samples: list[DomainSample]) -> dict[str, tuple[str, DomainState, int | None]]:
    return {s.uuid: (s.name, s.state, s.id) for s in samples}


def first_inactive(conn: libvirt.virConnect) -> libvirt.virDomain:
    return conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE)[0]


def test_quiet_passes_reuse_the_listing(rig: Any) -> None:
    sampler, counting, conn = rig
    sampler.read()
    before = counting.full_listings
    for _ in range(5):
        assert seen(sampler.read()) == truth(conn)
    assert counting.full_listings == before
    for _ in range(RELIST_EVERY):
        sampler.read()
    assert counting.full_listings > before


def test_start_restart_rename_define_show_next_pass(rig: Any) -> None:
    sampler, _counting, conn = rig
    sampler.read()
    first_inactive(conn).create()
    assert seen(sampler.read()) == truth(conn)

    running = conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)[-1]
    old_id = running.ID()
    running.destroy()
    running.create()
    after = seen(sampler.read())
    assert after == truth(conn)
    assert after[running.UUIDString()][2] != old_id

    dom = first_inactive(conn)
    dom.rename("renamed-guest")
    assert seen(sampler.read())[dom.UUIDString()][0] == "renamed-guest"

    conn.defineXML(guest_xml("brand-new", state="shutoff", vif=99))
    assert seen(sampler.read()) == truth(conn)


def test_a_name_reused_by_another_domain_shows_within_a_turn(rig: Any) -> None:
    """Without events, an undefine and a define under the same name leave both sets
    as they were: the old handle is found gone when the domain's turn comes."""
    sampler, _counting, conn = rig
    sampler.watched = frozenset()
    sampler.read()
    dom = first_inactive(conn)
    name, gone = dom.name(), dom.UUIDString()
    dom.undefine()
    conn.defineXML(guest_xml(name, uuid=str(uuid.uuid4()), state="shutoff", vif=98))
    for _ in range(IO_EVERY + 2):
        if seen(sampler.read()) == truth(conn):
            break
    assert seen(sampler.read()) == truth(conn)
    assert gone not in truth(conn)
