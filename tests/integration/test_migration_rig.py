"""Live migration between two private QEMU session daemons on this machine (issue 10,
"Proof"; the rig is tests/support/migration_rig.py), with plain libvirt-python calls:
managed direct (``migrate3``) there and back, peer-to-peer (``migrateToURI3``) there
and back and tunnelled, a throttled migration of a guest that keeps rewriting its RAM
whose progress shows in ``jobStats`` and that ``abortJob`` cancels, and the refusals
(the same daemon; a writable disk on local storage). Every outcome is checked on fresh
connections and in /proc. Run with ``-s`` to see the timings.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import libvirt
import pytest

from tests.support import migration_rig
from tests.support.daemons import PrivateDaemon
from tests.support.migration_rig import MigrationRig

pytestmark = pytest.mark.integration

MANAGED = (
    libvirt.VIR_MIGRATE_LIVE
    | libvirt.VIR_MIGRATE_PERSIST_DEST
    | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
)
P2P = libvirt.VIR_MIGRATE_PEER2PEER | libvirt.VIR_MIGRATE_LIVE


@pytest.fixture(scope="module")
def rig() -> Iterator[MigrationRig]:
    t0 = time.monotonic()
    with migration_rig.running() as r:
        print(
            f"\n[migration rig] up in {time.monotonic() - t0:.2f}s: host_uuid "
            f"{r.host_uuids[0]} / {r.host_uuids[1]}, migration ports "
            f"{r.port_ranges[0]} / {r.port_ranges[1]} on {migration_rig.MIGRATION_HOST}"
        )
        yield r


def _timed(label: str, fn, *args, **kwargs):
    t0 = time.monotonic()
    try:
        return fn(*args, **kwargs)
    finally:
        print(f"[migration rig] {label}: {time.monotonic() - t0:.2f}s")


def _start(rig: MigrationRig, **kwargs) -> str:
    return _timed("define+start guest on source", rig.start_guest, **kwargs)


def _state(daemon: PrivateDaemon, name: str) -> tuple[bool, bool, int] | None:
    """(active, persistent, state) of *name* on *daemon*, seen on a fresh connection;
    None when the daemon does not know the domain."""
    conn = libvirt.open(daemon.uri)
    try:
        try:
            dom = conn.lookupByName(name)
        except libvirt.libvirtError as exc:
            assert exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN, exc
            return None
        return bool(dom.isActive()), bool(dom.isPersistent()), dom.state()[0]
    finally:
        conn.close()


def _qemu_runs(daemon: PrivateDaemon, name: str) -> bool:
    """A QEMU process of *daemon* for guest *name* exists (seen in /proc)."""
    for pid in daemon.qemu_pids():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                if f"guest={name},".encode() in fh.read():
                    return True
        except OSError:
            continue
    return False


def _assert_runs_only_on(
    here: PrivateDaemon,
    gone: PrivateDaemon,
    name: str,
    *,
    persistent: bool = True,
    leftover: bool = False,
) -> None:
    running = libvirt.VIR_DOMAIN_RUNNING
    assert _state(here, name) == (True, persistent, running)
    assert _qemu_runs(here, name)
    # leftover: the other side keeps an inactive persistent definition (no UNDEFINE_SOURCE)
    assert _state(gone, name) == ((False, True, libvirt.VIR_DOMAIN_SHUTOFF) if leftover else None)
    assert not _qemu_runs(gone, name)


def test_managed_direct_migration_there_and_back(rig: MigrationRig) -> None:
    name = _start(rig)
    src = libvirt.open(rig.source_uri)
    dst = libvirt.open(rig.target_uri)
    try:
        dom = src.lookupByName(name)
        moved = _timed("migrate3 source -> target", dom.migrate3, dst, {}, MANAGED)
        assert moved.name() == name
        _assert_runs_only_on(rig.target, rig.source, name)

        back = _timed("migrate3 target -> source", moved.migrate3, src, {}, MANAGED)
        assert back.name() == name
        _assert_runs_only_on(rig.source, rig.target, name)
    finally:
        src.close()
        dst.close()


def test_peer_to_peer_migration_there_and_back(rig: MigrationRig) -> None:
    name = _start(rig)
    src = libvirt.open(rig.source_uri)
    dst = libvirt.open(rig.target_uri)
    try:
        # The source daemon opens the target's URI itself.
        dom = src.lookupByName(name)
        _timed(
            "migrateToURI3 P2P source -> target",
            dom.migrateToURI3,
            rig.p2p_uri(rig.target),
            {},
            P2P,
        )
        # No PERSIST_DEST / UNDEFINE_SOURCE: transient on the target, the source keeps
        # its (now inactive) definition.
        _assert_runs_only_on(rig.target, rig.source, name, persistent=False, leftover=True)

        _timed(
            "migrateToURI3 P2P target -> source",
            dst.lookupByName(name).migrateToURI3,
            rig.p2p_uri(rig.source),
            {},
            P2P,
        )
        _assert_runs_only_on(rig.source, rig.target, name)
    finally:
        src.close()
        dst.close()


def test_tunnelled_peer_to_peer_migration(rig: MigrationRig) -> None:
    """PEER2PEER | TUNNELLED: the migration stream goes through the daemons' own
    connection instead of QEMU's migration port (the libxl driver accepts it too)."""
    name = _start(rig)
    src = libvirt.open(rig.source_uri)
    try:
        flags = P2P | libvirt.VIR_MIGRATE_TUNNELLED | MANAGED
        dom = src.lookupByName(name)
        _timed(
            "migrateToURI3 P2P tunnelled source -> target",
            dom.migrateToURI3,
            rig.p2p_uri(rig.target),
            {},
            flags,
        )
        _assert_runs_only_on(rig.target, rig.source, name)
    finally:
        src.close()
        rig.remove_guest(name)


def test_throttled_migration_shows_progress_and_abort_keeps_it_on_source(
    rig: MigrationRig,
) -> None:
    name = _start(rig, memory_kib=32 * 1024, dirty_memory=True)
    src = libvirt.open(rig.source_uri)
    dst = libvirt.open(rig.target_uri)
    watcher = libvirt.open(rig.source_uri)
    outcome: dict[str, object] = {}

    def migrate() -> None:
        t0 = time.monotonic()
        try:
            outcome["result"] = src.lookupByName(name).migrate3(dst, {}, MANAGED)
        except libvirt.libvirtError as exc:
            outcome["error"] = exc
        outcome["seconds"] = time.monotonic() - t0

    thread = threading.Thread(target=migrate, daemon=True)

    try:
        dom = watcher.lookupByName(name)
        assert migration_rig.rewrites_memory(dom)  # the guest keeps dirtying its memory
        dom.migrateSetMaxSpeed(1, 0)  # MiB/s
        assert dom.migrateGetMaxSpeed(0) == 1
        t0 = time.monotonic()
        thread.start()

        samples: list[dict] = []
        times: list[float] = []
        deadline = t0 + 20
        while len(samples) < 5 and time.monotonic() < deadline and thread.is_alive():
            stats = dom.jobStats()
            if stats.get("type") == libvirt.VIR_DOMAIN_JOB_UNBOUNDED and stats.get("data_total"):
                if not samples or stats["data_processed"] != samples[-1]["data_processed"]:
                    samples.append(stats)
                    times.append(time.monotonic())
                    print(
                        f"[migration rig] t={time.monotonic() - t0:5.2f}s "
                        f"processed={stats['data_processed']} "
                        f"remaining={stats['data_remaining']} total={stats['data_total']} "
                        f"iteration={stats.get('memory_iteration')} "
                        f"bps={stats.get('memory_bps')}"
                    )
            time.sleep(0.3)
        assert thread.is_alive(), f"the throttled migration ended by itself: {outcome}"
        assert len(samples) >= 4, samples

        processed = [s["data_processed"] for s in samples]
        remaining = [s["data_remaining"] for s in samples]
        assert processed == sorted(processed) and len(set(processed)) == len(processed)
        assert len(set(remaining)) > 1
        assert all(s["data_total"] >= 30 * 1024 * 1024 for s in samples)
        assert all(
            s["operation"] == libvirt.VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT for s in samples
        )
        # Throttled to 1 MiB/s (not much faster: the pages are not zero pages, which QEMU
        # would send in a few bytes each), so far from done with 32 MiB.
        rate = (processed[-1] - processed[0]) / (times[-1] - times[0])
        print(f"[migration rig] throttled rate {rate / 2**20:.2f} MiB/s")
        assert rate < 2 * 2**20, rate
        assert samples[-1]["data_remaining"] > 16 * 2**20

        _timed("abortJob", dom.abortJob)
        thread.join(30)
        assert not thread.is_alive()
        print(f"[migration rig] throttled migrate3 returned after {outcome['seconds']:.2f}s")
        error = outcome.get("error")
        assert isinstance(error, libvirt.libvirtError), outcome
        assert error.get_error_code() == libvirt.VIR_ERR_OPERATION_ABORTED, error
        print(f"[migration rig] aborted: {error}")
        _assert_runs_only_on(rig.source, rig.target, name)
        assert dom.jobStats().get("type") == libvirt.VIR_DOMAIN_JOB_NONE
    finally:
        if thread.is_alive():  # a check failed mid-way: never close a busy connection
            with contextlib.suppress(libvirt.libvirtError):
                watcher.lookupByName(name).abortJob()
            thread.join(30)
        for conn in (watcher, src, dst):
            conn.close()
        rig.remove_guest(name)  # it burns a CPU: do not keep it


def test_migration_to_the_same_daemon_is_refused(rig: MigrationRig) -> None:
    name = _start(rig)
    src = libvirt.open(rig.source_uri)
    again = libvirt.open(rig.source_uri)  # a second connection to the same daemon
    try:
        dom = src.lookupByName(name)
        with pytest.raises(libvirt.libvirtError) as managed:
            _timed("migrate3 to the same daemon", dom.migrate3, again, {}, MANAGED)
        print(f"[migration rig] migrate3 to itself: {managed.value}")
        with pytest.raises(libvirt.libvirtError) as p2p:
            _timed(
                "migrateToURI3 P2P to the same daemon",
                dom.migrateToURI3,
                rig.p2p_uri(rig.source),
                {},
                P2P,
            )
        print(f"[migration rig] P2P to itself: {p2p.value}")
        # libvirt 9.0: VIR_ERR_INTERNAL_ERROR, "internal error: Attempt to migrate guest
        # to the same host <host_uuid>" (the target compares the cookie's host UUID).
        for exc in (managed.value, p2p.value):
            assert exc.get_error_code() == libvirt.VIR_ERR_INTERNAL_ERROR, exc
            assert "Attempt to migrate guest to the same host" in str(exc), exc
            assert rig.host_uuids[0] in str(exc), exc
        _assert_runs_only_on(rig.source, rig.target, name)
    finally:
        src.close()
        again.close()


def test_writable_disk_on_local_storage_is_refused_as_unsafe(rig: MigrationRig) -> None:
    """The rig's guests have read-only disks because libvirt 9.0 calls a writable disk
    on a local filesystem unsafe to live-migrate, whatever its cache mode."""
    name = _start(rig, readonly=False)
    src = libvirt.open(rig.source_uri)
    dst = libvirt.open(rig.target_uri)
    try:
        with pytest.raises(libvirt.libvirtError) as unsafe:
            src.lookupByName(name).migrate3(dst, {}, MANAGED)
        print(f"[migration rig] writable local disk: {unsafe.value}")
        assert unsafe.value.get_error_code() == libvirt.VIR_ERR_MIGRATE_UNSAFE
        assert "Migration without shared storage is unsafe" in str(unsafe.value)
        _assert_runs_only_on(rig.source, rig.target, name)
    finally:
        src.close()
        dst.close()
        rig.remove_guest(name)
