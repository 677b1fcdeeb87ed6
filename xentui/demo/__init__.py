"""The bundled Xen-shaped demo host, served by libvirt's in-process test driver."""

from __future__ import annotations

import uuid as uuidlib
from importlib import resources
from pathlib import Path
from xml.sax.saxutils import escape

TEST_NS = "http://libvirt.org/schemas/domain/test/1.0"
RUNSTATE = {"running": 1, "blocked": 2, "paused": 3, "shutoff": 5}


def node_path() -> Path:
    """The shipped node XML (Domain-0 and a dozen guests)."""
    return Path(str(resources.files("xentui.demo") / "node.xml"))


def demo_uri(path: Path | None = None) -> str:
    """A test-driver URI for a node file; each open of it is an independent copy."""
    return f"test://{(path or node_path()).resolve()}"


def guest_xml(
    name: str,
    *,
    uuid: str | None = None,
    state: str = "running",
    vcpus: int = 1,
    mem_mib: int = 1024,
    maxmem_mib: int | None = None,
    vif: int = 0,
    disks: int = 1,
) -> str:
    """One Xen-shaped PV guest in the test driver's node format."""
    uuid = uuid or str(uuidlib.uuid5(uuidlib.NAMESPACE_DNS, f"xentui-demo-{name}"))
    maxmem = maxmem_mib or mem_mib
    disk_xml = "".join(
        f"""
      <disk type='file' device='disk'>
        <driver name='qemu' type='raw'/>
        <source file='/var/lib/xen/images/{escape(name)}-{i}.img'/>
        <target dev='xvd{chr(ord("a") + i)}' bus='xen'/>
      </disk>"""
        for i in range(disks)
    )
    mac = ":".join(uuid.replace("-", "")[i : i + 2] for i in range(0, 6, 2))
    nic_xml = (
        f"""
      <interface type='bridge'>
        <mac address='00:16:3e:{mac}'/>
        <source bridge='xenbr0'/>
        <target dev='vif{vif}.0'/>
      </interface>"""
        if vif
        else ""
    )
    return f"""
  <domain type='xen' xmlns:test='{TEST_NS}'>
    <name>{escape(name)}</name>
    <uuid>{uuid}</uuid>
    <memory unit='MiB'>{maxmem}</memory>
    <currentMemory unit='MiB'>{mem_mib}</currentMemory>
    <vcpu>{vcpus}</vcpu>
    <os><type arch='x86_64'>xen</type></os>
    <devices>{disk_xml}{nic_xml}
      <memballoon model='xen'/>
    </devices>
    <test:runstate>{RUNSTATE[state]}</test:runstate>
  </domain>"""


def node_xml(guests: list[str], *, cpus: int = 8, mhz: int = 2400, mem_gib: int = 64) -> str:
    """A whole node: host CPU and memory, Domain-0, then the given guest elements."""
    dom0 = guest_xml(
        "Domain-0",
        uuid="00000000-0000-0000-0000-000000000000",
        vcpus=4,
        mem_mib=4096,
        disks=0,
    )
    return f"""<node>
  <cpu>
    <mhz>{mhz}</mhz>
    <model>x86_64</model>
    <nodes>1</nodes>
    <sockets>1</sockets>
    <cores>{cpus // 2}</cores>
    <threads>2</threads>
    <active>{cpus}</active>
  </cpu>
  <memory>{mem_gib * 1024 * 1024}</memory>{dom0}{"".join(guests)}
</node>
"""


def synthetic_node(n_guests: int) -> str:
    """A node with `n_guests` small guests (most running), for benchmarks and tests."""
    states = ("running", "running", "running", "paused", "shutoff")
    guests = [
        guest_xml(
            f"guest{i:05d}",
            state=states[i % len(states)],
            vcpus=1 + i % 4,
            mem_mib=256 + 64 * (i % 8),
            maxmem_mib=1024,
            vif=i + 1,
        )
        for i in range(n_guests)
    ]
    return node_xml(guests, cpus=64, mem_gib=max(64, n_guests))
