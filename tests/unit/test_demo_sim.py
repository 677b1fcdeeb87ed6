"""The demo fleet's simulation (xentui.demo.sim): deterministic, Xen-shaped, figures that
move like a real host's, and actions that change state."""

from __future__ import annotations

import statistics
import subprocess
import sys

import pytest

from xentui.backend.models import DomainSample, DomainState
from xentui.demo.sim import DOM0_UUID, DemoError, DemoFleet

S = DomainState


def by_name(fleet: DemoFleet, host: str) -> dict[str, DomainSample]:
    return {s.name: s for s in fleet.samples(host)}


def guests(fleet: DemoFleet, host: str, *, state: DomainState | None = None,
           load: str | None = None, persistent: bool | None = None) -> list[DomainSample]:
    out = []
    for s in fleet.samples(host):
        if s.is_dom0 or (state is not None and s.state is not state):
            continue
        if load is not None and fleet.domain(host, s.uuid).load != load:
            continue
        if persistent is not None and s.persistent is not persistent:
            continue
        out.append(s)
    return out


def quiet_guest(fleet: DemoFleet, host: str = "xen-a") -> DomainSample:
    """A running, persistent guest that the scripted shutdown leaves alone."""
    return next(
        s for s in guests(fleet, host, state=S.RUNNING, persistent=True)
        if s.uuid != fleet.scripted_uuid
    )


def find(fleet: DemoFleet, host: str, uuid: str) -> DomainSample | None:
    return next((s for s in fleet.samples(host) if s.uuid == uuid), None)


def cpu_pct(a: DomainSample, b: DomainSample) -> float:
    assert a.cpu_time_ns is not None and b.cpu_time_ns is not None
    return (b.cpu_time_ns - a.cpu_time_ns) / 1e9 / (b.at - a.at) * 100


@pytest.fixture(scope="module")
def history() -> tuple[DemoFleet, list[tuple[float, str, list[DomainSample]]]]:
    """Ten simulated minutes of samples every 2 s (the fleet is not touched afterwards)."""
    fleet = DemoFleet()
    return fleet, list(fleet.prefill(600, 2.0))


def run(seed: int, times: list[float]) -> list[object]:
    fleet = DemoFleet(seed=seed)
    seen: list[object] = []
    for t in times:
        fleet.advance_to(t)
        for host in fleet.host_names():
            seen.append(fleet.samples(host, t))
            seen.append(fleet.host_info(host))
        seen.append(fleet.drain_events())
    return seen


def test_same_seed_and_times_give_the_same_samples_and_another_seed_differs():
    times = [0.0, 1.5, 2.0, 10.0, 130.0, 170.0, 400.0]
    assert run(7, times) == run(7, times)
    assert run(7, times) != run(8, times)
    assert DemoFleet(8).samples("xen-a") != DemoFleet(7).samples("xen-a")


def test_three_xen_shaped_hosts():
    fleet = DemoFleet()
    assert fleet.host_names() == ["xen-a", "xen-b", "xen-c"]
    infos = [fleet.host_info(h) for h in fleet.host_names()]
    assert [i.cpus for i in infos] == [8, 16, 24]
    assert [i.memory_kib // 1024**2 for i in infos] == [64, 128, 256]
    for info in infos:
        assert info.uri == f"demo://{info.hostname}"
        assert (info.hypervisor, info.hv_version, info.libvirt_version) == ("Xen", "4.17", "demo")
        assert info.mhz > 0 and info.cpu_model
    assert len(DemoFleet(hosts=1).host_names()) == 1


def test_domain0_has_id_0_and_the_zero_uuid_on_every_host(history):
    fleet = DemoFleet()
    for host in fleet.host_names():
        dom0 = [s for s in fleet.samples(host) if s.is_dom0]
        assert len(dom0) == 1
        d = dom0[0]
        assert (d.id, d.uuid, d.name, d.state) == (0, DOM0_UUID, "Domain-0", S.RUNNING)
        assert fleet.samples(host)[0] is not None and fleet.samples(host)[0].is_dom0
    _fleet, rows = history
    pcts = [
        cpu_pct(a, b)
        for (_t, host, prev), (_t2, host2, cur) in zip(rows, rows[3:], strict=False)
        for a, b in [(prev[0], cur[0])]
        if host == host2
    ]
    assert pcts and all(0.5 < p < 6 for p in pcts)


def test_guests_are_mixed_and_numbered_in_start_order():
    fleet = DemoFleet()
    uuids, names = set(), set()
    for host in fleet.host_names():
        gs = guests(fleet, host)
        assert 5 <= len(gs) <= 10
        states = [g.state for g in gs]
        assert states.count(S.PAUSED) == 1
        assert 1 <= states.count(S.SHUTOFF) <= 2
        assert states.count(S.RUNNING) >= 3
        assert [g.persistent for g in gs].count(False) == 1
        active = sorted(
            (g for g in gs if g.state.active),
            key=lambda g: fleet.domain(host, g.uuid).started_at or 0.0,
        )
        assert [g.id for g in active] == list(range(1, len(active) + 1))
        assert all(g.id is None for g in gs if not g.state.active)
        uuids |= {g.uuid for g in gs}
        names |= {g.name for g in gs}
        assert {fleet.domain(host, g.uuid).load for g in gs if g.state is S.RUNNING} >= {
            "idle", "busy", "bursty", "pegged"
        }
    total = sum(len(guests(fleet, h)) for h in fleet.host_names())
    assert len(uuids) == len(names) == total
    assert "web01" in names or "db01" in names or "mail" in names


def test_cpu_from_cpu_time_lands_in_each_models_band(history):
    fleet, rows = history
    series: dict[str, list[float]] = {}
    last: dict[str, DomainSample] = {}
    for _t, host, samples in rows:
        for s in samples:
            p = last.get(s.uuid)
            last[s.uuid] = s
            if s.is_dom0 or p is None or p.id != s.id or S.RUNNING not in (p.state, s.state):
                continue
            if p.state is s.state is S.RUNNING:
                load = fleet.domain(host, s.uuid).load
                series.setdefault(f"{load}:{s.name}:{s.vcpus}", []).append(cpu_pct(p, s))
    kinds = {key.split(":")[0] for key in series}
    assert kinds == {"idle", "busy", "bursty", "pegged"}
    for key, pcts in series.items():
        load, name, vcpus = key.split(":")
        if load == "idle":
            assert all(0.5 < p < 5 for p in pcts), name
        elif load == "busy":
            assert all(29 < p < 71 for p in pcts), name
        elif load == "pegged":
            full = 100 * int(vcpus)
            assert all(abs(p - full) < 0.02 * full for p in pcts), name
        else:  # bursty: mostly idle, with bursts
            assert statistics.median(pcts) < 5, name
            assert max(pcts) > 20, name
            assert all(p <= 100 * int(vcpus) for p in pcts), name
        if load != "pegged":
            assert max(pcts) - min(pcts) > 0.5, f"{name} never moves"


def test_disk_and_network_rates_differ_per_guest_and_over_time():
    fleet = DemoFleet()
    fleet.advance_to(100)
    a = {s.uuid: s for s in fleet.samples("xen-b")}
    fleet.advance_to(130)
    b = {s.uuid: s for s in fleet.samples("xen-b")}
    fleet.advance_to(160)
    c = {s.uuid: s for s in fleet.samples("xen-b")}
    rd1, rd2, rx1 = [], [], []
    for uuid, s in b.items():
        if s.state is not S.RUNNING or s.is_dom0:
            continue
        assert "xvda" in s.disks and f"vif{s.id}.0" in s.nets
        da, db, dc = a[uuid].disks["xvda"], s.disks["xvda"], c[uuid].disks["xvda"]
        assert da.rd_bytes is not None and db.rd_bytes is not None and dc.rd_bytes is not None
        assert db.rd_reqs is not None and da.rd_reqs is not None and db.rd_reqs >= da.rd_reqs
        rd1.append(db.rd_bytes - da.rd_bytes)
        rd2.append(dc.rd_bytes - db.rd_bytes)
        nic = f"vif{s.id}.0"
        rx_b, rx_a = s.nets[nic].rx_bytes, a[uuid].nets[nic].rx_bytes
        assert rx_b is not None and rx_a is not None
        rx1.append(rx_b - rx_a)
    assert len(rd1) >= 3
    assert len(set(rd1)) == len(rd1) and len(set(rx1)) == len(rx1)
    assert max(rd1) > 5 * min(rd1)
    assert all(r > 0 for r in rd1 + rx1)
    assert all(x != y for x, y in zip(rd1, rd2, strict=True))
    assert any(s.disks and "xvdb" in s.disks for s in b.values())


def test_free_memory_adds_up_and_the_balloon_moves_slowly(history):
    fleet = DemoFleet()
    mems: dict[str, list[int]] = {}
    for t in (0, 300, 900, 1800):
        fleet.advance_to(t)
        for host in fleet.host_names():
            info = fleet.host_info(host)
            samples = fleet.samples(host)
            used = sum(s.mem_kib or 0 for s in samples if s.state.active)
            assert info.free_kib == info.memory_kib - used
            assert info.free_kib is not None and info.free_kib > 0
            for s in samples:
                if s.state.active:
                    assert s.mem_kib is not None and s.maxmem_kib is not None
                    assert 0 < s.mem_kib <= s.maxmem_kib
                    mems.setdefault(s.uuid, []).append(s.mem_kib)
    assert any(len(set(m)) > 1 for m in mems.values())
    _fleet, rows = history
    for (_t, h1, prev), (_t2, h2, cur) in zip(rows, rows[3:], strict=False):
        before = {s.uuid: s.mem_kib for s in prev if s.mem_kib}
        for s in cur:
            if h1 == h2 and s.mem_kib and s.maxmem_kib and s.uuid in before:
                assert abs(s.mem_kib - before[s.uuid]) <= 0.02 * s.maxmem_kib


def test_pause_stops_cpu_and_resume_lets_it_run_again():
    fleet = DemoFleet()
    g = quiet_guest(fleet)
    assert fleet.act("xen-a", g.uuid, "pause") == f"{g.name}: paused"
    fleet.advance_to(30)
    paused = find(fleet, "xen-a", g.uuid)
    assert paused is not None and paused.state is S.PAUSED
    assert paused.cpu_time_ns == g.cpu_time_ns and paused.id == g.id
    assert paused.disks == g.disks
    fleet.advance_to(60)
    still = find(fleet, "xen-a", g.uuid)
    assert still is not None and still.cpu_time_ns == g.cpu_time_ns
    assert still.mem_kib == paused.mem_kib
    fleet.act("xen-a", g.uuid, "resume")
    fleet.advance_to(70)
    resumed = find(fleet, "xen-a", g.uuid)
    assert resumed is not None and resumed.state is S.RUNNING
    assert resumed.cpu_time_ns is not None and g.cpu_time_ns is not None
    assert resumed.cpu_time_ns > g.cpu_time_ns
    events = [(e.event, e.detail) for e in fleet.drain_events() if e.uuid == g.uuid]
    assert events == [("Suspended", "paused"), ("Resumed", "unpaused")]


def test_shutdown_passes_through_shutdown_to_shutoff_and_start_gives_a_new_id():
    fleet = DemoFleet()
    g = quiet_guest(fleet)
    top = max(s.id or 0 for s in fleet.samples("xen-a"))
    fleet.act("xen-a", g.uuid, "shutdown")
    going = find(fleet, "xen-a", g.uuid)
    assert going is not None and going.state is S.SHUTDOWN and going.id == g.id
    fleet.advance_to(1)
    mid = find(fleet, "xen-a", g.uuid)
    assert mid is not None and mid.state is S.SHUTDOWN
    fleet.advance_to(10)
    off = find(fleet, "xen-a", g.uuid)
    assert off is not None and off.state is S.SHUTOFF
    assert off.id is None and off.cpu_time_ns is None and off.mem_kib is None
    assert off.disks == {} and off.nets == {}
    assert off.maxmem_kib == g.maxmem_kib
    assert fleet.domain("xen-a", g.uuid).started_at is None
    events = [(e.event, e.detail) for e in fleet.drain_events() if e.uuid == g.uuid]
    assert events == [("Shutdown", "finished"), ("Stopped", "shutdown")]

    assert fleet.act("xen-a", g.uuid, "start") == f"{g.name}: started (id {top + 1})"
    on = find(fleet, "xen-a", g.uuid)
    assert on is not None and on.state is S.RUNNING and on.id == top + 1
    assert on.cpu_time_ns == 0 and f"vif{top + 1}.0" in on.nets
    fleet.advance_to(20)
    later = find(fleet, "xen-a", g.uuid)
    assert later is not None and (later.cpu_time_ns or 0) > 0
    assert fleet.domain("xen-a", g.uuid).started_at == 10
    assert [(e.event, e.detail) for e in fleet.drain_events()] == [("Started", "booted")]


def test_actions_a_state_forbids_raise_a_readable_demo_error():
    fleet = DemoFleet()
    off = guests(fleet, "xen-a", state=S.SHUTOFF)[0]
    with pytest.raises(DemoError, match=r"^Pause: not possible while the domain is shutoff$"):
        fleet.act("xen-a", off.uuid, "pause")
    running = quiet_guest(fleet)
    with pytest.raises(DemoError) as err:
        fleet.act("xen-a", running.uuid, "start")
    assert err.value.message == "Start: not possible while the domain is running"
    with pytest.raises(DemoError, match="Domain-0"):
        fleet.act("xen-a", DOM0_UUID, "shutdown")
    transient = guests(fleet, "xen-a", persistent=False)[0]
    with pytest.raises(DemoError, match="transient"):
        fleet.act("xen-a", transient.uuid, "save")
    with pytest.raises(DemoError, match="no domain"):
        fleet.act("xen-a", "11111111-2222-3333-4444-555555555555", "start")
    with pytest.raises(DemoError, match="no demo host"):
        fleet.act("xen-z", running.uuid, "pause")
    with pytest.raises(DemoError, match="unknown action"):
        fleet.act("xen-a", running.uuid, "explode")
    with pytest.raises(DemoError, match="no saved image"):
        fleet.act("xen-a", off.uuid, "restore")
    with pytest.raises(DemoError, match="no snapshots"):
        fleet.act("xen-a", off.uuid, "revert")
    assert fleet.drain_events() == []


def test_save_restore_snapshot_autostart_destroy_undefine():
    fleet = DemoFleet()
    g = quiet_guest(fleet)
    fleet.act("xen-a", g.uuid, "save")
    saved = find(fleet, "xen-a", g.uuid)
    assert saved is not None and saved.state is S.SHUTOFF and saved.id is None
    assert fleet.domain("xen-a", g.uuid).managed_save
    assert fleet.act("xen-a", g.uuid, "restore").startswith(f"{g.name}: restored")
    back = find(fleet, "xen-a", g.uuid)
    assert back is not None and back.state is S.RUNNING and back.id is not None
    assert not fleet.domain("xen-a", g.uuid).managed_save
    assert fleet.act("xen-a", g.uuid, "snapshot") == f"{g.name}: snapshot snap1 taken"
    assert fleet.domain("xen-a", g.uuid).snapshots == ("snap1",)
    was = fleet.domain("xen-a", g.uuid).autostart
    fleet.act("xen-a", g.uuid, "autostart")
    assert fleet.domain("xen-a", g.uuid).autostart is not was
    fleet.act("xen-a", g.uuid, "destroy")
    fleet.act("xen-a", g.uuid, "revert")
    reverted = find(fleet, "xen-a", g.uuid)
    assert reverted is not None and reverted.state is S.RUNNING
    fleet.act("xen-a", g.uuid, "destroy")
    fleet.act("xen-a", g.uuid, "undefine")
    assert find(fleet, "xen-a", g.uuid) is None
    assert [(e.event, e.detail) for e in fleet.drain_events()] == [
        ("Stopped", "saved"), ("Started", "restored"), ("Stopped", "destroyed"),
        ("Started", "from snapshot"), ("Stopped", "destroyed"), ("Undefined", "removed"),
    ]
    transient = guests(fleet, "xen-a", persistent=False)[0]
    fleet.act("xen-a", transient.uuid, "destroy")
    assert find(fleet, "xen-a", transient.uuid) is None  # a transient domain is gone


def test_migrate_moves_a_running_guest_and_refuses_the_same_host():
    fleet = DemoFleet()
    fleet.advance_to(50)
    g = quiet_guest(fleet)
    next_b = max(s.id or 0 for s in fleet.samples("xen-b")) + 1
    with pytest.raises(DemoError, match="already on xen-a"):
        fleet.migrate(g.uuid, "xen-a", "xen-a")
    msg = fleet.migrate(g.uuid, "xen-a", "xen-b")
    assert msg == f"{g.name}: migrated from xen-a to xen-b (id {next_b})"
    assert find(fleet, "xen-a", g.uuid) is None
    moved = find(fleet, "xen-b", g.uuid)
    assert moved is not None and moved.state is S.RUNNING and moved.id == next_b
    assert moved.cpu_time_ns == g.cpu_time_ns and moved.disks == g.disks
    assert list(moved.nets) == [f"vif{next_b}.0"]
    fleet.advance_to(60)
    later = find(fleet, "xen-b", g.uuid)
    assert later is not None and (later.cpu_time_ns or 0) > (g.cpu_time_ns or 0)
    events = [(e.uri, e.event, e.detail) for e in fleet.drain_events()]
    assert events == [
        ("demo://xen-a", "Stopped", "migrated"), ("demo://xen-b", "Started", "migrated")
    ]
    with pytest.raises(DemoError, match="no domain"):
        fleet.migrate(g.uuid, "xen-a", "xen-c")
    off = guests(fleet, "xen-a", state=S.SHUTOFF)[0]
    with pytest.raises(DemoError, match="not possible while the domain is shutoff"):
        fleet.migrate(off.uuid, "xen-a", "xen-b")
    with pytest.raises(DemoError, match="Domain-0"):
        fleet.migrate(DOM0_UUID, "xen-a", "xen-b")


def test_events_are_drained_once_and_a_scripted_guest_comes_and_goes(history):
    fleet = DemoFleet()
    g = quiet_guest(fleet)
    fleet.act("xen-a", g.uuid, "pause")
    first = fleet.drain_events()
    assert [(e.name, e.event, e.kind, e.uri, e.at) for e in first] == [
        (g.name, "Suspended", "lifecycle", "demo://xen-a", 0.0)
    ]
    assert first[0].text == f"{g.name}: Suspended (paused)"
    assert fleet.drain_events() == []

    _f, rows = history
    scripted = _f.scripted_uuid
    assert scripted is not None
    ids = {s.id for _t, _h, samples in rows for s in samples if s.uuid == scripted}
    assert None in ids and len(ids - {None}) >= 3  # off now and then, a new id each time
    events = [(e.event, e.at) for e in _f.drain_events() if e.uuid == scripted]
    assert [e for e, _at in events].count("Stopped") >= 2
    assert [e for e, _at in events].count("Started") >= 2
    assert all(0 < at <= 600 for _e, at in events)


def test_prefill_yields_every_host_every_step_and_time_never_goes_back():
    fleet = DemoFleet()
    rows = list(fleet.prefill(20, 2.0))
    assert [t for t, _h, _s in rows[::3]] == [float(t) for t in range(0, 21, 2)]
    assert [h for _t, h, _s in rows[:3]] == ["xen-a", "xen-b", "xen-c"]
    assert all(s.at == t for t, _h, samples in rows for s in samples)
    assert fleet.now == 20
    before = fleet.samples("xen-a")
    fleet.advance_to(5)
    assert fleet.now == 20 and fleet.samples("xen-a") == before
    assert all(s.at == 123.0 for s in fleet.samples("xen-a", 123.0))


def test_importing_the_simulation_pulls_in_no_libvirt_textual_or_rich():
    code = (
        "import sys, xentui.demo.sim as sim; sim.DemoFleet().samples('xen-a'); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('libvirt', 'libvirtmod', 'textual', 'rich')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    assert out.stdout.strip() == "[]"


def test_reboot_and_reset_bring_a_new_instance_with_a_reboot_event():
    fleet = DemoFleet()
    g = quiet_guest(fleet)
    top = max(s.id or 0 for s in fleet.samples("xen-a"))
    assert fleet.act("xen-a", g.uuid, "reboot") == f"{g.name}: rebooting"
    going = find(fleet, "xen-a", g.uuid)
    assert going is not None and going.state is S.SHUTDOWN
    fleet.advance_to(15)
    back = find(fleet, "xen-a", g.uuid)
    assert back is not None and back.state is S.RUNNING and back.id == top + 1
    assert back.cpu_time_ns is not None and g.cpu_time_ns is not None
    assert back.cpu_time_ns < g.cpu_time_ns
    fleet.act("xen-a", g.uuid, "pause")
    fleet.act("xen-a", g.uuid, "reset")
    after = find(fleet, "xen-a", g.uuid)
    assert after is not None and after.state is S.RUNNING and after.id == top + 2
    assert [(e.kind, e.event, e.detail) for e in fleet.drain_events()] == [
        ("reboot", "Rebooted", ""), ("lifecycle", "Suspended", "paused"),
        ("reboot", "Rebooted", "reset"),
    ]
