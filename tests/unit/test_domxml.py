"""Device discovery from domain XML (xentui.backend.domxml), by property."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from hypothesis import given
from hypothesis import strategies as st

from xentui.backend.libvirt.domxml import DomainDevices, parse_devices

names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1,
    max_size=12,
).filter(lambda s: s.strip() == s and s)

disk = st.fixed_dictionaries(
    {
        "dev": st.none() | names,
        "device": st.sampled_from(["disk", "cdrom", "floppy", "lun"]),
        "media": st.booleans(),
    }
)
nic = st.none() | names


def build(disks: list[dict], nics: list[str | None], balloon: str | None) -> str:
    parts = []
    for d in disks:
        src = "<source file='/img'/>" if d["media"] else ""
        tgt = f"<target dev={quoteattr(d['dev'])} bus='xen'/>" if d["dev"] is not None else ""
        parts.append(f"<disk type='file' device='{d['device']}'>{src}{tgt}</disk>")
    for n in nics:
        tgt = f"<target dev={quoteattr(n)}/>" if n is not None else ""
        parts.append(f"<interface type='bridge'><source bridge='br0'/>{tgt}</interface>")
    if balloon is not None:
        parts.append(f"<memballoon model='{balloon}'/>")
    return f"<domain type='xen'><name>x</name><devices>{''.join(parts)}</devices></domain>"


def unique(seq):
    out = []
    for x in seq:
        if x not in out:
            out.append(x)
    return tuple(out)


@given(st.lists(disk, max_size=8), st.lists(nic, max_size=8),
       st.none() | st.sampled_from(["xen", "virtio", "none"]))
def test_targets_found_in_order_without_duplicates(disks, nics, balloon):
    got = parse_devices(build(disks, nics, balloon))
    want_disks = unique(
        d["dev"] for d in disks
        if d["dev"] and not (d["device"] in ("cdrom", "floppy") and not d["media"])
    )
    assert got.disks == want_disks
    assert got.nets == unique(n for n in nics if n)


@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(text):
    assert isinstance(parse_devices(text), DomainDevices)


@given(st.lists(disk, max_size=4), st.lists(nic, max_size=4), st.integers(0, 400))
def test_truncated_xml_never_raises(disks, nics, cut):
    xml = build(disks, nics, "xen")
    got = parse_devices(xml[:cut])
    assert isinstance(got, DomainDevices)


def test_no_devices_element():
    assert parse_devices("<domain><name>x</name></domain>") == DomainDevices()


def test_openstack_metadata_both_namespaces_and_partial() -> None:
    from xentui.backend.libvirt.domxml import NOVA_NAMESPACES

    for ns in NOVA_NAMESPACES:
        xml = (f"<domain><name>instance-0000002a</name><metadata>"
               f"<nova:instance xmlns:nova='{ns}'><nova:name> web-1 </nova:name>"
               f"<nova:flavor name='m1.tiny'/></nova:instance></metadata></domain>")
        nova = parse_devices(xml).openstack
        assert nova is not None
        assert (nova.name, nova.flavor, nova.project, nova.user) == ("web-1", "m1.tiny", "", "")
    other = ("<domain><metadata><x:instance xmlns:x='http://example.com/other'>"
             "<x:name>no</x:name></x:instance></metadata></domain>")
    assert parse_devices(other).openstack is None
    assert parse_devices("<domain><name>plain</name></domain>").openstack is None
