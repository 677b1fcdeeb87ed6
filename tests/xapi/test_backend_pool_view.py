"""The pool view: every host of the pool, every VM with its state, place and figures."""

from __future__ import annotations

import asyncio
import time
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from tests.support.xapi_server import GUESTS, rrd
from tests.xapi.backend_rig import Pool
from xentui.backend.fleet import Fleet
from xentui.backend.models import DomainState, LinkState, LinkStatus, PassResult
from xentui.backend.xapi.host import XapiHost

STATES = {"Running": DomainState.RUNNING, "Paused": DomainState.PAUSED,
          "Halted": DomainState.SHUTOFF, "Suspended": DomainState.SHUTOFF}


def _records(obs: Any, cls: str) -> dict[str, Any]:
    return dict(getattr(obs.xenapi, cls).get_all_records())


async def test_every_host_of_the_pool_is_in_the_host_info(pool: Pool, xhost: XapiHost) -> None:
    obs = pool.observer()
    hosts, metrics = _records(obs, "host"), _records(obs, "host_metrics")
    pool.master.db.set_host_live("xcp-ng-03", False)
    result = await xhost.sample()
    info = result.host
    members = {m.name: m for m in info.members}
    assert set(members) == {h["name_label"] for h in hosts.values()}
    for host in hosts.values():
        m, hm = members[host["name_label"]], metrics[host["metrics"]]
        assert m.memory_kib == int(hm["memory_total"]) // 1024
        assert m.free_kib == int(hm["memory_free"]) // 1024
        assert m.cpus == int(host["cpu_info"]["cpu_count"])
        assert m.live is (host["name_label"] != "xcp-ng-03")
    assert [m.name for m in info.members if m.master] == ["xcp-ng-01"]
    assert info.memory_kib == sum(m.memory_kib for m in info.members)
    assert info.free_kib == sum(m.free_kib or 0 for m in info.members if m.live)
    assert info.cpus == sum(m.cpus for m in info.members)
    assert "not live: xcp-ng-03" in info.hostname


async def test_every_vm_with_its_state_host_vcpus_and_memory(pool: Pool, xhost: XapiHost) -> None:
    obs = pool.observer()
    vms, vm_metrics = _records(obs, "VM"), _records(obs, "VM_metrics")
    names = {ref: h["name_label"] for ref, h in _records(obs, "host").items()}
    result = await xhost.sample()
    by_name = {f.name: f for f in result.domains.values()}
    listed = [v for v in vms.values() if not v["is_a_template"] and not v["is_a_snapshot"]]
    assert set(by_name) == {v["name_label"] for v in listed}
    assert set(GUESTS) < set(by_name)
    for vm in listed:
        fig = by_name[vm["name_label"]]
        live = vm["power_state"] in ("Running", "Paused")
        metrics = vm_metrics[vm["metrics"]]
        assert fig.uuid == vm["uuid"] and fig.host == "lab-pool"
        assert fig.sample.state is STATES[vm["power_state"]]
        assert fig.sample.resident == (names[vm["resident_on"]] if live else "")
        assert fig.is_dom0 is vm["is_control_domain"]
        assert fig.sample.id == (int(vm["domid"]) if live else None)
        want_vcpus = int(metrics["VCPUs_number"]) if live else int(vm["VCPUs_at_startup"])
        assert fig.sample.vcpus == want_vcpus
        assert fig.sample.mem_kib == (int(metrics["memory_actual"]) // 1024 if live else None)
        assert fig.sample.maxmem_kib == int(vm["memory_static_max"]) // 1024
    dom0s = sorted(f.name for f in result.domains.values() if f.is_dom0)
    assert dom0s == sorted(f"Control domain on host: {n}" for n in names.values())


def _expected_rates(pool: Pool, uuid: str, host: str) -> list[dict[str, float]]:
    """What the host's RRD says of one VM in its two newest rows (a pass may fall on
    either side of a 5 s boundary): the test's own reading of the export."""
    db = pool.master.db
    ref = db.find("host", host)
    _kind, text = rrd.export(db, ref, {"start": str(int(time.time()) - 30)})
    root = ET.fromstring(text)
    legend = [e.text or "" for e in root.iterfind("./meta/legend/entry")]
    out = []
    for row in list(root.iterfind("./data/row"))[:2]:
        values = dict(zip(legend, (float(v.text or "nan") for v in row.iterfind("v")),
                          strict=True))
        mine = {k.split(":", 3)[3]: v for k, v in values.items() if f":vm:{uuid}:" in k}
        out.append({
            "cpu": 100 * sum(v for k, v in mine.items() if k.startswith("cpu")),
            "rd": sum(v for k, v in mine.items() if k.endswith("_read")),
            "wr": sum(v for k, v in mine.items() if k.endswith("_write")),
            "rx": sum(v for k, v in mine.items() if k.endswith("_rx")),
            "tx": sum(v for k, v in mine.items() if k.endswith("_tx")),
        })  # fmt: skip
    return out


async def test_rates_come_from_each_hosts_rrd_updates(pool: Pool, xhost: XapiHost) -> None:
    result = await xhost.sample()
    running = [f for f in result.domains.values()
               if f.sample.state is DomainState.RUNNING and not f.is_dom0]
    assert {f.sample.resident for f in running} >= {"xcp-ng-01", "xcp-ng-02"}
    for fig in running:
        r = fig.rates
        got = {"cpu": r.cpu_pct, "rd": r.disk_rd_bps, "wr": r.disk_wr_bps,
               "rx": r.net_rx_bps, "tx": r.net_tx_bps}
        assert all(v is not None and v > 0 for v in got.values()), (fig.name, got)
        wanted = _expected_rates(pool, fig.uuid, fig.sample.resident)
        assert any(got == pytest.approx(w, rel=1e-3) for w in wanted), (fig.name, got, wanted)
        assert set(r.disks) and set(r.nets) == {f"vif{n}" for n in range(len(r.nets))}
    halted = [f for f in result.domains.values() if not f.sample.state.active]
    assert halted and all(f.rates.cpu_pct is None for f in halted)


async def test_a_member_whose_rrd_cannot_be_read_leaves_only_its_vms_without_rates(
    pool: Pool, xhost: XapiHost
) -> None:
    pool.members["xcp-ng-02"].freeze("close")
    xhost.rates.forget()
    result = await xhost.sample()
    on = {f.sample.resident: f for f in result.domains.values()
          if f.sample.state is DomainState.RUNNING and not f.is_dom0}
    assert on["xcp-ng-02"].rates.cpu_pct is None
    assert on["xcp-ng-01"].rates.cpu_pct is not None
    assert xhost.connected


async def test_the_fleet_runs_a_pool_like_any_host(pool: Pool) -> None:
    host = XapiHost(pool.uri(), id="lab-pool", interval=0.5)
    fleet = Fleet([host], live=False)
    records: list[object] = []
    fleet.subscribe(records.append)
    fleet.start()
    await asyncio.wait_for(asyncio.gather(*fleet._tasks.values()), 10)
    await fleet.close()
    passes = [r for r in records if isinstance(r, PassResult)]
    assert len(passes) == 1 and passes[0].host_id == "lab-pool"
    assert {f.name for f in fleet.domains("lab-pool").values()} >= set(GUESTS)
    states = [r.state for r in records if isinstance(r, LinkStatus)]
    assert states[-1] is LinkState.CLOSED and LinkState.CONNECTED in states
