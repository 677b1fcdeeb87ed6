"""Helpers to build tiny, diskless-in-practice QEMU guests for integration tests.

The guest has no OS: it boots from a blank qcow2 disk and sits in the BIOS
forever, burning a little CPU (TCG, ``type='qemu'``), which is enough for
libvirt to report cpu, vcpu, balloon, block and net statistics.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from xml.sax.saxutils import escape

DEFAULT_DISK_SIZE = "16M"
DEFAULT_MEMORY_KIB = 64 * 1024


def qemu_img() -> str | None:
    """Path to qemu-img, or None when it is not installed."""
    return shutil.which("qemu-img")


def qemu_binary() -> str | None:
    """Path to qemu-system-x86_64, or None when it is not installed."""
    return shutil.which("qemu-system-x86_64")


def create_disk(path: str | Path, size: str = DEFAULT_DISK_SIZE) -> Path:
    """Create a blank qcow2 image at *path* (overwriting) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    exe = qemu_img() or "qemu-img"
    subprocess.run(
        [exe, "create", "-q", "-f", "qcow2", str(path), size],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return path


def domain_xml(
    name: str,
    disk_path: str | Path,
    *,
    memory_kib: int = DEFAULT_MEMORY_KIB,
    vcpus: int = 1,
    nic: bool = True,
    mac: str | None = None,
    emulator: str | None = None,
) -> str:
    """Return domain XML for a tiny TCG guest booting from *disk_path*.

    The NIC is ``type='user'`` (SLIRP): it needs no bridge or privileges and,
    with libvirt 9.0, still gets a ``<target dev='...'/>`` name so
    ``interfaceStats``/``net.*`` statistics work.
    """
    emulator = emulator or qemu_binary() or "/usr/bin/qemu-system-x86_64"
    mac_xml = f"\n      <mac address='{escape(mac)}'/>" if mac else ""
    nic_xml = (
        f"""
    <interface type='user'>{mac_xml}
      <model type='virtio'/>
    </interface>"""
        if nic
        else ""
    )
    return f"""<domain type='qemu'>
  <name>{escape(name)}</name>
  <memory unit='KiB'>{memory_kib}</memory>
  <currentMemory unit='KiB'>{memory_kib}</currentMemory>
  <vcpu placement='static'>{vcpus}</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <boot dev='hd'/>
  </os>
  <features>
    <acpi/>
  </features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>{escape(str(emulator))}</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{escape(str(disk_path))}'/>
      <target dev='vda' bus='virtio'/>
    </disk>{nic_xml}
    <controller type='usb' model='none'/>
    <memballoon model='virtio'/>
  </devices>
</domain>
"""


def make_guest(
    name: str, directory: str | Path, *, nic: bool = True, size: str = DEFAULT_DISK_SIZE
) -> tuple[str, Path]:
    """Create ``<directory>/<name>.qcow2`` and return ``(xml, disk_path)``."""
    disk = create_disk(Path(directory) / f"{name}.qcow2", size)
    return domain_xml(name, disk, nic=nic), disk


def prepare_embed_root(root: Path) -> str:
    """Make `root` usable by the in-process `qemu:///embed` driver; return the URI.

    As root the driver wants QEMU's stdio logged to files (no virtlogd) and runs QEMU
    as root; the users/groups `libvirt-qemu` and `kvm` must still exist (.ci/setup
    creates them). Call `libvirt.virEventRegisterDefaultImpl()` (xentui's
    `ensure_event_loop()`) before opening it.
    """
    etc = root / "etc"
    etc.mkdir(parents=True, exist_ok=True)
    # No virtlogd, no security driver, no cgroups and no private mount namespace: the
    # driver then works the same on a full machine, in a container and in a chroot.
    conf = [
        'stdio_handler = "file"',
        'security_driver = "none"',
        "cgroup_controllers = []",
        "namespaces = []",
    ]
    if os.geteuid() == 0:
        conf += ['user = "root"', 'group = "root"']
    (etc / "qemu.conf").write_text("\n".join(conf) + "\n")
    return f"qemu:///embed?root={root}"


def spinning_disk(folder: Path) -> Path:
    """A qcow2 disk whose boot sector loops forever: the guest burns one vCPU."""
    sector = bytearray(512)
    sector[0:2] = b"\xeb\xfe"  # jmp $
    sector[510:512] = b"\x55\xaa"
    raw = folder / "boot.raw"
    raw.write_bytes(bytes(sector) + bytes(512 * 2047))  # 1 MiB
    disk = folder / "boot.qcow2"
    subprocess.run([qemu_img() or "qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2",
                    str(raw), str(disk)], check=True)
    return disk
