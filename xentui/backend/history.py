"""Bounded history of each domain's figures, for graphs.

One ring of pass times per host and, per domain, one float32 ring per metric aligned
with it; a gap (the domain absent or a figure unknown) is NaN. Memory is fixed by the
capacity and the number of domains that exist; vanished domains are dropped.
"""

from __future__ import annotations

import itertools
import math
from array import array
from collections.abc import Iterable
from dataclasses import dataclass

from xentui.backend.models import DomainFigures

METRICS: tuple[str, ...] = (
    "cpu_pct",
    "mem_kib",
    "disk_rd_bps",
    "disk_wr_bps",
    "net_rx_bps",
    "net_tx_bps",
)
NAN = float("nan")
_SERIALS = itertools.count(1)


def _values(fig: DomainFigures) -> tuple[float | int | None, ...]:
    """The figures of METRICS, in its order (None: unknown)."""
    r = fig.rates
    return (r.cpu_pct, fig.sample.mem_kib, r.disk_rd_bps, r.disk_wr_bps, r.net_rx_bps,
            r.net_tx_bps)


def mean_known(values: Iterable[float]) -> float | None:
    """The mean of the values that are not NaN (None if none is)."""
    known = [v for v in values if v == v]  # NaN is the one value unequal to itself
    return sum(known) / len(known) if known else None


@dataclass(frozen=True, slots=True)
class Series:
    """One metric of one domain, oldest first, with its pass times (epoch seconds)."""

    times: list[float]
    values: list[float]
    first: int = 0
    """The pass number of the first value, counted from the host's first pass (graphs
    bucket values by it, so a bucket holds the same passes from one pass to the next)."""
    origin: tuple[int, str, str, int] | None = None
    """Where the values come from (history, domain, metric, the ring's first pass): two
    series with the same origin hold the same value for every pass number both hold,
    so what was worked out from old values may be kept (None: no such promise)."""

    def known(self) -> list[float]:
        return [v for v in self.values if v == v]  # NaN is the one value unequal to itself

    @property
    def current(self) -> float | None:
        for v in reversed(self.values):
            if not math.isnan(v):
                return v
        return None

    @property
    def average(self) -> float | None:
        return mean_known(self.values)

    @property
    def peak(self) -> float | None:
        k = self.known()
        return max(k) if k else None


class History:
    """Ring buffers of the last `capacity` passes for every domain of a host."""

    def __init__(self, capacity: int) -> None:
        if capacity < 2:
            raise ValueError("history needs room for at least two passes")
        self.capacity = capacity
        self._times = array("d", [NAN] * capacity)
        self._cpu_total = array("d", [NAN] * capacity)
        """All domains' CPU % added up per pass (NaN: none known), for the host's graph."""
        self._rings: dict[str, array] = {}
        self._born: dict[str, int] = {}
        """The pass at which each domain's ring began (a domain gone and back gets a new
        ring, its past blank: a new origin for its series)."""
        self.serial = next(_SERIALS)
        self._passes = 0
        self._times_list: list[float] = []
        self._times_at = 0
        """The pass count `_times_list` was made at."""

    @classmethod
    def for_span(cls, seconds: float, interval: float) -> History:
        """A history holding at least `seconds` of passes taken every `interval`."""
        return cls(max(2, math.ceil(seconds / max(interval, 0.01)) + 1))

    def __len__(self) -> int:
        return min(self._passes, self.capacity)

    @property
    def passes(self) -> int:
        """Passes recorded since the history began (the oldest held is `passes - len`)."""
        return self._passes

    def domains(self) -> Iterable[str]:
        return self._rings.keys()

    def record(self, at: float, figures: dict[str, DomainFigures]) -> None:
        """Append one pass; domains missing from it are forgotten."""
        slot = self._passes % self.capacity
        self._times[slot] = at
        for uuid in [u for u in self._rings if u not in figures]:
            del self._rings[uuid]
            del self._born[uuid]
        cap = self.capacity
        size = cap * len(METRICS)
        rings = self._rings
        total, known = 0.0, False
        for uuid, fig in figures.items():
            ring = rings.get(uuid)
            if ring is None:
                ring = rings[uuid] = array("f", [NAN]) * size
                self._born[uuid] = self._passes
            at_m = slot
            for raw in _values(fig):
                ring[at_m] = NAN if raw is None else raw
                at_m += cap
            cpu = ring[slot]  # as kept (float32), so that the total is their sum
            if cpu == cpu:
                total, known = total + cpu, True
        self._cpu_total[slot] = total if known else NAN
        self._passes += 1

    def _in_order(self, ring: array, base: int = 0) -> list[float]:
        """The held passes' slots of `ring[base:base + capacity]`, oldest first (slices
        of the array, not a lookup per pass: a graph reads six of these every pass)."""
        cap = self.capacity
        if self._passes <= cap:
            return ring[base : base + self._passes].tolist()
        start = base + self._passes % cap
        return (ring[start : base + cap] + ring[base:start]).tolist()

    def cpu_total(self) -> Series:
        """All domains' CPU % added up, pass by pass (NaN where none was known)."""
        times = self.times()
        return Series(times, self._in_order(self._cpu_total), self._passes - len(times))

    def recent(self, uuid: str, metric: str, k: int) -> list[float]:
        """A domain's last `k` values of a metric (fewer if fewer passes are held; none
        if the domain is unknown), oldest first, without reading the rest."""
        ring = self._rings.get(uuid)
        k = min(k, len(self))
        if ring is None or k <= 0:
            return []
        cap, base = self.capacity, METRICS.index(metric) * self.capacity
        return [ring[base + (self._passes - k + i) % cap] for i in range(k)]

    def times(self) -> list[float]:
        """The held passes' times, oldest first: one list per pass, shared by every
        series handed out until the next pass (none may change it)."""
        if self._times_at != self._passes:
            self._times_list, self._times_at = self._in_order(self._times), self._passes
        return self._times_list

    def series(self, uuid: str, metric: str) -> Series:
        """A domain's metric over the history (empty if the domain is unknown)."""
        times = self.times()
        first = self._passes - len(times)
        ring = self._rings.get(uuid)
        if ring is None:
            return Series(times, [NAN] * len(times), first)
        return Series(times, self._in_order(ring, METRICS.index(metric) * self.capacity), first,
                      (self.serial, uuid, metric, self._born[uuid]))
