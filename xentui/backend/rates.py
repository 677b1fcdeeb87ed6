"""Rates from cumulative counters: pure maths, no libvirt.

A rate exists only between two readings of the same domain instance over a positive
time span with a counter that did not go backwards; anything else (first reading,
restart, counter reset, clock that stood still) yields None, never a negative or an
absurd figure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from xentui.backend.models import DeviceRates, DomainRates, DomainSample

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


def _sum(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _device_rates(
    prev: Mapping[str, T],
    cur: Mapping[str, T],
    span_s: float,
    read: Callable[[T], int | None],
    write: Callable[[T], int | None],
) -> dict[str, DeviceRates]:
    out: dict[str, DeviceRates] = {}
    for dev, now in cur.items():
        before = prev.get(dev)
        if before is None:
            out[dev] = DeviceRates()
            continue
        out[dev] = DeviceRates(
            counter_rate(read(before), read(now), span_s),
            counter_rate(write(before), write(now), span_s),
        )
    return out


def same_instance(prev: DomainSample, cur: DomainSample) -> bool:
    """Whether two samples come from one uninterrupted run of the domain."""
    return (
        prev.uuid == cur.uuid
        and prev.state.active
        and cur.state.active
        and prev.id == cur.id
    )


def domain_rates(prev: DomainSample | None, cur: DomainSample) -> DomainRates:
    """Rates of `cur` against the previous sample of the same domain, if comparable."""
    if prev is None or not same_instance(prev, cur):
        return DomainRates()
    span = cur.at - prev.at
    disks = _device_rates(
        prev.disks, cur.disks, span, lambda d: d.rd_bytes, lambda d: d.wr_bytes
    )
    nets = _device_rates(prev.nets, cur.nets, span, lambda n: n.rx_bytes, lambda n: n.tx_bytes)
    return DomainRates(
        cpu_pct=cpu_percent(prev.cpu_time_ns, cur.cpu_time_ns, span),
        disk_rd_bps=_sum([r.read_bps for r in disks.values()]),
        disk_wr_bps=_sum([r.write_bps for r in disks.values()]),
        net_rx_bps=_sum([r.read_bps for r in nets.values()]),
        net_tx_bps=_sum([r.write_bps for r in nets.values()]),
        disks=disks,
        nets=nets,
    )

