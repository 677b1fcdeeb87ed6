"""What a fleet spends on unseen domains is one screen's budget: each watched host is
told its part of the fleet's domains, and told again when that part moves."""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Iterable

import pytest

from tests.unit.fleet_records import result
from xentui.backend.models import (
    DomainFigures,
    DomainRates,
    DomainSample,
    DomainState,
    PassResult,
)
from xentui.demo.host import demo_fleet


def running(host: str, n: int, at: float) -> PassResult:
    """A pass of `host` that read `n` running domains."""
    figs = [DomainFigures(DomainSample(str(uuidlib.uuid4()), f"g{i}", i + 1,
                                       DomainState.RUNNING, at=at), DomainRates(), host=host)
            for i in range(n)]
    return result(at, *figs, host=host)


def told(monkeypatch: pytest.MonkeyPatch, fleet: object) -> dict[str, list[float]]:
    """The shares each host of the fleet was told, in order."""
    shares: dict[str, list[float]] = {}
    for host_id, host in fleet.hosts.items():  # type: ignore[attr-defined]
        def watch(uuids: Iterable[str], share: float = 1.0, _id: str = host_id) -> None:
            shares.setdefault(_id, []).append(share)
        monkeypatch.setattr(host, "watch", watch)
    return shares


def test_each_watched_host_is_told_its_part_of_the_fleet(
        monkeypatch: pytest.MonkeyPatch) -> None:
    fleet = demo_fleet(interval=1.0, past_s=0, hosts=2, live=False)
    small, big = list(fleet.hosts)
    shares = told(monkeypatch, fleet)
    fleet._take_pass(small, running(small, 10, 1.0))
    fleet._take_pass(big, running(big, 30, 1.0))
    fleet.watch(small, [])
    fleet.watch(big, [])
    assert shares == {small: [0.25], big: [0.75]}


def test_a_host_is_told_again_when_its_part_moves(monkeypatch: pytest.MonkeyPatch) -> None:
    fleet = demo_fleet(interval=1.0, past_s=0, hosts=2, live=False)
    one, other = list(fleet.hosts)
    shares = told(monkeypatch, fleet)
    fleet.watch(one, [])  # before any pass: alone as far as the fleet knows
    fleet._take_pass(one, running(one, 10, 1.0))
    assert shares[one] == [1.0]  # still all of the fleet's domains
    fleet._take_pass(other, running(other, 10, 1.0))
    assert shares[one] == [1.0, 0.5]
    fleet._take_pass(other, running(other, 11, 2.0))  # 10/21: within the slack
    assert shares[one] == [1.0, 0.5]
    assert other not in shares  # never watched (batch mode): never told
