"""Sessions, envelopes and pool roles of the XAPI simulator, through XenAPI over HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import XenAPI

from tests.support.xapi_server import XapiServer
from tests.xapi.conftest import (
    PASSWORD,
    USER,
    failure_of,
    login,
    raw_call,
    vm_ref,
)


def test_login_and_logout(xapi: XapiServer) -> None:
    s = login(xapi.url)
    ref = s._session
    assert ref.startswith("OpaqueRef:") and ref != "OpaqueRef:NULL"
    assert s.xenapi.session.get_this_user(ref) == USER
    assert s.xenapi.session.get_this_host(ref) == xapi.db.master
    s.xenapi.session.logout()
    assert s._session is None
    assert raw_call(xapi.url, "VM.get_all", ref) == {
        "Status": "Failure",
        "ErrorDescription": ["SESSION_INVALID", ref],
    }


def test_wrong_password_is_an_authentication_failure(xapi: XapiServer) -> None:
    s = XenAPI.Session(xapi.url)
    details = failure_of(s.login_with_password, USER, "wrong", "2.21", "tests")
    assert details == ["SESSION_AUTHENTICATION_FAILED", USER, "Authentication failure"]
    assert s._session is None
    nobody = raw_call(xapi.url, "session.login_with_password", "nobody", PASSWORD)
    assert nobody["ErrorDescription"][0] == "SESSION_AUTHENTICATION_FAILED"


def test_envelopes_on_the_wire(xapi: XapiServer, session: Any) -> None:
    sid = session._session
    assert raw_call(xapi.url, "pool.get_all", sid) == {"Status": "Success", "Value": [xapi.db.pool]}
    web = vm_ref(session, "web")
    # ints travel as decimal strings, bools as booleans, void as ""
    assert raw_call(xapi.url, "VM.get_VCPUs_max", sid, web)["Value"] == "2"
    assert raw_call(xapi.url, "VM.get_is_a_template", sid, web)["Value"] is False
    assert raw_call(xapi.url, "VM.set_name_label", sid, web, "www") == {
        "Status": "Success",
        "Value": "",
    }

    def error(method: str, *params: Any) -> list[str]:
        answer = raw_call(xapi.url, method, *params)
        assert answer["Status"] == "Failure" and "Value" not in answer
        return list(answer["ErrorDescription"])

    assert error("VM.frobnicate", sid) == ["MESSAGE_METHOD_UNKNOWN", "VM.frobnicate"]
    assert error("VM.get_no_such_field", sid, web)[0] == "MESSAGE_METHOD_UNKNOWN"
    assert error("VM.set_power_state", sid, web, "Halted")[0] == "MESSAGE_METHOD_UNKNOWN"
    count = ["MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.get_record", "2", "1"]
    assert error("VM.get_record", sid) == count
    assert error("VM.get_record", sid, "OpaqueRef:nope") == [
        "HANDLE_INVALID",
        "VM",
        "OpaqueRef:nope",
    ]
    assert error("VM.get_by_uuid", sid, "no-such") == ["UUID_INVALID", "VM", "no-such"]
    assert error("VM.start", sid, web, "no", False) == ["FIELD_TYPE_ERROR", "start_paused"]
    assert error("VM.get_all", "OpaqueRef:forged") == ["SESSION_INVALID", "OpaqueRef:forged"]


def test_expired_session_answers_session_invalid_and_the_client_logs_in_again(
    xapi: XapiServer, session: Any
) -> None:
    old = session._session
    xapi.expire_sessions()
    assert raw_call(xapi.url, "VM.get_all", old)["ErrorDescription"] == ["SESSION_INVALID", old]
    # XenAPI.Session hides SESSION_INVALID: it logs in again with the saved credentials
    assert len(session.xenapi.VM.get_all()) == len(xapi.db.tables["VM"])
    assert session._session != old
    assert raw_call(xapi.url, "VM.get_all", session._session)["Status"] == "Success"


def test_an_idle_session_expires_and_an_active_one_does_not(
    new_server: Callable[..., XapiServer],
) -> None:
    server = new_server(session_timeout=0.3)
    idle, busy = login(server.url), login(server.url)
    for _ in range(5):  # 0.5 s in all, never 0.3 s without a call
        time.sleep(0.1)
        busy.xenapi.pool.get_all()
    answer = raw_call(server.url, "pool.get_all", idle._session)
    assert answer["ErrorDescription"] == ["SESSION_INVALID", idle._session]
    assert raw_call(server.url, "pool.get_all", busy._session)["Status"] == "Success"


def test_a_pool_member_answers_host_is_slave_with_the_master_address(xapi: XapiServer) -> None:
    member = xapi.member("xcp-ng-02")
    s = XenAPI.Session(member.url)
    details = failure_of(s.login_with_password, USER, PASSWORD, "2.21", "tests")
    assert details == ["HOST_IS_SLAVE", "192.0.2.11"]  # xcp-ng-01's address
    master_session = login(xapi.url)._session
    slave = raw_call(member.url, "VM.get_all", master_session)
    assert slave["ErrorDescription"] == ["HOST_IS_SLAVE", "192.0.2.11"]
    assert xapi.urls_by_address()["192.0.2.12"] == member.url
    # the roles move: the old master now redirects to the new one
    xapi.db.designate_new_master("xcp-ng-02")
    assert failure_of(login, xapi.url) == ["HOST_IS_SLAVE", "192.0.2.12"]
    new = login(member.url)
    assert new.xenapi.session.get_this_host(new._session) == member.local_host
    assert len(new.xenapi.host.get_all()) == 3
