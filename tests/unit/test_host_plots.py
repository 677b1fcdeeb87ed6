"""The Performance pane's host view: the CPU of all domains, then the busiest lately."""

from __future__ import annotations

import math

from xentui.backend.history import History
from xentui.backend.models import DomainFigures, DomainRates, DomainSample, DomainState
from xentui.ui.widgets.graphs import RECENT, host_plots


def fig(uuid: str, cpu: float | None) -> DomainFigures:
    sample = DomainSample(uuid, uuid, 1, DomainState.RUNNING, mem_kib=1024)
    return DomainFigures(sample, DomainRates(cpu_pct=cpu))


def test_busiest_lately_ranked_and_idle_left_out() -> None:
    h = History(50)
    cpu = {"a": 10.0, "b": 40.0, "c": 25.0, "d": 5.0, "gone": 90.0}
    for p in range(30):
        now = dict(cpu)
        now["quiet"] = 80.0 if p < 30 - RECENT else None  # busy once, no figure lately
        if p >= 20:
            now.pop("gone")  # vanished ten passes ago
        h.record(1000.0 + p, {u: fig(u, c) for u, c in now.items()})
    names = {u: f"name-{u}" for u in [*cpu, "quiet"]}
    plots = host_plots(h, names, top=3)
    assert [p.label for p in plots] == ["All CPU", "name-b", "name-c", "name-a"]
    total = plots[0].series.values
    assert total[0] == 10 + 40 + 25 + 5 + 90 + 80  # what the host ran then, gone included
    assert total[-1] == 10 + 40 + 25 + 5
    assert not any(math.isnan(v) for v in total)
    assert len(plots[1].series.values) == len(h)  # the few shown are read whole
