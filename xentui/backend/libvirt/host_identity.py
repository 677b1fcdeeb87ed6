"""Which physical machine a libvirt connection reaches, to tell two fleet hosts that are
one machine (blocking; run in a host's pool).

The host UUID in the capabilities XML is libvirt's own identity of a machine (from its
SMBIOS, or `host_uuid` in libvirtd.conf); QEMU's migration compares it. libvirt's libxl
driver (9.0) reports none, so there the SMBIOS system UUID (`virConnectGetSysinfo`) is
used, and only with the hostname agreeing too: some boards ship one SMBIOS UUID for a
whole series. Domain UUIDs say nothing here: Domain-0's is all zeros on every Xen host.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

import libvirt
from xentui.backend.libvirt.errors import UNSUPPORTED_CODES


def as_uuid(text: str | None) -> str | None:
    """`text` as a lower-case UUID; None when it is none (libvirt's "Not Settable", an
    all-zero one or any with every digit the same: libvirt's test for one never set)."""
    value = (text or "").strip().lower()
    digits = value.replace("-", "")
    if len(digits) != 32 or len(set(digits)) < 2:
        return None
    try:
        int(digits, 16)
    except ValueError:
        return None
    return value


def _xml_text(document: str, path: str) -> str | None:
    try:
        node = ET.fromstring(document).find(path)
    except ET.ParseError:
        return None
    return node.text if node is not None else None


def caps_host_uuid(capabilities_xml: str) -> str | None:
    """The host UUID in capabilities XML (`/capabilities/host/uuid`); None if none."""
    return as_uuid(_xml_text(capabilities_xml, "host/uuid"))


def smbios_uuid(sysinfo_xml: str) -> str | None:
    """The SMBIOS system UUID in sysinfo XML (`/sysinfo/system/entry[@name='uuid']`)."""
    return as_uuid(_xml_text(sysinfo_xml, "system/entry[@name='uuid']"))


@dataclass(frozen=True, slots=True)
class MachineFacts:
    """What a connection tells of its machine beyond the capabilities' host UUID; None
    for what it does not tell."""

    smbios_uuid: str | None
    hostname: str | None


def read_machine_facts(conn: libvirt.virConnect) -> MachineFacts:
    """The SMBIOS system UUID and the hostname (each None if the driver cannot say)."""
    try:
        smbios = smbios_uuid(conn.getSysinfo(0))
    except libvirt.libvirtError:
        smbios = None
    try:
        hostname = conn.getHostname().strip() or None
    except libvirt.libvirtError:
        hostname = None
    return MachineFacts(smbios, hostname)


def read_host_uuid(conn: libvirt.virConnect) -> str | None:
    """The connection's host UUID from its capabilities; None if it reports none or the
    driver has no capabilities to give (another failure is raised)."""
    try:
        return caps_host_uuid(conn.getCapabilities())
    except libvirt.libvirtError as err:
        if err.get_error_code() in UNSUPPORTED_CODES:
            return None
        raise


def same_machine(src: libvirt.virConnect, dest: libvirt.virConnect) -> str | None:
    """The evidence, for a message, that both connections reach one machine; None when
    they reach two, or nothing tells. Two or four calls per side."""
    here, there = read_host_uuid(src), read_host_uuid(dest)
    if here is not None and there is not None:
        return f"host UUID {here}" if here == there else None
    mine, theirs = read_machine_facts(src), read_machine_facts(dest)
    if mine.smbios_uuid is None or mine.hostname is None or mine != theirs:
        return None
    return f"SMBIOS UUID {mine.smbios_uuid}, hostname {mine.hostname}"
