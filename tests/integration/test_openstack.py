"""OpenStack compute nodes: domains named `instance-0000002a` show the Nova name beside
it, Flavor and Project columns, the filter matches them, the detail screen lists them;
read once per instance (no XML read per pass) and again on a metadata-change event."""

from __future__ import annotations

from collections.abc import Iterator

import libvirt
import pytest

from tests.support import daemons
from tests.support.pilot_helpers import until
from tests.ui.conftest import build_app
from xentui.backend.libvirt.domxml import NOVA_NAMESPACES
from xentui.config import DEFAULT_COLUMNS, Settings
from xentui.ui.columns import COLUMNS, matches

pytestmark = pytest.mark.integration

NOVA_11, NOVA_10 = NOVA_NAMESPACES


def nova_xml(ns: str, name: str, flavor: str, project: str) -> str:
    return (f"<nova:instance xmlns:nova='{ns}'><nova:name>{name}</nova:name>"
            f"<nova:flavor name='{flavor}'><nova:vcpus>1</nova:vcpus></nova:flavor>"
            f"<nova:owner><nova:user uuid='u1'>alice</nova:user>"
            f"<nova:project uuid='p1'>{project}</nova:project></nova:owner></nova:instance>")


def domain(name: str, metadata: str = "") -> str:
    meta = f"<metadata>{metadata}</metadata>" if metadata else ""
    return (f"<domain type='test'><name>{name}</name>{meta}<memory unit='MiB'>64</memory>"
            "<vcpu>1</vcpu><os><type>hvm</type></os></domain>")


@pytest.fixture
def compute_node() -> Iterator[tuple[str, libvirt.virConnect]]:
    """A daemon holding two Nova instances (1.1 and 1.0 metadata) and a plain domain."""
    with daemons.running("test") as daemon:
        conn = libvirt.open(daemon.uri)
        try:
            for dom in conn.listAllDomains(0):
                if dom.isActive():
                    dom.destroy()
                dom.undefine()
            conn.defineXML(domain("instance-0000002a",
                                  nova_xml(NOVA_11, "web-1", "m1.small", "shop"))).create()
            conn.defineXML(domain("instance-00000007",
                                  nova_xml(NOVA_10, "legacy-db", "m1.large", "billing")))
            conn.defineXML(domain("plain")).create()
            yield daemon.uri, conn
        finally:
            conn.close()


async def test_nova_names_columns_filter_and_detail(compute_node, monkeypatch) -> None:
    uri, observer = compute_node
    reads: list[str] = []
    xml_desc = libvirt.virDomain.XMLDesc

    def counted(self: libvirt.virDomain, flags: int = 0) -> str:
        reads.append(self.name())
        return xml_desc(self, flags)

    monkeypatch.setattr(libvirt.virDomain, "XMLDesc", counted)
    columns = (*DEFAULT_COLUMNS, "flavor", "project")
    app = build_app(uri, settings=Settings(interval=0.3, columns=columns))
    async with app.run_test(size=(200, 40)) as pilot:
        table = app.main.table
        await until(pilot, lambda: app.passes >= 4, 10, "four passes")
        by_name = {f.name: f for f in table.figures.values()}
        web, legacy = by_name["instance-0000002a"], by_name["instance-00000007"]
        assert COLUMNS["name"].cell(web) == "instance-0000002a (web-1)"
        assert COLUMNS["name"].cell(legacy) == "instance-00000007 (legacy-db)"  # nova 1.0
        assert COLUMNS["name"].cell(by_name["plain"]) == "plain"
        assert COLUMNS["flavor"].cell(web) == "m1.small"
        assert COLUMNS["project"].cell(legacy) == "billing"
        header = table.render_line(0).text
        assert "Flavor" in header and "Project" in header
        # Once per instance, not once per pass.
        assert sorted(reads) == sorted(set(reads)), reads

        # The filter matches Nova's names, flavors and projects.
        assert matches(web, "web-1") and matches(legacy, "billing")
        assert not matches(by_name["plain"], "shop")
        await pilot.press("slash", *"shop", "enter")
        await until(pilot, lambda: [table.figures[r].name for r in table.order]
                    == ["instance-0000002a"], 5, "the filter on the project")

        # The detail screen lists them.
        await pilot.press("enter")
        await until(pilot, lambda: getattr(app.screen, "detail", None) is not None, 10)
        nova = app.screen.detail.openstack  # type: ignore[attr-defined]
        assert (nova.name, nova.flavor, nova.project, nova.user) == (
            "web-1", "m1.small", "shop", "alice")
        await pilot.press("escape")

        # Nova renames the instance (a separate connection): the metadata-change event
        # makes the console read it again.
        # (setMetadata takes the element without its namespace: libvirt adds `nova:`.)
        renamed = ("<instance><name>web-2</name><flavor name='m1.small'/>"
                   "<owner><project uuid='p1'>shop</project></owner></instance>")
        observer.lookupByName("instance-0000002a").setMetadata(
            libvirt.VIR_DOMAIN_METADATA_ELEMENT, renamed, "nova", NOVA_11,
            libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_AFFECT_CONFIG)
        await until(pilot, lambda: any(
            f.sample.openstack is not None and f.sample.openstack.name == "web-2"
            for f in table.figures.values()), 5, "the new Nova name")
