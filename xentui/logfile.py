"""An append-only JSON-lines event log with size rotation that never breaks its caller.

One object per line, flushed as soon as it is written, so a `kill -9` loses at most the
line in flight. When the file cannot be written (read-only disk, no permission, disk
full) the log turns itself off and keeps the reason in `.error`; it never raises.
"""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import IO, Any


def iso_time(when: float | None = None) -> str:
    """Local time with its UTC offset, to the millisecond: '2024-05-01T12:03:04.123+02:00'."""
    stamp = time.time() if when is None else when
    return datetime.fromtimestamp(stamp).astimezone().isoformat(timespec="milliseconds")


_BASE = frozenset({"time", "level", "kind", "text"})


class JsonLineLog:
    """Appends `{"time", "level", "kind", "text", ...}` lines to `path`, rotating by size.

    `events.jsonl` rolls to `events.jsonl.1`, `.1` to `.2` ... keeping at most `backups`
    old files. Safe to call from several threads.
    """

    def __init__(self, path: Path | str, max_bytes: int = 1_000_000, backups: int = 3) -> None:
        self.path = Path(path)
        self.max_bytes = max(1, int(max_bytes))
        self.backups = max(0, int(backups))
        self.error: str | None = None
        """Why the log stopped writing, or None while it works."""
        self._file: IO[bytes] | None = None
        self._size = 0
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.error is None

    def write(
        self, level: str, kind: str, text: str, *, when: float | None = None, **fields: Any
    ) -> bool:
        """Append one record; False if the log is (or just became) disabled."""
        record: dict[str, Any] = {
            "time": iso_time(when),
            "level": level,
            "kind": kind,
            "text": text,
        }
        for key, value in fields.items():
            if key not in record and value is not None:
                record[key] = value
        try:
            body = json.dumps(record, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            body = json.dumps({k: v if k in _BASE else repr(v) for k, v in record.items()})
        line = (body + "\n").encode("utf-8", "backslashreplace")
        with self._lock:
            if self.error is not None:
                return False
            try:
                f = self._open()
                if self._size and self._size + len(line) > self.max_bytes:
                    f = self._rotate()
                f.write(line)
                f.flush()
                self._size += len(line)
            except (OSError, ValueError) as err:
                self._disable(err)
                return False
        return True

    def close(self) -> None:
        """Close the file; a later write reopens it."""
        with self._lock:
            self._close_file()

    def _close_file(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass
            self._file = None

    def _open(self) -> IO[bytes]:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "ab")
            self._size = self._file.tell()
        return self._file

    def _rotate(self) -> IO[bytes]:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.backups == 0:
            self.path.unlink(missing_ok=True)
        else:
            for n in range(self.backups - 1, 0, -1):
                older = self.path.with_name(f"{self.path.name}.{n}")
                if older.exists():
                    os.replace(older, self.path.with_name(f"{self.path.name}.{n + 1}"))
            os.replace(self.path, self.path.with_name(f"{self.path.name}.1"))
        return self._open()

    def _disable(self, err: Exception) -> None:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        self.error = f"event log {self.path} disabled: {reason}"
        self._close_file()
