"""Private libvirt daemons for the integration tests.

Each daemon is a real ``libvirtd`` in *session mode*, run as an unprivileged
user (``xentui-test``, created on demand when we are root; the current user
otherwise), with its own HOME / XDG_* directories under a private temp dir.
It therefore never touches a system libvirtd, its sockets, its state
directories or its guests.

* :func:`start_qemu_daemon` -- libvirtd (QEMU driver) plus its own virtlogd.
  URI: ``qemu+unix:///session?socket=<base>/run/libvirt/libvirt-sock``
* :func:`start_test_daemon` -- libvirtd serving libvirt's built-in *test*
  driver. URI: ``test+unix:///default?socket=<base>/run/libvirt/libvirt-sock``

Root (the test process in CI) may connect to those sockets regardless of their
0700 permissions.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

TEST_USER = "xentui-test"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0

_LIBVIRTD_CANDIDATES = ("libvirtd", "/usr/sbin/libvirtd")
_VIRTLOGD_CANDIDATES = ("virtlogd", "/usr/sbin/virtlogd")


class DaemonError(RuntimeError):
    """A private daemon failed to start or stop."""


def _find(candidates: tuple[str, ...]) -> str | None:
    for name in candidates:
        found = shutil.which(name)
        if found:
            return found
        if os.path.isabs(name) and os.access(name, os.X_OK):
            return name
    return None


def libvirtd_path() -> str | None:
    return _find(_LIBVIRTD_CANDIDATES)


def virtlogd_path() -> str | None:
    return _find(_VIRTLOGD_CANDIDATES)


def qemu_driver_available() -> bool:
    """True when libvirtd, virtlogd, qemu and libvirt's QEMU driver are installed."""
    from tests.support.qemu_guest import qemu_binary, qemu_img

    driver_dirs = [Path("/usr/lib/x86_64-linux-gnu/libvirt/connection-driver")]
    driver_dirs += Path("/usr/lib").glob("*/libvirt/connection-driver")
    driver_dirs.append(Path("/usr/lib64/libvirt/connection-driver"))
    has_driver = any((d / "libvirt_driver_qemu.so").exists() for d in driver_dirs)
    return bool(libvirtd_path() and virtlogd_path() and qemu_binary() and qemu_img() and has_driver)


def test_driver_available() -> bool:
    """True when libvirtd is installed (the test driver is built into libvirt0)."""
    return libvirtd_path() is not None


def ensure_test_user(name: str = TEST_USER) -> pwd.struct_passwd:
    """Return the account the daemons run as, creating *name* if we are root."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid())
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    # Another pytest-xdist worker may create it at the same moment (useradd then says it
    # exists): whichever made it, the account is there afterwards.
    res = subprocess.run(
        [
            "useradd",
            "--system",
            "--create-home",
            "--home-dir",
            f"/var/lib/{name}",
            "--shell",
            "/usr/sbin/nologin",
            name,
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise DaemonError(f"useradd {name} failed: {res.stderr.strip()}") from None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _terminate(proc: subprocess.Popen[bytes] | None, timeout: float = STOP_TIMEOUT) -> None:
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGCONT)  # in case a test SIGSTOPped it
        proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait(timeout)


@dataclass
class PrivateDaemon:
    """A session-mode libvirtd (and optionally virtlogd) under ``base``."""

    kind: str  # "qemu" or "test"
    base: Path
    user: pwd.struct_passwd
    with_virtlogd: bool = True
    # Extra lines for this daemon's own libvirtd.conf / qemu.conf (session mode reads
    # them from $XDG_CONFIG_HOME/libvirt/), e.g. 'host_uuid = "..."'.
    libvirtd_conf: tuple[str, ...] = ()
    qemu_conf: tuple[str, ...] = ()
    libvirtd: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    virtlogd: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    startup_seconds: float = 0.0

    # -- paths -------------------------------------------------------------
    @property
    def home(self) -> Path:
        return self.base / "home"

    @property
    def runtime_dir(self) -> Path:
        return self.base / "run"

    @property
    def socket(self) -> Path:
        return self.runtime_dir / "libvirt" / "libvirt-sock"

    @property
    def images_dir(self) -> Path:
        return self.base / "images"

    @property
    def log_dir(self) -> Path:
        return self.base / "logs"

    @property
    def uri(self) -> str:
        if self.kind == "qemu":
            return f"qemu+unix:///session?socket={self.socket}"
        return f"test+unix:///default?socket={self.socket}"

    @property
    def pid(self) -> int | None:
        """PID of libvirtd itself (for SIGTERM/SIGSTOP tests)."""
        return self.libvirtd.pid if self.libvirtd else None

    @property
    def virtlogd_pid(self) -> int | None:
        return self.virtlogd.pid if self.virtlogd else None

    def env(self) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(self.home),
            "USER": self.user.pw_name,
            "LOGNAME": self.user.pw_name,
            "XDG_RUNTIME_DIR": str(self.runtime_dir),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "TMPDIR": str(self.base / "tmp"),
        }
        for extra in ("/usr/sbin", "/sbin"):
            if extra not in env["PATH"].split(":"):
                env["PATH"] += ":" + extra
        return env

    # -- helpers -----------------------------------------------------------
    def chown(self, path: str | Path) -> None:
        """Hand *path* to the daemon's user (so QEMU can open disk images)."""
        if os.geteuid() == 0:
            os.chown(path, self.user.pw_uid, self.user.pw_gid)

    def _prepare_dirs(self) -> None:
        for d in (
            self.base,
            self.home,
            self.home / ".config",
            self.home / ".cache",
            self.home / ".local" / "share",
            self.runtime_dir,
            self.images_dir,
            self.log_dir,
            self.base / "tmp",
        ):
            d.mkdir(parents=True, exist_ok=True)
            d.chmod(0o700)
            self.chown(d)
        conf_dir = self.home / ".config" / "libvirt"
        for name, lines in (("libvirtd.conf", self.libvirtd_conf), ("qemu.conf", self.qemu_conf)):
            if lines:
                conf_dir.mkdir(exist_ok=True)
                self.chown(conf_dir)
                (conf_dir / name).write_text("\n".join(lines) + "\n")
                self.chown(conf_dir / name)

    def _popen(self, argv: list[str], log_name: str) -> subprocess.Popen[bytes]:
        root = os.geteuid() == 0
        # Popen dup()s the log fd into the child, so closing ours is fine.
        with open(self.log_dir / log_name, "ab") as log:
            return subprocess.Popen(
                argv,
                env=self.env(),
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=self.user.pw_uid if root else None,
                group=self.user.pw_gid if root else None,
                extra_groups=[] if root else None,
            )

    def _wait_ready(self, deadline: float) -> None:
        virsh = shutil.which("virsh")
        last = ""
        while time.monotonic() < deadline:
            if self.libvirtd is not None and self.libvirtd.poll() is not None:
                raise DaemonError(
                    f"libvirtd ({self.kind}) exited with {self.libvirtd.returncode}:\n"
                    + self.log_tail()
                )
            if self.socket.exists():
                if virsh:
                    res = subprocess.run(
                        [virsh, "-q", "-c", self.uri, "uri"],
                        check=False,
                        capture_output=True,
                        text=True,
                        timeout=15,
                        env={**os.environ, "LC_ALL": "C"},
                    )
                    if res.returncode == 0:
                        return
                    last = res.stderr.strip()
                else:
                    import libvirt

                    try:
                        libvirt.open(self.uri).close()
                        return
                    except libvirt.libvirtError as exc:
                        last = str(exc)
            time.sleep(0.05)
        raise DaemonError(
            f"libvirtd ({self.kind}) did not answer on {self.uri} within "
            f"{START_TIMEOUT}s: {last}\n" + self.log_tail()
        )

    def log_tail(self, lines: int = 30) -> str:
        out = []
        for name in ("libvirtd.log", "virtlogd.log"):
            p = self.log_dir / name
            if p.exists():
                text = p.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {p} ---\n" + "\n".join(text))
        return "\n".join(out)

    # -- lifecycle ---------------------------------------------------------
    def start(self, timeout: float = START_TIMEOUT) -> PrivateDaemon:
        if self.running():
            return self
        exe = libvirtd_path()
        if exe is None:
            raise DaemonError("libvirtd is not installed")
        self._prepare_dirs()
        t0 = time.monotonic()
        deadline = t0 + timeout
        if self.with_virtlogd and (self.virtlogd is None or self.virtlogd.poll() is not None):
            logd = virtlogd_path()
            if logd is None:
                raise DaemonError("virtlogd is not installed")
            self.virtlogd = self._popen([logd], "virtlogd.log")
            logd_sock = self.runtime_dir / "libvirt" / "virtlogd-sock"
            while not logd_sock.exists():
                if self.virtlogd.poll() is not None:
                    raise DaemonError("virtlogd exited early:\n" + self.log_tail())
                if time.monotonic() > deadline:
                    raise DaemonError("virtlogd did not create its socket\n" + self.log_tail())
                time.sleep(0.02)
        # --timeout 0: never exit when idle (session daemons do by default
        # only when auto-spawned; be explicit).
        self.libvirtd = self._popen([exe, "--timeout", "0"], "libvirtd.log")
        try:
            self._wait_ready(deadline)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - t0
        _LIVE.add(self)
        return self

    def running(self) -> bool:
        return self.libvirtd is not None and self.libvirtd.poll() is None

    def qemu_pids(self) -> list[int]:
        """PIDs of QEMU processes started by this daemon (found via /proc)."""
        marker = str(self.base).encode()
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    cmd = fh.read()
            except OSError:
                continue
            if b"qemu-system" in cmd.split(b"\0", 1)[0] and marker in cmd:
                pids.append(int(entry))
        return pids

    def kill_guests(self, timeout: float = STOP_TIMEOUT) -> None:
        pids = self.qemu_pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(_pid_alive(p) for p in pids):
            time.sleep(0.05)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def stop_libvirtd(self) -> None:
        """Stop only libvirtd (guests and virtlogd keep running)."""
        _terminate(self.libvirtd)

    def stop(self) -> None:
        """Stop libvirtd, every QEMU it started, then virtlogd. Idempotent."""
        _terminate(self.libvirtd)
        self.kill_guests()
        _terminate(self.virtlogd)
        _LIVE.discard(self)

    def restart(self, *, keep_guests: bool = True, timeout: float = START_TIMEOUT) -> None:
        """Restart libvirtd on the same dirs; running guests survive by default."""
        if keep_guests:
            self.stop_libvirtd()
        else:
            self.stop()
        self.start(timeout)

    def cleanup(self) -> None:
        """stop() and delete the private directory."""
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other


@dataclass
class TinyGuests:
    """Guests defined and started on ``daemon`` for one test."""

    daemon: PrivateDaemon
    names: list[str] = field(default_factory=list)
    disks: list[Path] = field(default_factory=list)

    @property
    def uri(self) -> str:
        return self.daemon.uri

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


_LIVE: set[PrivateDaemon] = set()


@atexit.register
def _stop_all() -> None:
    for daemon in list(_LIVE):
        with contextlib.suppress(Exception):
            daemon.cleanup()


def _new_base(kind: str, parent: str | Path | None) -> Path:
    base = Path(tempfile.mkdtemp(prefix=f"xentui-{kind}d-", dir=parent))
    return base


def start_qemu_daemon(
    parent: str | Path | None = None,
    *,
    libvirtd_conf: tuple[str, ...] = (),
    qemu_conf: tuple[str, ...] = (),
) -> PrivateDaemon:
    """Start a private session libvirtd with the QEMU driver and its virtlogd
    (*libvirtd_conf* / *qemu_conf*: extra lines for its own config files)."""
    daemon = PrivateDaemon(
        "qemu",
        _new_base("qemu", parent),
        ensure_test_user(),
        libvirtd_conf=tuple(libvirtd_conf),
        qemu_conf=tuple(qemu_conf),
    )
    return daemon.start()


def start_test_daemon(parent: str | Path | None = None) -> PrivateDaemon:
    """Start a private session libvirtd that serves the built-in test driver."""
    daemon = PrivateDaemon(
        "test", _new_base("test", parent), ensure_test_user(), with_virtlogd=False
    )
    return daemon.start()


def unavailable(reason: str) -> None:
    """Skip outside CI; fail in CI, so CI cannot go green by skipping."""
    import pytest

    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)")
    pytest.skip(reason)


@contextlib.contextmanager
def running(kind: str) -> Iterator[PrivateDaemon]:
    """A private daemon ('test' or 'qemu') for a fixture, always cleaned up afterwards;
    skipped (failed in CI) when this machine cannot run it."""
    if kind == "qemu" and not qemu_driver_available():
        unavailable("libvirtd/virtlogd/qemu-system-x86_64/qemu-img or the QEMU driver missing")
    if kind == "test" and not test_driver_available():
        unavailable("libvirtd is not installed")
    daemon = start_qemu_daemon() if kind == "qemu" else start_test_daemon()
    try:
        yield daemon
    finally:
        daemon.cleanup()
