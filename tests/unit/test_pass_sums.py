"""A host's pass is summed once for every view; a new pass of the host is summed anew."""

from __future__ import annotations

from tests.unit.fleet_records import result
from xentui.backend.models import DomainFigures, DomainRates, DomainSample, DomainState
from xentui.backend.pass_sums import pass_sums


def fig(n: int, state: DomainState, mem_kib: int | None) -> DomainFigures:
    sample = DomainSample(f"uuid-{n}", f"g{n}", n, state, mem_kib=mem_kib)
    return DomainFigures(sample, DomainRates(), host="h")


def test_a_pass_is_summed_once_and_the_next_pass_of_that_host_anew() -> None:
    first = result(1.0, fig(1, DomainState.RUNNING, 1024), fig(2, DomainState.BLOCKED, 512),
                   fig(3, DomainState.SHUTOFF, None), fig(4, DomainState.RUNNING, 256))
    sums = pass_sums(first)
    assert sums.given_kib == 1024 + 512 + 256
    assert dict(sums.states) == {DomainState.RUNNING: 2, DomainState.BLOCKED: 1,
                                 DomainState.SHUTOFF: 1}
    assert pass_sums(first) is sums  # the header and the Hosts pane share one sum

    other = result(1.0, fig(5, DomainState.PAUSED, 64), host="other")
    assert dict(pass_sums(other).states) == {DomainState.PAUSED: 1}
    assert pass_sums(first) is sums  # another host's pass leaves this one's kept

    second = result(2.0, fig(1, DomainState.PAUSED, 2048))
    assert pass_sums(second).given_kib == 2048
    assert dict(pass_sums(second).states) == {DomainState.PAUSED: 1}
