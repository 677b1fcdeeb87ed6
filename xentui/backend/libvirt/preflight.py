"""Before a migration: refuse one that cannot succeed, before libvirt's Begin3 takes the
domain's job on the source (blocking; run in the source host's pool).

A migration whose target is the source's own physical host, or whose target already has
a domain that would collide with this one, fails in the target's Prepare3. On libvirt's
libxl driver that failure leaves the source domain's job held (see `held_job`), so such a
migration is refused here instead, with a one-line reason, after a few cheap calls: what
each side says of its machine (`host_identity`) and two lookups on the target; none of
them takes the domain's job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import libvirt
from xentui.backend.errors import DomainGone, NotAllowed
from xentui.backend.libvirt.errors import translate
from xentui.backend.libvirt.host_identity import same_machine


@dataclass(frozen=True, slots=True)
class TargetDomain:
    """A domain the target already has."""

    name: str
    uuid: str
    active: bool


def _on_target(find: Callable[[str], libvirt.virDomain], key: str,
               target: str) -> TargetDomain | None:
    """The target's domain that `find(key)` names; None when it has none (also when it
    vanishes while read)."""
    try:
        dom = find(key)
        return TargetDomain(dom.name(), dom.UUIDString().lower(), bool(dom.isActive()))
    except libvirt.libvirtError as err:
        if err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return None
        raise translate(err, f"Migrate: cannot check {target}") from err


def collision_reason(dest: libvirt.virConnect, uuid: str, name: str,
                     target: str) -> str | None:
    """Why the target cannot take the domain `uuid` called `name`: a domain with its UUID
    runs there, or one there has its UUID under another name, or its name under another
    UUID. A shut-off definition with both its UUID and its name is no obstacle: libvirt
    replaces it with the incoming domain (a migration back to a host that kept it)."""
    by_uuid = _on_target(dest.lookupByUUIDString, uuid, target)
    if by_uuid is not None:
        if by_uuid.active and by_uuid.name == name:
            return f"Migrate: {target} already runs {name} (a domain with its UUID)"
        if by_uuid.active:
            return f"Migrate: {target} already runs a domain {by_uuid.name} with {name}'s UUID"
        if by_uuid.name != name:
            return f"Migrate: {target} has a domain {by_uuid.name} with {name}'s UUID"
    by_name = _on_target(dest.lookupByName, name, target)
    if by_name is not None and by_name.uuid != uuid.lower():
        return f"Migrate: {target} already has another domain named {name}"
    return None


def check_target(src: libvirt.virConnect, dest: libvirt.virConnect, uuid: str,
                 source: str, target: str) -> None:
    """Refuse (NotAllowed, one line starting "Migrate") a migration of the domain `uuid`
    from `src` (the fleet host `source`) to `dest` (`target`) that cannot succeed;
    DomainGone if the domain left the source. Calls nothing that takes the domain's job."""
    try:
        name = src.lookupByUUIDString(uuid).name()
    except libvirt.libvirtError as err:
        if err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            raise DomainGone("Migrate: the domain no longer exists") from err
        raise translate(err, "Migrate") from err
    try:
        evidence = same_machine(src, dest)
    except libvirt.libvirtError as err:
        raise translate(err, "Migrate: cannot read the hosts' capabilities") from err
    if evidence is not None:
        raise NotAllowed(f"Migrate: {target} is the same physical host as {source} "
                         f"({evidence}); pick another host")
    reason = collision_reason(dest, uuid, name, target)
    if reason is not None:
        raise NotAllowed(reason)
