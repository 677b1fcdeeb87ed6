"""A real remote transport: libvirt's ssh transport through a private sshd on 127.0.0.1
(tests/support/sshd.py) to a private test-driver libvirtd (tests/support/daemons.py).

Needs openssh-server and netcat-openbsd (``.ci/setup test`` installs them); skipped
without them outside CI, failed in CI.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from tests.support import daemons
from tests.support import sshd as sshd_support
from tests.support.daemons import PrivateDaemon
from tests.support.sshd import PrivateSshd
from xentui.backend.libvirt.host import LibvirtHost as Host

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def remote_daemon() -> Iterator[PrivateDaemon]:
    with daemons.running("test") as daemon:
        yield daemon


@pytest.fixture(scope="module")
def sshd() -> Iterator[PrivateSshd]:
    with sshd_support.running() as server:
        yield server


@pytest.fixture(scope="module")
def local(remote_daemon: PrivateDaemon) -> Iterator[libvirt.virConnect]:
    """The unix-socket connection; held open so test:///default keeps its state."""
    conn = libvirt.open(remote_daemon.uri)
    try:
        yield conn
    finally:
        conn.close()


def _names(conn: libvirt.virConnect) -> set[str]:
    return {dom.name() for dom in conn.listAllDomains()}


def test_libvirt_over_ssh_lists_what_the_unix_socket_lists(
    sshd: PrivateSshd, remote_daemon: PrivateDaemon, local: libvirt.virConnect
) -> None:
    uri = sshd.ssh_uri(remote_daemon)
    assert uri.startswith(f"test+ssh://{sshd.user.pw_name}@127.0.0.1:{sshd.port}/default?")
    conn = libvirt.open(uri)
    try:
        assert _names(conn) == _names(local) != set()
        assert {d.UUIDString() for d in conn.listAllDomains()} == {
            d.UUIDString() for d in local.listAllDomains()
        }
    finally:
        conn.close()
    # It really went through our sshd, as the login user, with the throwaway key.
    log = sshd.log.read_text()
    assert f"Accepted publickey for {sshd.user.pw_name} from 127.0.0.1" in log


async def test_xentui_host_samples_over_ssh_and_sees_a_pause(
    sshd: PrivateSshd, remote_daemon: PrivateDaemon, local: libvirt.virConnect
) -> None:
    host = Host(sshd.ssh_uri(remote_daemon), interval=0.5, open_timeout=10.0)
    dom = local.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_RUNNING)[0]
    try:
        await host.connect()
        assert host.connected
        first = await host.sample()
        assert {f.name for f in first.domains.values()} == _names(local)
        assert first.domains[dom.UUIDString()].sample.state == "running"

        dom.suspend()  # over the unix socket
        second = await host.sample()  # over ssh
        assert second.domains[dom.UUIDString()].sample.state == "paused"
    finally:
        with contextlib.suppress(libvirt.libvirtError):
            if dom.state()[0] == libvirt.VIR_DOMAIN_PAUSED:
                dom.resume()
        await host.close()


@pytest.mark.parametrize("key", ["unauthorized", "passphrase"])
def test_ssh_without_no_tty_fails_fast_instead_of_prompting(
    sshd: PrivateSshd, remote_daemon: PrivateDaemon, key: str
) -> None:
    """No no_tty (so no BatchMode), stdin not a terminal and no controlling terminal:
    ssh cannot ask anything, so the open fails with ssh's reason, at once. The
    passphrase key *is* authorized: logging in with it needs the passphrase typed."""
    keyfile = sshd.stranger_key if key == "unauthorized" else sshd.locked_key
    uri = sshd.ssh_uri(remote_daemon, keyfile=keyfile, no_tty=False)
    assert "no_tty" not in uri
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "SSH_ASKPASS")}
    env.pop("SSH_AUTH_SOCK", None)
    t0 = time.monotonic()
    res = subprocess.run(
        [sys.executable, "-m", "xentui", "--batch", "-n", "1", "-c", uri],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        start_new_session=True,  # no controlling terminal: /dev/tty cannot be opened
        timeout=20,
    )
    took = time.monotonic() - t0
    assert res.returncode != 0
    assert took < 5.0, f"took {took:.1f}s"
    assert "Permission denied (publickey)" in res.stderr
    assert f"cannot connect to {uri}" in res.stderr
    assert "Traceback" not in res.stderr
    assert "passphrase" not in res.stdout + res.stderr
