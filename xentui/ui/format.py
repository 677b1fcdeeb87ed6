"""Figures made readable: sizes, rates, percentages and durations (pure, no Textual).

Every function returns '-' for an unknown figure (None, NaN, infinite or negative)
instead of raising, so a bad reading never takes the display down.
"""

from __future__ import annotations

import math
import unicodedata

UNKNOWN = "-"
_SIZE_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB")
_RATE_UNITS = ("B/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s")
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _usable(x: float | None) -> float | None:
    """The value as a float if it is a finite, non-negative number, else None."""
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError, OverflowError):
        return None
    if math.isnan(f) or math.isinf(f) or f < 0:
        return None
    return f


def _scaled(value: float, units: tuple[str, ...], *, whole_base: bool = False) -> str:
    """Value in units[0], scaled by 1024s; one decimal (none in the base unit if asked)."""
    unit = 0
    while value >= 1023.95 and unit < len(units) - 1:
        value /= 1024
        unit += 1
    if unit == 0 and whole_base:
        return f"{value:.0f} {units[0]}"
    return f"{value:.1f} {units[unit]}"


def bytes_kib(kib: float | None) -> str:
    """A size given in KiB: '512.0 KiB', '512.0 MiB', '8.0 GiB'."""
    v = _usable(kib)
    return UNKNOWN if v is None else _scaled(v, _SIZE_UNITS)


def rate_bps(bps: float | None) -> str:
    """A byte rate: '512 B/s', '12.3 KiB/s', '1.5 GiB/s'."""
    v = _usable(bps)
    return UNKNOWN if v is None else _scaled(v, _RATE_UNITS, whole_base=True)


def pct(x: float | None, decimals: int = 1) -> str:
    """A percentage: '12.3%'."""
    v = _usable(x)
    return UNKNOWN if v is None else f"{v:.{max(0, decimals)}f}%"


def _clock(total_s: int) -> str:
    days, rest = divmod(total_s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    hms = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    return f"{days}d {hms}" if days else hms


def cpu_time(ns: float | None) -> str:
    """Cumulative CPU time given in nanoseconds: '02:03:04' or '1d 02:03:04'."""
    v = _usable(ns)
    return UNKNOWN if v is None else _clock(int(v // 1_000_000_000))


def uptime(seconds: float | None) -> str:
    """A duration in seconds: '02:03:04' or '3d 02:03:04'."""
    v = _usable(seconds)
    return UNKNOWN if v is None else _clock(int(v))


def span(seconds: float | None) -> str:
    """A short duration for axis labels: '45s', '10m', '1h05m', '2d3h'."""
    v = _usable(seconds)
    if v is None:
        return UNKNOWN
    s = round(v)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        m, sec = divmod(s, 60)
        return f"{m}m" if sec < 5 or m >= 10 else f"{m}m{sec:02d}s"
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return f"{h}h" if m == 0 else f"{h}h{m:02d}m"
    d, h = divmod(s // 3600, 24)
    return f"{d}d" if h == 0 else f"{d}d{h}h"


def visible(text: str) -> str:
    """Text with control and bidi-override characters replaced by visible escapes.

    Names and messages from the hypervisor may hold anything; they must neither move
    the cursor nor reorder the line they are printed on.
    """
    if text.isprintable():
        return text
    out: list[str] = []
    for ch in text:
        if ch in _NAMED_ESCAPES:
            out.append(_NAMED_ESCAPES[ch])
        elif ch in _BIDI_CONTROLS or unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def _short(value: float, units: str) -> str:
    unit = 0
    while value >= 999.5 and unit < len(units) - 1:
        value /= 1024
        unit += 1
    digits = f"{value:.1f}" if value < 9.95 and unit else f"{value:.0f}"
    return f"{digits}{units[unit]}"


def bytes_kib_short(kib: float | None) -> str:
    """A size in KiB, in at most five cells: '512M', '8.0G'."""
    v = _usable(kib)
    return UNKNOWN if v is None else _short(v, "KMGTP")


def rate_bps_short(bps: float | None) -> str:
    """A byte rate in at most five cells, '/s' implied: '512B', '98K', '1.5M'."""
    v = _usable(bps)
    return UNKNOWN if v is None else _short(v, "BKMGT")


def pct_short(x: float | None) -> str:
    """A percentage without decimals: '12%'."""
    return pct(x, 0)
