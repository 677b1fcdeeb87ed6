"""One host's pass summed up once (memory given to domains, domains by state) for every
view that shows it: the header and the Hosts pane then add a few numbers per host
instead of each going over every domain after each pass."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from xentui.backend.models import DomainState, PassResult


@dataclass(frozen=True, slots=True)
class PassSums:
    given_kib: int
    """Memory held by the pass's domains, KiB."""
    states: Counter[DomainState]
    """How many domains are in each state."""

    @classmethod
    def of(cls, result: PassResult) -> PassSums:
        given = 0
        states: dict[DomainState, int] = {}
        for figures in result.domains.values():
            sample = figures.sample
            given += sample.mem_kib or 0
            states[sample.state] = states.get(sample.state, 0) + 1
        return cls(given, Counter(states))


_kept: dict[str, tuple[PassResult, PassSums]] = {}
"""The newest pass of each host id, with its sums (a host's next pass replaces it)."""


def pass_sums(result: PassResult) -> PassSums:
    """`result` summed up, worked out once however many views ask."""
    held = _kept.get(result.host_id)
    if held is None or held[0] is not result:
        held = _kept[result.host_id] = (result, PassSums.of(result))
    return held[1]
