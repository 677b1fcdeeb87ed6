"""A XenAPI session on a pool's master: login, redirect, re-login, calls with timeouts.

Blocking and thread-safe: any thread may call. Each call builds its own XML-RPC proxy
(the standard library's transports are not thread-safe) around the shared session
reference. The password is asked for only when logging in and is kept nowhere else:
no proxy object holding it outlives a login (XenAPI's own `Session` remembers it to
log in again; this class re-logs in itself, once per call).
"""

from __future__ import annotations

import ssl
import threading
import urllib.error
import urllib.request
import xmlrpc.client
from collections.abc import Callable
from typing import Any

import XenAPI

from xentui.backend.errors import ConnectError, ConnectionLost
from xentui.backend.xapi.errors import TRANSPORT_ERRORS, failure_text, transport_text
from xentui.backend.xapi.uri import PoolAddress

Failure = XenAPI.Failure
API_VERSION = "2.21"
ORIGINATOR = "xentui"
CALL_TIMEOUT_S = 10.0
MAX_REDIRECTS = 3
LOGOUT_TIMEOUT_S = 2.0
"""Logging out is a courtesy: a master that does not answer is not waited for longer."""


class Unreachable(ConnectError):
    """The host did not answer at all (refused, reset, timed out, bad certificate)."""


class _Transport(xmlrpc.client.Transport):
    """HTTP with a socket timeout."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def make_connection(self, host: Any) -> Any:
        conn = super().make_connection(host)
        conn.timeout = self._timeout
        return conn


class _SafeTransport(xmlrpc.client.SafeTransport):
    """HTTPS with a socket timeout and the chosen certificate policy."""

    def __init__(self, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(context=context)
        self._timeout = timeout

    def make_connection(self, host: Any) -> Any:
        conn = super().make_connection(host)
        conn.timeout = self._timeout
        return conn


def tls_context(accept_self_signed: bool) -> ssl.SSLContext:
    """Verify certificates, unless the settings accept a self-signed one."""
    ctx = ssl.create_default_context()
    if accept_self_signed:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


class XapiSession:
    """One session on the pool master; follows HOST_IS_SLAVE and re-logs in by itself."""

    def __init__(
        self,
        address: PoolAddress,
        password: Callable[[], str],
        *,
        accept_self_signed: bool = False,
        timeout: float = CALL_TIMEOUT_S,
    ) -> None:
        self.address = address
        self.url = address.url()
        """The master's URL (moves when a member redirects or the master changes)."""
        self.master_host = address.host
        self._password = password
        self._tls = tls_context(accept_self_signed) if address.scheme == "https" else None
        self.timeout = timeout
        self._ref: str | None = None
        self._closed = False
        self._lock = threading.Lock()
        self.logins = 0
        """How many times this session logged in (a re-login after expiry counts)."""

    def _proxy(self, url: str, timeout: float) -> Any:
        transport: xmlrpc.client.Transport
        if self._tls is not None:
            transport = _SafeTransport(timeout, self._tls)
        else:
            transport = _Transport(timeout)
        return XenAPI.Session(url, transport=transport)

    @property
    def ref(self) -> str | None:
        return self._ref

    def login(self) -> None:
        """Log in at the master (following HOST_IS_SLAVE); ConnectError on failure."""
        with self._lock:
            self._login_locked()

    def login_via(self, hosts: list[str]) -> None:
        """Log in at the master, or, if it does not answer, through the first of `hosts`
        (other members of the pool) that does: a member redirects to the pool's new
        master when the old one died (HA elected another, or one was designated)."""
        with self._lock:
            try:
                self._login_locked()
                return
            except Unreachable as first:
                failed = first
            for host in hosts:
                self.url, self.master_host = self.address.url(host), host
                try:
                    self._login_locked()
                    return
                except Unreachable:
                    continue
            raise failed

    def _login_locked(self) -> None:
        where = f"{self.address.user}@{self.master_host}"
        for _hop in range(MAX_REDIRECTS + 1):
            proxy = self._proxy(self.url, self.timeout)
            try:
                proxy.login_with_password(
                    self.address.user, self._password(), API_VERSION, ORIGINATOR
                )
            except Failure as err:
                details = [str(d) for d in err.details]
                if details[:1] == ["HOST_IS_SLAVE"] and len(details) > 1:
                    self.master_host = details[1]
                    self.url = self.address.url(details[1])
                    where = f"{self.address.user}@{self.master_host}"
                    continue
                raise ConnectError(f"cannot log in as {where}: {failure_text(details)}") from None
            except xmlrpc.client.Fault as err:
                raise ConnectError(f"cannot log in as {where}: {err.faultString}") from None
            except TRANSPORT_ERRORS as err:
                raise Unreachable(f"cannot reach {self.url}: {transport_text(err)}") from None
            self._ref = str(proxy._session)
            self.logins += 1
            return
        raise ConnectError(f"cannot log in: more than {MAX_REDIRECTS} HOST_IS_SLAVE redirects")

    def _relogin(self, stale: str | None) -> None:
        """Log in again unless another thread already did since `stale` failed, or the
        session was logged out on purpose (then its calls end: ConnectionLost)."""
        with self._lock:
            if self._closed:
                raise ConnectionLost(f"the session on {self.url} was closed")
            if self._ref == stale:
                self._login_locked()

    def call(self, method: str, *args: Any, timeout: float | None = None) -> Any:
        """`method(*args)` on the master (e.g. 'VM.get_all_records').

        Raises `Failure` for XAPI's own errors, ConnectionLost when the master does not
        answer. SESSION_INVALID logs in again and retries once; so does HOST_IS_SLAVE
        (the pool has a new master).
        """
        for attempt in (0, 1):
            ref = self._ref
            if ref is None:
                self._relogin_or_lose(None)
                ref = self._ref
            proxy = self._proxy(self.url, timeout or self.timeout)
            proxy._session = ref
            try:
                return proxy.xenapi_request(method, args)
            except xmlrpc.client.Fault as err:
                if err.faultCode == 401 and attempt == 0:  # XenAPI's answer to SESSION_INVALID
                    self._relogin_or_lose(ref)
                    continue
                raise ConnectionLost(f"{method} on {self.url}: {err.faultString}") from None
            except Failure as err:
                if list(err.details[:1]) == ["HOST_IS_SLAVE"] and attempt == 0:
                    self._relogin_or_lose(ref)
                    continue
                raise
            except TRANSPORT_ERRORS as err:
                raise ConnectionLost(f"{self.url} did not answer: {transport_text(err)}") from None
        raise ConnectionLost(f"{method} on {self.url}: the session keeps being refused")

    def _relogin_or_lose(self, stale: str | None) -> None:
        try:
            self._relogin(stale)
        except ConnectError as err:
            raise ConnectionLost(str(err)) from None

    def fetch(self, url: str, query: str, timeout: float | None = None) -> bytes:
        """GET `url` + `query` with the session (an HTTP handler such as /rrd_updates).

        A 401 (the session expired) logs in again and retries once."""
        for attempt in (0, 1):
            ref = self._ref
            full = f"{url}{query}&session_id={ref}"
            try:
                with urllib.request.urlopen(
                    full, timeout=timeout or self.timeout, context=self._tls
                ) as answer:
                    return bytes(answer.read())
            except urllib.error.HTTPError as err:
                if err.code == 401 and attempt == 0:
                    self._relogin_or_lose(ref)
                    continue
                raise ConnectionLost(f"{url} answered HTTP {err.code}") from None
            except TRANSPORT_ERRORS as err:
                reason = getattr(err, "reason", err)
                text = transport_text(reason if isinstance(reason, BaseException) else err)
                raise ConnectionLost(f"{url} did not answer: {text}") from None
        raise ConnectionLost(f"{url}: the session keeps being refused")

    def logout(self) -> None:
        """End the session for good (a long poll blocked on it returns and no call logs
        in again); errors are ignored."""
        with self._lock:
            self._closed = True
            ref, self._ref = self._ref, None
        if ref is None:
            return
        proxy = self._proxy(self.url, min(self.timeout, LOGOUT_TIMEOUT_S))
        proxy._session = ref
        try:
            getattr(proxy, "session.logout")(ref)  # the raw call: XenAPI's needs its login
        except (Failure, xmlrpc.client.Fault, *TRANSPORT_ERRORS):
            pass
