"""``GET /rrd_updates``: xcp-rrdd's export of recent datasource values.

Follows ``rrdd_http_handler.ml`` and ``rrd_updates.ml``: parameters ``start`` (epoch
seconds; negative means relative to now), ``interval`` (picks the archive: 5 s rows
for 10 min, 1 min for 2 h, 1 h for a week, 1 day for a year), ``cf``, ``host=true``
(add the host's datasources), ``vm_uuid`` (``all`` by default, ``none`` or one uuid)
and ``json``.  The answer is rrdtool's ``xport`` XML (or its JSON form, written
here as strict JSON where older xcp-rrdd left the keys unquoted): legend
entries ``<CF>:host:<uuid>:<ds>`` then ``<CF>:vm:<uuid>:<ds>``, rows newest first,
values printed ``%0.4f`` (``0.0`` for zero, ``NaN`` before a VM started).

Like a real host, a server exports only its own host and the VMs with a domain on it
(Running or Paused, control domain included).  Values are synthetic but plausible and
deterministic: a function of the database seed, the object, the datasource and the
row's timestamp, so two reads of the same row agree.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import math
import time
from collections.abc import Callable, Mapping
from xml.sax.saxutils import escape

from .db import Database

# (step seconds, rows kept): xcp-rrdd's AVERAGE archives
ARCHIVES = ((5, 120), (60, 120), (3600, 168), (86400, 366))
KIB = 1024.0

Source = tuple[str, Callable[[int], float]]  # legend suffix "vm:<uuid>:cpu0", value at t
Rows = list[tuple[int, list[str]]]  # (timestamp, printed values), newest first


def _unit(seed: int, key: str, t: int) -> float:
    """A deterministic pseudo-random number in [0, 1) for (seed, key, t)."""
    digest = hashlib.blake2b(f"{seed}|{key}|{t}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def _epoch(value: object) -> float:
    """Seconds since the epoch of an API datetime (an xmlrpc DateTime)."""
    text = str(getattr(value, "value", value))
    return float(calendar.timegm(time.strptime(text, "%Y%m%dT%H:%M:%SZ")))


def fmt(value: float) -> str:
    """A value as xcp-rrdd prints it (OCaml ``%0.4f``, ``0.0``, ``NaN``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return "0.0" if value == 0 else f"{value:.4f}"


def _vm_sources(db: Database, ref: str, seed: int) -> list[Source]:
    """cpuN, memory, memory_internal_free, vbd_<dev>_read/_write, vif_<n>_rx/_tx."""
    vm = db.get("VM", ref)
    metrics = db.get("VM_metrics", vm["metrics"])
    uuid = vm["uuid"]
    started = _epoch(metrics["start_time"])
    active = vm["power_state"] == "Running"
    memory = float(metrics["memory_actual"])

    def level(
        name: str, low: float, high: float, noise: float, cap: float = math.inf
    ) -> Callable[[int], float]:
        base = low + (high - low) * _unit(seed, f"{uuid}:{name}", -1)

        def value(t: int) -> float:
            if t < started:
                return math.nan
            if not active:
                return 0.0
            jitter = 1 + noise * (2 * _unit(seed, f"{uuid}:{name}", t) - 1)
            return min(cap, max(0.0, base * jitter))

        return value

    def constant(v: float) -> Callable[[int], float]:
        return lambda t: math.nan if t < started else v

    sources: list[Source] = []
    for cpu in range(int(metrics["VCPUs_number"])):
        sources.append((f"cpu{cpu}", level(f"cpu{cpu}", 0.03, 0.7, 0.4, cap=1.0)))
    sources.append(("memory", constant(memory)))
    free_share = 0.15 + 0.45 * _unit(seed, f"{uuid}:free", -1)
    sources.append(("memory_internal_free", constant(round(memory / KIB * free_share))))
    for vbd_ref in vm["VBDs"]:
        vbd = db.get("VBD", vbd_ref)
        if vbd["type"] == "Disk":
            for way, top in (("read", 8e6), ("write", 3e6)):
                name = f"vbd_{vbd['device']}_{way}"
                sources.append((name, level(name, 1e4, top, 0.8)))
    for vif_ref in vm["VIFs"]:
        device = db.get("VIF", vif_ref)["device"]
        for way, top in (("rx", 2e6), ("tx", 1e6)):
            name = f"vif_{device}_{way}"
            sources.append((name, level(name, 1e3, top, 0.8)))
    return [(f"vm:{uuid}:{name}", fn) for name, fn in sources]


def _host_sources(db: Database, ref: str, seed: int) -> list[Source]:
    """cpuN per physical CPU, cpu_avg, memory_total_kib, memory_free_kib."""
    host = db.get("host", ref)
    metrics = db.get("host_metrics", host["metrics"])
    uuid = host["uuid"]
    count = int(host["cpu_info"]["cpu_count"])
    bases = [0.05 + 0.5 * _unit(seed, f"{uuid}:cpu{n}", -1) for n in range(count)]

    def cpu(n: int) -> Callable[[int], float]:
        return lambda t: min(1.0, bases[n] * (0.6 + 0.8 * _unit(seed, f"{uuid}:cpu{n}", t)))

    cpus = [cpu(n) for n in range(count)]
    total = float(metrics["memory_total"]) / KIB
    free = float(metrics["memory_free"]) / KIB
    sources: list[Source] = [(f"cpu{n}", cpus[n]) for n in range(count)]
    sources += [
        ("cpu_avg", lambda t: sum(c(t) for c in cpus) / count),
        ("memory_total_kib", lambda t: total),
        ("memory_free_kib", lambda t: free),
    ]
    return [(f"host:{uuid}:{name}", fn) for name, fn in sources]


def _archive(interval: int, start: int, now: int) -> tuple[int, int]:
    """The archive xcp-rrdd would read: fine enough for ``interval``, long enough for start."""
    usable = [a for a in ARCHIVES if a[0] >= interval] or [ARCHIVES[-1]]
    for step, rows in usable:
        if now - start <= step * rows:
            return step, rows
    return max(usable, key=lambda a: a[0] * a[1])


def export(
    db: Database, host: str, query: Mapping[str, str], *, now: float | None = None
) -> tuple[str, str]:
    """``(content type, body)`` answering ``/rrd_updates?<query>`` on ``host``.

    Raises ValueError for a missing or malformed parameter (the server answers 400).
    """
    clock = int(time.time() if now is None else now)
    start = int(query["start"]) if "start" in query else None
    if start is None:
        raise ValueError("missing start")
    start = clock + start if start < 0 else start
    interval = int(query.get("interval", "0") or 0)
    cf = query.get("cf", "AVERAGE").upper()
    if cf not in ("AVERAGE", "MIN", "MAX", "LAST"):
        raise ValueError(f"bad cf {cf!r}")
    wanted_vm = query.get("vm_uuid", "all")
    with db.cond:
        seed = db.seed
        sources = _host_sources(db, host, seed) if query.get("host") == "true" else []
        for ref, vm in db.tables["VM"].items():
            if vm["resident_on"] == host and vm["power_state"] in ("Running", "Paused"):
                if wanted_vm == "all" or wanted_vm == vm["uuid"]:
                    sources += _vm_sources(db, ref, seed)
    step, rows = _archive(interval, start, clock)
    last = clock - clock % step
    times = [last - i * step for i in range(rows) if last - i * step >= start]
    first = start - start % step + step
    legend = [f"{cf}:{name}" for name, _ in sources]
    data = [(t, [fmt(fn(t)) for _, fn in sources]) for t in times]
    if "json" in query and query["json"] != "false":
        return "application/json", _json(first, step, last, legend, data)
    return "text/xml", _xml(first, step, last, legend, data)


def _xml(first: int, step: int, last: int, legend: list[str], data: Rows) -> str:
    """rrdtool's ``xport`` document, as xcp-rrdd writes it (no whitespace)."""
    entries = "".join(f"<entry>{escape(e)}</entry>" for e in legend)
    meta = (
        f"<meta><start>{first}</start><step>{step}</step><end>{last}</end>"
        f"<rows>{len(data)}</rows><columns>{len(legend)}</columns>"
        f"<legend>{entries}</legend></meta>"
    )
    rows = "".join(
        f"<row><t>{t}</t>" + "".join(f"<v>{v}</v>" for v in values) + "</row>" for t, values in data
    )
    return f'<?xml version="1.0" encoding="UTF-8"?><xport>{meta}<data>{rows}</data></xport>'


def _json(first: int, step: int, last: int, legend: list[str], data: Rows) -> str:
    """The JSON form of the same export (``json_of_t``)."""
    meta: dict[str, object] = {"start": first, "step": step, "end": last, "rows": len(data)}
    meta.update(columns=len(legend), legend=legend)
    rows = [{"t": t, "values": values} for t, values in data]
    return json.dumps({"meta": meta, "data": rows})
