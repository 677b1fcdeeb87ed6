"""Per-VM rates from a host's `/rrd_updates` (xcp-rrdd's export, rrdtool `xport` XML).

XAPI's per-VM utilisation fields in the metrics objects are legacy zeros: the figures
live in each host's RRDs, and each host exports the VMs that have a domain on it, so a
pool is read host by host. Values are already per-second: `cpuN` a fraction of one
physical CPU, `vbd_<dev>_read/_write` and `vif_<n>_rx/_tx` in bytes per second.
"""

from __future__ import annotations

import math
import time
import xml.etree.ElementTree as ET
from collections import defaultdict

from xentui.backend.models import DeviceRates, DomainRates
from xentui.backend.xapi.session import XapiSession

WINDOW_S = 15
"""How far back to ask: rows come every 5 s and only the newest known values are used,
so a short window keeps the export (and its parsing) small."""
FETCH_TIMEOUT_S = 4.0


def _value(text: str | None) -> float | None:
    try:
        value = float(text or "nan")
    except ValueError:
        return None
    return None if math.isnan(value) or math.isinf(value) else value


def newest_values(document: bytes) -> dict[str, float]:
    """Legend entry -> its newest known value (rows come newest first; NaN is unknown)."""
    root = ET.fromstring(document)
    legend = [e.text or "" for e in root.iterfind("./meta/legend/entry")]
    rows = sorted(
        root.iterfind("./data/row"), key=lambda r: int(r.findtext("t") or 0), reverse=True
    )
    found: dict[str, float] = {}
    for row in rows:
        for name, cell in zip(legend, row.iterfind("v"), strict=False):
            if name not in found:
                value = _value(cell.text)
                if value is not None:
                    found[name] = value
        if len(found) == len(legend):
            break
    return found


def _add(total: float | None, value: float | None) -> float | None:
    if value is None:
        return total
    return value if total is None else total + value


def vm_rates(values: dict[str, float]) -> dict[str, DomainRates]:
    """VM uuid -> rates, from legend entries `<CF>:vm:<uuid>:<datasource>`."""
    per_vm: dict[str, dict[str, float]] = defaultdict(dict)
    for name, value in values.items():
        parts = name.split(":", 3)
        if len(parts) == 4 and parts[1] == "vm":
            per_vm[parts[2]][parts[3]] = value
    out: dict[str, DomainRates] = {}
    for uuid, sources in per_vm.items():
        cpu = [v for k, v in sources.items() if k.startswith("cpu") and k[3:].isdigit()]
        disks: dict[str, list[float | None]] = defaultdict(lambda: [None, None])
        nets: dict[str, list[float | None]] = defaultdict(lambda: [None, None])
        for key, value in sources.items():
            if key.startswith("vbd_") and key.endswith(("_read", "_write")):
                dev, _, way = key[4:].rpartition("_")
                disks[dev][0 if way == "read" else 1] = value
            elif key.startswith("vif_") and key.endswith(("_rx", "_tx")):
                dev, _, way = key[4:].rpartition("_")
                nets[f"vif{dev}"][0 if way == "rx" else 1] = value
        rd = wr = rx = tx = None
        for r, w in disks.values():
            rd, wr = _add(rd, r), _add(wr, w)
        for r, w in nets.values():
            rx, tx = _add(rx, r), _add(tx, w)
        out[uuid] = DomainRates(
            cpu_pct=100.0 * sum(cpu) if cpu else None,
            disk_rd_bps=rd,
            disk_wr_bps=wr,
            net_rx_bps=rx,
            net_tx_bps=tx,
            disks={d: DeviceRates(r, w) for d, (r, w) in sorted(disks.items())},
            nets={d: DeviceRates(r, w) for d, (r, w) in sorted(nets.items())},
        )
    return out


def fetch_rates(session: XapiSession, host_url: str) -> dict[str, DomainRates]:
    """The rates of every VM with a domain on the host at `host_url` (blocking)."""
    start = int(time.time()) - WINDOW_S
    query = f"rrd_updates?start={start}&cf=AVERAGE&interval=5"
    return vm_rates(newest_values(session.fetch(host_url, query, FETCH_TIMEOUT_S)))
