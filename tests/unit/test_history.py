"""Bounded history rings (xentui.backend.history), by property."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xentui.backend.history import METRICS, History, Series
from xentui.backend.models import DomainFigures, DomainRates, DomainSample, DomainState

finite = st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False)
maybe = st.none() | finite
UUIDS = [f"00000000-0000-0000-0000-{i:012d}" for i in range(1, 7)]


def fig(uuid: str, mem: int | None, cpu: float | None) -> DomainFigures:
    sample = DomainSample(uuid, uuid[-4:], 1, DomainState.RUNNING, mem_kib=mem)
    return DomainFigures(sample, DomainRates(cpu_pct=cpu))


passes = st.lists(
    st.dictionaries(
        st.sampled_from(UUIDS),
        st.tuples(st.none() | st.integers(0, 2**40), st.none() | st.floats(0, 1e5)),
        max_size=len(UUIDS),
    ),
    max_size=40,
)


def f32(x: float) -> float:
    """What a float32 slot keeps of x."""
    import array

    return array.array("f", [x])[0]


@given(st.integers(2, 12), passes)
def test_capacity_never_exceeded_and_series_aligned(capacity, history_in):
    h = History(capacity)
    for n, p in enumerate(history_in):
        h.record(1000.0 + n, {u: fig(u, m, c) for u, (m, c) in p.items()})
        assert len(h) == min(n + 1, capacity)
        times = h.times()
        assert len(times) <= capacity
        assert times == sorted(times)
        # Only domains of the latest pass are kept.
        assert set(h.domains()) == set(p)
        for u in UUIDS:
            for metric in METRICS:
                s = h.series(u, metric)
                assert s.times == times
                assert len(s.values) == len(times)
                assert s.first == n + 1 - len(times) == h.passes - len(h)  # pass numbers
    # The last len(h) passes, in order, are what a series of a still-present domain shows.
    if history_in:
        keep = history_in[-len(h):]
        last = history_in[-1]
        for u in last:
            # A domain's ring starts when it (re)appeared after an absence.
            start = len(keep)
            while start > 0 and u in keep[start - 1]:
                start -= 1
            got_mem = h.series(u, "mem_kib").values
            got_cpu = h.series(u, "cpu_pct").values
            for i, p in enumerate(keep):
                if i < start:
                    assert math.isnan(got_mem[i]) and math.isnan(got_cpu[i])
                    continue
                mem, cpu = p[u]
                assert math.isnan(got_mem[i]) if mem is None else got_mem[i] == f32(mem)
                assert math.isnan(got_cpu[i]) if cpu is None else got_cpu[i] == f32(cpu)


@given(st.integers(2, 8), st.integers(0, 200), st.integers(1, 6))
def test_memory_is_bounded_by_capacity_and_domains(capacity, n_passes, n_domains):
    h = History(capacity)
    for n in range(n_passes):
        h.record(float(n), {u: fig(u, n, float(n)) for u in UUIDS[:n_domains]})
    assert len(h._times) == capacity
    for ring in h._rings.values():
        assert len(ring) == capacity * len(METRICS)
    assert len(h._rings) == (n_domains if n_passes else 0)


def test_vanished_domain_is_dropped_and_comes_back_empty():
    h = History(4)
    a, b = UUIDS[:2]
    h.record(1.0, {a: fig(a, 10, 1.0), b: fig(b, 20, 2.0)})
    h.record(2.0, {a: fig(a, 11, 1.5)})
    assert set(h.domains()) == {a}
    assert all(math.isnan(v) for v in h.series(b, "mem_kib").values)
    h.record(3.0, {a: fig(a, 12, 1.0), b: fig(b, 30, 3.0)})
    assert [v for v in h.series(b, "mem_kib").values if not math.isnan(v)] == [30.0]


def test_capacity_below_two_is_refused():
    with pytest.raises(ValueError):
        History(1)


@given(st.floats(0.1, 3600), st.floats(0.01, 60))
def test_for_span_holds_the_span(seconds, interval):
    h = History.for_span(seconds, interval)
    assert (h.capacity - 1) * interval >= seconds * (1 - 1e-9) or h.capacity == 2


@given(st.lists(st.none() | finite, max_size=30))
def test_series_current_average_peak(values):
    s = Series(list(range(len(values))), [math.nan if v is None else v for v in values])
    known = [v for v in values if v is not None]
    if not known:
        assert s.current is None and s.average is None and s.peak is None
        return
    assert s.current == known[-1]
    assert s.peak == max(known)
    assert math.isclose(s.average, sum(known) / len(known), rel_tol=1e-9)
    assert min(known) <= s.average * (1 + 1e-12) + 1e-9


@given(st.integers(2, 12), passes, st.integers(0, 14))
def test_cpu_total_and_recent_agree_with_the_series(capacity, history_in, k):
    """The host's CPU total is, pass by pass, the sum of the CPU its domains had then
    (vanished ones too: it is what the host ran; NaN where none was known); `recent`
    is a series' tail."""
    h = History(capacity)
    for n, p in enumerate(history_in):
        h.record(1000.0 + n, {u: fig(u, m, c) for u, (m, c) in p.items()})
    total = h.cpu_total()
    assert total.times == h.times() and total.first == h.passes - len(h)
    held = history_in[len(history_in) - len(h):]
    for got, p in zip(total.values, held, strict=True):
        known = [f32(c) for _m, c in p.values() if c is not None]
        assert math.isnan(got) if not known else got == pytest.approx(sum(known))
    for u in UUIDS:
        tail = h.series(u, "cpu_pct").values[-k:] if k else []
        want = tail if u in h.domains() else []
        got = h.recent(u, "cpu_pct", k)
        assert len(got) == len(want)
        assert all(a == b or (math.isnan(a) and math.isnan(b))
                   for a, b in zip(got, want, strict=True))
