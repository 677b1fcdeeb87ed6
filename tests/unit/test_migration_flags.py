"""Migration flags (only what the source's driver accepts), job statistics turned into
progress records, and the progress line's text."""

from __future__ import annotations

import itertools

import libvirt
import pytest

from xentui.backend.errors import Unsupported
from xentui.backend.libvirt.jobs import JobFigures, progress, read_job
from xentui.backend.libvirt.migration import LIBXL_FLAGS, checked, flags_for
from xentui.backend.models import MigrationOptions, MigrationProgress
from xentui.ui.widgets.migration_line import progress_text

MiB = 2**20


@pytest.mark.parametrize("driver", ["Xen", "QEMU"])
def test_every_choice_of_options_gives_flags_the_libxl_driver_accepts(driver: str) -> None:
    for persist, undefine, p2p in itertools.product([False, True], repeat=3):
        opts = MigrationOptions(persist=persist, undefine_source=undefine, p2p=p2p)
        flags = flags_for(opts, driver)
        assert flags & ~LIBXL_FLAGS == 0
        assert bool(flags & libvirt.VIR_MIGRATE_PERSIST_DEST) == persist
        assert bool(flags & libvirt.VIR_MIGRATE_UNDEFINE_SOURCE) == undefine
        assert bool(flags & libvirt.VIR_MIGRATE_PEER2PEER) == p2p
        assert flags & libvirt.VIR_MIGRATE_LIVE


def test_a_flag_outside_the_libxl_set_is_refused_for_xen_only() -> None:
    flags = libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_UNSAFE
    with pytest.raises(Unsupported, match="Xen driver does not accept UNSAFE"):
        checked(flags, "Xen")
    assert checked(flags, "QEMU") == flags


def test_tunnelled_only_with_peer_to_peer() -> None:
    tunnelled = libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_TUNNELLED
    with pytest.raises(Unsupported, match="peer-to-peer"):
        checked(tunnelled, "Xen")
    p2p = tunnelled | libvirt.VIR_MIGRATE_PEER2PEER
    assert checked(p2p, "Xen") == p2p


def test_a_driver_without_job_statistics_gives_elapsed_time_only() -> None:
    conn = libvirt.open("test:///default")
    try:
        figures = read_job(conn.lookupByName("test"), at=5.0)
    finally:
        conn.close()
    assert figures == JobFigures(at=5.0)
    base = MigrationProgress("a", "u", "test", "b", 0.0)
    record = progress(base, figures, None, 3.0)
    assert record.fraction is None and record.eta_s is None and record.elapsed_s == 3.0
    line = progress_text(record).plain
    assert "00:00:03 elapsed" in line and "%" not in line and "ETA" not in line


def test_rate_from_two_polls_when_the_driver_gives_none() -> None:
    base = MigrationProgress("a", "u", "g", "b", 0.0)
    before = JobFigures(processed=4 * MiB, total=32 * MiB, remaining=28 * MiB, at=10.0)
    now = JobFigures(processed=6 * MiB, total=32 * MiB, remaining=26 * MiB, at=12.0)
    record = progress(base, now, before, 7.0)
    assert record.rate_bps == pytest.approx(MiB)
    assert record.fraction == pytest.approx(6 / 32)
    assert record.eta_s == pytest.approx(26)
    driver_rate = progress(base, JobFigures(6 * MiB, 32 * MiB, 26 * MiB, bps=2 * MiB, at=12.0),
                           before, 7.0)
    assert driver_rate.rate_bps == 2 * MiB


def test_the_progress_line_shows_bar_rate_eta_and_names_as_typed() -> None:
    record = MigrationProgress("src", "u", "[b]x", "dst", 14.0, processed_bytes=20 * MiB,
                               total_bytes=32 * MiB, remaining_bytes=8 * MiB,
                               rate_bps=float(MiB), iteration=2)
    line = progress_text(record).plain
    assert "Migrating [b]x src → dst" in line
    assert "75%" in line and "1.0 MiB/s" in line and "ETA 00:00:08" in line
    assert "pass 2" in line and "sent 20.0 MiB in 00:00:14" in line
    assert "[" + "#" * 12 + "-" * 4 + "]" in progress_text(record, ascii=True).plain
