"""Every action through XenAPI, its effect checked on a separate XenAPI session; greying
and its reason from each VM's allowed_operations; XAPI's errors as typed errors."""

from __future__ import annotations

from typing import Any

import pytest

from tests.xapi.backend_rig import Pool, eventually
from tests.xapi.conftest import vm_ref
from xentui.backend.actions import ACTIONS, why_not
from xentui.backend.errors import DomainGone, NotAllowed, PermissionDenied, Unsupported
from xentui.backend.models import DomainFigures
from xentui.backend.xapi import actions as xapi_actions
from xentui.backend.xapi.errors import translate
from xentui.backend.xapi.host import XapiHost


def _power(obs: Any, name: str) -> str:
    return str(obs.xenapi.VM.get_power_state(vm_ref(obs, name)))


def _domid(obs: Any, name: str) -> str:
    return str(obs.xenapi.VM.get_domid(vm_ref(obs, name)))


def _uuid(obs: Any, name: str) -> str:
    return str(obs.xenapi.VM.get_uuid(vm_ref(obs, name)))


@pytest.mark.parametrize(
    ("action", "vm", "before", "after"),
    [
        ("start", "spare", "Halted", "Running"),
        ("shutdown", "web", "Running", "Halted"),
        ("destroy", "db", "Running", "Halted"),
        ("pause", "cache", "Running", "Paused"),
        ("resume", "batch", "Paused", "Running"),
        ("save", "web", "Running", "Suspended"),
        ("restore", "archive", "Suspended", "Running"),
    ],
)
async def test_power_actions_change_the_vm_on_the_pool(
    pool: Pool, xhost: XapiHost, action: str, vm: str, before: str, after: str
) -> None:
    obs = pool.observer()
    assert _power(obs, vm) == before
    await xhost.sample()
    text = await xhost.act(_uuid(obs, vm), action)
    assert text.startswith(f"{vm}: ")
    assert _power(obs, vm) == after


@pytest.mark.parametrize("action", ["reboot", "reset"])
async def test_reboots_give_the_vm_a_new_domain(pool: Pool, xhost: XapiHost, action: str) -> None:
    obs = pool.observer()
    before = _domid(obs, "cache")
    await xhost.act(_uuid(obs, "cache"), action)
    assert _power(obs, "cache") == "Running" and _domid(obs, "cache") != before


async def test_snapshot_adds_a_snapshot_of_the_vm(pool: Pool, xhost: XapiHost) -> None:
    obs = pool.observer()
    before = set(obs.xenapi.VM.get_snapshots(vm_ref(obs, "db")))
    await xhost.act(_uuid(obs, "db"), "snapshot")
    new = set(obs.xenapi.VM.get_snapshots(vm_ref(obs, "db"))) - before
    assert len(new) == 1
    (snap,) = new
    assert obs.xenapi.VM.get_is_a_snapshot(snap) is True
    assert str(obs.xenapi.VM.get_name_label(snap)).startswith("db ")
    result = await xhost.sample()
    assert all(not f.name.startswith("db 2") for f in result.domains.values())


async def test_greying_follows_allowed_operations_with_a_reason(
    pool: Pool, xhost: XapiHost
) -> None:
    result = await xhost.sample()
    fig = {f.name: f for f in result.domains.values()}
    batch, web, archive = fig["batch"].sample, fig["web"].sample, fig["archive"].sample
    # paused: XAPI allows no suspend (the registry's states would)
    reason = why_not(ACTIONS["save"], batch, xhost.caps)
    assert reason == "XenAPI does not allow suspend now: the VM is paused"
    assert why_not(ACTIONS["resume"], batch, xhost.caps) is None
    # suspended reads as shut off, yet XAPI allows no start: only Restore (resume)
    assert "does not allow start" in (why_not(ACTIONS["start"], archive, xhost.caps) or "")
    assert why_not(ACTIONS["restore"], archive, xhost.caps) is None
    assert why_not(ACTIONS["shutdown"], web, xhost.caps) is None
    for name in ("undefine", "autostart", "revert", "snapshot-delete"):
        assert "not available for XenAPI pools" in (why_not(ACTIONS[name], web, xhost.caps) or "")
    dom0 = next(f.sample for f in result.domains.values() if f.is_dom0)
    assert "Domain-0" in (why_not(ACTIONS["shutdown"], dom0, xhost.caps) or "")
    pool.master.db.set_field("VM", "web", "blocked_operations", {"clean_shutdown": "change"})
    await xhost.sample()
    assert "does not allow clean_shutdown" in (why_not(ACTIONS["shutdown"], web, xhost.caps) or "")


async def test_refused_actions_raise_typed_one_line_errors(pool: Pool, xhost: XapiHost) -> None:
    obs = pool.observer()
    await xhost.sample()
    with pytest.raises(NotAllowed, match="paused") as info:
        await xhost.act(_uuid(obs, "batch"), "save")
    assert "\n" not in str(info.value)
    with pytest.raises(Unsupported):
        await xhost.act(_uuid(obs, "web"), "undefine")
    with pytest.raises(Unsupported, match="not supported"):
        await xhost.migrate_to(_uuid(obs, "web"), xhost, None)  # type: ignore[arg-type]
    assert not xhost.caps.has("migration") and not xhost.caps.has("console")
    assert "not supported" in xhost.caps.missing_reason("migration")
    gone = _uuid(obs, "spare")
    pool.master.db.destroy_vm("spare")
    with pytest.raises(DomainGone):
        await xhost.act(gone, "start")
    assert _power(obs, "web") == "Running"


async def test_a_readonly_pool_refuses_every_action(pool: Pool) -> None:
    host = XapiHost(pool.uri(), readonly=True)
    await host.connect()
    obs = pool.observer()
    try:
        with pytest.raises(PermissionDenied):
            await host.act(_uuid(obs, "web"), "shutdown")
    finally:
        await host.close()
    assert _power(obs, "web") == "Running"


def test_xapi_error_codes_become_typed_errors() -> None:
    bad = translate(["VM_BAD_POWER_STATE", "OpaqueRef:x", "halted", "running"], "Start web")
    assert isinstance(bad, NotAllowed)
    assert str(bad) == "Start web: the VM is running (it must be halted)"
    assert isinstance(translate(["HANDLE_INVALID", "VM", "OpaqueRef:x"], "x"), DomainGone)
    assert isinstance(translate(["OPERATION_NOT_ALLOWED", "dom0"], "x"), NotAllowed)
    assert isinstance(translate(["RBAC_PERMISSION_DENIED", "a", "b"], "x"), PermissionDenied)
    assert isinstance(translate(["MESSAGE_METHOD_UNKNOWN", "VM.x"], "x"), Unsupported)


async def test_actions_run_as_tasks_that_are_cleaned_up(pool: Pool, xhost: XapiHost) -> None:
    obs = pool.observer()
    await xhost.act(_uuid(obs, "web"), "pause")
    assert _power(obs, "web") == "Paused"
    assert obs.xenapi.task.get_all() == []


async def test_a_failed_task_is_a_typed_error(pool: Pool, xhost: XapiHost) -> None:
    obs = pool.observer()
    pool.master.db.add_vm("huge", memory_mib=512 * 1024)
    with pytest.raises(NotAllowed, match="no host has enough free memory") as info:
        await xhost.act(_uuid(obs, "huge"), "start")
    assert "\n" not in str(info.value)
    assert _power(obs, "huge") == "Halted" and obs.xenapi.task.get_all() == []


async def test_a_slow_action_is_reported_under_way_and_finishes(
    pool: Pool, xhost: XapiHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    obs = pool.observer()
    monkeypatch.setattr(xapi_actions, "ACTION_WAIT_S", 0.3)
    pool.master.set_operation_delay(1.5)
    seen: list[tuple[str, DomainFigures | None]] = []
    xhost.domain_listeners.append(lambda uuid, fig: seen.append((uuid, fig)))
    uuid = _uuid(obs, "web")
    text = await xhost.act(uuid, "shutdown")
    assert "under way" in text and _power(obs, "web") == "Running"
    await eventually(lambda: _power(obs, "web") == "Halted", 5.0, "the shutdown done")
    await eventually(lambda: any(u == uuid and f is not None and not f.sample.state.active
                                 for u, f in seen), 2.0, "the change seen through events")
