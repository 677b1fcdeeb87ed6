"""What the per-domain path needs from a domain's XML: its disks and NICs."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DomainDevices:
    """Device names to ask counters for: disk targets and interface targets."""

    disks: tuple[str, ...] = ()
    nets: tuple[str, ...] = ()
    balloon: bool = False


def parse_devices(xml: str) -> DomainDevices:
    """Disk target devs (not CD-ROMs without media) and NIC target devs of a domain.

    Malformed XML gives no devices rather than an error: a pass must never fail on one
    odd domain.
    """
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return DomainDevices()
    devices = root.find("devices")
    if devices is None:
        return DomainDevices()
    disks: list[str] = []
    for disk in devices.findall("disk"):
        target = disk.find("target")
        dev = target.get("dev") if target is not None else None
        if not dev or (disk.get("device") in ("cdrom", "floppy") and disk.find("source") is None):
            continue
        if dev not in disks:
            disks.append(dev)
    nets: list[str] = []
    for nic in devices.findall("interface"):
        target = nic.find("target")
        dev = target.get("dev") if target is not None else None
        if dev and dev not in nets:
            nets.append(dev)
    balloon = devices.find("memballoon")
    has_balloon = balloon is not None and balloon.get("model") != "none"
    return DomainDevices(tuple(disks), tuple(nets), has_balloon)
