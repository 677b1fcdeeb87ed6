"""bench/console.py's results: what one run measured (`Result`), issue 12's targets, and
the tables the bench prints."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

import psutil

INTERVAL = 1.0
SIZE = (160, 50)
TARGETS: dict[tuple[bool, float, int], list[tuple[str, str, float, str]]] = {
    # issue 12's targets by (over a daemon, interval, domains): what, Result field, limit
    (True, 1.0, 1000): [("xentui", "core_pct", 15.0, "% of a core"),
                        ("libvirtd", "daemon_pct", 10.0, "% of a core"),
                        ("rows shown", "rows_s", 1.0, "s")],
    (True, 5.0, 1000): [("xentui", "core_pct", 3.0, "% of a core"),
                        ("libvirtd", "daemon_pct", 2.0, "% of a core"),
                        ("rows shown", "rows_s", 1.0, "s")],
    (False, 1.0, 1000): [("xentui", "core_pct", 5.0, "% of a core")],
    (False, 1.0, 10): [("xentui", "core_pct", 1.0, "% of a core")],
}
"""Issue 12's targets, checked where a run matches their case (RSS: under 150 MB always)."""


@dataclass
class Result:
    n: int
    variant: str
    first_s: float
    first_from_exec_s: float
    rows_s: float
    connect_s: float
    window_s: float
    passes: int
    samples: int
    frames: int
    cpu_per_pass_ms: float
    core_pct: float
    backend_cpu_ms: float
    backend_loop_ms: float
    backend_caller_ms: float
    ui_cpu_ms: float
    took_ms: float
    peak_rss_mb: float
    maxrss_mb: float
    profile: list[str] = field(default_factory=list)
    interval: float = INTERVAL
    daemon_pct: float = 0.0
    top_pct: float = 0.0
    top_kib_s: float = 0.0
    calls_per_pass: float = 0.0
    calls: dict[str, float] = field(default_factory=dict)
    threads: dict[str, float] = field(default_factory=dict)
    raw_pct: float | None = None
    raw_daemon_pct: float | None = None
    reduced_pct: float | None = None
    reduced_daemon_pct: float | None = None
    load: str = ""
    gc_pct: float = 0.0
    gc_per_pass: float = 0.0


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


METRICS: list[tuple[str, str, str]] = [
    ("rows shown s", "rows_s", ".2f"),
    ("first screen s", "first_s", ".2f"),
    ("(from exec) s", "first_from_exec_s", ".2f"),
    ("connect s", "connect_s", ".2f"),
    ("CPU ms/refresh", "cpu_per_pass_ms", ".1f"),
    ("% of 1 core", "core_pct", ".2f"),
    ("UI ms/refresh", "ui_cpu_ms", ".1f"),
    ("backend CPU ms", "backend_cpu_ms", ".1f"),
    ("pass wall ms", "took_ms", ".1f"),
    ("peak RSS MB", "peak_rss_mb", ".0f"),
    ("refreshes/window", "passes", "d"),
]


def report(results: dict[tuple[int, str], Result | str], sizes: list[int],
           variants: list[str], args: argparse.Namespace) -> None:
    enc = "off" if args.no_encode else "on"
    where = "over a private libvirtd, per-domain path" if args.daemon else "in-process"
    print(f"xentui console benchmark: test driver {where}, {args.interval:g} s interval, "
          f"{SIZE[0]}x{SIZE[1]}, "
          f"~{args.seconds:g} s steady window, frame encoding {enc}, "
          f"{psutil.cpu_count()} CPUs; naive = DataTable {args.naive_mode}+re-add")
    col = 9
    head = f"{'N':>6} | {'variant':<7}"
    for label, _k, _s in METRICS:
        head += f" | {label:>{max(col, len(label))}}"
    print(head)
    print("-" * len(head))
    for n in sizes:
        for v in variants:
            r = results.get((n, v))
            row = f"{n:>6} | {v:<7}"
            for label, key, spec in METRICS:
                cell = _fmt(getattr(r, key), spec) if isinstance(r, Result) else (r or "-")[:9]
                row += f" | {cell:>{max(col, len(label))}}"
            print(row)
    print()
    print("same-run references, % of one core over the window (raw = a bare loop of the same "
          "libvirt calls, 5 threads over a daemon; its libvirtd % beside it)")
    head = (f"{'N':>6} | {'variant':<7} | {'xentui':>7} | {'libvirtd':>8} | {'top -d 1':>8} | "
            f"{'raw':>6} | {'raw lvd':>7} | {'calls/pass':>10} | {'events':>6} | {'pool':>6} | "
            f"{'main':>6} | {'KiB/s top':>9}")
    print(head)
    print("-" * len(head))
    for n in sizes:
        for v in variants:
            r = results.get((n, v))
            if not isinstance(r, Result):
                continue
            th = r.threads
            print(f"{n:>6} | {v:<7} | {r.core_pct:>7.2f} | {r.daemon_pct:>8.2f} | "
                  f"{r.top_pct:>8.2f} | {_fmt(r.raw_pct, '.2f'):>6} | "
                  f"{_fmt(r.raw_daemon_pct, '.2f'):>7} | {r.calls_per_pass:>10.0f} | "
                  f"{th.get('events', 0):>6.2f} | {th.get('pool', 0):>6.2f} | "
                  f"{th.get('main', 0):>6.2f} | {r.top_kib_s:>9.2f}")
            if r.reduced_pct is not None:
                print(f"{'':>6}   raw-reduced (the old reduced call set, 1 thread): "
                      f"{r.reduced_pct:.2f}%, its libvirtd {_fmt(r.reduced_daemon_pct, '.2f')}%")
            print(f"{'':>6}   load average (1 min) before -> after: {r.load}")
            print(f"{'':>6}   GC {r.gc_pct:.2f}% of a core, {r.gc_per_pass:.1f} collections/pass; "
                  "calls: " + ", ".join(f"{k.split('.')[-1]} {c:.0f}"
                                                   for k, c in r.calls.items()))
    print()
    for v in variants:
        ours = [(n, r) for n in sizes if isinstance(r := results.get((n, v)), Result)]
        if len(ours) >= 2:
            base = ours[0][1].ui_cpu_ms
            growth = ", ".join(f"N={n}: {r.ui_cpu_ms:.1f} ms (x{r.ui_cpu_ms / base:.1f})"
                               for n, r in ours)
            print(f"UI cost per refresh vs N ({v}): {growth}")
    for n in sizes:
        r = results.get((n, "ours"))
        if not isinstance(r, Result):
            continue
        checks = [*TARGETS.get((bool(args.daemon), args.interval, n), []),
                  ("RSS", "peak_rss_mb", 150.0, "MB")]
        text = "; ".join(
            f"{name} {getattr(r, field):.2f} {unit} "
            f"(<= {lim:g}: {'ok' if getattr(r, field) <= lim else 'MISS'})"
            for name, field, lim, unit in checks)
        print(f"issue 12 targets at N={n} (ours): {text}")
    for (n, v), res in results.items():
        if isinstance(res, Result) and res.profile:
            print(f"\n--- profile N={n} {v} (loop thread, steady window) ---")
            print("\n".join(res.profile))
