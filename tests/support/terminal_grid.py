"""A screen of cells fed with what Textual writes to a terminal (cursor moves, SGR
styles, text): to check that partial updates leave the same screen as a full repaint."""

from __future__ import annotations

import re

from rich.cells import cell_len

_SEQ = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])")


class TerminalGrid:
    """`width` x `height` cells of (character, SGR in effect); moves are CSI row;col H."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.cells = [[(" ", "")] * width for _ in range(height)]
        self.x = self.y = 0
        self.sgr = ""
        self.written = 0

    def feed(self, data: str) -> None:
        self.written += len(data.encode())
        pos = 0
        for m in _SEQ.finditer(data):
            self._text(data[pos : m.start()])
            pos = m.end()
            args, cmd = m.group(1), m.group(2)
            if cmd == "H":
                row, _, col = args.partition(";")
                self.y, self.x = int(row or 1) - 1, int(col or 1) - 1
            elif cmd == "m":
                self.sgr = "" if args in ("", "0") else self.sgr + ";" + args
        self._text(data[pos:])

    def _text(self, text: str) -> None:
        for ch in text:
            if ch in "\r\n":
                continue
            w = cell_len(ch)
            if 0 <= self.y < self.height and 0 <= self.x < self.width:
                self.cells[self.y][self.x] = (ch, self.sgr)
                for extra in range(1, w):
                    if self.x + extra < self.width:
                        self.cells[self.y][self.x + extra] = ("", self.sgr)
            self.x += w

    def lines(self) -> list[str]:
        return ["".join(ch for ch, _ in row) for row in self.cells]
