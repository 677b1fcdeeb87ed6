"""The domain listing alone: every domain's name, id and state in a few calls, whatever
the host's size, so that the rows can be shown before the first pass reads the figures.

A listed `virDomain` carries its name, UUID and id on the client side (an id of -1: shut
off), so the whole listing costs one call; running and paused domains are told apart by
two listings filtered by state, transient ones by a third. Only an active domain in
neither state listing (blocked, crashed, suspended, shutting down: few) costs a call of
its own. Blocks: run it in a worker thread.
"""

from __future__ import annotations

import time

import libvirt
from xentui.backend.libvirt.readings import is_dom0
from xentui.backend.models import DomainSample, DomainState

_BY_FLAG = (
    (libvirt.VIR_CONNECT_LIST_DOMAINS_RUNNING, DomainState.RUNNING),
    (libvirt.VIR_CONNECT_LIST_DOMAINS_PAUSED, DomainState.PAUSED),
)


def _listed_state(dom: libvirt.virDomain, uuid: str,
                  known: dict[str, DomainState]) -> DomainState | None:
    """The state from the filtered listings, else from the domain itself; None if it
    vanished meanwhile."""
    if dom.ID() < 0:
        return DomainState.SHUTOFF
    state = known.get(uuid)
    if state is not None:
        return state
    try:
        return DomainState.from_libvirt(dom.state()[0])
    except libvirt.libvirtError as err:
        if err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return None
        raise


def read_listing(conn: libvirt.virConnect) -> list[DomainSample]:
    """Every domain with the facts the listing gives (no figures: those stay None)."""
    at = time.monotonic()
    domains = conn.listAllDomains(0)
    known: dict[str, DomainState] = {}
    for flag, filtered in _BY_FLAG:
        known.update((d.UUIDString(), filtered) for d in conn.listAllDomains(flag))
    transient = {d.UUIDString()
                 for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_TRANSIENT)}
    samples: list[DomainSample] = []
    for dom in domains:
        uuid = dom.UUIDString()
        state = _listed_state(dom, uuid, known)
        if state is None:
            continue
        dom_id = dom.ID() if state.active else None
        samples.append(DomainSample(uuid, dom.name(), dom_id, state, at=at,
                                    is_dom0=is_dom0(uuid, dom_id),
                                    persistent=uuid not in transient))
    return samples
