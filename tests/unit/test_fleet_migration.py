"""A migration under way, as the fleet's feed tells it: one row for the domain at every
moment (on the source until the migration ends, then on the target), progress records
with a last one that says it finished, abort refused when none runs, and a failure after
an abort said to be one whatever words the driver used. The demo fleet
is the backend; its migration is made to last by holding the call open after the
simulation moved the guest, as a driver's does between the switch-over and its return."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from xentui.backend.errors import ActionError, NotAllowed
from xentui.backend.fleet import Record
from xentui.backend.models import (
    DomainRef,
    DomainState,
    DomainUpdate,
    MigrationOptions,
    MigrationProgress,
    PassResult,
)
from xentui.demo.host import demo_fleet

Seen = tuple[str, str, bool]
"""(kind, host, whether the record lists the domain), taken when the record went out:
a pass's dict is the fleet's own and changes afterwards."""


def seen(uuid: str, into: list[Seen]) -> Callable[[Record], None]:
    def take(rec: Record) -> None:
        if isinstance(rec, PassResult):
            into.append(("pass", rec.host_id, uuid in rec.domains))
        elif isinstance(rec, DomainUpdate) and rec.uuid == uuid:
            into.append(("update", rec.host_id, rec.figures is not None))

    return take


def rows(seen: list[Seen], start: set[str]) -> set[str]:
    """The hosts listing the domain after these records, as a subscriber's table would,
    from `start` on."""
    shown = set(start)
    for _kind, host, listed in seen:
        shown.discard(host)
        if listed:
            shown.add(host)
    return shown


async def test_one_row_at_every_moment_while_a_migration_runs() -> None:
    fleet = demo_fleet(interval=0.05, past_s=0, hosts=2)
    records: list[Record] = []
    fleet.subscribe(records.append)
    fleet.start()
    try:
        while {r.host_id for r in records if isinstance(r, PassResult)} != set(fleet.hosts):
            await asyncio.sleep(0.01)
        src, dst = list(fleet.hosts)
        guest = next(f for f in fleet.domains(src).values()
                     if f.sample.state is DomainState.RUNNING and not f.is_dom0)
        ref = DomainRef(src, guest.uuid)
        host = fleet.hosts[src]
        moved, release = asyncio.Event(), asyncio.Event()
        migrate_to = host.migrate_to

        async def switched_over_not_returned(*args: object) -> str:
            text = await migrate_to(*args)  # type: ignore[arg-type]
            moved.set()  # the target lists the guest, the source does not, the call runs
            await release.wait()
            return text

        host.migrate_to = switched_over_not_returned  # type: ignore[method-assign]
        with pytest.raises(NotAllowed, match="no migration"):
            await fleet.abort_migration(ref)
        states: list[Seen] = []
        fleet.subscribe(seen(guest.uuid, states))
        job = asyncio.create_task(fleet.migrate(ref, dst, MigrationOptions()))
        await moved.wait()
        await asyncio.sleep(0.4)  # several passes of both hosts
        assert {host for kind, host, _ in states if kind == "pass"} == {src, dst}
        assert fleet.migration(ref) is not None
        # Until the migration ends, the row stays on the source only (the target lists
        # it already, the source no longer does).
        assert all(rows(states[:i], {src}) == {src} for i in range(len(states) + 1))
        during = len(states)

        release.set()
        assert guest.name in await job
        await asyncio.sleep(0.2)
        # The source's and the target's readings go out back to back (the UI takes both
        # before it draws again); one row before the pair, and after it.
        moved_at = states.index(("update", src, False), during)
        assert states[moved_at + 1] == ("update", dst, True)
        assert all(len(rows(states[:i], {src})) == 1
                   for i in range(during, len(states) + 1) if i != moved_at + 1)
        assert rows(states, {src}) == {dst}
        progress = [r for r in records if isinstance(r, MigrationProgress)]
        assert progress[0].ref == ref and progress[0].target == dst
        assert progress[-1].finished and not any(p.finished for p in progress[:-1])
        assert fleet.migration(ref) is None and fleet.migrations() == []
    finally:
        await fleet.close()


@pytest.mark.parametrize("abort", [True, False])
async def test_a_migration_that_fails_after_an_abort_says_it_was_aborted(abort: bool) -> None:
    fleet = demo_fleet(interval=60, past_s=0, hosts=2)
    fleet.start()
    try:
        while not all(fleet.domains(h) for h in fleet.hosts):
            await asyncio.sleep(0.01)
        src, dst = list(fleet.hosts)
        guest = next(f for f in fleet.domains(src).values()
                     if f.sample.state is DomainState.RUNNING and not f.is_dom0)
        ref = DomainRef(src, guest.uuid)
        host = fleet.hosts[src]
        stop = asyncio.Event()

        async def runs_until_stopped(*args: object) -> str:
            await stop.wait()  # QEMU may word an aborted job as the broken pipe it left
            raise ActionError(f"Migrate {guest.name} failed: Unable to write to socket")

        async def stops_it(uuid: str) -> str:
            stop.set()
            return "abort requested"

        host.migrate_to = runs_until_stopped  # type: ignore[method-assign]
        host.abort_migration = stops_it  # type: ignore[method-assign]
        job = asyncio.create_task(fleet.migrate(ref, dst, MigrationOptions()))
        await asyncio.sleep(0)
        if abort:
            assert await fleet.abort_migration(ref) == "abort requested"
        else:
            stop.set()
        with pytest.raises(ActionError) as failed:
            await job
        assert str(failed.value).endswith("; aborted on request") is abort
        assert "Unable to write to socket" in str(failed.value)
        # The next migration of the same domain starts with no abort remembered.
        stop.clear()
        again = asyncio.create_task(fleet.migrate(ref, dst, MigrationOptions()))
        await asyncio.sleep(0)
        stop.set()
        with pytest.raises(ActionError) as second:
            await again
        assert "aborted" not in str(second.value)
    finally:
        await fleet.close()
