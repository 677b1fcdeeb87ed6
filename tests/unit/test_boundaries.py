"""The seams hold: the backend is headless, only its libvirt package knows libvirt and
only its xapi package knows XenAPI.

Each check imports modules in a fresh interpreter and looks at what got loaded, so a
stray import anywhere below them is caught, not just a direct one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NEUTRAL = ["xentui.backend.models", "xentui.backend.actions", "xentui.backend.api",
           "xentui.backend.fleet", "xentui.backend.errors", "xentui.backend.rates",
           "xentui.backend.history", "xentui.config", "xentui.demo.sim"]
UI = ["xentui.ui.app", "xentui.ui.screens.main", "xentui.ui.screens.detail",
      "xentui.ui.widgets.domain_table", "xentui.ui.widgets.hosts_pane", "xentui.ui.actions"]


def loaded_after(modules: list[str]) -> set[str]:
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "print('\\n'.join(sorted(sys.modules)))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    return set(res.stdout.split())


@pytest.mark.parametrize("module", NEUTRAL)
def test_neutral_modules_import_no_libvirt_and_no_ui(module: str) -> None:
    loaded = loaded_after([module])
    bad = sorted(m for m in loaded if m.split(".")[0] in ("libvirt", "libvirtmod", "textual",
                                                         "rich")
                 or m.startswith("xentui.backend.libvirt"))
    assert not bad, f"{module} pulls in {bad}"


def test_ui_modules_reach_libvirt_only_through_the_factory() -> None:
    """The console's modules never import the libvirt package themselves: the CLI's
    factory builds libvirt hosts when it runs, not when the UI is imported."""
    loaded = loaded_after(UI)
    bad = sorted(m for m in loaded if m.split(".")[0] in ("libvirt", "libvirtmod")
                 or m.startswith("xentui.backend.libvirt"))
    assert not bad, bad


def test_backend_is_headless() -> None:
    loaded = loaded_after(["xentui.backend.libvirt.host", "xentui.backend.fleet",
                           "xentui.batch", "xentui.cli"])
    bad = sorted(m for m in loaded if m.split(".")[0] in ("textual", "rich"))
    assert not bad, bad


def _xapi(loaded: set[str]) -> list[str]:
    return sorted(m for m in loaded if m.split(".")[0] == "XenAPI"
                  or m.startswith("xentui.backend.xapi"))


@pytest.mark.parametrize("module", NEUTRAL)
def test_neutral_modules_import_no_xenapi(module: str) -> None:
    assert not _xapi(loaded_after([module])), module


def test_ui_batch_and_cli_reach_xenapi_only_through_the_factory() -> None:
    """The console, batch mode and the CLI load the XenAPI backend only when a URI names
    a pool, not when they are imported."""
    assert not _xapi(loaded_after([*UI, "xentui.batch", "xentui.cli"]))


def test_xapi_backend_is_headless_and_knows_no_libvirt() -> None:
    loaded = loaded_after(["xentui.backend.xapi.host"])
    bad = sorted(m for m in loaded if m.split(".")[0] in ("textual", "rich", "libvirt",
                                                         "libvirtmod")
                 or m.startswith("xentui.backend.libvirt"))
    assert not bad, bad
