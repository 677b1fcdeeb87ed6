"""The JSON-lines event log: durable per line, rotated by size, never raising."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from xentui.config import log_path
from xentui.logfile import JsonLineLog


def test_line_is_visible_to_another_reader_at_once(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "events.jsonl"
    log = JsonLineLog(path)
    assert log.write("info", "lifecycle", "[b]evil ünïcode & co: Started", uuid="u-1")
    with open(path, encoding="utf-8") as reader:
        record = json.loads(reader.readline())
    assert record["level"] == "info"
    assert record["kind"] == "lifecycle"
    assert record["text"] == "[b]evil ünïcode & co: Started"
    assert record["uuid"] == "u-1"
    assert "T" in record["time"]
    log.write("warn", "ui", "second")
    assert path.read_text(encoding="utf-8").count("\n") == 2
    log.close()


def test_given_time_is_iso8601(tmp_path: Path) -> None:
    from datetime import datetime

    log = JsonLineLog(tmp_path / "e.jsonl")
    log.write("info", "ui", "x", when=1_700_000_000.25)
    stamp = json.loads((tmp_path / "e.jsonl").read_text())["time"]
    assert datetime.fromisoformat(stamp).timestamp() == pytest.approx(1_700_000_000.25, abs=1e-3)


def test_rotation_keeps_at_most_backups(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log = JsonLineLog(path, max_bytes=300, backups=2)
    for i in range(200):
        assert log.write("info", "ui", f"line {i:04d} " + "x" * 40)
    log.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["events.jsonl", "events.jsonl.1", "events.jsonl.2"]
    for p in tmp_path.iterdir():
        assert p.stat().st_size <= 300
        for line in p.read_text().splitlines():
            json.loads(line)
    last = json.loads(path.read_text().splitlines()[-1])
    assert last["text"].startswith("line 0199")


def test_rotation_without_backups_truncates(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log = JsonLineLog(path, max_bytes=200, backups=0)
    for i in range(20):
        log.write("info", "ui", f"{i} " + "y" * 50)
    assert [p.name for p in tmp_path.iterdir()] == ["events.jsonl"]
    assert path.stat().st_size <= 200


def test_appends_to_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    JsonLineLog(path).write("info", "ui", "one")
    JsonLineLog(path).write("info", "ui", "two")
    assert [json.loads(x)["text"] for x in path.read_text().splitlines()] == ["one", "two"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_unwritable_path_disables_without_raising(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a directory should be")
    log = JsonLineLog(blocker / "xentui" / "events.jsonl")
    assert log.write("info", "ui", "hello") is False
    assert not log.enabled
    assert log.error and "disabled" in log.error
    assert log.write("error", "ui", "again") is False


def test_read_only_directory(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running with privileges that ignore directory permissions")
        log = JsonLineLog(ro / "events.jsonl")
        assert log.write("info", "ui", "hello") is False
        assert log.error is not None
    finally:
        ro.chmod(0o700)


def test_write_failure_midway_disables(tmp_path: Path) -> None:
    log = JsonLineLog(tmp_path / "events.jsonl")
    assert log.write("info", "ui", "ok")
    assert log._file is not None
    log._file.close()  # the next write fails like a vanished disk would
    assert log.write("info", "ui", "lost") is False
    assert log.error is not None


def test_unserialisable_fields_do_not_raise(tmp_path: Path) -> None:
    log = JsonLineLog(tmp_path / "events.jsonl")
    assert log.write("info", "ui", "x", thing=object(), nested={"a": {1, 2}})
    record = json.loads((tmp_path / "events.jsonl").read_text())
    assert record["text"] == "x"


def test_default_log_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert log_path() == tmp_path / "xentui" / "events.jsonl"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert log_path() == Path.home() / ".local" / "state" / "xentui" / "events.jsonl"
    monkeypatch.setenv("XDG_STATE_HOME", "relative/ignored")
    assert log_path() == Path.home() / ".local" / "state" / "xentui" / "events.jsonl"
