"""Every domain's CPU time and memory in one call, from Xen's statistics library (libxenstat,
which xentop uses) through ctypes: on a Dom0 where the library is installed.

One `read` costs one batch of domain-info hypercalls and a xenstore read per domain name,
against one libvirt `info()` round trip through libvirtd per domain. libvirt stays the
source of names, states, events and actions; this only supplies figures. The figures are
the ones libvirt's libxl driver itself reports: `cpu_ns` is Xen's per-domain CPU time and
`cur_mem` the domain's pages (libxl's current_memkb), so they agree with `info()`.
Not thread-safe (one libxenstat handle): `read` takes a lock.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
import threading
from dataclasses import dataclass

LIBRARY_GLOBS = ("/usr/lib/*/libxenstat.so*", "/usr/lib64/libxenstat.so*",
                 "/usr/lib/libxenstat.so*", "/usr/local/lib/libxenstat.so*")
"""Where distributions put the library when ldconfig does not list a dev symlink."""

PRIVCMD = "/dev/xen/privcmd"
"""Xen's hypercall device. libxenstat needs it open read-write (root on Dom0); without
that, xenstat_init reports its failure on the process's stderr (perror, libxc's logger),
which is the terminal under the UI: probe asks first."""

FLAGS_DOMAINS_ONLY = 0
"""xenstat_get_node flags: none of VCPU (0x1), NETWORK (0x2), XEN_VERSION (0x4), VBD (0x8).
Domain CPU time, memory and state come with every node; the rest would read sysfs and
/proc/net/dev, which XenLocalIo already does once per pass."""

_SIGNATURES: dict[str, tuple[type | None, list[type]]] = {
    "xenstat_init": (ctypes.c_void_p, []),
    "xenstat_uninit": (None, [ctypes.c_void_p]),
    "xenstat_get_node": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_uint]),
    "xenstat_free_node": (None, [ctypes.c_void_p]),
    "xenstat_node_num_domains": (ctypes.c_uint, [ctypes.c_void_p]),
    "xenstat_node_domain_by_index": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_uint]),
    "xenstat_domain_id": (ctypes.c_uint, [ctypes.c_void_p]),
    "xenstat_domain_name": (ctypes.c_char_p, [ctypes.c_void_p]),
    "xenstat_domain_cpu_ns": (ctypes.c_ulonglong, [ctypes.c_void_p]),
    "xenstat_domain_num_vcpus": (ctypes.c_uint, [ctypes.c_void_p]),
    "xenstat_domain_cur_mem": (ctypes.c_ulonglong, [ctypes.c_void_p]),
    "xenstat_domain_max_mem": (ctypes.c_ulonglong, [ctypes.c_void_p]),
    "xenstat_domain_running": (ctypes.c_uint, [ctypes.c_void_p]),
    "xenstat_domain_blocked": (ctypes.c_uint, [ctypes.c_void_p]),
    "xenstat_domain_paused": (ctypes.c_uint, [ctypes.c_void_p]),
    "xenstat_domain_shutdown": (ctypes.c_uint, [ctypes.c_void_p]),
    "xenstat_domain_crashed": (ctypes.c_uint, [ctypes.c_void_p]),
    "xenstat_domain_dying": (ctypes.c_uint, [ctypes.c_void_p]),
}

_UNLIMITED = (1 << 64) - 1
"""max_mem of a domain without a limit."""


@dataclass(frozen=True, slots=True)
class XenDomainStat:
    """One domain as Xen counts it."""

    dom_id: int
    name: str
    cpu_time_ns: int
    mem_kib: int
    maxmem_kib: int | None
    vcpus: int
    state: str
    """xentop's letters in its order: dying, shutdown, blocked, crashed, paused, running
    (d s b c p r); '-' where a flag is off."""


def find_library() -> str | None:
    """The libxenstat shared object's name or path, if this machine has one."""
    found = ctypes.util.find_library("xenstat")
    if found:
        return found
    for pattern in LIBRARY_GLOBS:
        paths = sorted(glob.glob(pattern))
        if paths:
            return paths[-1]
    return None


class XenStat:
    """A libxenstat handle: `read` gives every domain's figures, keyed by domain id."""

    def __init__(self, library: str) -> None:
        lib = ctypes.CDLL(library)
        for name, (restype, argtypes) in _SIGNATURES.items():
            fn = getattr(lib, name)
            fn.restype = restype
            fn.argtypes = argtypes
        self._lib = lib
        self._lock = threading.Lock()
        self._handle: int | None = lib.xenstat_init()
        if not self._handle:
            raise OSError(f"xenstat_init failed ({library}: not Dom0, or not root?)")
        self.library = library

    @classmethod
    def probe(cls, library: str | None = None, device: str | None = PRIVCMD) -> XenStat | None:
        """A reader where libxenstat is installed and usable (Dom0, root: `device` open
        read-write; None skips that check); else None."""
        if device is not None and not os.access(device, os.R_OK | os.W_OK):
            return None
        path = library or find_library()
        if path is None:
            return None
        try:
            return cls(path)
        except (OSError, AttributeError):
            return None

    def read(self) -> dict[int, XenDomainStat]:
        """Every domain's CPU time, memory and state now; {} once closed."""
        lib = self._lib
        with self._lock:
            if self._handle is None:
                return {}
            node = lib.xenstat_get_node(self._handle, FLAGS_DOMAINS_ONLY)
            if not node:
                raise OSError("xenstat_get_node failed")
            try:
                out: dict[int, XenDomainStat] = {}
                for i in range(lib.xenstat_node_num_domains(node)):
                    dom = lib.xenstat_node_domain_by_index(node, i)
                    if dom:
                        stat = self._domain(dom)
                        out[stat.dom_id] = stat
                return out
            finally:
                lib.xenstat_free_node(node)

    def _domain(self, dom: int) -> XenDomainStat:
        lib = self._lib
        name = lib.xenstat_domain_name(dom)
        max_mem = lib.xenstat_domain_max_mem(dom)
        flags = (lib.xenstat_domain_dying, lib.xenstat_domain_shutdown,
                 lib.xenstat_domain_blocked, lib.xenstat_domain_crashed,
                 lib.xenstat_domain_paused, lib.xenstat_domain_running)
        state = "".join(letter if fn(dom) else "-" for letter, fn in zip("dsbcpr", flags,
                                                                         strict=True))
        return XenDomainStat(
            dom_id=lib.xenstat_domain_id(dom),
            name=name.decode(errors="replace") if name else "",
            cpu_time_ns=lib.xenstat_domain_cpu_ns(dom),
            mem_kib=lib.xenstat_domain_cur_mem(dom) // 1024,
            maxmem_kib=None if max_mem == _UNLIMITED else max_mem // 1024,
            vcpus=lib.xenstat_domain_num_vcpus(dom),
            state=state,
        )

    def close(self) -> None:
        """Release the handle (libxc and xenstore connections)."""
        with self._lock:
            if self._handle is not None:
                self._lib.xenstat_uninit(self._handle)
                self._handle = None
