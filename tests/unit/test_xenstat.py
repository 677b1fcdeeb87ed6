"""xentui.backend.xenstat against a stand-in libxenstat built here with the C compiler:
the ctypes signatures (64-bit counters, names, state flags, unlimited memory), the node
freed after every read and the handle released on close."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from xentui.backend.xenstat import XenDomainStat, XenStat

FAKE_C = r"""
#include <stdlib.h>
struct dom { unsigned id; const char *name; unsigned long long cpu, cur, max;
             unsigned vcpus, flags; };
static struct dom doms[] = {
    {0, "Domain-0", 5000000000123ULL, 1073741824ULL, ~0ULL, 2, 1u << 5},
    {7, "web[b]", 1ULL << 40, 134217728ULL, 268435456ULL, 1, 1u << 2},
    {9, "stopped", 42ULL, 4096ULL, 8192ULL, 4, (1u << 4) | (1u << 1)},
};
int inits, uninits, nodes, frees;
int counts(int which) { int v[] = {inits, uninits, nodes, frees}; return v[which]; }
void *xenstat_init(void) { inits++; return malloc(1); }
void xenstat_uninit(void *h) { uninits++; free(h); }
void *xenstat_get_node(void *h, unsigned flags) { nodes++; return flags ? NULL : doms; }
void xenstat_free_node(void *n) { frees++; }
unsigned xenstat_node_num_domains(void *n) { return 3; }
void *xenstat_node_domain_by_index(void *n, unsigned i) { return i < 3 ? &doms[i] : NULL; }
unsigned xenstat_domain_id(struct dom *d) { return d->id; }
const char *xenstat_domain_name(struct dom *d) { return d->name; }
unsigned long long xenstat_domain_cpu_ns(struct dom *d) { return d->cpu; }
unsigned xenstat_domain_num_vcpus(struct dom *d) { return d->vcpus; }
unsigned long long xenstat_domain_cur_mem(struct dom *d) { return d->cur; }
unsigned long long xenstat_domain_max_mem(struct dom *d) { return d->max; }
unsigned xenstat_domain_dying(struct dom *d) { return d->flags & 1; }
unsigned xenstat_domain_shutdown(struct dom *d) { return (d->flags >> 1) & 1; }
unsigned xenstat_domain_blocked(struct dom *d) { return (d->flags >> 2) & 1; }
unsigned xenstat_domain_crashed(struct dom *d) { return (d->flags >> 3) & 1; }
unsigned xenstat_domain_paused(struct dom *d) { return (d->flags >> 4) & 1; }
unsigned xenstat_domain_running(struct dom *d) { return (d->flags >> 5) & 1; }
"""


@pytest.fixture(scope="module")
def fake_lib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build the stand-in libxenstat")
    folder = tmp_path_factory.mktemp("xenstat")
    (folder / "fake.c").write_text(FAKE_C)
    lib = folder / "libxenstat-fake.so"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(lib), str(folder / "fake.c")],
                   check=True, capture_output=True)
    return lib


def test_read_gives_every_domain(fake_lib: Path) -> None:
    reader = XenStat.probe(str(fake_lib), device=None)
    assert reader is not None
    assert reader.read() == {
        0: XenDomainStat(0, "Domain-0", 5000000000123, 1048576, None, 2, "-----r"),
        7: XenDomainStat(7, "web[b]", 1 << 40, 131072, 262144, 1, "--b---"),
        9: XenDomainStat(9, "stopped", 42, 4, 8, 4, "-s--p-"),
    }
    reader.close()


def test_nodes_freed_and_handle_released(fake_lib: Path) -> None:
    import ctypes

    counts = ctypes.CDLL(str(fake_lib)).counts
    before = [counts(i) for i in range(4)]
    reader = XenStat(str(fake_lib))
    reader.read()
    reader.read()
    reader.close()
    assert reader.read() == {}
    reader.close()
    after = [counts(i) for i in range(4)]
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 2, 2]


def test_no_reader_without_the_library(tmp_path: Path) -> None:
    assert XenStat.probe(str(tmp_path / "libxenstat.so.0"), device=None) is None


def test_no_reader_without_xens_device(fake_lib: Path, tmp_path: Path) -> None:
    """Without the hypercall device open to this user read-write, the library is not even
    opened (its xenstat_init would write its failure over the screen)."""
    import ctypes

    counts = ctypes.CDLL(str(fake_lib)).counts
    inits = counts(0)
    device = tmp_path / "privcmd"
    assert XenStat.probe(str(fake_lib), device=str(device)) is None
    assert counts(0) == inits
    device.write_text("")
    reader = XenStat.probe(str(fake_lib), device=str(device))
    assert reader is not None and counts(0) == inits + 1
    reader.close()
    device.chmod(0o400)
    if not os.access(device, os.W_OK):  # root may write a read-only file anyway
        assert XenStat.probe(str(fake_lib), device=str(device)) is None
        assert counts(0) == inits + 1
