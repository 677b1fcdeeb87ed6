"""Regenerate xentui/demo/node.xml: `python -m xentui.demo.build_node`."""

from __future__ import annotations

from xentui.demo import guest_xml, node_path, node_xml

# Guests in id order: the test driver gives running guests ids 2, 3, ... after
# Domain-0 (id 1), and Xen names a guest's first NIC vif<id>.0.
GUESTS = [
    guest_xml("web01", vcpus=2, mem_mib=2048, maxmem_mib=4096, vif=2),
    guest_xml("web02", vcpus=2, mem_mib=2048, maxmem_mib=4096, vif=3),
    guest_xml("db01", vcpus=4, mem_mib=8192, maxmem_mib=8192, vif=4, disks=2),
    guest_xml("mail", vcpus=1, mem_mib=1024, maxmem_mib=2048, vif=5),
    guest_xml("[b]evil ünïcode & co", vcpus=1, mem_mib=512, maxmem_mib=1024, vif=6),
    guest_xml("build-runner", state="paused", vcpus=4, mem_mib=4096, vif=7),
    guest_xml("cache01", state="blocked", vcpus=2, mem_mib=3072, maxmem_mib=4096, vif=8),
    guest_xml("backup", state="shutoff", vcpus=1, mem_mib=1024),
    guest_xml("win-test", state="shutoff", vcpus=2, mem_mib=4096),
    guest_xml("dev-sandbox", state="shutoff", vcpus=1, mem_mib=768, maxmem_mib=2048),
]

if __name__ == "__main__":
    node_path().write_text(node_xml(GUESTS), encoding="utf-8")
