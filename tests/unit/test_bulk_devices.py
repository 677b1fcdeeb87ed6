"""A bulk statistics record's devices: named ones only, disks only with byte counters."""

from __future__ import annotations

from xentui.backend.libvirt.readings import _bulk_devices

DISK = ("rd.bytes", "wr.bytes", "rd.reqs", "wr.reqs")
NET = ("rx.bytes", "tx.bytes", "rx.pkts", "tx.pkts")


def test_named_devices_with_their_counters() -> None:
    rec = {"block.count": 3, "block.0.name": "xvda", "block.0.rd.reqs": 5,
           "block.1.name": "xvdb", "block.1.wr.bytes": 7, "block.1.wr.reqs": 2,
           "block.2.rd.bytes": 1,
           "net.count": 2, "net.0.name": "vif1.0", "net.0.rx.bytes": 3, "net.1.rx.bytes": 4}
    assert _bulk_devices(rec, "block", DISK, need_any=2) == [("xvdb", (None, 7, None, 2))]
    assert _bulk_devices(rec, "net", NET) == [("vif1.0", (3, None, None, None))]
    assert _bulk_devices({}, "net", NET) == []
