"""Which console libvirt would open, read from a domain's XML (the first console, else
the first serial port; only a pty can be attached)."""

from __future__ import annotations

import pytest

from xentui.backend.libvirt.console import NO_DEVICE_REASON, device_reason


def xml(devices: str) -> str:
    return f"<domain><name>g</name><devices>{devices}</devices></domain>"


@pytest.mark.parametrize("devices", [
    "<console type='pty'><target type='xen' port='0'/></console>",  # a Xen PV guest
    "<serial type='pty'><target port='0'/></serial>",
    "<serial type='pty'/><console type='pty'><target type='serial'/></console>",
])
def test_a_pty_console_can_be_attached(devices: str) -> None:
    assert device_reason(xml(devices)) is None


def test_no_console_and_no_serial_port() -> None:
    assert device_reason(xml("<disk type='file'/>")) == NO_DEVICE_REASON


def test_a_console_that_is_not_a_pty() -> None:
    reason = device_reason(xml("<console type='file'><source path='/tmp/x'/></console>"))
    assert reason is not None and "'file'" not in reason and "file device" in reason


def test_unreadable_xml_leaves_it_to_libvirt() -> None:
    assert device_reason("<domain") is None
