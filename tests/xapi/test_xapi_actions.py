"""Every VM lifecycle action: its state transition, allowed_operations, its errors."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.support.xapi_server import XapiServer
from tests.xapi.conftest import ALLOWED, NULL, failure_of, vm_ref

# (VM of the seeded pool, action, its arguments after the VM, power state after)
TRANSITIONS = [
    ("spare", "start", (False, False), "Running"),
    ("spare", "start", (True, False), "Paused"),
    ("web", "clean_shutdown", (), "Halted"),
    ("web", "hard_shutdown", (), "Halted"),
    ("batch", "hard_shutdown", (), "Halted"),
    ("archive", "hard_shutdown", (), "Halted"),
    ("web", "clean_reboot", (), "Running"),
    ("web", "hard_reboot", (), "Running"),
    ("batch", "hard_reboot", (), "Running"),
    ("web", "pause", (), "Paused"),
    ("batch", "unpause", (), "Running"),
    ("web", "suspend", (), "Suspended"),
    ("archive", "resume", (False, False), "Running"),
    ("archive", "resume", (True, False), "Paused"),
]


def state(session: Any, vm: str) -> dict[str, Any]:
    """The fields an action changes."""
    rec = session.xenapi.VM.get_record(vm)
    keep = ("power_state", "domid", "resident_on", "allowed_operations", "current_operations")
    return {k: rec[k] for k in keep}


@pytest.mark.parametrize(("name", "action", "args", "after"), TRANSITIONS)
def test_each_action_moves_the_power_state(
    xapi: XapiServer, session: Any, name: str, action: str, args: tuple[Any, ...], after: str
) -> None:
    vm = vm_ref(session, name)
    before = state(session, vm)
    assert action in before["allowed_operations"]
    assert getattr(session.xenapi.VM, action)(vm, *args) == ""
    now = state(session, vm)
    assert now["power_state"] == after
    assert set(now["allowed_operations"]) == ALLOWED[after]
    assert now["current_operations"] == {}
    hosts = session.xenapi.host.get_all_records()
    if after in ("Running", "Paused"):
        assert now["domid"] != "-1" and now["resident_on"] in hosts
        assert vm in hosts[now["resident_on"]]["resident_VMs"]
        if action in ("clean_reboot", "hard_reboot") or before["domid"] == "-1":
            assert now["domid"] != before["domid"]  # a new domain
        else:
            assert now["domid"] == before["domid"]
    else:
        assert now["domid"] == "-1" and now["resident_on"] == NULL
        assert all(vm not in h["resident_VMs"] for h in hosts.values())


def test_start_on_and_resume_on_land_on_the_given_host(session: Any) -> None:
    api = session.xenapi.VM
    (host,) = session.xenapi.host.get_by_name_label("xcp-ng-03")
    spare, archive = vm_ref(session, "spare"), vm_ref(session, "archive")
    api.start_on(spare, host, False, False)
    api.resume_on(archive, host, False, False)
    assert {api.get_resident_on(spare), api.get_resident_on(archive)} == {host}
    assert {spare, archive} <= set(session.xenapi.host.get_resident_VMs(host))


def test_snapshot_creates_a_snapshot_and_leaves_the_vm_running(session: Any) -> None:
    web = vm_ref(session, "web")
    before = session.xenapi.VM.get_record(web)
    snap = session.xenapi.VM.snapshot(web, "before the test")
    rec = session.xenapi.VM.get_record(snap)
    assert rec["is_a_snapshot"] and rec["is_a_template"] and rec["snapshot_of"] == web
    assert rec["name_label"] == "before the test" and rec["power_state"] == "Halted"
    assert len(rec["VBDs"]) == len(before["VBDs"]) and rec["VBDs"] != before["VBDs"]
    after = session.xenapi.VM.get_record(web)
    assert after["snapshots"] == [*before["snapshots"], snap]
    assert (after["power_state"], after["domid"]) == ("Running", before["domid"])


# (VM, action, arguments, the expected states xapi names, the actual state)
BAD_STATES = [
    ("web", "start", (False, False), "halted", "running"),
    ("web", "start_on", (None, False, False), "halted", "running"),
    ("spare", "clean_shutdown", (), "running", "halted"),
    ("spare", "hard_shutdown", (), "paused, suspended, running", "halted"),
    ("batch", "clean_reboot", (), "running", "paused"),
    ("archive", "hard_reboot", (), "paused, running", "suspended"),
    ("archive", "pause", (), "running", "suspended"),
    ("web", "unpause", (), "paused", "running"),
    ("spare", "suspend", (), "running", "halted"),
    ("web", "resume", (False, False), "suspended", "running"),
    ("spare", "resume_on", (None, False, False), "suspended", "halted"),
]


@pytest.mark.parametrize(("name", "action", "args", "expected", "actual"), BAD_STATES)
def test_an_action_in_the_wrong_power_state_is_refused(
    session: Any, name: str, action: str, args: tuple[Any, ...], expected: str, actual: str
) -> None:
    vm = vm_ref(session, name)
    (host,) = session.xenapi.host.get_by_name_label("xcp-ng-01")
    args = tuple(host if a is None else a for a in args)
    before = state(session, vm)
    details = failure_of(getattr(session.xenapi.VM, action), vm, *args)
    assert details == ["VM_BAD_POWER_STATE", vm, expected, actual]
    assert state(session, vm) == before


def test_refused_operations(session: Any) -> None:
    api = session.xenapi.VM
    assert failure_of(api.pause, "OpaqueRef:gone") == ["HANDLE_INVALID", "VM", "OpaqueRef:gone"]
    (pool,) = session.xenapi.pool.get_all()
    dom0 = session.xenapi.host.get_control_domain(session.xenapi.pool.get_master(pool))
    for action in ("clean_shutdown", "hard_reboot", "suspend", "snapshot"):
        args = ("x",) if action == "snapshot" else ()
        assert failure_of(getattr(api, action), dom0, *args) == [
            "OPERATION_NOT_ALLOWED",
            "This operation is not allowed on a control domain",
        ]
    assert failure_of(api.start, dom0, False, False)[0] == "VM_BAD_POWER_STATE"
    template = vm_ref(session, "Debian Bookworm 12")
    assert failure_of(api.start, template, False, False) == ["VM_IS_TEMPLATE", template, "start"]
    assert failure_of(api.snapshot, template, "x") == ["VM_IS_TEMPLATE", template, "snapshot"]
    snap = vm_ref(session, "web before upgrade")
    assert failure_of(api.start, snap, False, False) == ["VM_IS_SNAPSHOT", snap, "start"]
    spare = vm_ref(session, "spare")
    assert failure_of(api.start, spare, False) == [
        "MESSAGE_PARAMETER_COUNT_MISMATCH",
        "VM.start",
        "4",
        "3",
    ]
    assert failure_of(api.assert_operation_valid, spare, "pause")[0] == "VM_BAD_POWER_STATE"
    assert api.assert_operation_valid(spare, "start") == ""


def test_start_needs_a_host_with_enough_free_memory(xapi: XapiServer, session: Any) -> None:
    xapi.db.add_vm("huge", memory_mib=256 * 1024)
    huge = vm_ref(session, "huge")
    details = failure_of(session.xenapi.VM.start, huge, False, False)
    assert details[0] == "HOST_NOT_ENOUGH_FREE_MEMORY"
    assert int(details[1]) == 256 * 1024 * 1024 * 1024 > int(details[2]) > 0
    assert session.xenapi.VM.get_power_state(huge) == "Halted"


def test_an_operation_in_progress_is_visible_then_completes(xapi: XapiServer, session: Any) -> None:
    xapi.set_operation_delay(0.4)
    spare = vm_ref(session, "spare")
    task = session.xenapi.Async.VM.start(spare, False, False)
    assert session.xenapi.task.get_status(task) == "pending"
    rec = session.xenapi.VM.get_record(spare)
    assert list(rec["current_operations"].values()) == ["start"]
    assert rec["power_state"] == "Halted" and rec["allowed_operations"] == []
    assert failure_of(session.xenapi.VM.start, spare, False, False) == [
        "OTHER_OPERATION_IN_PROGRESS",
        "VM.start",
        spare,
    ]
    deadline = time.monotonic() + 5
    while session.xenapi.task.get_status(task) == "pending" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert session.xenapi.task.get_status(task) == "success"
    rec = session.xenapi.VM.get_record(spare)
    assert rec["power_state"] == "Running" and rec["current_operations"] == {}
    assert set(rec["allowed_operations"]) == ALLOWED["Running"]
    xapi.set_operation_delay(0)
    failed = session.xenapi.Async.VM.unpause(spare)
    while session.xenapi.task.get_status(failed) == "pending":
        time.sleep(0.02)
    assert session.xenapi.task.get_error_info(failed) == [
        "VM_BAD_POWER_STATE",
        spare,
        "paused",
        "running",
    ]
