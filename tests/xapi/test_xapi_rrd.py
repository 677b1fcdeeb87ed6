"""``GET /rrd_updates``: the xport document, its legend, its rows, authentication."""

from __future__ import annotations

import base64
import json
import math
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from tests.support.xapi_server import XapiServer
from tests.xapi.conftest import PASSWORD, USER, vm_ref

Rows = list[tuple[int, list[float]]]


def rrd_get(url: str, query: str, **headers: str) -> tuple[str, str]:
    """``(content type, body)`` of ``GET /rrd_updates?<query>``."""
    request = urllib.request.Request(f"{url}rrd_updates?{query}", headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.headers["Content-Type"], response.read().decode()


def parse_xport(text: str) -> tuple[int, list[str], Rows]:
    """Step, legend and rows of an rrdtool xport document (checking its meta counts)."""
    root = ET.fromstring(text)
    assert root.tag == "xport"
    legend = [e.text or "" for e in root.iterfind("meta/legend/entry")]
    rows = [
        (int(row.findtext("t") or 0), [float(v.text or "") for v in row.iterfind("v")])
        for row in root.iterfind("data/row")
    ]
    assert int(root.findtext("meta/rows") or -1) == len(rows)
    assert int(root.findtext("meta/columns") or -1) == len(legend)
    assert all(len(values) == len(legend) for _, values in rows)
    return int(root.findtext("meta/step") or 0), legend, rows


def columns(legend: list[str], rows: Rows) -> dict[str, list[float]]:
    """Legend entry -> its values, newest first."""
    return {entry: [values[i] for _, values in rows] for i, entry in enumerate(legend)}


def test_rrd_updates_for_the_live_vms_of_the_host(xapi: XapiServer, session: Any) -> None:
    start = int(time.time()) - 60
    query = f"session_id={session._session}&start={start}&cf=AVERAGE&interval=5&host=true"
    content_type, text = rrd_get(xapi.url, query)
    assert content_type == "text/xml"
    step, legend, rows = parse_xport(text)
    assert step == 5 and 12 <= len(rows) <= 13
    times = [t for t, _ in rows]
    assert times == sorted(times, reverse=True) and times[0] - times[1] == 5
    assert times[-1] >= start and all(t % 5 == 0 for t in times)
    vms = session.xenapi.VM.get_all_records()
    master = xapi.db.master
    on_host = {v["uuid"]: v for v in vms.values() if v["resident_on"] == master}
    by_vm: dict[str, set[str]] = {}
    for entry in legend:
        cf, kind, uuid, ds = entry.split(":")
        assert cf == "AVERAGE" and kind in ("vm", "host")
        if kind == "vm":
            by_vm.setdefault(uuid, set()).add(ds)
    assert set(by_vm) == set(on_host)  # web, cache and the control domain; not db or batch
    web = next(v for v in on_host.values() if v["name_label"] == "web")
    disks = {f"vbd_{d}_{way}" for d in ("xvda", "xvdb") for way in ("read", "write")}
    nics = {"vif_0_rx", "vif_0_tx"}  # and no vbd for the CD drive xvdd
    assert by_vm[web["uuid"]] == {"cpu0", "cpu1", "memory", "memory_internal_free"} | disks | nics
    host_uuid = session.xenapi.host.get_uuid(master)
    host_total = f"AVERAGE:host:{host_uuid}:memory_total_kib"
    data = columns(legend, rows)
    assert data[host_total][0] * 1024 == float(session.xenapi.host_metrics.get_memory_total(
        session.xenapi.host.get_metrics(master)
    ))  # fmt: skip
    assert data[f"AVERAGE:vm:{web['uuid']}:memory"][0] == float(web["memory_target"])
    for entry, values in data.items():
        assert not any(math.isnan(v) for v in values), entry
        if entry.rsplit(":", 1)[1].startswith("cpu"):
            assert all(0.0 <= v <= 1.0 for v in values), entry
        else:
            assert all(v >= 0 for v in values), entry
    again = columns(*parse_xport(rrd_get(xapi.url, query)[1])[1:])
    assert again[host_total][1] == data[host_total][1]  # deterministic per row


def test_a_started_vm_joins_the_export_with_nan_before_its_start(
    xapi: XapiServer, session: Any
) -> None:
    spare = vm_ref(session, "spare")
    session.xenapi.VM.start_on(spare, xapi.db.master, False, False)
    uuid = session.xenapi.VM.get_uuid(spare)
    query = f"session_id={session._session}&start={int(time.time()) - 30}"
    _, legend, rows = parse_xport(rrd_get(xapi.url, query)[1])
    cpu = columns(legend, rows)[f"AVERAGE:vm:{uuid}:cpu0"]
    assert math.isnan(cpu[-1])  # 30 s ago the domain did not exist
    assert "NaN" in rrd_get(xapi.url, query)[1]
    session.xenapi.VM.hard_shutdown(spare)
    _, legend, _ = parse_xport(rrd_get(xapi.url, query)[1])
    assert not [e for e in legend if uuid in e]


def test_rrd_updates_variants_and_authentication(xapi: XapiServer, session: Any) -> None:
    start = int(time.time()) - 3600
    query = f"session_id={session._session}&start={start}&interval=60&json=true"
    content_type, text = rrd_get(xapi.url, query)
    doc = json.loads(text)
    assert content_type == "application/json" and doc["meta"]["step"] == 60
    assert not any(":host:" in e for e in doc["meta"]["legend"])  # no host=true
    member = xapi.member("xcp-ng-02")  # each host exports its own residents
    _, text = rrd_get(member.url, f"session_id={session._session}&start=-30")
    uuids = {entry.split(":")[2] for entry in parse_xport(text)[1]}
    names = {session.xenapi.VM.get_name_label(session.xenapi.VM.get_by_uuid(u)) for u in uuids}
    assert names == {"db", "batch", "Control domain on host: xcp-ng-02"}
    basic = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert rrd_get(xapi.url, "start=-10", Authorization=f"Basic {basic}")[0] == "text/xml"
    for bad in ("session_id=OpaqueRef:bogus&start=-10", "start=-10"):
        with pytest.raises(urllib.error.HTTPError) as info:
            rrd_get(xapi.url, bad)
        assert info.value.code == 401
    with pytest.raises(urllib.error.HTTPError) as info:
        rrd_get(xapi.url, f"session_id={session._session}")  # no start
    assert info.value.code == 400
