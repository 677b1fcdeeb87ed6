"""The per-domain path with a libxenstat snapshot (a stand-in object, no library): the
domains it covers are not asked `info()` after their first reading, their CPU time,
memory, vCPUs and state are the snapshot's and their maximum memory libvirt's; a domain
missing from it (or under another name) is asked `info()`; a failed read falls back to
libvirt for good. On a local Xen host, connect hands the reader to the sampler, passes
read it in the worker thread, the header names it, and close and reconnect release it."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import libvirt
import pytest

from tests.unit.test_xen_io import fake_dom0
from xentui.backend.libvirt import host as host_module
from xentui.backend.libvirt.host import LibvirtHost
from xentui.backend.libvirt.readings import xen_state_code
from xentui.backend.libvirt.sampler import Sampler
from xentui.backend.models import DomainSample, DomainState
from xentui.backend.xen_io import XenLocalIo
from xentui.backend.xenstat import XenDomainStat, XenStat
from xentui.demo import demo_uri

LETTERS = {libvirt.VIR_DOMAIN_RUNNING: "-----r", libvirt.VIR_DOMAIN_PAUSED: "----p-"}
"""libxenstat's state letters for the demo's running and paused domains."""


class FakeXenStat:
    """Stands in for XenStat: every running or paused domain of `conn` but `missing`, with
    figures libvirt does not give (CPU time, memory and vCPUs shifted), `renamed` under
    another name (its own `info()` calls are not counted). Counts reads and the threads
    they ran in."""

    def __init__(self, conn: libvirt.virConnect, missing: str = "", renamed: str = "") -> None:
        self.conn = conn
        self.missing, self.renamed = missing, renamed
        self.threads: list[int] = []
        self.last: dict[int, XenDomainStat] = {}
        self.fail = False
        self.closed = False
        self._info = libvirt.virDomain.info  # the real call, counted or not

    def read(self) -> dict[int, XenDomainStat]:
        self.threads.append(threading.get_ident())
        if self.fail:
            raise OSError("xenstat_get_node failed")
        out: dict[int, XenDomainStat] = {}
        for dom in self.conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
            name = dom.name()
            if name == self.missing:
                continue
            state, maxmem, mem, vcpus, cpu = self._info(dom)
            out[dom.ID()] = XenDomainStat(
                dom.ID(), name + "-x" if name == self.renamed else name, cpu // 3 + 7,
                mem - 1024 * (dom.ID() + 1), maxmem + 1024, vcpus + 1, LETTERS[state])
        self.last = out
        return out

    def close(self) -> None:
        self.closed = True


def info_calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts `virDomain.info` calls per domain name."""
    calls: Counter[str] = Counter()
    orig = libvirt.virDomain.info

    def counted(dom: libvirt.virDomain) -> Any:
        calls[dom.name()] += 1
        return orig(dom)

    monkeypatch.setattr(libvirt.virDomain, "info", counted)
    return calls


@pytest.fixture
def conn(node_file: Path) -> Iterator[libvirt.virConnect]:
    c = libvirt.open(demo_uri(node_file))
    try:
        yield c
    finally:
        c.close()


@pytest.mark.parametrize(("letters", "state"), [
    ("-----r", libvirt.VIR_DOMAIN_RUNNING), ("--b---", libvirt.VIR_DOMAIN_RUNNING),
    ("------", libvirt.VIR_DOMAIN_RUNNING), ("----p-", libvirt.VIR_DOMAIN_PAUSED),
    ("-s--p-", libvirt.VIR_DOMAIN_SHUTDOWN), ("d-----", libvirt.VIR_DOMAIN_SHUTDOWN),
    ("---cp-", libvirt.VIR_DOMAIN_CRASHED),
])
def test_state_letters_map_as_libxl_reports(letters: str, state: int) -> None:
    assert xen_state_code(letters) == state


def test_snapshot_replaces_info_for_the_domains_it_covers(
        conn: libvirt.virConnect, monkeypatch: pytest.MonkeyPatch) -> None:
    running = {d.name(): d for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)}
    inactive = {d.name() for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_INACTIVE)}
    missing, renamed = "cache", "web"
    assert {missing, renamed} < set(running) and inactive
    assert any(d.info()[0] == libvirt.VIR_DOMAIN_PAUSED for d in running.values())
    fake = FakeXenStat(conn, missing=missing, renamed=renamed)
    calls = info_calls(monkeypatch)
    with ThreadPoolExecutor(2) as pool:
        sampler = Sampler(conn, bulk=False, pool=pool, parallel=False)
        sampler.xen_stat = cast(XenStat, fake)
        sampler.read()
        assert calls == Counter(set(running) | inactive)  # first reading: libvirt's
        calls.clear()
        samples = {s.name: s for s in sampler.read()}
    snapshot = fake.last
    assert len(fake.threads) == 2  # once per pass
    assert sampler.last_path == "per-domain, xenstat"
    assert calls == Counter({missing, renamed} | inactive)
    covered = {s.name: s for s in snapshot.values() if s.name in running}
    assert set(covered) == set(running) - {missing, renamed}
    for name, stat in covered.items():
        got: DomainSample = samples[name]
        state, maxmem, _mem, _vcpus, cpu = running[name].info()
        assert (got.id, got.cpu_time_ns, got.mem_kib, got.vcpus) == (
            stat.dom_id, stat.cpu_time_ns, stat.mem_kib, stat.vcpus), name
        assert cpu != got.cpu_time_ns
        assert got.state is DomainState.from_libvirt(state)
        assert got.maxmem_kib == maxmem != stat.maxmem_kib  # libvirt's, not xenstat's
    for name in (missing, renamed):
        state, maxmem, mem, vcpus, cpu = running[name].info()
        got = samples[name]
        assert (got.mem_kib, got.vcpus, got.maxmem_kib) == (mem, vcpus, maxmem), name
        assert got.cpu_time_ns is not None and cpu // 2 < got.cpu_time_ns <= cpu
    for name in inactive:
        assert samples[name].cpu_time_ns is None and not samples[name].state.active


def test_failed_read_falls_back_to_libvirt(conn: libvirt.virConnect,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeXenStat(conn)
    calls = info_calls(monkeypatch)
    with ThreadPoolExecutor(2) as pool:
        sampler = Sampler(conn, bulk=False, pool=pool, parallel=False)
        sampler.xen_stat = cast(XenStat, fake)
        sampler.read()
        sampler.read()
        assert sampler.last_path == "per-domain, xenstat"
        assert sum(calls.values()) < 2 * len(conn.listAllDomains(0))
        assert sampler.notice == ""
        fake.fail = True
        calls.clear()
        notices = []
        for _ in range(3):
            samples = sampler.read()
            assert sampler.last_path == "per-domain"
            assert calls == Counter(s.name for s in samples)
            calls.clear()
            notices.append(sampler.notice)
            sampler.notice = ""  # as the host does when it hands the word on
    assert len(fake.threads) == 3  # the failed read was the last one asked for
    assert "libxenstat read failed" in notices[0] and notices[1:] == ["", ""]


async def test_local_xen_host_wires_and_releases_the_reader(
        node_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A local Xen host (the test driver dressed as one): connect probes libxenstat and
    Dom0's files, passes read the snapshot in the worker thread, the header path names
    both, close and reconnect release the handle."""
    conn = libvirt.open(demo_uri(node_file))  # the snapshot's view of the same node
    readers: list[FakeXenStat] = []

    def fake_probe(library: str | None = None) -> FakeXenStat:
        readers.append(FakeXenStat(conn))
        return readers[-1]

    real_probe = host_module.probe
    monkeypatch.setattr(host_module, "probe", lambda c: replace(real_probe(c), driver="Xen"))
    monkeypatch.setattr(host_module.XenStat, "probe", staticmethod(fake_probe))
    sys_root, proc_root = fake_dom0(tmp_path, {})
    monkeypatch.setattr(host_module.XenLocalIo, "probe",
                        staticmethod(lambda: XenLocalIo(sys_root, proc_root)))
    host = LibvirtHost(demo_uri(node_file), interval=0.5, per_domain=True)
    try:
        assert host.local
        await host.connect()
        assert len(readers) == 1
        await host.sample()
        result = await host.sample()
        assert result.path == "per-domain, Dom0 I/O + xenstat"
        assert readers[0].threads and threading.get_ident() not in readers[0].threads
        await host._drop()  # what a lost link does before reconnecting
        assert readers[0].closed
        await host.connect()
        assert len(readers) == 2 and not readers[1].closed
        assert (await host.sample()).path == "per-domain, Dom0 I/O + xenstat"
        readers[1].fail = True  # the pass that gives the library up says so, once
        failed, after = await host.sample(), await host.sample()
        assert failed.path == after.path == "per-domain, Dom0 I/O"
        assert "libxenstat read failed" in failed.notice and after.notice == ""
    finally:
        await host.close()
        conn.close()
    assert readers[1].closed


def test_snapshot_figures_carry_the_snapshots_time(
        conn: libvirt.virConnect, monkeypatch: pytest.MonkeyPatch) -> None:
    """A domain's CPU time from the snapshot is stamped with when the snapshot was read,
    not when the pass reached the domain (later by the rest of the pass: here 50 ms), so
    that its CPU % divides by the span between two snapshots; figures read from libvirt
    keep their own time."""
    fake = FakeXenStat(conn, missing="cache")
    windows: list[tuple[float, float]] = []
    read = fake.read

    def timed_read() -> dict[int, XenDomainStat]:
        start = time.monotonic()
        found = read()
        windows.append((start, time.monotonic()))
        return found

    fake.read = timed_read  # type: ignore[method-assign]
    per_domain = Sampler._per_domain

    def late(self: Sampler, listed: list[Any]) -> list[DomainSample]:
        time.sleep(0.05)
        return per_domain(self, listed)

    monkeypatch.setattr(Sampler, "_per_domain", late)
    with ThreadPoolExecutor(2) as pool:
        sampler = Sampler(conn, bulk=False, pool=pool, parallel=False)
        sampler.xen_stat = cast(XenStat, fake)
        sampler.read()
        samples = {s.name: s for s in sampler.read()}
    start, end = windows[-1]
    covered = {s.name for s in fake.last.values()}
    assert covered and "cache" not in covered
    for name in covered:
        assert start <= samples[name].at <= end, name
        io_at = samples[name].io_at
        assert io_at is None or io_at >= end + 0.05, name
    assert samples["cache"].at >= end + 0.05
