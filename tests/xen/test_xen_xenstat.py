"""libxenstat through ctypes (xentui.backend.xenstat), run inside the rig's Dom0: every
domain's CPU time, memory, vCPUs and state agree with libvirt's info() on real Xen."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.xen.conftest import Rig

pytestmark = pytest.mark.xen

RUNNING, BLOCKED, PAUSED = 1, 2, 3  # virDomainState


def _compare(rig: Rig, tree: str) -> dict[str, Any]:
    out = rig.exec("env", f"PYTHONPATH={tree}", "python3",
                   f"{tree}/tests/xen/in_dom0/xenstat_vs_libvirt.py", timeout=180)
    got: dict[str, Any] = json.loads(out)
    assert got["library"], "no libxenstat found in Dom0"
    seen = got["libvirt"]
    assert set(got["before"]) == set(got["after"]) == set(seen)
    print(f"\n{got['library']}:")
    for dom_id, lv in seen.items():
        first, last = got["before"][dom_id], got["after"][dom_id]
        state, _maxmem, mem_kib, vcpus, cpu_ns = lv["info"]
        print(f"  {lv['name']}: cpu xenstat {first['cpu_time_ns']}..{last['cpu_time_ns']} "
              f"libvirt {cpu_ns}; mem {last['mem_kib']} / {mem_kib} KiB; "
              f"state {last['state']} / {state}")
        assert first["name"] == last["name"] == lv["name"]
        assert first["cpu_time_ns"] <= cpu_ns <= last["cpu_time_ns"], lv["name"]
        assert first["mem_kib"] == mem_kib == last["mem_kib"], lv["name"]
        assert last["vcpus"] == vcpus, lv["name"]
        if state == PAUSED:
            assert "p" in last["state"], lv["name"]
        else:
            assert state in (RUNNING, BLOCKED)
            assert "p" not in last["state"] and ("r" in last["state"] or "b" in last["state"])
    return got


def test_xenstat_agrees_with_libvirt_info(tiny_running: Rig, dom0_tree: str) -> None:
    rig = tiny_running
    rig.guest("timeout 20 sh -c 'while :; do :; done' &")
    got = _compare(rig, dom0_tree)
    names = {s["name"] for s in got["after"].values()}
    assert {"Domain-0", "tiny"} <= names
    tiny = next(s for s in got["after"].values() if s["name"] == "tiny")
    assert tiny["dom_id"] == rig.xl_id()
    rig.virsh("suspend", "tiny")
    try:
        got = _compare(rig, dom0_tree)
        tiny = next(s for s in got["after"].values() if s["name"] == "tiny")
        assert tiny["state"][4] == "p"
    finally:
        rig.virsh("resume", "tiny")
