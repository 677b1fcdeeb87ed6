"""A pass reads no VM records: `event.from` keeps the pool's records current (its
first answer dumps them, later ones carry each change), and a pass reads the pool record
(one small call that also proves the master answers) and the members' `rrd_updates`.
What the passes show is checked against a separate XenAPI session."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from tests.xapi.backend_rig import Pool, eventually
from xentui.backend.models import DomainState, PassResult
from xentui.backend.xapi.host import XapiHost


def _record_calls(host: XapiHost, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The XenAPI methods the host's own session calls from now on."""
    assert host.session is not None
    calls: list[str] = []
    real: Callable[..., Any] = host.session.call

    def call(method: str, *args: Any, **kw: Any) -> Any:
        calls.append(method)
        return real(method, *args, **kw)

    monkeypatch.setattr(host.session, "call", call)
    return calls


def _listed(obs: Any) -> dict[str, tuple[str, str, str]]:
    """uuid -> (name, power state, member it runs on) of every listed VM, as XAPI says."""
    hosts = {r: h["name_label"] for r, h in obs.xenapi.host.get_all_records().items()}
    return {v["uuid"]: (v["name_label"], v["power_state"], hosts.get(v["resident_on"], ""))
            for v in obs.xenapi.VM.get_all_records().values()
            if not v["is_a_template"] and not v["is_a_snapshot"]}


def _shown(result: PassResult) -> dict[str, tuple[str, str, str]]:
    power = {DomainState.RUNNING: "Running", DomainState.PAUSED: "Paused"}
    out = {}
    for uuid, fig in result.domains.items():
        s = fig.sample
        out[uuid] = (s.name, power.get(s.state, "Halted"), s.resident)
    return out


def _as_shown(listed: dict[str, tuple[str, str, str]]) -> dict[str, tuple[str, str, str]]:
    """XAPI's Suspended reads as shut off (records.POWER_STATES)."""
    return {u: (n, "Halted" if p == "Suspended" else p, r) for u, (n, p, r) in listed.items()}


async def test_passes_read_no_vm_records_once_events_keep_them(
    pool: Pool, xhost: XapiHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    await eventually(lambda: xhost.records_from_events, 2.0, "the event thread's first answer")
    calls = _record_calls(xhost, monkeypatch)
    result = await xhost.sample()
    await xhost.sample()
    assert calls == ["pool.get_all_records"] * 2
    obs = pool.observer()
    assert _shown(result) == _as_shown(_listed(obs))


async def test_outside_changes_reach_the_next_pass_without_a_read(
    pool: Pool, xhost: XapiHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    await eventually(lambda: xhost.records_from_events, 2.0, "the event thread's first answer")
    calls = _record_calls(xhost, monkeypatch)
    db, obs = pool.master.db, pool.observer()
    db.set_power_state("spare", "Running", host="xcp-ng-03")
    db.destroy_vm("archive")
    made = db.add_vm("made-in-xe", power_state="Running", host="xcp-ng-02")
    db.set_host_live("xcp-ng-02", False)
    want = _as_shown(_listed(obs))

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 2.0  # the events arrive within a second
    result = await xhost.sample()
    while _shown(result) != want and loop.time() < deadline:
        await asyncio.sleep(0.05)
        result = await xhost.sample()
    assert _shown(result) == want
    assert db.snapshot("VM", made)["uuid"] in result.domains
    live = {m.name: m.live for m in result.host.members}
    metrics = obs.xenapi.host_metrics.get_all_records()
    assert live == {h["name_label"]: bool(metrics[h["metrics"]]["live"])
                    for h in obs.xenapi.host.get_all_records().values()}
    assert live["xcp-ng-02"] is False
    spare = next(f for f in result.domains.values() if f.name == "spare")
    vm = obs.xenapi.VM.get_record(obs.xenapi.VM.get_by_uuid(spare.uuid))
    vm_metrics = obs.xenapi.VM_metrics.get_record(vm["metrics"])
    assert spare.sample.mem_kib == int(vm_metrics["memory_actual"]) // 1024
    assert set(calls) == {"pool.get_all_records"}
