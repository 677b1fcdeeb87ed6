"""The real Xen rig (`../shared/tools/xen-in-qemu.sh`): Xen 4.17 + libvirtd (libxl) in
QEMU under software emulation. The session fixture builds it if needed, starts it, and
stops it at the end (also when tests fail) -- unless it was already running, then it is
left running. When the rig cannot run here (no QEMU, not root, too little memory, the
build fails offline, the boot fails) every test is skipped with the reason.

Environment: XENRIG_TOOL (path of xen-in-qemu.sh), XENRIG_CACHE (as the tool),
XENRIG_KEEP=1 (leave the rig running after the session), XENRIG_NICE=N (start QEMU under
`nice -n N`, to share a busy machine; its threads inherit it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TOOL = Path(
    os.environ.get("XENRIG_TOOL", str(ROOT.parent / "shared" / "tools" / "xen-in-qemu.sh"))
)
BUILD_TIMEOUT_S = 1800
START_TIMEOUT_S = 1800
MIN_MEM_KIB = 4 * 1024 * 1024  # QEMU gets 3 GiB; leave room for the rest


def _tail(text: str, n: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-n:])


def _mem_available_kib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    return 0


@dataclass
class Rig:
    """The running rig: its URIs and a way to run commands in Dom0."""

    tool: Path
    uri: str
    ssh_uri: str
    started_here: bool
    shell_id: int | None = None
    """The id of the tiny instance whose shell last answered (wait_shell)."""

    def exec(self, *cmd: str, timeout: float = 120, check: bool = True,
             stdin: bytes | None = None) -> str:
        """Run a command in Dom0 (over ssh), `stdin` fed to it; its stdout."""
        proc = subprocess.run(
            [str(self.tool), "exec", *cmd],
            capture_output=True, input=stdin, timeout=timeout, check=False,
        )
        out, err = proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")
        if check and proc.returncode != 0:
            raise AssertionError(
                f"Dom0 `{' '.join(cmd)}` exited {proc.returncode}: {err.strip()}"
            )
        return out

    def sh(self, script: str, timeout: float = 120, check: bool = True) -> str:
        return self.exec("sh", "-c", script, timeout=timeout, check=check)

    def virsh(self, *args: str, timeout: float = 120, check: bool = True) -> str:
        return self.exec("virsh", "-c", "xen:///system", *args, timeout=timeout, check=check)

    def state(self, name: str = "tiny") -> str:
        return self.virsh("domstate", name).strip()

    def wait_state(self, want: str, name: str = "tiny", timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        seen = ""
        while time.monotonic() < deadline:
            seen = self.state(name)
            if seen == want:
                return
            time.sleep(1)
        raise AssertionError(f"{name} is {seen!r}, not {want!r}, after {timeout} s")

    def reset_tiny(self) -> None:
        """tiny shut off, no managed-save image, autostart off."""
        self.virsh("managedsave-remove", "tiny", check=False)
        if self.state() != "shut off":
            self.virsh("destroy", "tiny", check=False)
            self.wait_state("shut off")
        self.virsh("managedsave-remove", "tiny", check=False)
        self.virsh("autostart", "--disable", "tiny", check=False)

    def guest(self, command: str) -> None:
        """Type a command into tiny's console shell (busybox sh on hvc0)."""
        self.exec(
            "sh", "-c",
            'printf "%s\\n" "$1" > "$(virsh -c xen:///system ttyconsole tiny)"', "-", command,
        )

    def wait_shell(self, timeout: float = 180) -> None:
        """Return once tiny's shell runs what is typed: its boot is over. A domain just
        started keeps Dom0 busy (its creation and the guest's boot I/O: 95-167% of a vCPU
        for half a minute on the rig, then 3-15%), and commands typed meanwhile wait."""
        dom_id = self.xl_id()
        if dom_id == self.shell_id:
            return
        probe = (
            'tty=$(virsh -c xen:///system ttyconsole tiny); out=$(mktemp);'
            ' timeout 3 cat "$tty" > "$out" & sleep 0.5;'
            ' printf "echo xentui-shell-\\$((6*7))\\n" > "$tty"; wait;'
            ' grep -c xentui-shell-42 "$out"; rm -f "$out"'
        )
        deadline = time.monotonic() + timeout
        while self.sh(probe, check=False).strip() in ("", "0"):
            if time.monotonic() > deadline:
                raise AssertionError(f"tiny's shell did not answer within {timeout} s")
        self.shell_id = dom_id

    def xl_id(self, name: str = "tiny") -> int:
        return int(self.exec("xl", "domid", name).strip())

    def dom0_counters(self, domid: int) -> dict[str, int]:
        """tiny's disk and NIC counters as Dom0's kernel keeps them (sysfs, /proc/net/dev).

        Byte counts are the guest's view: what Dom0's vif sends, the guest receives.
        """
        vbd = f"/sys/bus/xen-backend/devices/vbd-{domid}-51712/statistics"
        out = self.sh(
            f"cat {vbd}/rd_sect {vbd}/wr_sect; grep 'vif{domid}.0:' /proc/net/dev"
        ).split()
        rd_sect, wr_sect = int(out[0]), int(out[1])
        fields = out[2:]
        fields[0] = fields[0].split(":", 1)[1] or fields.pop(1)
        nic = [int(x) for x in fields]
        return {
            "rd_bytes": rd_sect * 512,
            "wr_bytes": wr_sect * 512,
            "rx_bytes": nic[8],  # the vif's tx bytes
            "tx_bytes": nic[0],  # the vif's rx bytes
        }

    def ensure_running(self) -> None:
        if self.state() == "paused":
            self.virsh("resume", "tiny")
        if self.state() != "running":
            self.reset_tiny()
            start_when_possible(self)
            self.wait_state("running")
        self.wait_shell()


def start_when_possible(rig: Rig, timeout: float = 30) -> None:
    """`virsh start tiny`, retrying while libxl still says it is active."""
    deadline = time.monotonic() + timeout
    while True:
        out = rig.exec("virsh", "-c", "xen:///system", "start", "tiny", check=False)
        if "started" in out:
            return
        if time.monotonic() > deadline:
            raise AssertionError("cannot start tiny")
        time.sleep(1)


def _run_tool(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    nice = os.environ.get("XENRIG_NICE", "")
    prefix = ["nice", "-n", nice] if args[0] == "start" and nice else []
    return subprocess.run(
        [*prefix, str(TOOL), *args], capture_output=True, text=True, timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def rig() -> Iterator[Rig]:
    """Build (if needed) and start the rig; stop it afterwards if this session started it."""
    if not TOOL.is_file():
        pytest.skip(f"the rig tool {TOOL} is not there")
    if os.geteuid() != 0:
        pytest.skip("the Xen rig needs root (debootstrap, QEMU's user networking setup)")
    if shutil.which("qemu-system-x86_64") is None:
        pytest.skip("qemu-system-x86_64 is not installed")
    if _mem_available_kib() < MIN_MEM_KIB:
        pytest.skip(f"not enough memory for the rig ({_mem_available_kib() // 1024} MiB free)")
    status = _run_tool("status", timeout=120)
    running = status.returncode == 0 and "libvirt answers" in status.stdout
    started_here = False
    if not running:
        try:
            built = _run_tool("build", timeout=BUILD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.skip(f"`xen-in-qemu.sh build` took more than {BUILD_TIMEOUT_S} s")
        if built.returncode != 0:
            pytest.skip(
                "`xen-in-qemu.sh build` failed (offline? no Debian mirror?):\n"
                + _tail(built.stderr + built.stdout)
            )
        started_here = True
        try:
            started = _run_tool("start", timeout=START_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _run_tool("stop", timeout=120)
            pytest.skip(f"`xen-in-qemu.sh start` took more than {START_TIMEOUT_S} s")
        if started.returncode != 0:
            _run_tool("stop", timeout=120)
            pytest.skip("`xen-in-qemu.sh start` failed:\n" + _tail(started.stderr))
    uri = _run_tool("uri", timeout=30).stdout.strip()
    ssh_uri = _run_tool("ssh-uri", timeout=30).stdout.strip()
    the_rig = Rig(TOOL, uri, ssh_uri, started_here)
    try:
        the_rig.reset_tiny()
        yield the_rig
    finally:
        if started_here and os.environ.get("XENRIG_KEEP") != "1":
            _run_tool("stop", timeout=120)


@pytest.fixture(scope="session")
def dom0_tree(rig: Rig) -> str:
    """xentui installed in Dom0 (python3-libvirt and python3-psutil from Debian); its path."""
    from tests.xen import dom0_python  # it imports this module

    try:
        return dom0_python.install(rig)
    except dom0_python.Dom0PythonMissing as err:
        pytest.skip(str(err))


@pytest.fixture
def tiny_off(rig: Rig) -> Rig:
    rig.reset_tiny()
    return rig


@pytest.fixture
def tiny_running(rig: Rig) -> Rig:
    rig.ensure_running()
    return rig
