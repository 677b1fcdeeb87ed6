"""The records the fleet's merge tests feed it: one host's info, a domain's UUID, a pass."""

from __future__ import annotations

from xentui.backend.models import DomainFigures, HostInfo, PassResult

INFO = HostInfo("u", "h", "Xen", "4.17", "9.0", 4, 2000, "cpu", 1 << 24)
UUID = "11111111-2222-3333-4444-555555555555"


def result(at: float, *figs: DomainFigures, host: str = "h") -> PassResult:
    """A per-domain pass of `host` begun at `at` that read these figures."""
    return PassResult(INFO, {f.uuid: f for f in figs}, 0.0, 0.1, "per-domain", host, at)
