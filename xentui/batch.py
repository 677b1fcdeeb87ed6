"""Headless output: table (like `xentop -b`), CSV with a header row, or JSON lines."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from xentui.backend.fleet import Fleet, Record
from xentui.backend.models import (
    DomainFigures,
    DomainState,
    LinkState,
    LinkStatus,
    PassFailure,
    PassResult,
)

EXIT_OK, EXIT_NONE_REACHED = 0, 1

FIELDS = (
    "time",
    "host",
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
        "host": result.host_id,
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

    def __init__(self, fmt: str, out: TextIO, *, several: bool = False) -> None:
        self.fmt = fmt
        self.out = out
        self.several = several
        """Several hosts: the table says which host each block is from."""
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
            if self.several:
                self.out.write(f"== {result.host_id} ({result.host.uri})\n")
            self.out.write(TABLE_HEAD + "\n")
            for fig in rows:
                self.out.write(table_row(fig) + "\n")
        self.out.flush()


async def run_batch(
    fleet: Fleet,
    *,
    fmt: str,
    iterations: int | None,
    out: TextIO = sys.stdout,
    err: Callable[[str], None] | None = None,
) -> int:
    """Print each host's passes as they come, `iterations` per host (or forever).

    A host that cannot be reached is reported on stderr and the others go on; the exit
    code is non-zero only if no host could be reached. Connection gaps are reported
    and sampling carries on when the host is back.
    """
    say = err or (lambda line: print(f"xentui: {line}", file=sys.stderr, flush=True))
    several = len(fleet.hosts) > 1

    def tell(host_id: str, text: str) -> None:
        say(f"{host_id}: {text}" if several else text)

    records: asyncio.Queue[Record] = asyncio.Queue()
    unsubscribe = fleet.subscribe(records.put_nowait)
    formatter = Formatter(fmt, out, several=several)
    passes = dict.fromkeys(fleet.hosts, 0)
    reached: set[str] = set()
    unreachable: set[str] = set()
    last_status: dict[str, str] = {}
    fleet.start()
    try:
        while True:
            if iterations is not None and all(
                passes[h] >= iterations or h in unreachable for h in fleet.hosts
            ):
                return EXIT_OK
            rec = await records.get()
            if isinstance(rec, PassResult):
                reached.add(rec.host_id)
                unreachable.discard(rec.host_id)
                if rec.notice:
                    tell(rec.host_id, rec.notice)
                if iterations is None or passes[rec.host_id] < iterations:
                    formatter.write(rec)
                    passes[rec.host_id] += 1
            elif isinstance(rec, PassFailure):
                if rec.lost and rec.host_id not in reached:
                    unreachable.add(rec.host_id)
                    last_status[rec.host_id] = f"{LinkState.LOST.value}: {rec.text}"
                    tell(rec.host_id, rec.text)
                    if len(unreachable) == len(fleet.hosts):
                        return EXIT_NONE_REACHED
                elif not rec.lost:
                    tell(rec.host_id, rec.text)
            elif isinstance(rec, LinkStatus):
                _status_line(rec, reached, last_status, tell)
    finally:
        unsubscribe()


def _status_line(
    st: LinkStatus, reached: set[str], last: dict[str, str], tell: Callable[[str, str], None]
) -> None:
    """A change of a link's state, once (hosts repeat a state when they schedule a retry);
    nothing before a host's first pass (a failed first connection is reported once)."""
    if st.host_id not in reached:
        return
    line = f"{st.state.value}: {st.message}"
    if line != last.get(st.host_id):
        last[st.host_id] = line
        tell(st.host_id, line)
