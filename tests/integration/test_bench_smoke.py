"""The console benchmark's variants still run: the naive reference, the full-history
graphs and the no-drawing floor are what figures in the notes are measured against, and
one of them once printed 'failed' for weeks unnoticed. Nothing here is timed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VARIANTS = ("ours", "naive", "filled", "no-ui")


def test_every_console_variant_runs_passes() -> None:
    res = subprocess.run(
        [sys.executable, "bench/console.py", "--sizes", "10", "--variants", ",".join(VARIANTS),
         "--seconds", "1", "--interval", "0.5", "--no-refs", "--timeout", "60"],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    head, _, _rest = res.stdout.partition("same-run references")
    rows = {cells[1]: cells for line in head.splitlines()
            if len(cells := [c.strip() for c in line.split("|")]) > 2 and cells[0] == "10"}
    assert set(rows) == set(VARIANTS), res.stdout
    for variant, cells in rows.items():
        assert not any(c.startswith("failed") for c in cells), (variant, cells)
        cpu_pct, refreshes = float(cells[7]), int(cells[-1])
        assert cpu_pct > 0 and refreshes >= 1, (variant, cells)
