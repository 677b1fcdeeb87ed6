"""The graphs' memo changes nothing drawn: pass after pass, a pane built with it is the
pane built without it, across a full ring, a change of width and a domain gone and back."""

from __future__ import annotations

import math
import random
from types import SimpleNamespace

from rich.text import Text

from xentui.backend.history import History
from xentui.ui.charts import layout, resample, slot_size
from xentui.ui.graph_memo import GraphMemo
from xentui.ui.widgets.graphs import domain_plots


def figures(rng: random.Random, scale: float = 100.0) -> SimpleNamespace:
    """One domain's figures as History reads them; now and then a figure is unknown."""
    def value() -> float | None:
        return None if rng.random() < 0.05 else rng.uniform(0, scale)

    rates = SimpleNamespace(cpu_pct=value(), disk_rd_bps=value(), disk_wr_bps=value(),
                            net_rx_bps=value(), net_tx_bps=value())
    return SimpleNamespace(rates=rates, sample=SimpleNamespace(mem_kib=rng.randrange(1 << 20)))


def drawn(lines: list[Text]) -> list[tuple[str, list[object], object]]:
    return [(t.plain, list(t.spans), t.style) for t in lines]


def both(history: History, uuid: str, memo: GraphMemo, width: int, height: int) -> tuple:
    title = Text("web", style="bold")
    plain = layout(title, domain_plots(history, uuid), history.times(), width, height)
    kept = layout(title, domain_plots(history, uuid), history.times(), width, height,
                  memo=memo)
    return drawn(plain), drawn(kept)


def test_memo_columns_are_resample_pass_after_pass() -> None:
    rng = random.Random(7)
    history, memo = History(120), GraphMemo()
    for p in range(400):
        history.record(float(p), {"a": figures(rng)})
        series = history.series("a", "cpu_pct")
        for width in (7, 25, 50):
            n = len(series.values)
            if n <= width:
                continue
            memo.begin()
            got = resample(series.values, width, series.first,
                           memo.peaks(series.origin, slot_size(n, width)))
            memo.end()
            want = resample(series.values, width, series.first)
            assert [None if math.isnan(v) else v for v in got] == \
                   [None if math.isnan(v) else v for v in want], (p, width)


def test_pane_with_memo_is_the_pane_without_across_the_ring_and_resizes() -> None:
    rng = random.Random(11)
    history, memo = History(150), GraphMemo()
    sizes = [(78, 24), (40, 12), (100, 30), (30, 5)]
    for p in range(500):
        history.record(1000.0 + p, {"a": figures(rng)})
        width, height = sizes[(p // 60) % len(sizes)]
        plain, kept = both(history, "a", memo, width, height)
        assert kept == plain, (p, width, height)


def test_a_domain_gone_and_back_draws_its_gap() -> None:
    """The ring of a domain that comes back starts blank: what was worked out from its
    old values must not be drawn over the gap."""
    rng = random.Random(3)
    history, memo = History(100), GraphMemo()
    for p in range(100):  # busy: tall columns
        history.record(float(p), {"a": figures(rng, 1e6), "b": figures(rng)})
        both(history, "a", memo, 40, 12)
    history.record(100.0, {"b": figures(rng)})  # a is gone for one pass
    for p in range(101, 110):  # back, quiet
        history.record(float(p), {"a": figures(rng, 1.0), "b": figures(rng)})
        plain, kept = both(history, "a", memo, 40, 12)
        assert kept == plain, p


def test_memo_keeps_only_what_the_last_build_used() -> None:
    rng = random.Random(5)
    history, memo = History(200), GraphMemo()
    for p in range(200):
        history.record(float(p), {"a": figures(rng), "b": figures(rng)})
    both(history, "a", memo, 78, 24)
    held_for_one = len(memo)
    assert held_for_one > 0
    both(history, "b", memo, 78, 24)
    assert len(memo) == held_for_one  # a's entries went when b's came


def test_a_graph_rescaled_by_its_pairs_spike_is_drawn_again() -> None:
    """Net rx and tx share a scale: a spike of tx shrinks rx's marks though rx's own
    columns did not change, so what was kept for rx's columns must not be drawn."""
    history, memo = History(100), GraphMemo()

    def steady(tx: float) -> SimpleNamespace:
        rates = SimpleNamespace(cpu_pct=5.0, disk_rd_bps=0.0, disk_wr_bps=0.0,
                                net_rx_bps=4096.0, net_tx_bps=tx)
        return SimpleNamespace(rates=rates, sample=SimpleNamespace(mem_kib=1 << 20))

    for p in range(130):
        history.record(float(p), {"a": steady(1e6 if p == 120 else 0.0)})
        plain, kept = both(history, "a", memo, 40, 24)
        assert kept == plain, p
