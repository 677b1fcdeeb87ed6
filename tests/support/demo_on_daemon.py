"""The demo host's guests, defined on a private test-driver daemon.

Through a daemon, libvirt's `test:///default` is one shared state, so a second
connection sees what the app did: that is how UI tests check actions independently.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import libvirt

from xentui.demo import TEST_NS, node_path

_RUNSTATE = re.compile(r"\s*<test:runstate>(\d+)</test:runstate>")


def demo_domains() -> list[tuple[str, int]]:
    """(domain XML without the test namespace's runstate, wanted state) of the demo."""
    root = ET.parse(node_path()).getroot()
    out: list[tuple[str, int]] = []
    for dom in root.findall("domain"):
        state_el = dom.find(f"{{{TEST_NS}}}runstate")
        state = int(state_el.text or "1") if state_el is not None else 1
        if state_el is not None:
            dom.remove(state_el)
        out.append((ET.tostring(dom, encoding="unicode"), state))
    return out


def populate(conn: libvirt.virConnect) -> None:
    """Replace the daemon's default domain with the demo host's, in their states."""
    for dom in conn.listAllDomains(0):
        if dom.isActive():
            dom.destroy()
        if dom.isPersistent():
            dom.undefine()
    for xml, state in demo_domains():
        dom = conn.defineXML(xml)
        if state in (1, 2, 3):
            dom.create()
        if state == 3:
            dom.suspend()
