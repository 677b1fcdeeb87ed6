"""A master that stops answering: the pool is marked lost, the fleet keeps running,
and the pool comes back by itself when the master answers again."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.xapi_server import GUESTS
from tests.xapi.backend_rig import Pool, eventually
from xentui.backend.fleet import Fleet, Record
from xentui.backend.models import LinkState, LinkStatus, PassFailure, PassResult
from xentui.backend.xapi.host import XapiHost
from xentui.demo.host import demo_fleet


@pytest.mark.parametrize("outage", ["hang", "close"])
async def test_a_silent_master_is_lost_then_back(pool: Pool, outage: str) -> None:
    xhost = XapiHost(pool.uri(), id="lab-pool", interval=0.3, call_timeout=1.0, poll_s=1.0)
    others = demo_fleet(interval=0.3, hosts=1, past_s=0)
    demo = next(iter(others.hosts.values()))
    fleet = Fleet([xhost, demo])
    records: list[Record] = []
    fleet.subscribe(records.append)
    fleet.start()
    try:
        await eventually(lambda: xhost.last is not None, 5.0, "first pool pass")
        pool.master.freeze(outage)  # type: ignore[arg-type]
        await eventually(lambda: xhost.status.state is LinkState.LOST, 5.0, "pool marked lost")
        assert any(isinstance(r, LinkStatus) and r.state is LinkState.LOST
                   and r.host_id == "lab-pool" for r in records)
        assert "\n" not in xhost.status.message
        demo_passes = sum(isinstance(r, PassResult) and r.host_id == demo.id for r in records)
        await eventually(
            lambda: sum(isinstance(r, PassResult) and r.host_id == demo.id for r in records)
            > demo_passes + 2, 5.0, "the other host still sampled")
        assert xhost.last is not None
        assert set(GUESTS) <= {f.name for f in xhost.last.domains.values()}
        pool.master.thaw()
        await eventually(lambda: xhost.connected, 15.0, "pool back")
        mark = len(records)
        await eventually(lambda: any(isinstance(r, PassResult) and r.host_id == "lab-pool"
                                     for r in records[mark:]), 5.0, "passes again")
        failures = [r for r in records if isinstance(r, PassFailure) and r.host_id == "lab-pool"]
        assert all("\n" not in f.text for f in failures)
    finally:
        await fleet.close()
    assert xhost.status.state is LinkState.CLOSED


async def test_closing_while_the_master_hangs_does_not_wait_on_it(pool: Pool) -> None:
    xhost = XapiHost(pool.uri(), call_timeout=1.0, poll_s=5.0)
    await xhost.connect()
    pool.master.freeze("hang")
    try:
        await asyncio.wait_for(xhost.close(), 6.0)
    finally:
        pool.master.thaw()


async def test_a_dead_master_is_replaced_through_a_member(pool: Pool) -> None:
    """The master dies and the pool elects another (HA, or `xe pool-designate-new-master`):
    logging in again through a member that answers HOST_IS_SLAVE finds the new master."""
    xhost = XapiHost(pool.uri(), id="lab-pool", interval=0.3, call_timeout=1.0, poll_s=1.0)
    fleet = Fleet([xhost])
    fleet.start()
    try:
        await eventually(lambda: xhost.last is not None, 5.0, "first pool pass")
        pool.master.freeze("close")
        pool.master.db.designate_new_master("xcp-ng-02")
        await eventually(lambda: xhost.status.state is LinkState.LOST, 5.0, "pool marked lost")
        await eventually(lambda: xhost.connected, 10.0, "connected through a member")
        assert xhost.session is not None and xhost.session.master_host == "127.0.0.12"
        mark = xhost.last
        await eventually(lambda: xhost.last is not mark, 5.0, "a pass at the new master")
        assert xhost.last is not None
        assert [m.name for m in xhost.last.host.members if m.master] == ["xcp-ng-02"]
    finally:
        await fleet.close()
        pool.master.thaw()
