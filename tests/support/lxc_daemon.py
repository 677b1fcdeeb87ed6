"""A private, privileged libvirtd with the LXC driver, for the container tests.

libvirt's LXC driver runs only in a privileged (system-mode) daemon, whose paths are the
machine's own: /run/libvirt, /var/lib/libvirt, /var/log/libvirt, /var/cache/libvirt and
/etc/libvirt. So the daemon runs in a mount namespace of its own (``unshare --mount
--propagation private``) with a tmpfs over each state directory and a private config
directory bound over /etc/libvirt; its sockets live in a temp dir named by its own
libvirtd.conf. Nothing the machine's own daemon uses is touched.

What cannot be namespaced is cleaned up by hand afterwards, even when a test failed:
the container cgroups the driver creates (``machine/<name>.libvirt-lxc`` in each
hierarchy, and ``machine`` itself when this daemon made it), the mount points this
module had to create because the machine lacks them, the ``libvirt_lxc`` controllers and
every process of the containers.

URI: ``lxc+unix:///system?socket=<base>/run/libvirt-sock``.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tests.support.daemons import DaemonError, _pid_alive, libvirtd_path, unavailable
from tests.support.lxc_checks import (
    CGROUP_ROOT,
    cgroup_v1_mounts,
    hybrid_unified,
    unavailable_reason,
)

if TYPE_CHECKING:
    import libvirt

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
STATE_DIRS = ("/run/libvirt", "/var/run/libvirt", "/var/lib/libvirt", "/var/log/libvirt",
              "/var/cache/libvirt")
_CGROUP_GLOB = "machine/lxc-*-{name}.libvirt-lxc"
LOOP_INIT = "while :; do sleep 1; done"
"""The containers' init: a shell loop."""


LISTENING_INIT = Path(__file__).with_name("lxc_listening_init.py")
"""An init that acts on libvirt's initctl requests and signals (see that module)."""


def container_xml(name: str, memory_kib: int = 65536, run_dir: Path | None = None) -> str:
    """A container sharing the host's filesystem read-only. Its init is `/bin/sh -c
    LOOP_INIT`, which ignores shutdown and reboot; with `run_dir` (holding an `initctl`
    FIFO, mounted on /run) it is LISTENING_INIT, which acts on them."""
    from xml.sax.saxutils import escape

    if run_dir is None:
        init = f"<init>/bin/sh</init><initarg>-c</initarg><initarg>{LOOP_INIT}</initarg>"
        run = ""
    else:
        init = f"<init>/usr/bin/python3</init><initarg>{escape(str(LISTENING_INIT))}</initarg>"
        run = (f"<filesystem type='mount'><source dir='{escape(str(run_dir))}'/>"
               "<target dir='/run'/></filesystem>")
    return f"""<domain type='lxc'>
  <name>{escape(name)}</name>
  <memory unit='KiB'>{memory_kib}</memory>
  <vcpu>1</vcpu>
  <os>
    <type>exe</type>
    {init}
  </os>
  <devices>
    <filesystem type='mount'><source dir='/'/><target dir='/'/><readonly/></filesystem>
    {run}
    <console type='pty'/>
  </devices>
</domain>
"""


def wait_init_known(dom: libvirt.virDomain, timeout: float = START_TIMEOUT) -> None:
    """Until the driver knows the container's init (it hands out its namespaces);
    before that it refuses shutdown and reboot."""
    import libvirt
    import libvirt_lxc

    deadline = time.monotonic() + timeout
    while True:
        try:
            fds = libvirt_lxc.lxcOpenNamespace(dom, 0)
        except libvirt.libvirtError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
            continue
        for fd in fds:
            os.close(fd)
        return


class ContainerError(RuntimeError):
    """The LXC driver could not start a container (libvirt's message)."""


@dataclass
class LxcDaemon:
    """A privileged libvirtd with the LXC driver in its own mount namespace under `base`."""

    base: Path
    libvirtd: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    mount_ns: str = ""
    """/proc/PID/ns/mnt of the daemon: libvirt_lxc controllers share it."""
    made_dirs: list[Path] = field(default_factory=list)
    """Mount points this rig created (the machine lacked them); removed afterwards."""
    had_partition: set[Path] = field(default_factory=set)
    """`machine` cgroup partitions that existed before the daemon started."""
    containers: list[str] = field(default_factory=list)

    @property
    def socket(self) -> Path:
        return self.base / "run" / "libvirt-sock"

    @property
    def uri(self) -> str:
        return f"lxc+unix:///system?socket={self.socket}"

    @property
    def log(self) -> Path:
        return self.base / "libvirtd.log"

    def log_tail(self, lines: int = 30) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def _script(self) -> str:
        points = sorted({os.path.realpath(d) for d in STATE_DIRS})
        lines = ["set -e"]
        lines += [f"mount -t tmpfs -o mode=0755 tmpfs {p}" for p in points]
        lines.append(f"mount --bind {self.base / 'etc'} /etc/libvirt")
        unified = hybrid_unified()
        if unified:
            # libvirt 9.0 on a hybrid layout takes the devices controller through cgroup
            # v2 (BPF) and then fails to start any container ("Unable to create directory
            # /sys/fs/cgroup/unified"): in this namespace only, v1 alone is seen.
            lines.append(f"umount {unified}")
        lines.append(f"exec {libvirtd_path()} --config {self.base / 'etc' / 'libvirtd.conf'} "
                     f"--pid-file {self.base / 'libvirtd.pid'}")
        return "\n".join(lines) + "\n"

    def start(self, timeout: float = START_TIMEOUT) -> LxcDaemon:
        for sub in ("etc", "run"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        (self.base / "etc" / "libvirtd.conf").write_text(
            f'unix_sock_dir = "{self.base / "run"}"\n'
            'auth_unix_rw = "none"\nauth_unix_ro = "none"\n'
            f'log_outputs = "3:file:{self.log}"\n'
        )
        for d in sorted({os.path.realpath(d) for d in STATE_DIRS}):
            if not os.path.isdir(d):
                Path(d).mkdir(parents=True)
                self.made_dirs.append(Path(d))
        self.had_partition = {p for p in CGROUP_ROOT.glob("*/machine") if p.is_dir()}
        (self.base / "start.sh").write_text(self._script())
        with open(self.base / "stdout.log", "ab") as out:
            self.libvirtd = subprocess.Popen(
                ["unshare", "--mount", "--propagation", "private", "sh",
                 str(self.base / "start.sh")],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                                             "LANG": "C.UTF-8"},
            )
        _LIVE.add(self)
        self._wait_ready(time.monotonic() + timeout)
        return self

    def _wait_ready(self, deadline: float) -> None:
        import libvirt

        last = ""
        while time.monotonic() < deadline:
            assert self.libvirtd is not None
            if self.libvirtd.poll() is not None:
                out = (self.base / "stdout.log").read_text(errors="replace").strip()
                raise DaemonError(f"libvirtd (LXC) exited with {self.libvirtd.returncode}: "
                                  f"{out}\n{self.log_tail()}")
            if self.socket.exists():
                try:
                    libvirt.open(self.uri).close()
                except libvirt.libvirtError as err:
                    last = str(err)
                else:
                    with contextlib.suppress(OSError):
                        self.mount_ns = os.readlink(f"/proc/{self.libvirtd.pid}/ns/mnt")
                    return
            time.sleep(0.05)
        raise DaemonError(f"libvirtd (LXC) did not answer on {self.uri} within the start "
                          f"timeout: {last}\n{self.log_tail()}")

    # -- containers ----------------------------------------------------------------------
    def new_name(self) -> str:
        name = f"xt-lxc-{uuid.uuid4().hex[:8]}"
        self.containers.append(name)
        return name

    def cgroup_dirs(self, name: str) -> list[Path]:
        """The container's cgroup (`machine/lxc-<pid>-<name>.libvirt-lxc`) in each
        hierarchy where the driver made one."""
        return [p for p in CGROUP_ROOT.glob(f"*/{_CGROUP_GLOB.format(name=name)}") if p.is_dir()]

    def processes(self, name: str) -> set[int]:
        """Host PIDs of the container's processes (its controller's and init's), from its
        cgroups: a restarted container has new ones."""
        pids: set[int] = set()
        for cg in self.cgroup_dirs(name):
            for procs in cg.rglob("cgroup.procs"):
                with contextlib.suppress(OSError, ValueError):
                    pids |= {int(p) for p in procs.read_text().split()}
        return pids

    def cgroup_file(self, name: str, controller: str, file: str) -> Path:
        """One file of the container's cgroup in a v1 controller's hierarchy."""
        found = sorted(cgroup_v1_mounts()[controller].glob(_CGROUP_GLOB.format(name=name)))
        if not found:
            raise FileNotFoundError(f"no {controller} cgroup for container {name}")
        return found[-1] / file

    def start_container(
        self, conn: libvirt.virConnect, name: str, timeout: float = START_TIMEOUT,
        listening: bool = False,
    ) -> None:
        """Define and start a container running LOOP_INIT (LISTENING_INIT if `listening`);
        returns once the driver knows its init process (before that it refuses shutdown
        and reboot). Raises ContainerError with libvirt's own message if the driver
        cannot start it."""
        import libvirt

        run_dir = None
        if listening:
            run_dir = self.base / "run-dirs" / name
            run_dir.mkdir(parents=True)
            os.mkfifo(run_dir / "initctl")
        try:
            dom = conn.defineXML(container_xml(name, run_dir=run_dir))
            dom.create()
        except libvirt.libvirtError as err:
            raise ContainerError(" ".join(str(err).split())) from err
        try:
            wait_init_known(dom, timeout / 3)
        except libvirt.libvirtError as err:
            # Seen once in four suite runs (libvirt 9.0, two workers): the driver did not
            # learn a started container's init in 30 s ("Init pid is not yet available"
            # throughout). Rather than wait on, start the container again.
            print(f"container {name}: {err}; starting it again", file=sys.stderr)
            dom.destroy()
            dom.create()
            wait_init_known(dom, timeout)
        if listening:
            self.wait_listening(name, timeout)

    def wait_listening(self, name: str, timeout: float = START_TIMEOUT) -> None:
        """Until a listening container's init holds its initctl FIFO open (a writer's
        non-blocking open then succeeds): by then it handles the signals too."""
        fifo = self.base / "run-dirs" / name / "initctl"
        deadline = time.monotonic() + timeout
        while True:
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    # -- stopping --------------------------------------------------------------------------
    def _destroy_containers(self) -> None:
        import libvirt

        try:
            conn = libvirt.open(self.uri)
        except libvirt.libvirtError:
            return
        try:
            for dom in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
                with contextlib.suppress(libvirt.libvirtError):
                    if dom.info()[0] == libvirt.VIR_DOMAIN_PAUSED:
                        dom.resume()
                    dom.destroy()
        finally:
            conn.close()

    def _leftover_pids(self) -> set[int]:
        """libvirt_lxc controllers (in the daemon's mount namespace) and container
        processes (in the containers' cgroups)."""
        pids: set[int] = set()
        for name in self.containers:
            pids |= self.processes(name)
        if self.mount_ns:
            for entry in os.listdir("/proc"):
                if entry.isdigit() and int(entry) != os.getpid():
                    with contextlib.suppress(OSError):
                        if os.readlink(f"/proc/{entry}/ns/mnt") == self.mount_ns:
                            pids.add(int(entry))
        return pids

    def _thaw(self) -> None:
        """Frozen tasks die only once thawed."""
        for name in self.containers:
            for cg in self.cgroup_dirs(name):
                for state in cg.rglob("freezer.state"):
                    with contextlib.suppress(OSError):
                        state.write_text("THAWED")

    def _kill_leftovers(self) -> None:
        self._thaw()
        pids = self._leftover_pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline and any(_pid_alive(p) for p in pids):
            time.sleep(0.05)

    def _remove_cgroups(self) -> None:
        for name in self.containers:
            for cg in self.cgroup_dirs(name):
                for sub in sorted((p for p in cg.rglob("*") if p.is_dir()),
                                  key=lambda p: len(p.parts), reverse=True):
                    with contextlib.suppress(OSError):
                        sub.rmdir()
                with contextlib.suppress(OSError):
                    cg.rmdir()
        for part in CGROUP_ROOT.glob("*/machine"):
            if part not in self.had_partition:
                with contextlib.suppress(OSError):
                    part.rmdir()

    def stop(self) -> None:
        """Destroy the containers, stop libvirtd, kill what is left, undo what the
        namespace could not hide. Idempotent."""
        proc = self.libvirtd
        if proc is not None and proc.poll() is None:
            self._destroy_containers()
            proc.terminate()
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(STOP_TIMEOUT)
        self._kill_leftovers()
        self._remove_cgroups()
        for d in reversed(self.made_dirs):
            with contextlib.suppress(OSError):
                d.rmdir()
        self.made_dirs = []
        _LIVE.discard(self)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other


_LIVE: set[LxcDaemon] = set()


@atexit.register
def _stop_all() -> None:
    for daemon in list(_LIVE):
        with contextlib.suppress(Exception):
            daemon.cleanup()


@contextlib.contextmanager
def running() -> Iterator[LxcDaemon]:
    """A private LXC daemon for a fixture, always cleaned up afterwards; skipped (failed
    in CI) with the reason when this machine cannot run one."""
    reason = unavailable_reason()
    if reason is not None:
        unavailable(reason)
    with _one_at_a_time():
        daemon = LxcDaemon(Path(tempfile.mkdtemp(prefix="xentui-lxcd-")))
        try:
            try:
                daemon.start()
            except DaemonError as err:
                unavailable(f"the private LXC libvirtd did not start: {err}")
            yield daemon
        finally:
            daemon.cleanup()


@contextlib.contextmanager
def _one_at_a_time() -> Iterator[None]:
    """Hold the machine-wide LXC rig lock: the `machine` cgroup partition and the state
    dirs a daemon creates are the machine's own, so two daemons (pytest-xdist workers,
    or two runs) must not start and clean them up over each other."""
    with open(Path(tempfile.gettempdir()) / "xentui-lxcd.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
