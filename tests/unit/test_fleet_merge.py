"""The fleet's merge is newest-wins by the time of the reading, and each host has one
chain of passes however often the fleet is started."""

from __future__ import annotations

import asyncio
from itertools import pairwise

from tests.unit.fleet_records import UUID, result
from xentui.backend.fleet import _Book
from xentui.backend.models import (
    DomainFigures,
    DomainRates,
    DomainSample,
    DomainState,
    PassResult,
)
from xentui.demo.host import demo_fleet


def fig(state: DomainState, at: float, uuid: str = UUID) -> DomainFigures:
    return DomainFigures(DomainSample(uuid, "g", 1, state, at=at), DomainRates(), host="h")



def test_a_pass_read_before_an_event_keeps_the_events_state() -> None:
    book = _Book()
    book.take_pass(result(0.0, fig(DomainState.RUNNING, 0.1)))
    # A slow pass starts at 10.0 and reads the domain at 10.1 (running); an event makes
    # it paused and the re-read at 10.2 says so; then the slow pass lands.
    assert book.take_one(UUID, fig(DomainState.PAUSED, 10.2), 10.2)
    merged = book.take_pass(result(10.0, fig(DomainState.RUNNING, 10.1)))
    assert merged[UUID].sample.state is DomainState.PAUSED
    # The next pass, read after the event, wins.
    merged = book.take_pass(result(12.0, fig(DomainState.RUNNING, 12.1)))
    assert merged[UUID].sample.state is DomainState.RUNNING


def test_an_older_re_read_never_replaces_a_newer_one() -> None:
    book = _Book()
    assert book.take_one(UUID, fig(DomainState.PAUSED, 5.0), 5.0)
    assert not book.take_one(UUID, fig(DomainState.RUNNING, 4.0), 4.0)
    assert book.domains[UUID].sample.state is DomainState.PAUSED


def test_a_domain_found_gone_is_not_brought_back_by_an_older_pass() -> None:
    book = _Book()
    book.take_pass(result(0.0, fig(DomainState.RUNNING, 0.1)))
    assert book.take_one(UUID, None, 10.3)
    assert UUID not in book.take_pass(result(10.0, fig(DomainState.RUNNING, 10.1)))
    # A pass that read it later (it was defined again) shows it.
    assert UUID in book.take_pass(result(11.0, fig(DomainState.RUNNING, 11.1)))


def test_a_domain_that_appeared_after_a_pass_listed_domains_stays() -> None:
    book = _Book()
    other = "99999999-2222-3333-4444-555555555555"
    book.take_pass(result(0.0, fig(DomainState.RUNNING, 0.1)))
    book.take_one(other, fig(DomainState.RUNNING, 10.5, other), 10.5)
    merged = book.take_pass(result(10.0, fig(DomainState.RUNNING, 10.1)))
    assert other in merged


async def test_one_chain_of_passes_per_host_however_often_started() -> None:
    fleet = demo_fleet(interval=0.2, past_s=0, hosts=1)
    passes: list[float] = []
    fleet.subscribe(lambda r: passes.append(r.at) if isinstance(r, PassResult) else None)
    for _ in range(3):
        fleet.start()
    await asyncio.sleep(1.1)
    await fleet.close()
    # Three chains would interleave passes a few ms apart; one keeps the interval (a busy
    # machine only makes the gaps longer).
    assert len(passes) >= 2
    gaps = [b - a for a, b in pairwise(passes)]
    assert min(gaps) > 0.1
