"""A private sshd on 127.0.0.1 for the remote-transport tests.

:func:`running` starts Debian's ``/usr/sbin/sshd -D -e -f <own config>`` on a free
port of 127.0.0.1 with a throwaway host key and throwaway client keys, all generated
in a private temp dir, and stops it (and every session it started) and deletes that
dir afterwards, also when the test fails. Nothing of the system's sshd is used or
touched: own port, config, pid file, host key and authorized_keys; never systemctl.
The only shared thing is sshd's compiled-in privilege-separation dir /run/sshd, which
is created (empty, as Debian's unit would) when missing and never removed.

:func:`ssh_uri` turns a private libvirt daemon (``tests.support.daemons``) into a URI
that reaches the daemon's own unix socket through that sshd:

    test+ssh://root@127.0.0.1:PORT/default?socket=<daemon socket>&keyfile=<client key>
        &proxy=netcat&no_verify=1&no_tty=1&command=<tempdir>/ssh

* login user: the one the tests run as -- root in CI (root may open the daemon's 0700
  socket; the daemons' own ``xentui-test`` account has no login shell), otherwise
  the current user, who then also owns the daemons;
* ``proxy=netcat``: the remote side runs ``nc -U <socket>`` (netcat-openbsd).
  libvirt's default helper, virt-ssh-helper, ignores ``socket=`` and goes to the
  system daemon's socket (/var/run/libvirt/libvirt-sock) instead;
* ``command=``: a wrapper around the real ``ssh`` that only keeps known hosts in the
  temp dir; plain ssh with ``no_verify=1`` would write the throwaway host key into the
  login user's ~/.ssh/known_hosts (``known_hosts=`` is read by the libssh/libssh2
  transports only). ``isolated=False`` leaves it out.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from tests.support.daemons import PrivateDaemon, unavailable

SSHD = "/usr/sbin/sshd"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
# The privilege-separation directory sshd insists on when started as root (compiled
# in; Debian's systemd unit creates it). Created if missing, never removed.
PRIVSEP_DIR = Path("/run/sshd")


class SshdError(RuntimeError):
    """The private sshd failed to start."""


def missing_tools() -> list[str]:
    """What this machine lacks to run the ssh transport tests (empty when ready)."""
    missing = []
    if not os.access(SSHD, os.X_OK):
        missing.append(f"{SSHD} (openssh-server)")
    for tool, package in (
        ("ssh", "openssh-client"),
        ("ssh-keygen", "openssh-client"),
        ("nc", "netcat-openbsd"),
    ):
        if shutil.which(tool) is None:
            missing.append(f"{tool} ({package})")
    return missing


def _descendants(pid: int) -> list[int]:
    """PIDs of every live process below *pid* (read from /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    found: list[int] = []
    todo = [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _keygen(path: Path, comment: str, passphrase: str = "") -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", comment, "-f", str(path)],
        check=True,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=30,
    )


@dataclass
class PrivateSshd:
    """An sshd of our own, under ``base``; ``user`` may log in with ``client_key``."""

    base: Path
    user: pwd.struct_passwd
    host: str = "127.0.0.1"
    port: int = 0
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    # -- paths -----------------------------------------------------------------------
    @property
    def config(self) -> Path:
        return self.base / "sshd_config"

    @property
    def host_key(self) -> Path:
        return self.base / "ssh_host_ed25519_key"

    @property
    def client_key(self) -> Path:
        """The private key authorized to log in as ``user``."""
        return self.base / "id_ed25519"

    @property
    def stranger_key(self) -> Path:
        """A key that is *not* authorized (for the wrong-key tests)."""
        return self.base / "id_stranger"

    @property
    def locked_key(self) -> Path:
        """An authorized key with a passphrase: ssh must ask for it to log in."""
        return self.base / "id_locked"

    @property
    def authorized_keys(self) -> Path:
        return self.base / "authorized_keys"

    @property
    def known_hosts(self) -> Path:
        """This sshd's host key as a known_hosts line (read by :attr:`ssh_command`)."""
        return self.base / "known_hosts"

    @property
    def ssh_command(self) -> Path:
        """The ssh client the URIs name with ``command=`` (see :meth:`_write_config`)."""
        return self.base / "ssh"

    @property
    def pid_file(self) -> Path:
        return self.base / "sshd.pid"

    @property
    def log(self) -> Path:
        return self.base / "sshd.log"

    # -- lifecycle -------------------------------------------------------------------
    def _make_keys(self) -> None:
        self.base.chmod(0o700)
        _keygen(self.host_key, "xentui-test-host")
        _keygen(self.client_key, "xentui-test-client")
        _keygen(self.stranger_key, "xentui-test-stranger")
        _keygen(self.locked_key, "xentui-test-locked", passphrase="not-typed-by-anyone")
        self.authorized_keys.write_text(
            (self.base / "id_ed25519.pub").read_text() + (self.base / "id_locked.pub").read_text()
        )
        self.authorized_keys.chmod(0o600)

    def _write_config(self) -> None:
        host_pub = (self.base / "ssh_host_ed25519_key.pub").read_text().split()
        self.known_hosts.write_text(f"[{self.host}]:{self.port} {host_pub[0]} {host_pub[1]}\n")
        # libvirt's ssh transport runs plain `ssh`, which with no_verify=1 (and with
        # known_hosts= too: only the libssh/libssh2 transports read that) records the
        # host key in the login user's ~/.ssh/known_hosts. The URIs therefore name this
        # wrapper with command=: the same OpenSSH client and the same arguments, with no
        # user or system ssh_config and the known hosts kept in this temp dir.
        ssh = shutil.which("ssh") or "/usr/bin/ssh"
        self.ssh_command.write_text(
            "#!/bin/sh\n"
            f"exec {shlex.quote(ssh)} -F none"
            f" -o UserKnownHostsFile={shlex.quote(str(self.known_hosts))}"
            " -o GlobalKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o IdentityAgent=none"
            ' "$@"\n'
        )
        self.ssh_command.chmod(0o755)
        root = os.geteuid() == 0
        lines = [
            f"ListenAddress {self.host}:{self.port}",
            f"HostKey {self.host_key}",
            f"PidFile {self.pid_file}",
            f"AuthorizedKeysFile {self.authorized_keys}",
            "AuthorizedPrincipalsFile none",
            f"AllowUsers {self.user.pw_name}",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "HostbasedAuthentication no",
            "GSSAPIAuthentication no",
            "UsePAM no",
            # The keys live in a temp dir, not in the user's ~/.ssh.
            "StrictModes no",
            f"PermitRootLogin {'prohibit-password' if root else 'no'}",
            "PermitTTY no",
            "X11Forwarding no",
            "AllowTcpForwarding no",
            "AllowAgentForwarding no",
            "PrintMotd no",
            "PrintLastLog no",
            "UseDNS no",
            "MaxStartups 50",
            "LoginGraceTime 15",
            "LogLevel VERBOSE",
        ]
        self.config.write_text("\n".join(lines) + "\n")

    def start(self) -> PrivateSshd:
        if os.geteuid() == 0 and not PRIVSEP_DIR.is_dir():
            PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
        self._make_keys()
        last = ""
        for _attempt in range(3):  # the free port may be taken between probe and bind
            self.port = free_port()
            self._write_config()
            check = subprocess.run(
                [SSHD, "-t", "-f", str(self.config)],
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                timeout=30,
            )
            if check.returncode != 0:
                raise SshdError(f"sshd -t rejected {self.config}: {check.stderr.strip()}")
            with open(self.log, "ab") as log:
                self.proc = subprocess.Popen(
                    [SSHD, "-D", "-e", "-f", str(self.config)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            if self._wait_ready(time.monotonic() + START_TIMEOUT):
                return self
            last = self.log_tail()
            self.stop()
        raise SshdError(f"private sshd did not come up on {self.host}:\n{last}")

    def _wait_ready(self, deadline: float) -> bool:
        """True once the sshd sends its banner; False if it exited (port taken?)."""
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            with (
                contextlib.suppress(OSError),
                socket.create_connection((self.host, self.port), timeout=1.0) as s,
            ):
                if s.recv(64).startswith(b"SSH-"):
                    return True
            time.sleep(0.05)
        raise SshdError(f"private sshd gave no banner within {START_TIMEOUT}s:\n{self.log_tail()}")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """Stop the sshd and every process it started. sshd puts each connection in a
        session of its own, so they are found through /proc, not the process group."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        children = _descendants(proc.pid)
        for pid in [proc.pid, *children]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(STOP_TIMEOUT)
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline and any(_alive(p) for p in children):
            time.sleep(0.02)
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        if not self.log.exists():
            return ""
        text = self.log.read_text(errors="replace").splitlines()[-lines:]
        return f"--- {self.log} ---\n" + "\n".join(text)

    # -- URIs ------------------------------------------------------------------------
    def ssh_uri(
        self,
        daemon: PrivateDaemon,
        *,
        keyfile: Path | None = None,
        no_tty: bool = True,
        no_verify: bool = True,
        isolated: bool = True,
    ) -> str:
        """*daemon*'s URI, reached over ssh through this sshd (see :func:`ssh_uri`)."""
        return ssh_uri(
            self, daemon, keyfile=keyfile, no_tty=no_tty, no_verify=no_verify, isolated=isolated
        )


def ssh_uri(
    sshd: PrivateSshd,
    daemon: PrivateDaemon,
    *,
    keyfile: Path | None = None,
    no_tty: bool = True,
    no_verify: bool = True,
    isolated: bool = True,
) -> str:
    """``test+ssh://USER@127.0.0.1:PORT/default?socket=...&keyfile=...&proxy=netcat
    &no_verify=1&no_tty=1&command=...`` (``qemu+ssh://.../session?...`` for a QEMU
    daemon): *daemon*'s own unix socket, reached through *sshd*.

    *isolated* adds ``command=`` naming :attr:`PrivateSshd.ssh_command`, so that ssh
    leaves the login user's ~/.ssh alone; without it this is the URI a user would type.
    """
    driver, path = ("qemu", "/session") if daemon.kind == "qemu" else ("test", "/default")
    params = {
        "socket": str(daemon.socket),
        "keyfile": str(keyfile or sshd.client_key),
        # The default remote helper, virt-ssh-helper, ignores socket= and connects to
        # the system daemon's socket; netcat (`nc -U <socket>`) honours it.
        "proxy": "netcat",
    }
    if no_verify:
        params["no_verify"] = "1"
    if no_tty:
        params["no_tty"] = "1"
    if isolated:
        params["command"] = str(sshd.ssh_command)
    query = "&".join(f"{k}={quote(v, safe='/')}" for k, v in params.items())
    return f"{driver}+ssh://{sshd.user.pw_name}@{sshd.host}:{sshd.port}{path}?{query}"


def login_user() -> pwd.struct_passwd:
    """The account ssh logs in as: the one the tests run as (see the module doc)."""
    return pwd.getpwuid(os.geteuid())


@contextlib.contextmanager
def running(parent: str | Path | None = None) -> Iterator[PrivateSshd]:
    """A private sshd for a fixture, always stopped and removed afterwards; skipped
    (failed in CI) when openssh-server, ssh or nc is not installed."""
    missing = missing_tools()
    if missing:
        unavailable("ssh transport tests need " + ", ".join(missing))
    sshd = PrivateSshd(Path(tempfile.mkdtemp(prefix="xentui-sshd-", dir=parent)), login_user())
    try:
        sshd.start()
        yield sshd
    finally:
        sshd.cleanup()
