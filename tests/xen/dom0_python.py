"""xentui's backend inside the rig's Dom0: Debian's python3-libvirt and python3-psutil,
fetched on this host with `apt-get download` and installed with dpkg over ssh (Dom0 has no
network), and this tree's `xentui` package (plus the in_dom0/ scripts of tests/xen and
bench) copied to DOM0_TREE.
Textual is not needed: the backend and batch mode do not import it.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from pathlib import Path

from tests.xen.conftest import ROOT, Rig

DOM0_TREE = "/opt/xentui"
"""Where the copy lives in Dom0; PYTHONPATH there."""

DEBS = ("python3-libvirt", "python3-psutil")
"""Debian bookworm packages xentui's backend needs beyond Dom0's python3."""

DEB_CACHE = Path(os.environ.get("XENRIG_CACHE", "/tmp/xenrig/cache")) / "xentui-debs"


class Dom0PythonMissing(RuntimeError):
    """The packages could not be fetched here (offline, no apt) or installed there."""


def fetch_debs(dest: Path = DEB_CACHE) -> list[Path]:
    """The .deb files of DEBS, downloaded once into `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    have = [next(iter(sorted(dest.glob(f"{name}_*.deb"))), None) for name in DEBS]
    if all(have):
        return [p for p in have if p is not None]
    proc = subprocess.run(["apt-get", "download", *DEBS], cwd=dest, capture_output=True,
                          text=True, timeout=300, check=False)
    found = [sorted(dest.glob(f"{name}_*.deb")) for name in DEBS]
    if proc.returncode != 0 or not all(found):
        raise Dom0PythonMissing(f"apt-get download {' '.join(DEBS)} failed: "
                                f"{proc.stderr.strip()[-300:]}")
    return [files[-1] for files in found]


def _tree_tar() -> bytes:
    """xentui/ and tests/xen/in_dom0/ as a tar (no caches, no UI assets needed)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for top in ("xentui", "tests/xen/in_dom0", "bench/in_dom0"):
            path = ROOT / top
            if path.exists():
                tar.add(path, arcname=top,
                        filter=lambda info: None if "__pycache__" in info.name else info)
    return buf.getvalue()


def install(rig: Rig) -> str:
    """Make `python3 -m xentui` and the in_dom0 scripts run in Dom0; the PYTHONPATH."""
    if rig.exec("sh", "-c", "python3 -c 'import libvirt, psutil' && echo yes",
                check=False, timeout=60).strip() != "yes":
        debs = fetch_debs()
        for deb in debs:
            rig.exec("sh", "-c", f"cat > /tmp/{deb.name}", stdin=deb.read_bytes())
        names = " ".join(f"/tmp/{deb.name}" for deb in debs)
        rig.sh(f"dpkg -i {names} >/dev/null && rm -f {names}", timeout=300)
    rig.exec("sh", "-c", f"rm -rf {DOM0_TREE} && mkdir -p {DOM0_TREE} && "
             f"tar -xz -C {DOM0_TREE}", stdin=_tree_tar(), timeout=120)
    return DOM0_TREE
