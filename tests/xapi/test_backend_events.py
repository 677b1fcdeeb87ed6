"""Changes made outside xentui (xe, XenCenter: here the server's database) arrive
through `event.from` within a second, re-read and handed to the listeners."""

from __future__ import annotations

import time

from tests.xapi.backend_rig import Pool, eventually
from xentui.backend.models import DomainEvent, DomainFigures, DomainState
from xentui.backend.xapi.host import XapiHost
from xentui.backend.xapi.records import read_pool

Seen = list[tuple[str, DomainFigures | None]]


def _listen(host: XapiHost) -> tuple[Seen, list[DomainEvent]]:
    seen: Seen = []
    events: list[DomainEvent] = []
    host.domain_listeners.append(lambda uuid, fig: seen.append((uuid, fig)))
    host.event_listeners.append(events.append)
    return seen, events


async def test_an_outside_start_shows_within_a_second(pool: Pool, xhost: XapiHost) -> None:
    await xhost.sample()
    seen, events = _listen(xhost)
    uuid = pool.master.db.snapshot("VM", pool.master.db.find("VM", "spare"))["uuid"]
    pool.master.db.set_power_state("spare", "Running", host="xcp-ng-03")

    def started() -> bool:
        return any(u == uuid and f is not None and f.sample.state is DomainState.RUNNING
                   for u, f in seen)

    await eventually(started, 1.0, "the start seen through events")
    fig = next(f for u, f in seen if u == uuid and f is not None)
    assert fig.sample.resident == "xcp-ng-03" and fig.sample.id is not None
    assert any(e.uuid == uuid and e.event == "Started" and e.host_id == "lab-pool"
               for e in events)
    assert xhost.last is not None and xhost.last.domains[uuid].sample.state is DomainState.RUNNING


async def test_an_outside_pause_greys_what_xapi_no_longer_allows(
    pool: Pool, xhost: XapiHost
) -> None:
    await xhost.sample()
    seen, _events = _listen(xhost)
    uuid = pool.master.db.snapshot("VM", pool.master.db.find("VM", "web"))["uuid"]
    assert "pause" in xhost.caps.ops[uuid].allowed
    pool.master.db.set_power_state("web", "Paused")
    await eventually(lambda: any(u == uuid and f is not None
                                 and f.sample.state is DomainState.PAUSED for u, f in seen),
                     1.0, "the pause seen")
    assert "pause" not in xhost.caps.ops[uuid].allowed
    assert "unpause" in xhost.caps.ops[uuid].allowed


async def test_vms_created_and_destroyed_outside_come_and_go(pool: Pool, xhost: XapiHost) -> None:
    await xhost.sample()
    seen, events = _listen(xhost)
    db = pool.master.db
    ref = db.add_vm("made-in-xe", power_state="Running", host="xcp-ng-02")
    uuid = db.snapshot("VM", ref)["uuid"]
    await eventually(lambda: any(u == uuid and f is not None for u, f in seen), 1.0, "new VM")
    db.destroy_vm(ref)
    await eventually(lambda: (uuid, None) in seen, 1.0, "destroyed VM gone")
    assert [e.event for e in events if e.uuid == uuid][:1] == ["Defined"]
    assert xhost.last is not None and uuid not in xhost.last.domains


async def test_templates_and_snapshots_made_outside_are_not_listed(
    pool: Pool, xhost: XapiHost
) -> None:
    await xhost.sample()
    seen, _events = _listen(xhost)
    db = pool.master.db
    db.add_vm("a template", template=True)
    marker = db.add_vm("marker")
    marker_uuid = db.snapshot("VM", marker)["uuid"]
    await eventually(lambda: any(u == marker_uuid for u, _f in seen), 1.0, "marker VM")
    names = {f.name for _u, f in seen if f is not None}
    assert "a template" not in names


async def test_a_pass_read_before_an_event_does_not_undo_its_greying(
    pool: Pool, xhost: XapiHost
) -> None:
    """Newest wins: records a pass read before the event keep the event's allowed ops."""
    assert xhost.session is not None
    stale = read_pool(xhost.session, time.monotonic())
    seen, _events = _listen(xhost)
    db = pool.master.db
    uuid = db.snapshot("VM", db.find("VM", "web"))["uuid"]
    db.set_power_state("web", "Paused")
    await eventually(lambda: any(u == uuid for u, _f in seen), 1.0, "the pause seen")
    xhost._take_records(stale)
    assert xhost.caps.ops[uuid].power_state == "Paused"
    result = await xhost.sample()  # a pass read after the event takes over again
    assert xhost.caps.ops[uuid].power_state == "Paused"
    assert result.domains[uuid].sample.state is DomainState.PAUSED
