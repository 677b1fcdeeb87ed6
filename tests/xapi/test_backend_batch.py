"""Batch mode on a pool: the same JSON keys as on a libvirt host, every VM, its member."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.xapi_server import GUESTS
from tests.xapi.backend_rig import Pool

ROOT = Path(__file__).resolve().parents[2]


def _batch(uri: str, tmp_path: Path, *extra: str, password: str | None = None) -> Any:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONASYNCIODEBUG", "XENTUI_XAPI_PASSWORD")}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_STATE_HOME=str(tmp_path / "state"),
               PYTHONPATH=str(ROOT))
    if password is not None:
        env["XENTUI_XAPI_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "xentui", "-b", "-n", "2", "-d", "0.3", "--format", "json",
         "-c", uri, *extra],
        capture_output=True, text=True, timeout=60, env=env, cwd=ROOT,
    )


def test_batch_json_on_a_pool_has_the_libvirt_keys(
    pool: Pool, password: str, tmp_path: Path
) -> None:
    res = _batch(pool.uri(), tmp_path, password=password)
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    ref = _batch("test:///default", tmp_path)
    assert ref.returncode == 0, ref.stderr
    libvirt_keys = list(json.loads(ref.stdout.splitlines()[0]))
    assert rows and all(list(row) == libvirt_keys for row in rows)
    obs = pool.observer()
    listed = [v for v in obs.xenapi.VM.get_all_records().values()
              if not v["is_a_template"] and not v["is_a_snapshot"]]
    assert len(rows) == 2 * len(listed)
    last = {row["uuid"]: row for row in rows[len(listed):]}
    for vm in listed:
        row = last[vm["uuid"]]
        assert row["name"] == vm["name_label"] and row["uri"] == pool.uri()
        assert row["vcpus"] is not None and row["maxmem_kib"] > 0
    by_name = {row["name"]: row for row in last.values()}
    assert by_name["web"]["state"] == "running" and by_name["spare"]["state"] == "shutoff"
    assert by_name["web"]["cpu_pct"] is not None and by_name["web"]["net_rx_bps"] is not None
    assert set(GUESTS) <= set(by_name)


def test_batch_without_a_password_says_so_and_fails(pool: Pool, tmp_path: Path) -> None:
    res = _batch(pool.uri(), tmp_path)
    assert res.returncode == 1
    assert res.stdout == ""
    assert "XENTUI_XAPI_PASSWORD" in res.stderr and len(res.stderr.splitlines()) == 1
