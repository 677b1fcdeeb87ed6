"""Two private QEMU session daemons on this machine that live-migrate guests between
them (issue 10, "Proof" of live migration).

:func:`running` starts two session-mode libvirtd (``tests.support.daemons``), both as
the test user, each in its own private temp dir, plus a third one for the disks::

    /tmp/xentui-qemud-XXXX/        the source daemon (home, sockets, logs)
    /tmp/xentui-qemud-YYYY/        the target daemon
    /tmp/xentui-migration-ZZZZ/    the guests' disk images, the same path for both

and yields a :class:`MigrationRig`. The dirs are side by side, not nested: QEMU's
monitor socket is ``<daemon>/home/.config/libvirt/qemu/lib/domain-<id>-<name>/
monitor.sock``, and one more directory level breaks the 108-byte limit of a unix
socket path.

What makes two daemons on one host migrate:

* each has its own ``host_uuid`` (its libvirtd.conf): QEMU's migration cookie carries
  the host UUID and a daemon refuses an incoming guest from a host with its own UUID
  ("Attempt to migrate guest to the same host");
* each has its own migration port range (its qemu.conf ``migration_port_min`` /
  ``migration_port_max``), on MIGRATION_HOST (127.0.0.2: ``migration_address`` to
  listen on, ``migration_host`` to advertise to the source), so no FQDN is needed;
* the disk is *shared*: one image in the rig's dir, at the same path for both daemons
  (both run as the same user, so both may open it), and *read-only*. libvirt 9.0
  refuses to live-migrate a guest with a writable file disk on a local filesystem
  (ext4, tmpfs, ...) whatever its cache mode -- qemuMigrationSrcIsSafe: "Unsafe
  migration: Migration without shared storage is unsafe" (VIR_ERR_MIGRATE_UNSAFE) --
  unless the caller adds VIR_MIGRATE_UNSAFE (or copies storage); read-only disks are
  exempt. (Newer libvirt has a qemu.conf ``shared_filesystems`` list for exactly this
  case; 9.0 has not.) The guests never write to their disk: it only holds a boot
  sector. ``start_guest(readonly=False)`` makes a writable one (``cache='none'``),
  to see that refusal;
* peer-to-peer: the source daemon itself connects to the target's ``uri``
  (``qemu+unix:///session?socket=<target>/run/libvirt/libvirt-sock``); it may, as it
  runs as the same user as the target daemon and the socket's dirs are that user's.

:meth:`MigrationRig.start_guest` defines and starts a tiny TCG guest on the source;
``dirty_memory=True`` gives it a boot sector that switches to 32-bit protected mode and
rewrites all its RAM above 1 MiB forever, so a throttled migration has real work to do
and never converges by itself (progress samples, then abort).
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tests.support import daemons
from tests.support.daemons import PrivateDaemon
from tests.support.qemu_guest import create_disk, domain_xml, qemu_img

# Where the target QEMU listens for the migration stream and what it tells the source to
# connect to. Not 127.0.0.1: libvirt refuses `migration_host = "127.0.0.1"` ("must not
# be the address of the local machine"; it checks that one address only), and without
# migration_host the target would advertise its hostname (and listen on every address).
# 127.0.0.2 is loopback too on Linux (all of 127.0.0.0/8 is on `lo`).
MIGRATION_HOST = "127.0.0.2"
PORTS_PER_DAEMON = 8
_PORT_LOW, _PORT_HIGH = 20000, 32000  # below Linux's ephemeral ports (32768-60999)


@dataclass
class MigrationRig:
    """Source and target daemons (both QEMU session daemons) and the guests made here."""

    base: Path
    source: PrivateDaemon
    target: PrivateDaemon
    host_uuids: tuple[str, str]
    port_ranges: tuple[tuple[int, int], tuple[int, int]]
    guests: list[str] = field(default_factory=list)

    @property
    def shared_dir(self) -> Path:
        """Where the guests' disks are (the same path for both daemons)."""
        return self.base

    @property
    def source_uri(self) -> str:
        return self.source.uri

    @property
    def target_uri(self) -> str:
        return self.target.uri

    def p2p_uri(self, daemon: PrivateDaemon) -> str:
        """The URI a *peer daemon* uses for PEER2PEER migration to *daemon*: its own
        unix-socket URI (the peers run as the same user)."""
        return daemon.uri

    def start_guest(
        self,
        name: str | None = None,
        *,
        memory_kib: int = 64 * 1024,
        dirty_memory: bool = False,
        nic: bool = True,
        readonly: bool = True,
    ) -> str:
        """Define and start a tiny guest on the source daemon; return its name.

        Its disk is ``<rig dir>/<name>.qcow2``, read-only (see the module docstring):
        a blank image (the guest idles in the BIOS) or, with *dirty_memory*, one whose
        boot sector keeps rewriting the guest's RAM.
        """
        import libvirt

        name = name or f"mig-{uuid.uuid4().hex[:8]}"
        disk = self.shared_dir / f"{name}.qcow2"
        if dirty_memory:
            dirtying_disk(disk, memory_kib * 1024)
        else:
            create_disk(disk)
        self.source.chown(disk)
        xml = domain_xml(name, disk, memory_kib=memory_kib, nic=nic)
        driver = "<driver name='qemu' type='qcow2'/>"
        if readonly:
            xml = xml.replace(driver, driver + "\n      <readonly/>")
        else:
            xml = xml.replace(driver, "<driver name='qemu' type='qcow2' cache='none'/>")
        self.guests.append(name)
        conn = libvirt.open(self.source_uri)
        try:
            conn.defineXML(xml).create()
        finally:
            conn.close()
        return name

    def remove_guest(self, name: str) -> None:
        """Destroy and undefine guest *name* wherever it is now; delete its disk."""
        import libvirt

        for daemon in (self.source, self.target):
            if not daemon.running():
                continue
            try:
                conn = libvirt.open(daemon.uri)
            except libvirt.libvirtError:
                continue
            try:
                dom = conn.lookupByName(name)
                with contextlib.suppress(libvirt.libvirtError):
                    if dom.isActive():
                        dom.destroy()
                with contextlib.suppress(libvirt.libvirtError):
                    if dom.isPersistent():
                        dom.undefine()
            except libvirt.libvirtError:
                pass
            finally:
                conn.close()
        with contextlib.suppress(OSError):
            (self.shared_dir / f"{name}.qcow2").unlink()
        with contextlib.suppress(ValueError):
            self.guests.remove(name)

    def remove_guests(self) -> None:
        """Destroy and undefine every guest made here, wherever it is now."""
        for name in list(self.guests):
            self.remove_guest(name)

    def cleanup(self) -> None:
        """Stop both daemons and every QEMU they run (at once: each stop may wait for a
        slow reaper), then delete their dirs and the disks."""
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(PrivateDaemon.cleanup, (self.source, self.target)))
        shutil.rmtree(self.base, ignore_errors=True)
        self.guests.clear()


def dirtying_boot_sector(ram_bytes: int) -> bytes:
    """A 512-byte boot sector: enable A20, load a flat GDT, enter 32-bit protected mode
    and fill [1 MiB, RAM - 1 MiB) with an ever-increasing dword, forever (interrupts
    off; the BIOS is never called again, so overwriting its high tables is harmless)."""
    org, pm, gdt, desc = 0x7C00, 0x30, 0x60, 0x60 + 24
    count = max(ram_bytes - 2 * 1024 * 1024, 4096) // 4
    h = bytes.fromhex
    code16 = b"".join(
        [
            h("FA"),  # cli
            h("31C0"),  # xor ax, ax
            h("8ED8"),  # mov ds, ax
            h("E4920C02E692"),  # fast A20: in al, 0x92; or al, 2; out 0x92, al
            h("0F0116") + struct.pack("<H", org + desc),  # lgdt [desc]
            h("0F20C0"),  # mov eax, cr0
            h("6683C801"),  # or eax, 1
            h("0F22C0"),  # mov cr0, eax
            h("66EA") + struct.pack("<IH", org + pm, 0x08),  # jmp dword 0x08:pm (32-bit)
        ]
    )
    code32 = b"".join(
        [
            h("66B81000"),  # mov ax, 0x10 (the flat data segment)
            h("8ED8"),  # mov ds, ax
            h("8EC0"),  # mov es, ax
            h("31DB"),  # xor ebx, ebx
            h("43"),  # again: inc ebx
            h("BF") + struct.pack("<I", 0x100000),  # mov edi, 1 MiB
            h("B9") + struct.pack("<I", count),  # mov ecx, count
            h("89D8"),  # mov eax, ebx
            h("F3AB"),  # rep stosd
            h("EBEF"),  # jmp again (-17)
        ]
    )
    flat = bytes(8) + h("FFFF0000009ACF00") + h("FFFF00000092CF00")  # null, code, data
    sector = bytearray(512)
    assert len(code16) <= pm and pm + len(code32) <= gdt
    sector[: len(code16)] = code16
    sector[pm : pm + len(code32)] = code32
    sector[gdt : gdt + 24] = flat
    sector[desc : desc + 6] = struct.pack("<HI", 23, org + gdt)
    sector[510:512] = b"\x55\xaa"
    return bytes(sector)


def dirtying_disk(path: Path, ram_bytes: int) -> Path:
    """A 1 MiB qcow2 image at *path* that boots :func:`dirtying_boot_sector`."""
    raw = path.with_suffix(".raw")
    raw.write_bytes(dirtying_boot_sector(ram_bytes) + bytes(512 * 2047))
    argv = [qemu_img() or "qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2"]
    try:
        subprocess.run([*argv, str(raw), str(path)], check=True)
    finally:
        raw.unlink()
    return path


def rewrites_memory(dom: object, seconds: float = 15.0) -> bool:
    """The dirtying guest's pass counter (the dword at 1 MiB, the first one it writes in
    each pass over its RAM) is set and then moves on: it keeps rewriting its memory."""
    import libvirt

    assert isinstance(dom, libvirt.virDomain)

    def counter() -> int:
        return struct.unpack("<I", dom.memoryPeek(1 << 20, 4, libvirt.VIR_MEMORY_PHYSICAL))[0]

    deadline = time.monotonic() + seconds
    while (first := counter()) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    while counter() == first and time.monotonic() < deadline:
        time.sleep(0.05)
    return first != 0 and counter() != first


def _ports_free(low: int, high: int) -> bool:
    for port in range(low, high + 1):
        with socket.socket() as s:
            try:
                s.bind((MIGRATION_HOST, port))
            except OSError:
                return False
    return True


def pick_port_ranges() -> tuple[tuple[int, int], tuple[int, int]]:
    """Two adjacent, currently free port ranges of PORTS_PER_DAEMON ports each (a random
    place, so rigs of concurrent test runs rarely meet; libvirt's port allocator skips
    a port that is taken anyway)."""
    span = 2 * PORTS_PER_DAEMON
    for _ in range(50):
        low = random.randrange(_PORT_LOW, _PORT_HIGH - span, span)
        if _ports_free(low, low + span - 1):
            break
    mid = low + PORTS_PER_DAEMON
    return (low, mid - 1), (mid, mid + PORTS_PER_DAEMON - 1)


def _qemu_conf(ports: tuple[int, int]) -> tuple[str, ...]:
    return (
        f'migration_address = "{MIGRATION_HOST}"',
        f'migration_host = "{MIGRATION_HOST}"',
        f"migration_port_min = {ports[0]}",
        f"migration_port_max = {ports[1]}",
    )


def start_rig(parent: str | Path | None = None) -> MigrationRig:
    """Start the two daemons (see the module docstring); the caller must cleanup()."""
    user = daemons.ensure_test_user()
    base = Path(tempfile.mkdtemp(prefix="xentui-migration-", dir=parent))
    base.chmod(0o700)
    if os.geteuid() == 0:
        os.chown(base, user.pw_uid, user.pw_gid)
    uuids = (str(uuid.uuid4()), str(uuid.uuid4()))
    ranges = pick_port_ranges()
    started: list[PrivateDaemon] = []
    try:
        for host_uuid, ports in zip(uuids, ranges, strict=True):
            started.append(
                daemons.start_qemu_daemon(
                    parent,
                    libvirtd_conf=(f'host_uuid = "{host_uuid}"',),
                    qemu_conf=_qemu_conf(ports),
                )
            )
    except BaseException:
        for daemon in started:
            daemon.cleanup()
        shutil.rmtree(base, ignore_errors=True)
        raise
    return MigrationRig(base, started[0], started[1], uuids, ranges)


@contextlib.contextmanager
def running(parent: str | Path | None = None) -> Iterator[MigrationRig]:
    """A migration rig for a fixture, always cleaned up; skipped (failed in CI) where
    this machine cannot run QEMU daemons."""
    if not daemons.qemu_driver_available():
        daemons.unavailable(
            "libvirtd/virtlogd/qemu-system-x86_64/qemu-img or the QEMU driver missing"
        )
    rig = start_rig(parent)
    try:
        yield rig
    finally:
        rig.cleanup()
