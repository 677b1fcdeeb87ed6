"""Rates when I/O counters are read less often than CPU (xentui.backend.rates): CPU over
the samples' span, I/O over the I/O readings' own span, held rates while carried."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from xentui.backend import rates
from xentui.backend.models import DiskCounters, DomainRates, DomainSample, DomainState, NetCounters

times = st.floats(min_value=0.01, max_value=1e4, allow_nan=False)
counts = st.integers(min_value=0, max_value=2**40)


def sample(at: float, cpu: int, rd: int, rx: int, io_at: float | None) -> DomainSample:
    return DomainSample(
        uuid="u", name="d", id=7, state=DomainState.RUNNING, cpu_time_ns=cpu,
        disks={"xvda": DiskCounters(rd, rd)}, nets={"vif7.0": NetCounters(rx, rx)},
        at=at, io_at=io_at,
    )


@given(times, times, times, counts, counts, counts, counts)
def test_io_rate_spans_the_io_readings_not_the_passes(t_io0, gap, step, rd0, drd, cpu0, dcpu):
    """prev carried an older I/O reading; cur reads afresh: the I/O rate is over the two
    I/O readings' times, the CPU rate over the two samples' times."""
    prev = sample(t_io0 + gap, cpu0, rd0, rd0, io_at=t_io0)
    cur = sample(t_io0 + gap + step, cpu0 + dcpu, rd0 + drd, rd0, io_at=t_io0 + gap + step)
    r = rates.domain_rates(prev, cur)
    assert r.disk_rd_bps is not None and r.cpu_pct is not None
    assert math.isclose(r.disk_rd_bps, drd / (gap + step), rel_tol=1e-6, abs_tol=1e-9)
    assert math.isclose(r.cpu_pct, dcpu / step / 1e7, rel_tol=1e-6, abs_tol=1e-9)


@given(times, times, counts, counts)
def test_carried_io_keeps_the_held_rates_and_recomputes_cpu(t_io, step, cpu0, dcpu):
    prev = sample(t_io + 1, cpu0, 5, 5, io_at=t_io)
    cur = sample(t_io + 1 + step, cpu0 + dcpu, 5, 5, io_at=t_io)
    held = DomainRates(cpu_pct=1.0, disk_rd_bps=123.0, net_rx_bps=4.0)
    r = rates.domain_rates(prev, cur, held)
    assert (r.disk_rd_bps, r.net_rx_bps) == (123.0, 4.0)
    assert r.cpu_pct is not None
    assert math.isclose(r.cpu_pct, dcpu / step / 1e7, rel_tol=1e-6, abs_tol=1e-9)
    bare = rates.domain_rates(prev, cur)  # nothing held: no I/O rate rather than zero
    assert bare.disk_rd_bps is None and bare.cpu_pct == r.cpu_pct


def test_io_age_is_measured_from_the_io_reading() -> None:
    s = sample(10.0, 1, 1, 1, io_at=4.0)
    assert (s.io_read_at, s.io_age_s) == (4.0, 6.0)
    fresh = sample(10.0, 1, 1, 1, io_at=None)
    assert (fresh.io_read_at, fresh.io_age_s) == (10.0, 0.0)


def test_a_restart_never_lends_rates() -> None:
    prev = sample(1.0, 1, 1, 1, io_at=1.0)
    cur = DomainSample(uuid="u", name="d", id=8, state=DomainState.RUNNING, cpu_time_ns=2,
                       at=2.0, io_at=1.0)
    assert rates.domain_rates(prev, cur, DomainRates(disk_rd_bps=9.0)) == DomainRates()
