"""Rates from cumulative counters (xentui.backend.rates), by property."""

from __future__ import annotations

import math

from hypothesis import assume, given
from hypothesis import strategies as st

from xentui.backend import rates
from xentui.backend.models import DiskCounters, DomainSample, DomainState, NetCounters

counters = st.integers(min_value=0, max_value=2**63)
maybe_counter = st.none() | counters
spans = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
pos_spans = st.floats(min_value=rates.MIN_SPAN_S, max_value=1e6, allow_nan=False)
ACTIVE = [s for s in DomainState if s.active]


@given(maybe_counter, maybe_counter, spans)
def test_counter_rate_never_negative_nor_infinite(prev, cur, span):
    r = rates.counter_rate(prev, cur, span)
    assert r is None or (r >= 0 and math.isfinite(r))


@given(counters, counters, pos_spans)
def test_counter_rate_is_increase_per_second(prev, cur, span):
    r = rates.counter_rate(prev, cur, span)
    if cur < prev:  # counter reset: no rate rather than a negative one
        assert r is None
    else:
        assert r is not None
        assert math.isclose(r * span, cur - prev, rel_tol=1e-9, abs_tol=1e-6)


@given(counters, counters, st.floats(max_value=rates.MIN_SPAN_S, exclude_max=True,
                                     allow_nan=False))
def test_zero_or_negative_or_tiny_span_gives_none(prev, cur, span):
    assert rates.counter_rate(prev, cur, span) is None
    assert rates.cpu_percent(prev, cur, span) is None


@given(maybe_counter, pos_spans)
def test_missing_reading_gives_none(value, span):
    assert rates.counter_rate(None, value, span) is None
    assert rates.counter_rate(value, None, span) is None


@st.composite
def cpu_use(draw):
    """(span in ns, CPUs, busy ns per CPU): ncpu CPUs each busy busy_ns of the span."""
    span_ns = draw(st.integers(10**7, 10**13))
    return span_ns, draw(st.integers(1, 512)), draw(st.integers(0, span_ns))


@given(counters, cpu_use())
def test_cpu_percent_100_means_one_cpu_for_the_whole_span(start, use):
    span_ns, ncpu, busy_ns = use
    pct = rates.cpu_percent(start, start + ncpu * busy_ns, span_ns / 1e9)
    assert pct is not None
    assert math.isclose(pct, 100.0 * ncpu * busy_ns / span_ns, rel_tol=1e-9, abs_tol=1e-9)
    if busy_ns == span_ns:  # every CPU busy all the time
        assert math.isclose(pct, 100.0 * ncpu, rel_tol=1e-9)


def _sample(uuid, dom_id, state, at, cpu, disk=None, net=None):
    return DomainSample(
        uuid=uuid,
        name="d",
        id=dom_id,
        state=state,
        cpu_time_ns=cpu,
        disks={} if disk is None else {"xvda": DiskCounters(disk, disk // 2)},
        nets={} if net is None else {"vif1.0": NetCounters(net, net // 3)},
        at=at,
    )


uuids = st.uuids().map(str)


@given(uuids, st.integers(1, 10**6), st.sampled_from(ACTIVE), counters, st.floats(0, 1e6))
def test_first_sample_has_no_rates(uuid, dom_id, state, cpu, at):
    r = rates.domain_rates(None, _sample(uuid, dom_id, state, at, cpu, cpu, cpu))
    assert (r.cpu_pct, r.disk_rd_bps, r.disk_wr_bps, r.net_rx_bps, r.net_tx_bps) == (None,) * 5


@given(uuids, st.integers(1, 10**6), st.integers(1, 10**6), counters, counters,
       st.floats(0, 1e6), pos_spans)
def test_restart_with_new_id_gives_no_rates(uuid, id1, id2, c1, c2, at, span):
    assume(id1 != id2)
    prev = _sample(uuid, id1, DomainState.RUNNING, at, c1, c1, c1)
    cur = _sample(uuid, id2, DomainState.RUNNING, at + span, c2, c2, c2)
    assert not rates.same_instance(prev, cur)
    r = rates.domain_rates(prev, cur)
    assert (r.cpu_pct, r.disk_rd_bps, r.net_rx_bps) == (None, None, None)


@given(uuids, st.sampled_from(list(DomainState)), st.sampled_from(list(DomainState)),
       counters, counters, st.floats(0, 1e6), pos_spans)
def test_rates_only_between_two_active_samples(uuid, s1, s2, c1, c2, at, span):
    prev = _sample(uuid, 7, s1, at, c1)
    cur = _sample(uuid, 7, s2, at + span, c2)
    r = rates.domain_rates(prev, cur)
    if not (s1.active and s2.active):
        assert r.cpu_pct is None


@given(uuids, st.integers(1, 10**6), counters, counters, counters, counters,
       st.floats(0, 1e6), spans)
def test_domain_rates_never_negative_and_match_counters(uuid, dom_id, c1, c2, d1, d2, at, span):
    prev = _sample(uuid, dom_id, DomainState.RUNNING, at, c1, d1, d1)
    cur = _sample(uuid, dom_id, DomainState.RUNNING, at + span, c2, d2, d2)
    r = rates.domain_rates(prev, cur)
    real_span = cur.at - prev.at
    for value in (r.cpu_pct, r.disk_rd_bps, r.disk_wr_bps, r.net_rx_bps, r.net_tx_bps):
        assert value is None or value >= 0
    if real_span < rates.MIN_SPAN_S or d2 < d1:
        assert r.disk_rd_bps is None and r.net_rx_bps is None
    else:
        assert r.disk_rd_bps is not None
        assert math.isclose(r.disk_rd_bps * real_span, d2 - d1, rel_tol=1e-9, abs_tol=1e-3)
        assert math.isclose(r.net_rx_bps * real_span, d2 - d1, rel_tol=1e-9, abs_tol=1e-3)
    if real_span >= rates.MIN_SPAN_S and c2 >= c1:
        assert r.cpu_pct is not None
        assert math.isclose(r.cpu_pct * real_span * 1e7, c2 - c1, rel_tol=1e-9, abs_tol=1e-3)
    else:
        assert r.cpu_pct is None


@given(st.lists(st.tuples(counters, counters), min_size=1, max_size=6), pos_spans)
def test_device_totals_are_sums_over_devices(pairs, span):
    disks_prev = {f"xvd{chr(97 + i)}": DiskCounters(a, a) for i, (a, _) in enumerate(pairs)}
    disks_cur = {f"xvd{chr(97 + i)}": DiskCounters(b, b) for i, (_, b) in enumerate(pairs)}
    prev = DomainSample("u", "d", 3, DomainState.RUNNING, disks=disks_prev, at=0.0)
    cur = DomainSample("u", "d", 3, DomainState.RUNNING, disks=disks_cur, at=span)
    r = rates.domain_rates(prev, cur)
    known = [(b - a) / span for a, b in pairs if b >= a]
    if known:
        assert r.disk_rd_bps is not None
        assert math.isclose(r.disk_rd_bps, sum(known), rel_tol=1e-9, abs_tol=1e-6)
    else:
        assert r.disk_rd_bps is None
    assert set(r.disks) == set(disks_cur)


@given(pos_spans, counters)
def test_new_device_has_no_rate_yet(span, value):
    prev = DomainSample("u", "d", 3, DomainState.RUNNING, at=0.0)
    cur = DomainSample("u", "d", 3, DomainState.RUNNING, at=span,
                       nets={"vif3.0": NetCounters(value, value)})
    r = rates.domain_rates(prev, cur)
    assert r.nets["vif3.0"].read_bps is None and r.net_rx_bps is None


@given(uuids, st.sampled_from(ACTIVE), counters, counters, st.floats(0, 1e6), pos_spans)
def test_the_same_reading_again_keeps_its_rates(uuid, state, c1, c2, at, span):
    """A backend that holds a reading over a pass (a paused domain between its turns)
    hands the same sample again: the rates it had stand, not a 'no rate' gap."""
    prev = _sample(uuid, 7, state, at, c1, c1, c1)
    cur = _sample(uuid, 7, state, at + span, max(c1, c2), max(c1, c2), max(c1, c2))
    had = rates.domain_rates(prev, cur)
    assert rates.domain_rates(cur, cur, had) is had
    assert rates.domain_rates(cur, cur).cpu_pct is None  # nothing held: nothing known
