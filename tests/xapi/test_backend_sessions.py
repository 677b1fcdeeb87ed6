"""Logging in: the password's sources, a member's redirect, expired sessions, a new master."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.xapi_server import XapiServer
from tests.xapi.backend_rig import ADDRESSES, Pool, eventually, self_signed, start_pool
from tests.xapi.conftest import PASSWORD
from xentui.backend.errors import ConnectError
from xentui.backend.models import LinkState
from xentui.backend.xapi.credentials import PASSWORD_ENV, XapiOptions
from xentui.backend.xapi.host import XapiHost


async def test_a_member_redirects_to_the_master(pool: Pool) -> None:
    host = XapiHost(pool.uri("xcp-ng-03"), id="via-member")
    await host.connect()
    try:
        assert host.session is not None
        assert host.session.url == f"http://{ADDRESSES['xcp-ng-01']}:{pool.port}/"
        assert "pool master 127.0.0.11" in host.status.message
        result = await host.sample()
        assert len(result.domains) > 3
    finally:
        await host.close()


async def test_an_expired_session_logs_in_again_and_events_keep_coming(
    pool: Pool, xhost: XapiHost
) -> None:
    assert xhost.session is not None
    logins = xhost.session.logins
    await xhost.sample()
    pool.master.expire_sessions()
    result = await xhost.sample()
    assert xhost.connected and len(result.domains) > 3
    assert xhost.session.logins == logins + 1
    seen: list[tuple[str, object]] = []
    xhost.domain_listeners.append(lambda uuid, fig: seen.append((uuid, fig)))
    db = pool.master.db
    uuid = db.snapshot("VM", db.find("VM", "spare"))["uuid"]
    db.set_power_state("spare", "Running")
    await eventually(lambda: any(u == uuid for u, _f in seen), 1.0, "event after expiry")
    assert xhost.status.state is LinkState.CONNECTED


async def test_a_new_master_is_followed(pool: Pool, xhost: XapiHost) -> None:
    pool.master.db.designate_new_master("xcp-ng-02")
    result = await xhost.sample()
    assert xhost.session is not None
    assert xhost.session.url == f"http://{ADDRESSES['xcp-ng-02']}:{pool.port}/"
    assert [m.name for m in result.host.members if m.master] == ["xcp-ng-02"]


async def test_a_wrong_password_is_a_clear_error_that_never_shows_it(
    pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "not-the-Password-42"
    monkeypatch.setenv(PASSWORD_ENV, secret)
    host = XapiHost(pool.uri())
    with pytest.raises(ConnectError) as info:
        await host.connect()
    await host.close()
    assert "cannot log in as root@127.0.0.11" in str(info.value)
    assert "password was refused" in str(info.value)
    assert secret not in str(info.value) and secret not in host.status.message


async def test_the_password_file_must_be_private(
    pool: Pool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(PASSWORD_ENV)
    path = tmp_path / "pool.pw"
    path.write_text(PASSWORD + "\n")
    path.chmod(0o644)
    host = XapiHost(pool.uri(), options=XapiOptions(password_file=str(path)))
    with pytest.raises(ConnectError, match=r"may be read by others.*chmod 600"):
        await host.connect()
    path.chmod(0o600)
    await host.connect()
    try:
        assert host.connected
    finally:
        await host.close()


async def test_no_password_anywhere_says_where_to_put_one(
    pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSWORD_ENV)
    host = XapiHost(pool.uri())
    with pytest.raises(ConnectError, match=f"set {PASSWORD_ENV}.*xapi_password_file"):
        await host.connect()
    await host.close()


async def test_bad_uris_and_refused_connections_are_one_line_errors(
    pool: Pool, unused_tcp_port: int
) -> None:
    for uri, words in [
        ("xapi://root:secret@127.0.0.11", "password in the URI is refused"),
        (f"xapi+http://root@127.0.0.1:{unused_tcp_port}", "connection refused"),
    ]:
        host = XapiHost(uri)
        with pytest.raises(ConnectError, match=words) as info:
            await host.connect()
        await host.close()
        assert "\n" not in str(info.value) and "secret" not in str(info.value)


async def test_https_accepts_a_self_signed_certificate_only_when_told(
    new_server: Callable[..., XapiServer], password: str, tmp_path: Path
) -> None:
    pool = start_pool(new_server, tls=self_signed(tmp_path))
    strict = XapiHost(pool.uri())
    with pytest.raises(ConnectError, match=r"not trusted.*xapi_accept_self_signed = true"):
        await strict.connect()
    await strict.close()
    loose = XapiHost(pool.uri(), options=XapiOptions(accept_self_signed=True))
    await loose.connect()
    try:
        result = await loose.sample()
        web = next(f for f in result.domains.values() if f.name == "web")
        assert web.rates.cpu_pct is not None  # the member's rrd_updates over https too
        await loose.act(web.uuid, "pause")
    finally:
        await loose.close()
    obs = pool.observer()
    assert obs.xenapi.VM.get_power_state(web_ref(obs)) == "Paused"


def web_ref(obs: Any) -> str:
    (ref,) = obs.xenapi.VM.get_by_name_label("web")
    return str(ref)


async def test_closing_logs_every_session_out_and_none_comes_back(pool: Pool) -> None:
    host = XapiHost(pool.uri(), poll_s=5.0)
    await host.connect()
    await host.sample()
    db = pool.master.db

    def ours() -> list[bool]:
        with db.cond:
            return [s.valid for s in db.sessions.values() if s.originator == "xentui"]

    assert ours() == [True, True]  # the calls' session and the events' own
    await host.close()
    await eventually(lambda: not any(ours()), 2.0, "every session logged out")
    await asyncio.sleep(0.3)
    assert not any(ours()) and len(ours()) == 2
