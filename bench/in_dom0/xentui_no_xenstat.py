"""Runs in the rig's Dom0: `python3 -m xentui ARGS...` as it runs where libxenstat is not
installed (XenStat.probe finds nothing), so that bench/dom0_cost.py can set xentui with and
without libxenstat side by side on the same Dom0.

    python3 xentui_no_xenstat.py -c xen:///system -b -d 1
"""

from __future__ import annotations

import runpy
import sys

from xentui.backend.xenstat import XenStat


def no_library(cls: type[XenStat], library: str | None = None) -> XenStat | None:
    """What probe answers on a Dom0 without the library."""
    return None


if __name__ == "__main__":
    XenStat.probe = classmethod(no_library)  # type: ignore[method-assign,assignment]
    sys.argv[0] = "xentui"
    runpy.run_module("xentui", run_name="__main__", alter_sys=True)
