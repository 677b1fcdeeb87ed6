"""Rates from cumulative counters: pure maths, no libvirt.

A rate exists only between two readings of the same domain instance over a positive
time span with a counter that did not go backwards; anything else (first reading,
restart, counter reset, clock that stood still) yields None, never a negative or an
absurd figure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import attrgetter
from typing import TypeVar

from xentui.backend.models import DeviceRates, DomainRates, DomainSample, DomainState

MIN_SPAN_S = 1e-3
"""Spans shorter than this give no rate (a repeated or reordered reading)."""

T = TypeVar("T")


def counter_rate(prev: int | None, cur: int | None, span_s: float) -> float | None:
    """Per-second increase of a counter between two readings, or None if unknowable."""
    if prev is None or cur is None or span_s < MIN_SPAN_S:
        return None
    delta = cur - prev
    if delta < 0:
        return None
    return delta / span_s


def cpu_percent(prev_ns: int | None, cur_ns: int | None, span_s: float) -> float | None:
    """CPU use as xentop shows it: 100 means one physical CPU busy for the whole span."""
    per_s = counter_rate(prev_ns, cur_ns, span_s)
    return None if per_s is None else per_s / 1e7


def _device_rates(
    prev: Mapping[str, T],
    cur: Mapping[str, T],
    span_s: float,
    pair: Callable[[T], tuple[int | None, int | None]],
) -> tuple[dict[str, DeviceRates], float | None, float | None]:
    """Per-device (read, write) rates and their totals (None where nothing is known)."""
    out: dict[str, DeviceRates] = {}
    total_r: float | None = None
    total_w: float | None = None
    for dev, now in cur.items():
        before = prev.get(dev)
        if before is None:
            out[dev] = DeviceRates()
            continue
        (r0, w0), (r1, w1) = pair(before), pair(now)
        r = counter_rate(r0, r1, span_s)
        w = counter_rate(w0, w1, span_s)
        if r is not None:
            total_r = r if total_r is None else total_r + r
        if w is not None:
            total_w = w if total_w is None else total_w + w
        out[dev] = DeviceRates(r, w)
    return out, total_r, total_w


NO_RATES = DomainRates()
"""No rate known (shared: records are frozen and nobody edits their dicts)."""

_INACTIVE = frozenset(s for s in DomainState if not s.active)
_DISK_BYTES = attrgetter("rd_bytes", "wr_bytes")
_NET_BYTES = attrgetter("rx_bytes", "tx_bytes")


def same_instance(prev: DomainSample, cur: DomainSample) -> bool:
    """Whether two samples come from one uninterrupted run of the domain."""
    return (
        prev.uuid == cur.uuid
        and prev.state.active
        and cur.state.active
        and prev.id == cur.id
    )


def domain_rates(
    prev: DomainSample | None, cur: DomainSample, held: DomainRates | None = None
) -> DomainRates:
    """Rates of `cur` against the previous sample of the same domain, if comparable.

    CPU is over the two samples' times; I/O over the times their I/O counters were read
    (a backend may read them less often). When `cur` carries the same I/O reading as
    `prev`, the I/O rates of `held` (the previous rates) stand: still the rate over
    the last two readings' own span, never a span stretched over a gap. When `cur` is
    `prev`'s very reading (same time), all of `held` stands.
    """
    if prev is None or prev.id != cur.id or prev.uuid != cur.uuid:
        return NO_RATES
    if cur.state in _INACTIVE or prev.state in _INACTIVE:
        return NO_RATES  # not one running instance (same_instance, inlined: it is hot)
    span = cur.at - prev.at
    if span == 0 and held is not None:
        return held  # the same reading again (a backend held it over a pass): its rates
    cpu = cpu_percent(prev.cpu_time_ns, cur.cpu_time_ns, span)
    io_at = cur.io_at
    if io_at is not None:
        prev_io = prev.io_at
        if io_at - (prev.at if prev_io is None else prev_io) <= 0:
            if held is None:
                return DomainRates(cpu)
            return DomainRates(cpu, held.disk_rd_bps, held.disk_wr_bps, held.net_rx_bps,
                               held.net_tx_bps, held.disks, held.nets)
    io_span = cur.io_read_at - prev.io_read_at
    disks, rd, wr = _device_rates(prev.disks, cur.disks, io_span, _DISK_BYTES)
    nets, rx, tx = _device_rates(prev.nets, cur.nets, io_span, _NET_BYTES)
    return DomainRates(cpu, rd, wr, rx, tx, disks, nets)
