"""xentui run on Dom0 itself (xen:///system) with libxenstat wired into its sampler: over
the same passes, its CPU time, memory, vCPUs and state agree with the libvirt path's (a
second host in the same process with libxenstat taken away), it asks libvirt no `info()`
once each domain's maximum memory is known, and the header names the path."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.xen import dom0_python
from tests.xen.conftest import Rig
from tests.xen.test_xen_dom0_io import Dom0Sampler

pytestmark = pytest.mark.xen

SCRIPT = f"{dom0_python.DOM0_TREE}/tests/xen/in_dom0/xenstat_paths.py"
PASSES = 4
"""Passes compared after the first (which reads each domain's maximum memory)."""
CLOCK_SLACK_NS = 20_000_000
"""Xen's CPU clocks and the monotonic clock stamping the passes are read at different
instants; a margin for that, far below what a busy domain runs in a pass."""


@pytest.fixture
def xenstat_sampler(tiny_running: Rig, dom0_tree: str) -> Iterator[Dom0Sampler]:
    sampler = Dom0Sampler(tiny_running, dom0_tree, SCRIPT)
    try:
        yield sampler
    finally:
        sampler.close()


def _agree(got: dict[str, Any], names: set[str]) -> None:
    """The two hosts' samples of one pass: equal figures, CPU times within what the
    domain can have run between the two readings."""
    xen, plain = got["xenstat"], got["libvirt"]
    span_s = (max(xen["at"] + xen["took"], plain["at"] + plain["took"])
              - min(xen["at"], plain["at"]))
    for name in names:
        a, b = xen["domains"][name]["sample"], plain["domains"][name]["sample"]
        for key in ("id", "state", "mem_kib", "maxmem_kib", "vcpus"):
            assert a[key] == b[key], (name, key)
        bound = b["vcpus"] * span_s * 1e9 + CLOCK_SLACK_NS
        assert abs(a["cpu_time_ns"] - b["cpu_time_ns"]) <= bound, (name, span_s)


def test_xenstat_path_agrees_with_libvirt_path(
    tiny_running: Rig, xenstat_sampler: Dom0Sampler
) -> None:
    rig = tiny_running
    assert xenstat_sampler.hello == {"ready": True, "xenstat": True}
    names = {"Domain-0", "tiny"}
    first = xenstat_sampler.sample()  # each domain's maximum memory from info()
    assert first["xenstat"]["info_calls"] >= len(names)
    rig.guest("timeout 30 sh -c 'while :; do :; done' &")
    passes = []
    for _ in range(PASSES):
        time.sleep(1)
        passes.append(xenstat_sampler.sample())
    print("\npass: path, info() calls, tiny CPU % (xenstat / libvirt)")
    for got in passes:
        xen, plain = got["xenstat"], got["libvirt"]
        assert xen["path"] == "per-domain, Dom0 I/O + xenstat"
        assert plain["path"] == "per-domain, Dom0 I/O"
        assert xen["info_calls"] == 0
        assert plain["info_calls"] >= len(names)
        _agree(got, names)
        rates = [p["domains"]["tiny"]["rates"]["cpu_pct"] for p in (xen, plain)]
        print(f"  {xen['path']}: {xen['info_calls']} vs {plain['info_calls']}; "
              f"tiny {rates[0]:.1f} / {rates[1]:.1f}")
        assert None not in rates
    xen_mean = sum(p["xenstat"]["domains"]["tiny"]["rates"]["cpu_pct"] for p in passes)
    plain_mean = sum(p["libvirt"]["domains"]["tiny"]["rates"]["cpu_pct"] for p in passes)
    assert xen_mean / PASSES == pytest.approx(plain_mean / PASSES, abs=15), (
        "tiny's CPU share over the same passes")
    assert xen_mean / PASSES > 20, "the busy loop should show in both"

    rig.virsh("suspend", "tiny")
    try:
        rig.wait_state("paused")
        time.sleep(1)
        got = xenstat_sampler.sample()
        for path in ("xenstat", "libvirt"):
            assert got[path]["domains"]["tiny"]["sample"]["state"] == "paused", path
        _agree(got, names)
    finally:
        rig.virsh("resume", "tiny")
