"""Runs in the rig's Dom0: two xentui hosts on xen:///system at once, one as connect sets
it up on a Dom0 (Dom0's I/O files and libxenstat), one with libxenstat taken away (every
domain's `info()`). For each `sample` line on stdin both take a pass at the same moment;
one JSON line out per pass: per host its path, the pass's start and length, every
domain's sample and rates, and the `info()` calls its connection made in that pass.
Any other line ends it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from collections import Counter
from typing import Any

import libvirt

from xentui.backend.libvirt.host import LibvirtHost
from xentui.backend.models import PassResult

INFO_CALLS: Counter[int] = Counter()
"""`virDomain.info` calls by the id() of the connection they went through."""


def count_info_calls() -> None:
    """Count every `virDomain.info` call per connection (both hosts share the class)."""
    orig = libvirt.virDomain.info

    def counted(dom: libvirt.virDomain) -> Any:
        INFO_CALLS[id(dom._conn)] += 1
        return orig(dom)

    libvirt.virDomain.info = counted  # type: ignore[method-assign]


def dump(result: PassResult, info_calls: int) -> dict[str, Any]:
    """The pass as plain JSON: path, span, info() calls, per domain name its figures."""
    return {
        "path": result.path,
        "at": result.at,
        "took": result.took_s,
        "info_calls": info_calls,
        "domains": {
            f.sample.name: {"sample": dataclasses.asdict(f.sample),
                            "rates": dataclasses.asdict(f.rates)}
            for f in result.domains.values()
        },
    }


def connection_key(host: LibvirtHost) -> int:
    sampler = host._sampler
    assert sampler is not None
    return id(sampler.conn)


async def main() -> None:
    """Connect both, say whether libxenstat is on for the first, then sample on request."""
    count_info_calls()
    xen = LibvirtHost("xen:///system", interval=1.0)
    plain = LibvirtHost("xen:///system", interval=1.0)
    await xen.connect()
    await plain.connect()
    sampler = plain._sampler  # the only way to turn libxenstat off for one host
    assert sampler is not None
    sampler.xen_stat = None
    reader_on = xen._sampler is not None and xen._sampler.xen_stat is not None
    print(json.dumps({"ready": True, "xenstat": reader_on}), flush=True)
    loop = asyncio.get_running_loop()
    try:
        while (await loop.run_in_executor(None, sys.stdin.readline)).strip() == "sample":
            INFO_CALLS.clear()
            a, b = await asyncio.gather(xen.sample(), plain.sample())
            print(json.dumps({"xenstat": dump(a, INFO_CALLS[connection_key(xen)]),
                              "libvirt": dump(b, INFO_CALLS[connection_key(plain)])}),
                  flush=True)
    finally:
        await xen.close()
        await plain.close()


if __name__ == "__main__":
    asyncio.run(main())
