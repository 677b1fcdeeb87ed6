"""VMs and containers: the Type column comes with a fleet that mixes them; what the LXC
driver lacks reads as a reason; libvirt's "not supported" reads as one clear line."""

from __future__ import annotations

from dataclasses import replace

import libvirt

from xentui.backend.actions import ACTIONS, why_not
from xentui.backend.errors import Unsupported
from xentui.backend.libvirt.capabilities import LXC_LACKS
from xentui.backend.libvirt.errors import translate
from xentui.backend.models import (
    Capabilities,
    DomainFigures,
    DomainKind,
    DomainRates,
    DomainSample,
    DomainState,
)
from xentui.config import DEFAULT_COLUMNS
from xentui.ui.columns import COLUMNS, fleet_columns, kinds_mixed


def _fig(name: str, kind: DomainKind) -> DomainFigures:
    sample = DomainSample(f"uuid-{name}", name, 1, DomainState.RUNNING, kind=kind)
    return DomainFigures(sample, DomainRates(), host="h")


def test_type_column_only_where_kinds_mix() -> None:
    vms = [_fig("a", DomainKind.VM), _fig("b", DomainKind.VM)]
    both = [*vms, _fig("c", DomainKind.CONTAINER)]
    assert not kinds_mixed(vms) and not kinds_mixed([]) and kinds_mixed(both)
    assert "type" not in DEFAULT_COLUMNS
    assert fleet_columns(DEFAULT_COLUMNS, several=False, mixed=False) == DEFAULT_COLUMNS
    assert fleet_columns(DEFAULT_COLUMNS, several=True, mixed=True)[:3] == (
        "host", "type", "name")
    chosen = ("name", "type", "state")  # a user who placed it keeps it where it is
    assert fleet_columns(chosen, several=False, mixed=True) == chosen
    cell = COLUMNS["type"].cell
    assert [cell(f) for f in both] == ["VM", "VM", "container"]


def test_lxc_capabilities_grey_what_the_driver_lacks() -> None:
    caps = Capabilities("LXC", bulk_stats=False, snapshots=True, reset=True,
                        managed_save=True, console=True, containers=True).without(LXC_LACKS)
    sample = DomainSample("u", "ct", 7, DomainState.RUNNING, kind=DomainKind.CONTAINER)
    assert why_not(ACTIONS["reset"], sample, caps) == "reset is not supported by the LXC driver"
    assert "managed save" in (why_not(ACTIONS["save"], sample, caps) or "")
    assert "snapshots" in (why_not(ACTIONS["snapshot"], sample, caps) or "")
    assert why_not(ACTIONS["pause"], sample, caps) is None
    assert caps.console and replace(caps, reset=True).reset


def test_not_supported_reads_as_one_clear_line() -> None:
    err = libvirt.libvirtError("virDomainReset() failed")
    err.err = (libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_FROM_DOM,
               "this function is not supported by the connection driver: virDomainReset",
               libvirt.VIR_ERR_ERROR, "", None, None, 0, 0)
    out = translate(err, "Reset ct")
    assert isinstance(out, Unsupported)
    assert str(out) == "Reset ct: the host's driver does not support this (virDomainReset)"
