"""One line per migration under way, under the Domains pane: a progress bar with the
percentage, rate and ETA where the driver gives byte figures, else the elapsed time."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widgets import Static

from xentui.backend.models import MigrationProgress
from xentui.ui import format as fmt

BAR_CELLS = 16


def bar(fraction: float, *, ascii: bool = False, cells: int = BAR_CELLS) -> str:
    """A fixed-width bar filled to `fraction` (0..1)."""
    full, empty = ("#", "-") if ascii else ("█", "░")
    done = round(max(0.0, min(1.0, fraction)) * cells)
    return full * done + empty * (cells - done)


def progress_text(p: MigrationProgress, *, ascii: bool = False) -> Text:
    """One migration as a line; names are data (a `Text`, never markup)."""
    arrow = "->" if ascii else "→"
    line = Text(f"Migrating {fmt.visible(p.name)} {fmt.visible(p.host_id)} {arrow} "
                f"{fmt.visible(p.target)}  ", style="bold")
    fraction = p.fraction
    if fraction is None:
        line.append(f"{fmt.uptime(p.elapsed_s)} elapsed")
        return line
    line.append(f"[{bar(fraction, ascii=ascii)}]", style="green")
    line.append(f" {fmt.pct(100 * fraction, 0)}  {fmt.rate_bps(p.rate_bps)}")
    eta = p.eta_s
    line.append(f"  ETA {fmt.uptime(eta) if eta is not None else fmt.UNKNOWN}")
    if p.iteration is not None:
        line.append(f"  pass {p.iteration}")
    sent = fmt.bytes_kib(p.processed_bytes / 1024 if p.processed_bytes is not None else None)
    line.append(f"  sent {sent} in {fmt.uptime(p.elapsed_s)}", style="dim")
    return line


class MigrationLine(Static):
    """The migrations under way (hidden when there are none)."""

    DEFAULT_CSS = """
    MigrationLine { height: auto; padding: 0 1; display: none; }
    """

    def show(self, records: Iterable[MigrationProgress], *, ascii: bool = False) -> None:
        lines = [progress_text(p, ascii=ascii) for p in records if not p.finished]
        self.display = bool(lines)
        self.update(Text("\n").join(lines))
