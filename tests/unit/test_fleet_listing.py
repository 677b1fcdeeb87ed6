"""The rows a listing puts up before the first pass merge honestly: a listed-only row
never replaces a reading with figures, however new, and any reading with figures
replaces it, however old."""

from __future__ import annotations

from tests.unit.fleet_records import UUID, result
from xentui.backend.fleet import _Book
from xentui.backend.models import (
    DomainFigures,
    DomainListing,
    DomainRates,
    DomainSample,
    DomainState,
)

OTHER = "99999999-2222-3333-4444-555555555555"


def read(state: DomainState, at: float, uuid: str = UUID) -> DomainFigures:
    """A reading with figures (memory known)."""
    sample = DomainSample(uuid, "g", 1, state, mem_kib=524288, at=at)
    return DomainFigures(sample, DomainRates(cpu_pct=12.5), host="h")


def listed(state: DomainState, at: float, uuid: str = UUID) -> DomainFigures:
    return DomainFigures(DomainSample(uuid, "g", 1, state, at=at), DomainRates(), host="h",
                         listed_only=True)


def listing(at: float, *figs: DomainFigures) -> DomainListing:
    return DomainListing("h", {f.uuid: f for f in figs}, at)



def test_a_listing_shows_rows_that_no_reading_holds() -> None:
    book = _Book()
    merged = book.take_listing(listing(1.0, listed(DomainState.PAUSED, 1.0),
                                       listed(DomainState.SHUTOFF, 1.0, OTHER)))
    assert {u: f.listed_only for u, f in merged.items()} == {UUID: True, OTHER: True}
    assert merged[UUID].sample.state is DomainState.PAUSED


def test_a_newer_listing_never_replaces_a_reading_with_figures() -> None:
    book = _Book()
    # an event's re-read lands while the listing is under way; the listing comes later
    assert book.take_one(UUID, read(DomainState.PAUSED, 5.0), 5.0)
    merged = book.take_listing(listing(6.0, listed(DomainState.RUNNING, 6.0)))
    assert not merged[UUID].listed_only
    assert merged[UUID].sample.mem_kib == 524288
    assert merged[UUID].sample.state is DomainState.PAUSED
    # nor does a listed-only record fed as a re-read
    assert not book.take_one(UUID, listed(DomainState.RUNNING, 7.0), 7.0)
    assert not book.domains[UUID].listed_only


def test_a_pass_with_figures_replaces_listed_rows_even_if_it_started_earlier() -> None:
    book = _Book()
    book.take_listing(listing(6.0, listed(DomainState.RUNNING, 6.0)))
    merged = book.take_pass(result(4.0, read(DomainState.RUNNING, 4.1)))
    assert not merged[UUID].listed_only
    assert merged[UUID].rates.cpu_pct == 12.5


def test_an_event_re_read_replaces_a_listed_row() -> None:
    book = _Book()
    book.take_listing(listing(6.0, listed(DomainState.RUNNING, 6.0)))
    assert book.take_one(UUID, read(DomainState.PAUSED, 5.5), 5.5)
    assert not book.domains[UUID].listed_only
    assert book.domains[UUID].sample.state is DomainState.PAUSED


def test_a_listing_does_not_bring_back_a_domain_found_gone_after_it() -> None:
    book = _Book()
    book.take_one(UUID, None, 6.5)
    assert UUID not in book.take_listing(listing(6.0, listed(DomainState.RUNNING, 6.0)))


def test_a_listed_row_the_pass_did_not_see_stays_if_listed_after_the_pass_began() -> None:
    book = _Book()
    book.take_listing(listing(6.0, listed(DomainState.RUNNING, 6.0, OTHER)))
    merged = book.take_pass(result(5.0, read(DomainState.RUNNING, 5.1)))
    assert merged[OTHER].listed_only
    # a pass that began after the listing and does not list it: it is gone
    assert OTHER not in book.take_pass(result(7.0, read(DomainState.RUNNING, 7.1)))
