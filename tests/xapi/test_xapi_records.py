"""The pool view: records, lookups, field getters, guest metrics, allowed_operations."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.xapi_server import GUESTS, XapiServer
from tests.xapi.conftest import ALLOWED, NULL, failure_of, vm_ref

MIB = 1024 * 1024


def test_pool_view_hosts_control_domains_and_guests(xapi: XapiServer, session: Any) -> None:
    (pool,) = session.xenapi.pool.get_all_records().values()
    hosts = session.xenapi.host.get_all_records()
    assert pool["master"] in hosts and len(hosts) == 3
    vms = session.xenapi.VM.get_all_records()
    for ref, host in hosts.items():
        dom0 = vms[host["control_domain"]]
        assert dom0["is_control_domain"] and dom0["resident_on"] == ref and dom0["domid"] == "0"
        assert dom0["name_label"] == f"Control domain on host: {host['name_label']}"
        assert int(host["cpu_info"]["cpu_count"]) > 0
        assert host["software_version"]["product_brand"] == "XCP-ng"
        metrics = session.xenapi.host_metrics.get_record(host["metrics"])
        assert metrics["live"] is True
        assert 0 < int(metrics["memory_free"]) < int(metrics["memory_total"])
        residents = {r for r, v in vms.items() if v["resident_on"] == ref}
        assert set(host["resident_VMs"]) == residents
    guests = {
        v["name_label"]: v
        for v in vms.values()
        if not (v["is_a_template"] or v["is_a_snapshot"] or v["is_control_domain"])
    }
    assert set(guests) == set(GUESTS)
    assert {v["power_state"] for v in guests.values()} == set(ALLOWED)
    assert sum(v["is_a_template"] and not v["is_a_snapshot"] for v in vms.values()) == 2
    (snap,) = [v for v in vms.values() if v["is_a_snapshot"]]
    assert snap["is_a_template"] and vms[snap["snapshot_of"]]["name_label"] == "web"
    web, spare = guests["web"], guests["spare"]
    assert web["VCPUs_max"] == "2" and web["memory_static_max"] == str(2048 * MIB)
    assert spare["domid"] == "-1" and spare["resident_on"] == NULL
    web_metrics = session.xenapi.VM_metrics.get_record(web["metrics"])
    assert web_metrics["VCPUs_number"] == "2"
    assert web_metrics["VCPUs_utilisation"] == {"0": 0.0, "1": 0.0}  # legacy zeros
    assert web_metrics["memory_actual"] == web["memory_target"]
    assert [session.xenapi.VBD.get_device(v) for v in web["VBDs"]] == ["xvda", "xvdb", "xvdd"]
    assert session.xenapi.VIF.get_VM(web["VIFs"][0]) == vm_ref(session, "web")


CLASSES = ("pool", "host", "host_metrics", "VM", "VM_metrics", "VM_guest_metrics", "VIF", "VBD")


@pytest.mark.parametrize("cls", CLASSES)
def test_records_lookups_and_field_getters_agree(session: Any, cls: str) -> None:
    api = getattr(session.xenapi, cls)
    records = api.get_all_records()
    assert records and sorted(records) == sorted(api.get_all())
    ref, record = sorted(records.items())[0]
    assert api.get_record(ref) == record
    assert api.get_by_uuid(record["uuid"]) == ref
    for field, value in record.items():
        assert getattr(api, f"get_{field}")(ref) == value, field
    assert failure_of(api.get_record, "OpaqueRef:gone") == ["HANDLE_INVALID", cls, "OpaqueRef:gone"]


def test_guest_metrics_follow_the_domain(xapi: XapiServer, session: Any) -> None:
    api = session.xenapi.VM
    web = api.get_record(vm_ref(session, "web"))
    gm = session.xenapi.VM_guest_metrics.get_record(web["guest_metrics"])
    assert gm["live"] and gm["PV_drivers_detected"] and gm["os_version"]["name"]
    assert set(gm["networks"]) == {"0/ip", "0/ipv4/0"}  # web has one VIF
    assert api.get_guest_metrics(vm_ref(session, "batch")) == NULL  # no agent
    spare = vm_ref(session, "spare")
    assert api.get_guest_metrics(spare) == NULL  # never booted
    api.start(spare, False, False)
    first = api.get_guest_metrics(spare)
    assert session.xenapi.VM_guest_metrics.get_live(first) is True
    api.clean_reboot(spare)  # a new domain: the old record goes, a fresh one comes
    second = api.get_guest_metrics(spare)
    assert second not in (first, NULL)
    assert failure_of(session.xenapi.VM_guest_metrics.get_record, first)[0] == "HANDLE_INVALID"
    api.clean_shutdown(spare)  # stays, stale
    assert api.get_guest_metrics(spare) == second
    assert session.xenapi.VM_guest_metrics.get_live(second) is False


def test_allowed_operations_of_each_kind_of_vm(session: Any) -> None:
    vms = session.xenapi.VM.get_all_records()
    ops = {v["name_label"]: set(v["allowed_operations"]) for v in vms.values()}
    for name in GUESTS:
        state = session.xenapi.VM.get_power_state(vm_ref(session, name))
        assert ops[name] == ALLOWED[state], name
    dom0 = {"changing_static_range", "changing_dynamic_range"}
    assert ops["Control domain on host: xcp-ng-01"] == dom0
    template = {"clone", "copy", "export", "provision", "changing_static_range"}
    template |= {"changing_shadow_memory", "changing_dynamic_range"}
    assert ops["Debian Bookworm 12"] == template  # a default template: no destroy
    assert ops["Custom web template"] == template | {"destroy", "migrate_send"}
    assert ops["web before upgrade"] == {"clone", "copy", "destroy", "export", "revert"}


def test_setters_and_other_config(xapi: XapiServer, session: Any) -> None:
    api = session.xenapi.VM
    web = vm_ref(session, "web")
    api.set_name_label(web, "www")
    assert api.get_name_label(web) == "www" and xapi.db.snapshot("VM", web)["name_label"] == "www"
    api.add_to_other_config(web, "owner", "ops")
    assert api.get_other_config(web)["owner"] == "ops"
    assert failure_of(api.add_to_other_config, web, "owner", "dev") == [
        "MAP_DUPLICATE_KEY",
        "VM",
        "other_config",
        web,
        "owner",
    ]
    api.remove_from_other_config(web, "owner")
    assert "owner" not in api.get_other_config(web)
    # a template flagged default through other_config loses destroy, as in xapi
    custom = vm_ref(session, "Custom web template")
    api.add_to_other_config(custom, "default_template", "true")
    assert "destroy" not in api.get_allowed_operations(custom)
