"""Humanised figures: units, rounding, and '-' for anything unknown."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xentui.ui import format as fmt


@pytest.mark.parametrize(
    ("kib", "text"),
    [
        (0, "0.0 KiB"),
        (512, "512.0 KiB"),
        (524288, "512.0 MiB"),
        (8 * 1024 * 1024, "8.0 GiB"),
        (3 * 1024**3, "3.0 TiB"),
        (1023.99, "1.0 MiB"),
    ],
)
def test_bytes_kib(kib: float, text: str) -> None:
    assert fmt.bytes_kib(kib) == text


@pytest.mark.parametrize(
    ("bps", "text"),
    [
        (0, "0 B/s"),
        (512, "512 B/s"),
        (12.3 * 1024, "12.3 KiB/s"),
        (5 * 1024**2, "5.0 MiB/s"),
        (2.5 * 1024**3, "2.5 GiB/s"),
    ],
)
def test_rate_bps(bps: float, text: str) -> None:
    assert fmt.rate_bps(bps) == text


def test_pct() -> None:
    assert fmt.pct(12.345) == "12.3%"
    assert fmt.pct(250) == "250.0%"
    assert fmt.pct_short(99.6) == "100%"


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "00:00:00"),
        ((2 * 3600 + 3 * 60 + 4) * 10**9, "02:03:04"),
        ((86400 + 2 * 3600 + 3 * 60 + 4) * 10**9 + 999_999_999, "1d 02:03:04"),
    ],
)
def test_cpu_time(ns: int, text: str) -> None:
    assert fmt.cpu_time(ns) == text


def test_uptime_and_span() -> None:
    assert fmt.uptime(59) == "00:00:59"
    assert fmt.uptime(3 * 86400 + 61) == "3d 00:01:01"
    assert fmt.span(45) == "45s"
    assert fmt.span(600) == "10m"
    assert fmt.span(3900) == "1h05m"
    assert fmt.span(2 * 86400 + 3 * 3600) == "2d3h"


def test_short_forms() -> None:
    assert fmt.rate_bps_short(512) == "512B"
    assert fmt.rate_bps_short(100 * 1024) == "100K"
    assert fmt.rate_bps_short(1.5 * 1024**2) == "1.5M"
    assert fmt.bytes_kib_short(524288) == "512M"
    assert fmt.bytes_kib_short(8 * 1024**2) == "8.0G"


BAD = [None, math.nan, math.inf, -math.inf, -1, -0.5]
FUNCS = [
    fmt.bytes_kib,
    fmt.rate_bps,
    fmt.pct,
    fmt.cpu_time,
    fmt.uptime,
    fmt.span,
    fmt.bytes_kib_short,
    fmt.rate_bps_short,
    fmt.pct_short,
]


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("value", BAD)
def test_unknown_is_dash(func, value) -> None:  # type: ignore[no-untyped-def]
    assert func(value) == "-"


@given(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers()))
def test_never_raises(value: float | None) -> None:
    for func in FUNCS:
        assert isinstance(func(value), str)


def test_visible_escapes_controls_but_keeps_text() -> None:
    assert fmt.visible("[b]evil ünïcode & co") == "[b]evil ünïcode & co"
    assert fmt.visible("a\x1b[31mb\nc\td\x00") == "a\\x1b[31mb\\nc\\td\\x00"
    assert fmt.visible("x\u202ey") == "x\\u202ey"
    assert fmt.visible("\x9b") == "\\x9b"


@given(st.text())
def test_visible_output_is_printable(text: str) -> None:
    out = fmt.visible(text)
    assert "\n" not in out and "\x1b" not in out
    assert all(not (ord(c) < 32 or 0x7F <= ord(c) < 0xA0) for c in out)


@given(st.floats(min_value=0, max_value=1023.9 * 1024**3))
def test_a_rate_fits_its_column(bps: float) -> None:
    """Every rate up to 1023.9 GiB/s fits the table's rate columns uncut (the demo
    showed '1021.4 KiB…' in columns one cell too narrow)."""
    from xentui.ui.columns import COLUMNS

    for key in ("rd", "wr", "rx", "tx"):
        assert len(fmt.rate_bps(bps)) <= COLUMNS[key].width
