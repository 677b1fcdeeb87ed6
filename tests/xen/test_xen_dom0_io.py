"""xentui run on Dom0 itself (xen:///system): its own I/O counters path (XenLocalIo: vif
counters from /proc/net/dev, vbd counters from blkback's sysfs) agrees with the libvirt
calls and with Dom0's counter deltas, on real Xen, over the same passes."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.xen import dom0_python
from tests.xen.conftest import Rig

pytestmark = pytest.mark.xen

SCRIPT = f"{dom0_python.DOM0_TREE}/tests/xen/in_dom0/io_paths.py"


class Dom0Sampler:
    """An in_dom0 script's process (io_paths.py unless told): `sample()` makes both its
    hosts take a pass."""

    def __init__(self, rig: Rig, tree: str, script: str = SCRIPT) -> None:
        self.proc = subprocess.Popen(
            [str(rig.tool), "exec", "env", f"PYTHONPATH={tree}", "python3", script],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        self.hello = self._line()

    def _line(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, f"the Dom0 sampler ended (exit {self.proc.poll()})"
        found: dict[str, Any] = json.loads(line)
        return found

    def sample(self) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write("sample\n")
        self.proc.stdin.flush()
        return self._line()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("quit\n")
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def dom0_sampler(tiny_running: Rig, dom0_tree: str) -> Iterator[Dom0Sampler]:
    sampler = Dom0Sampler(tiny_running, dom0_tree)
    try:
        yield sampler
    finally:
        sampler.close()


def _settled(rig: Rig, domid: int, timeout: float = 90) -> dict[str, int]:
    """Dom0's counters for tiny once two reads 2 s apart agree (the traffic is over)."""
    deadline = time.monotonic() + timeout
    last = rig.dom0_counters(domid)
    while time.monotonic() < deadline:
        time.sleep(2)
        now = rig.dom0_counters(domid)
        if now == last:
            return now
        last = now
    raise AssertionError(f"tiny's counters still moving after {timeout} s")


def _traffic_between_two_passes(
    rig: Rig, sampler: Dom0Sampler, domid: int
) -> tuple[dict[str, Any], dict[str, Any], dict[str, int], dict[str, int]] | None:
    """Both paths' passes before and after known disk and network traffic, with Dom0's
    counters read just before and just after each pass; None when they moved across a
    pass (a stray frame on the idle link: on the rig, single 56- and 70-byte frames
    several seconds apart with no test traffic), so that the samples' raw counters can
    be held to Dom0's byte for byte."""
    rig.guest("echo 3 > /proc/sys/vm/drop_caches")  # the reads below reach the disk
    _settled(rig, domid)
    sampler.sample()  # devices learned, rates primed
    before = rig.dom0_counters(domid)
    first = sampler.sample()
    if rig.dom0_counters(domid) != before:
        return None
    rig.guest(
        "dd if=/dev/xvda of=/dev/null bs=64k count=128 2>/dev/null;"
        " dd if=/dev/zero of=/dev/xvda bs=64k count=32 seek=160 conv=fsync 2>/dev/null"
    )
    rig.sh("busybox ping -q -c 4 -i 0.2 -s 20000 10.99.0.2")
    after = _settled(rig, domid)
    second = sampler.sample()
    if rig.dom0_counters(domid) != after:
        return None
    return first, second, before, after


def test_dom0_counters_path_agrees_with_libvirt_and_dom0(
    tiny_running: Rig, dom0_sampler: Dom0Sampler
) -> None:
    """Known disk and network traffic between two passes: both paths' rate x span equal
    Dom0's own counter deltas, and their raw counters are Dom0's, byte for byte."""
    rig = tiny_running
    assert dom0_sampler.hello == {"ready": True, "local_io": True}
    domid = rig.xl_id()
    rig.sh("ip addr replace 10.99.0.1/24 dev xenbr0 && ip link set xenbr0 up")
    rig.guest("ip addr replace 10.99.0.2/24 dev eth0")
    for attempt in range(1, 6):
        measured = _traffic_between_two_passes(rig, dom0_sampler, domid)
        if measured is not None:
            break
        print(f"\nattempt {attempt}: a stray packet crossed a pass; measuring again")
    else:
        pytest.fail("Dom0's counters moved across a pass in 5 attempts: the link is not idle")
    first, second, before, after = measured

    assert first["local"]["path"] == second["local"]["path"] == "per-domain, Dom0 I/O + xenstat"
    assert first["libvirt"]["path"] == second["libvirt"]["path"] == "per-domain"
    print(f"\ntiny (domid {domid}): Dom0 counter deltas vs each path's rate x span")
    for path in ("local", "libvirt"):
        s1 = first[path]["domains"]["tiny"]["sample"]
        tiny = second[path]["domains"]["tiny"]
        s2, rates = tiny["sample"], tiny["rates"]
        assert s1["id"] == s2["id"] == domid
        for sample, dom0 in ((s1, before), (s2, after)):
            disk, nic = sample["disks"]["xvda"], sample["nets"][f"vif{domid}.0"]
            assert {"rd_bytes": disk["rd_bytes"], "wr_bytes": disk["wr_bytes"],
                    "rx_bytes": nic["rx_bytes"], "tx_bytes": nic["tx_bytes"]} == dom0, path
        # I/O counters carry their own reading time (on the Dom0 path, the pass's one
        # read of Dom0's files; the CPU figures that of the libxenstat snapshot)
        span = (s2["io_at"] or s2["at"]) - (s1["io_at"] or s1["at"])
        seen = {"rd_bytes": rates["disk_rd_bps"], "wr_bytes": rates["disk_wr_bps"],
                "rx_bytes": rates["net_rx_bps"], "tx_bytes": rates["net_tx_bps"]}
        for key, rate in seen.items():
            delta = after[key] - before[key]
            assert rate is not None, (path, key)
            print(f"  {path:8} {key}: Dom0 {delta} B, xentui {rate * span:.0f} B "
                  f"({rate:.0f} B/s over {span:.2f} s)")
            assert delta > 0, f"no {key} traffic was generated"
            assert rate * span == pytest.approx(delta, rel=0.01, abs=64), (path, key)
    # the two paths over the same seconds: the same disk and NIC counters and requests
    for sample_pair in ((first["local"], first["libvirt"]), (second["local"], second["libvirt"])):
        a, b = (p["domains"]["tiny"]["sample"] for p in sample_pair)
        assert (a["disks"], a["nets"]) == (b["disks"], b["nets"])
