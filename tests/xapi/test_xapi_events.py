"""``event.from``: the initial dump, tokens, the long poll and its wake-ups."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from tests.support.xapi_server import GUESTS, XapiServer
from tests.xapi.conftest import event_from, failure_of, login, raw_call, vm_ref


def in_background(work: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    """Run ``work`` in a thread; its value (or exception) and duration land in a dict."""
    out: dict[str, Any] = {}

    def body() -> None:
        started = time.monotonic()
        try:
            out["value"] = work()
        except Exception as exc:
            out["error"] = exc
        out["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, out


def test_the_empty_token_dumps_every_subscribed_record(session: Any) -> None:
    batch = event_from(session, ["VM"], "", 5.0)
    events = batch["events"]
    assert {e["operation"] for e in events} == {"add"} and {e["class"] for e in events} == {"vm"}
    assert len(events) == batch["valid_ref_counts"]["vm"] == len(session.xenapi.VM.get_all())
    assert batch["valid_ref_counts"]["host"] == 3  # every class is counted
    assert set(GUESTS) <= {e["snapshot"]["name_label"] for e in events}
    web = vm_ref(session, "web")
    (event,) = [e for e in events if e["ref"] == web]
    assert event["snapshot"] == session.xenapi.VM.get_record(web)
    generation, messages = batch["token"].split(",")
    assert len(generation) == len(messages) == 20 and int(generation) > 0 and int(messages) == 0


def test_a_change_from_outside_wakes_a_blocked_poll_at_once(xapi: XapiServer, session: Any) -> None:
    token = event_from(session, ["vm"], "", 5.0)["token"]
    watcher = login(xapi.url)  # a Session is not thread-safe: one per thread
    thread, out = in_background(lambda: event_from(watcher, ["vm"], token, 10.0))
    time.sleep(0.3)
    assert thread.is_alive()  # blocked: nothing changed yet
    xapi.db.set_power_state("spare", "Paused")  # as `xe vm-pause` elsewhere would
    thread.join(timeout=5)
    assert out["elapsed"] < 1.5
    batch = out["value"]
    spare = vm_ref(session, "spare")
    (event,) = [e for e in batch["events"] if e["ref"] == spare]
    assert event["operation"] == "mod" and event["snapshot"]["power_state"] == "Paused"
    assert batch["token"] > token  # zero-padded: tokens compare as strings
    assert event_from(session, ["vm"], batch["token"], 0.1)["events"] == []


def test_a_poll_times_out_empty_and_ignores_other_classes(xapi: XapiServer, session: Any) -> None:
    token = event_from(session, ["vm"], "", 5.0)["token"]
    xapi.db.set_field("host", "xcp-ng-02", "name_label", "renamed")  # not subscribed
    started = time.monotonic()
    batch = event_from(session, ["vm"], token, 0.4)
    assert batch["events"] == [] and 0.4 <= time.monotonic() - started < 1.5
    assert batch["token"] == token  # nothing subscribed came: the same token back
    hosts = event_from(session, ["host"], token, 0.4)["events"]
    assert [(e["operation"], e["snapshot"]["name_label"]) for e in hosts] == [("mod", "renamed")]


def test_one_object_subscriptions(xapi: XapiServer, session: Any) -> None:
    web, spare = vm_ref(session, "web"), vm_ref(session, "spare")
    token = event_from(session, [f"vm/{web}"], "", 1.0)["token"]
    xapi.db.set_field("VM", "spare", "name_description", "not watched")
    assert event_from(session, [f"vm/{web}"], token, 0.2)["events"] == []
    xapi.db.set_field("VM", "web", "name_description", "watched")
    (event,) = event_from(session, [f"VM/{web}", f"host/{spare}"], token, 1.0)["events"]
    assert event["ref"] == web and event["snapshot"]["name_description"] == "watched"


def test_adds_and_dels(xapi: XapiServer, session: Any) -> None:
    token = event_from(session, ["*"], "", 5.0)["token"]
    snap = session.xenapi.VM.snapshot(vm_ref(session, "db"), "db snap")
    batch = event_from(session, ["vm", "vbd"], token, 1.0)
    ops = {(e["class"], e["operation"], e["ref"]) for e in batch["events"]}
    assert ("vm", "add", snap) in ops and ("vm", "mod", vm_ref(session, "db")) in ops
    assert any(c == "vbd" and op == "add" for c, op, _ in ops)  # the snapshot's disks
    session.xenapi.VM.destroy(snap)
    # created and destroyed since the first token: neither add nor del, as xapi does
    refs = [e["ref"] for e in event_from(session, ["vm"], token, 0.1)["events"]]
    assert snap not in refs
    events = event_from(session, ["vm"], batch["token"], 1.0)["events"]
    seen = {(e["operation"], e["ref"]) for e in events}
    assert seen == {("del", snap), ("mod", vm_ref(session, "db"))}
    assert all(("snapshot" in e) == (e["operation"] != "del") for e in events)


def test_event_inject_returns_a_token_just_before_the_change(session: Any) -> None:
    (pool,) = session.xenapi.pool.get_all()
    token = session.xenapi.event.inject("pool", pool)
    (event,) = event_from(session, ["pool"], token, 1.0)["events"]
    assert (event["ref"], event["operation"]) == (pool, "mod")
    assert failure_of(session.xenapi.event.inject, "VM", pool)[0] == "HANDLE_INVALID"


def test_bad_tokens_and_subscriptions(xapi: XapiServer, session: Any) -> None:
    sid = session._session
    bad = raw_call(xapi.url, "event.from", sid, ["vm"], "yesterday", 1.0)
    assert bad["ErrorDescription"] == ["EVENT_FROM_TOKEN_PARSE_FAILURE", "yesterday"]
    bad = raw_call(xapi.url, "event.from", sid, ["vm"], "", "soon")
    assert bad["ErrorDescription"] == ["FIELD_TYPE_ERROR", "timeout"]


def test_logout_or_expiry_ends_a_blocked_poll_with_session_invalid(xapi: XapiServer) -> None:
    for how in ("expire", "logout"):
        ref = login(xapi.url)._session
        token = raw_call(xapi.url, "event.from", ref, ["vm"], "", 1.0)["Value"]["token"]
        thread, out = in_background(
            lambda: raw_call(xapi.url, "event.from", ref, ["vm"], token, 10.0)  # noqa: B023
        )
        time.sleep(0.2)
        assert thread.is_alive()
        if how == "expire":
            xapi.expire_sessions()
        else:
            raw_call(xapi.url, "session.logout", ref)
        thread.join(timeout=5)
        assert out["elapsed"] < 1.5
        assert out["value"]["ErrorDescription"] == ["SESSION_INVALID", ref], how
