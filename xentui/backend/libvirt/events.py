"""libvirt domain events turned into plain records with readable text."""

from __future__ import annotations

import time

import libvirt
from xentui.backend.models import DomainEvent

_LIFECYCLE = (
    "Defined",
    "Undefined",
    "Started",
    "Suspended",
    "Resumed",
    "Stopped",
    "Shutdown",
    "PMSuspended",
    "Crashed",
)


def _detail_names(event: str) -> dict[int, str]:
    prefix = f"VIR_DOMAIN_EVENT_{event.upper()}_"
    out: dict[int, str] = {}
    for attr in dir(libvirt):
        if attr.startswith(prefix) and isinstance(getattr(libvirt, attr), int):
            out[getattr(libvirt, attr)] = attr[len(prefix):].lower().replace("_", " ")
    return out


_DETAILS = {code: _detail_names(name) for code, name in enumerate(_LIFECYCLE)}
_WATCHDOG = _detail_names("watchdog")
_IO_ERROR = _detail_names("io_error")


def lifecycle_text(event: int, detail: int) -> tuple[str, str]:
    """Readable (event, detail) of a lifecycle event, e.g. ('Stopped', 'destroyed')."""
    name = _LIFECYCLE[event] if 0 <= event < len(_LIFECYCLE) else f"Event {event}"
    return name, _DETAILS.get(event, {}).get(detail, "" if detail == 0 else f"detail {detail}")


def _make(uri: str, dom: libvirt.virDomain, kind: str, event: str, detail: str) -> DomainEvent:
    return DomainEvent(
        uri=uri,
        uuid=dom.UUIDString(),
        name=dom.name(),
        kind=kind,
        event=event,
        detail=detail,
        at=time.time(),
    )


def lifecycle(uri: str, dom: libvirt.virDomain, event: int, detail: int) -> DomainEvent:
    name, text = lifecycle_text(event, detail)
    return _make(uri, dom, "lifecycle", name, text)


def reboot(uri: str, dom: libvirt.virDomain) -> DomainEvent:
    return _make(uri, dom, "reboot", "Rebooted", "")


def watchdog(uri: str, dom: libvirt.virDomain, action: int) -> DomainEvent:
    return _make(uri, dom, "watchdog", "Watchdog fired", _WATCHDOG.get(action, str(action)))


def io_error(uri: str, dom: libvirt.virDomain, dev: str, action: int) -> DomainEvent:
    what = _IO_ERROR.get(action, str(action))
    return _make(uri, dom, "io-error", "I/O error", f"{dev}: {what}")


def control_error(uri: str, dom: libvirt.virDomain) -> DomainEvent:
    return _make(uri, dom, "control-error", "Control error", "libvirt lost control of it")


_METADATA_KINDS = {
    getattr(libvirt, "VIR_DOMAIN_METADATA_DESCRIPTION", 0): "description",
    getattr(libvirt, "VIR_DOMAIN_METADATA_TITLE", 1): "title",
    getattr(libvirt, "VIR_DOMAIN_METADATA_ELEMENT", 2): "element",
}


def metadata_change(uri: str, dom: libvirt.virDomain, mtype: int, nsuri: str | None
                    ) -> DomainEvent:
    what = _METADATA_KINDS.get(mtype, str(mtype))
    return _make(uri, dom, "metadata", "Metadata changed", f"{what} {nsuri}" if nsuri else what)
