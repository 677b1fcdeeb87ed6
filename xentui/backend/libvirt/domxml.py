"""What the sampler needs from a domain's XML: its disks and NICs, and the names
OpenStack Nova wrote into its metadata."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from xentui.backend.models import OpenStackInfo

NOVA_NAMESPACES = (
    "http://openstack.org/xmlns/libvirt/nova/1.1",
    "http://openstack.org/xmlns/libvirt/nova/1.0",
)
"""Nova's metadata namespaces, newest first (older clouds write 1.0)."""


@dataclass(frozen=True, slots=True)
class DomainDevices:
    """Device names to ask counters for: disk targets and interface targets; and Nova's
    names when the domain is an OpenStack instance."""

    disks: tuple[str, ...] = ()
    nets: tuple[str, ...] = ()
    openstack: OpenStackInfo | None = None


def parse_openstack(root: ET.Element) -> OpenStackInfo | None:
    """Nova's `<nova:instance>` under `<metadata>`: its name, flavor, project and user."""
    for ns in NOVA_NAMESPACES:
        inst = root.find(f"metadata/{{{ns}}}instance")
        if inst is None:
            continue

        def text(path: str, inst: ET.Element = inst, ns: str = ns) -> str:
            el = inst.find(path.replace("N:", f"{{{ns}}}"))
            return (el.text or "").strip() if el is not None else ""

        flavor = inst.find(f"{{{ns}}}flavor")
        return OpenStackInfo(
            name=text("N:name"),
            flavor=flavor.get("name", "") if flavor is not None else "",
            project=text("N:owner/N:project"),
            user=text("N:owner/N:user"),
        )
    return None


def parse_devices(xml: str) -> DomainDevices:
    """Disk target devs (not CD-ROMs without media) and NIC target devs of a domain.

    Malformed XML gives no devices rather than an error: a pass must never fail on one
    odd domain.
    """
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return DomainDevices()
    openstack = parse_openstack(root)
    devices = root.find("devices")
    if devices is None:
        return DomainDevices(openstack=openstack)
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
    return DomainDevices(tuple(disks), tuple(nets), openstack)


def device_sources(xml: str) -> dict[str, str]:
    """Target dev -> where it points (disk file/device, NIC bridge/network and MAC)."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return {}
    out: dict[str, str] = {}
    for disk in root.iterfind("devices/disk"):
        target, source = disk.find("target"), disk.find("source")
        if target is not None and target.get("dev"):
            src = (
                ""
                if source is None
                else (source.get("file") or source.get("dev") or source.get("name") or "")
            )
            out[target.get("dev", "")] = src
    for nic in root.iterfind("devices/interface"):
        target, source, mac = nic.find("target"), nic.find("source"), nic.find("mac")
        if target is not None and target.get("dev"):
            where = "" if source is None else (source.get("bridge") or source.get("network") or "")
            addr = "" if mac is None else mac.get("address", "")
            out[target.get("dev", "")] = " ".join(x for x in (where, addr) if x)
    return out
