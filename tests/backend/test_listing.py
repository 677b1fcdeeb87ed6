"""The domain listing alone, the rows shown before the first pass: every domain's name,
id, state and persistence as each domain says when asked, and no figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.backend.conftest import daemon_node
from tests.support.daemons import PrivateDaemon
from xentui.backend.errors import ConnectionLost
from xentui.backend.libvirt.host import LibvirtHost
from xentui.backend.models import ZERO_UUID, DomainState
from xentui.demo import demo_uri, guest_xml, node_xml

CRASHED = 6  # VIR_DOMAIN_CRASHED: the test driver takes it from the node file


async def test_listing_agrees_with_each_domain(tmp_path: Path) -> None:
    guests = [guest_xml(f"g-{s}", state=s, vif=i + 1)
              for i, s in enumerate(("running", "blocked", "paused", "shutoff"))]
    crashed = guest_xml("g-crashed", vif=9).replace(
        "<test:runstate>1</test:runstate>", f"<test:runstate>{CRASHED}</test:runstate>")
    node = tmp_path / "node.xml"
    node.write_text(node_xml([*guests, crashed]))
    host = LibvirtHost(demo_uri(node), per_domain=True, interval=1.0)
    host.rows_first = True  # in-process the first pass is quick: not listed unless asked
    await host.connect()
    try:
        conn = host.link.conn
        assert conn is not None
        conn.createXML(guest_xml("g-transient", vif=10))
        listing = await host.list_domains()
        assert listing is not None
        raw = {d.UUIDString(): d for d in conn.listAllDomains(0)}
        assert set(listing.domains) == set(raw)
        for uuid, fig in listing.domains.items():
            dom, s = raw[uuid], fig.sample
            assert fig.listed_only and fig.host == host.id
            assert s.name == dom.name()
            assert s.state is DomainState.from_libvirt(dom.state()[0])
            assert s.id == (dom.ID() if dom.isActive() else None)
            assert s.persistent == bool(dom.isPersistent())
            assert (s.cpu_time_ns, s.mem_kib, s.maxmem_kib, s.vcpus) == (None,) * 4
            assert fig.rates.cpu_pct is None and fig.mem_pct is None
        states = {f.sample.state for f in listing.domains.values()}
        assert {DomainState.RUNNING, DomainState.BLOCKED, DomainState.PAUSED,
                DomainState.SHUTOFF, DomainState.CRASHED} <= states
        assert listing.domains[ZERO_UUID].sample.is_dom0
        transient = [f for f in listing.domains.values() if f.name == "g-transient"]
        assert transient and transient[0].sample.persistent is False
    finally:
        await host.close()


async def test_listing_without_a_connection_says_so(tmp_path: Path) -> None:
    node = tmp_path / "node.xml"
    node.write_text(node_xml([guest_xml("g", vif=1)]))
    host = LibvirtHost(demo_uri(node), per_domain=True)
    with pytest.raises(ConnectionLost):
        await host.list_domains()


async def test_listed_first_only_where_the_first_pass_is_slow(testd: PrivateDaemon,
                                                               tmp_path: Path) -> None:
    """Over a daemon on the per-domain path a pass is a call per domain: listed first.
    Bulk statistics or an in-process driver read the figures about as fast: not."""
    node = tmp_path / "node.xml"
    node.write_text(node_xml([guest_xml("g", vif=1)]))
    cases = [(daemon_node(testd, 3), True, True), (daemon_node(testd, 3), False, False),
             (demo_uri(node), True, False)]
    for uri, per_domain, listed in cases:
        host = LibvirtHost(uri, per_domain=per_domain)
        await host.connect()
        try:
            listing = await host.list_domains()
            assert (listing is not None) is listed, (uri, per_domain)
            if listing is not None:
                assert len(listing.domains) == 4 and all(
                    f.listed_only for f in listing.domains.values())
        finally:
            await host.close()
