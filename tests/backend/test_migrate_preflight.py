"""The migration pre-flight through libvirt's test driver on a private daemon: two fleet
hosts, each its own copy of a node file, so the target's domains are whatever the test
writes there. A target with a colliding domain is refused before libvirt is asked to
migrate, one with none, or with the domain's own shut-off definition, reaches libvirt
(whose test driver cannot migrate, and says so); the guest keeps running on the source.
Each host's connection is its node's only view, so the effects are read through it."""

from __future__ import annotations

import uuid as uuids

import pytest

from tests.backend.conftest import daemon_node_of
from tests.support import daemons
from xentui.backend.errors import BackendError, NotAllowed, Unsupported
from xentui.backend.fleet import Fleet
from xentui.backend.libvirt.host import LibvirtHost as Host
from xentui.backend.models import DomainRef, DomainState, MigrationOptions
from xentui.demo import guest_xml, node_xml

GUEST = "mover"


def node(*guests: tuple[str, str, str]) -> str:
    """A node with these (name, UUID, state) guests besides Domain-0."""
    return node_xml([guest_xml(name, uuid=uuid, state=state) for name, uuid, state in guests])


async def migrate_to_node(testd: daemons.PrivateDaemon, target_node: str,
                          opts: MigrationOptions) -> tuple[BackendError, DomainState]:
    """Migrate GUEST from a node running it to a host holding `target_node`; the error
    and GUEST's state on the source afterwards."""
    guest_uuid = str(uuids.uuid4())
    src = Host(daemon_node_of(testd, node((GUEST, guest_uuid, "running"))), id="src")
    dst = Host(daemon_node_of(testd, target_node.replace("{uuid}", guest_uuid)), id="dst")
    fleet = Fleet([src, dst], live=False)
    try:
        await src.connect()
        await dst.connect()
        with pytest.raises(BackendError) as failed:
            await fleet.migrate(DomainRef("src", guest_uuid), "dst", opts)
        after = await src.refresh_domain(guest_uuid)
        assert after is not None
        return failed.value, after.sample.state
    finally:
        await fleet.close()


@pytest.mark.parametrize(("target", "reason"), [
    (node((GUEST, "{uuid}", "running")), f"dst already runs {GUEST} (a domain with its UUID)"),
    (node(("other", "{uuid}", "shutoff")), f"dst has a domain other with {GUEST}'s UUID"),
    (node((GUEST, str(uuids.uuid4()), "shutoff")), f"dst already has another domain named {GUEST}"),
], ids=["running-same-uuid", "uuid-under-another-name", "name-under-another-uuid"])
async def test_a_colliding_domain_on_the_target_is_refused_before_libvirt_migrates(
    testd: daemons.PrivateDaemon, target: str, reason: str,
) -> None:
    for p2p in (False, True):
        err, state = await migrate_to_node(testd, target, MigrationOptions(p2p=p2p))
        assert isinstance(err, NotAllowed) and str(err) == f"Migrate: {reason}"
        assert state is DomainState.RUNNING


@pytest.mark.parametrize("target", [node(), node((GUEST, "{uuid}", "shutoff"))],
                         ids=["empty", "its-own-shut-off-definition"])
async def test_a_target_without_a_collision_reaches_libvirts_migration(
    testd: daemons.PrivateDaemon, target: str,
) -> None:
    for p2p, words in ((False, "virDomainMigrate3"), (True, "p2p migration is not supported")):
        err, state = await migrate_to_node(testd, target, MigrationOptions(p2p=p2p))
        text = str(err)
        assert isinstance(err, Unsupported) and text.startswith(f"Migrate {GUEST} to dst failed")
        assert words in text and "still holds" not in text and "\n" not in text
        assert state is DomainState.RUNNING
