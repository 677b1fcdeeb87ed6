"""Headless output: table (like `xentop -b`), CSV with a header row, or JSON lines."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from xentui.backend.errors import BackendError, ConnectionLost
from xentui.backend.host import Host
from xentui.backend.models import DomainFigures, DomainState, LinkStatus, PassResult

FIELDS = (
    "time",
    "uri",
    "name",
    "uuid",
    "id",
    "state",
    "cpu_pct",
    "cpu_seconds",
    "vcpus",
    "mem_kib",
    "maxmem_kib",
    "mem_pct",
    "disk_rd_bps",
    "disk_wr_bps",
    "net_rx_bps",
    "net_tx_bps",
)

_FLAGS = {
    DomainState.RUNNING: "-----r",
    DomainState.BLOCKED: "--b---",
    DomainState.PAUSED: "---p--",
    DomainState.SHUTDOWN: "-s----",
    DomainState.CRASHED: "----c-",
    DomainState.SHUTOFF: "------",
    DomainState.PMSUSPENDED: "---p--",
    DomainState.NOSTATE: "------",
}


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def ordered(result: PassResult) -> list[DomainFigures]:
    """Domain-0 first, then by name, as xentop lists them."""
    return sorted(result.domains.values(), key=lambda f: (not f.sample.is_dom0, f.name))


def record(result: PassResult, fig: DomainFigures) -> dict[str, Any]:
    """One domain of one pass as the JSON/CSV record the CLI contract promises."""
    s, r = fig.sample, fig.rates
    return {
        "time": datetime.fromtimestamp(result.wall_time, UTC).isoformat(timespec="seconds"),
        "uri": result.host.uri,
        "name": s.name,
        "uuid": s.uuid,
        "id": s.id,
        "state": s.state.value,
        "cpu_pct": _round(r.cpu_pct),
        "cpu_seconds": None if s.cpu_time_ns is None else round(s.cpu_time_ns / 1e9, 3),
        "vcpus": s.vcpus,
        "mem_kib": s.mem_kib,
        "maxmem_kib": s.maxmem_kib,
        "mem_pct": _round(fig.mem_pct),
        "disk_rd_bps": _round(r.disk_rd_bps),
        "disk_wr_bps": _round(r.disk_wr_bps),
        "net_rx_bps": _round(r.net_rx_bps),
        "net_tx_bps": _round(r.net_tx_bps),
    }


def _na(value: float | int | None, scale: float = 1.0, fmt: str = "{:.1f}") -> str:
    return "n/a" if value is None else fmt.format(value / scale)


TABLE_HEAD = (
    f"{'NAME':>24} {'STATE':>6} {'CPU(sec)':>10} {'CPU(%)':>6} {'MEM(k)':>10} {'MEM(%)':>6} "
    f"{'MAXMEM(k)':>10} {'VCPUS':>5} {'NETS':>4} {'NETRX(k/s)':>10} {'NETTX(k/s)':>10} "
    f"{'VBDS':>4} {'VBD_RD(k/s)':>11} {'VBD_WR(k/s)':>11}"
)


def table_row(fig: DomainFigures) -> str:
    """One line of the xentop-like table; the name is cut to fit, never interpreted."""
    s, r = fig.sample, fig.rates
    name = s.name if len(s.name) <= 24 else s.name[:23] + "…"
    cpu_s = None if s.cpu_time_ns is None else s.cpu_time_ns / 1e9
    return (
        f"{name:>24} {_FLAGS[s.state]:>6} {_na(cpu_s, fmt='{:.0f}'):>10} "
        f"{_na(r.cpu_pct):>6} {_na(s.mem_kib, fmt='{:.0f}'):>10} {_na(fig.mem_pct):>6} "
        f"{_na(s.maxmem_kib, fmt='{:.0f}'):>10} {_na(s.vcpus, fmt='{:.0f}'):>5} "
        f"{len(s.nets):>4} {_na(r.net_rx_bps, 1024):>10} {_na(r.net_tx_bps, 1024):>10} "
        f"{len(s.disks):>4} {_na(r.disk_rd_bps, 1024):>11} {_na(r.disk_wr_bps, 1024):>11}"
    )


class Formatter:
    """Writes passes in one of the three formats."""

    def __init__(self, fmt: str, out: TextIO) -> None:
        self.fmt = fmt
        self.out = out
        self._csv_header_done = False

    def write(self, result: PassResult) -> None:
        rows = ordered(result)
        if self.fmt == "json":
            for fig in rows:
                self.out.write(json.dumps(record(result, fig), ensure_ascii=False) + "\n")
        elif self.fmt == "csv":
            buf = io.StringIO()
            writer = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
            if not self._csv_header_done:
                writer.writeheader()
                self._csv_header_done = True
            for fig in rows:
                writer.writerow(record(result, fig))
            self.out.write(buf.getvalue())
        else:
            self.out.write(TABLE_HEAD + "\n")
            for fig in rows:
                self.out.write(table_row(fig) + "\n")
        self.out.flush()


async def run_batch(
    host: Host,
    *,
    fmt: str,
    iterations: int | None,
    out: TextIO = sys.stdout,
    err: Callable[[str], None] | None = None,
) -> int:
    """Print `iterations` passes (or forever); report connection gaps and carry on."""
    say = err or (lambda line: print(f"xentui: {line}", file=sys.stderr, flush=True))
    last_status = [""]

    def status_line(st: LinkStatus) -> None:
        line = f"{st.state.value}: {st.message}"
        if line != last_status[0]:  # the host repeats a state when it schedules a retry
            last_status[0] = line
            say(line)

    host.status_listeners.append(status_line)
    formatter = Formatter(fmt, out)
    done = 0
    while iterations is None or done < iterations:
        started = time.monotonic()
        try:
            result = await host.sample()
        except ConnectionLost:
            await asyncio.sleep(host.interval)
            continue
        except BackendError as exc:
            say(str(exc))
            await asyncio.sleep(host.interval)
            continue
        formatter.write(result)
        done += 1
        if iterations is not None and done >= iterations:
            break
        await asyncio.sleep(max(0.0, host.interval - (time.monotonic() - started)))
    return 0
