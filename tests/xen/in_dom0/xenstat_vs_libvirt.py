"""Runs in the rig's Dom0: libxenstat through xentui.backend.xenstat against libvirt's
`info()` of every active domain, read in between two xenstat reads (so each libvirt CPU
time must lie between them). One JSON line out."""

from __future__ import annotations

import dataclasses
import json

import libvirt

from xentui.backend.xenstat import XenStat


def main() -> None:
    """xenstat, libvirt info() of each domain, xenstat again."""
    reader = XenStat.probe()
    if reader is None:
        print(json.dumps({"library": None}))
        return
    conn = libvirt.openReadOnly("xen:///system")
    try:
        before = reader.read()
        doms = conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
        seen = {dom.ID(): {"name": dom.name(), "info": dom.info()} for dom in doms}
        after = reader.read()
    finally:
        conn.close()
        reader.close()
    print(json.dumps({
        "library": reader.library,
        "before": {i: dataclasses.asdict(s) for i, s in before.items()},
        "after": {i: dataclasses.asdict(s) for i, s in after.items()},
        "libvirt": seen,
    }))


if __name__ == "__main__":
    main()
