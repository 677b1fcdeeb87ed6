"""Regenerate the SVG screenshots in this folder from the real app on the demo fleet.

Run: `.venv/bin/python screenshots/regenerate.py` (about 20 seconds). The demo is a
simulation of three Xen hosts with ten minutes of simulated past, so the graphs have a
history; one picture shows a host that stopped answering (a libvirt test daemon would
need a daemon: here the demo host is marked lost, as the console shows a lost host).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
PASSES = 6


async def shoot(size: tuple[int, int], name: str, keys: list[str],
                before: Callable[[object], None] | None = None) -> None:
    from xentui.config import Settings
    from xentui.demo.host import demo_fleet
    from xentui.ui.app import XentuiApp

    settings = Settings(interval=1.0)
    app = XentuiApp(demo_fleet(interval=1.0), settings)
    async with app.run_test(size=size) as pilot:
        while app.passes < PASSES:
            await pilot.pause(0.1)
        if before is not None:
            before(app)
        await pilot.press(*keys)
        await pilot.pause(1.5)
        app.save_screenshot(filename=f"{name}.svg", path=str(HERE))
        print(f"wrote {HERE / name}.svg")


def lose_xen_c(app: object) -> None:
    fleet = app.fleet  # type: ignore[attr-defined]
    fleet.hosts["xen-c"].mark_lost("connection to demo://xen-c lost: keepalive timed out "
                                   "(no answer from the host)")


async def main() -> None:
    await shoot((160, 50), "main", ["j", "j", "j", "j", "j"])
    await shoot((80, 24), "main-80x24", ["1", "j"])
    await shoot((160, 50), "host-graphs", ["j", "j", "j", "G"])
    await shoot((120, 40), "detail", ["j", "j", "j", "j", "j", "enter"])
    await shoot((120, 40), "help", ["j", "question_mark"])
    await shoot((100, 30), "confirm", ["j", "j", "j", "j", "j", "F"])
    await shoot((160, 50), "lost-host", ["j"], lose_xen_c)
    await shoot((160, 50), "bulk", ["slash", "w", "e", "b", "enter", "asterisk", "escape",
                                    "j", "j", "j", "space", "p"])


if __name__ == "__main__":
    os.environ.setdefault("XDG_CONFIG_HOME", tempfile.mkdtemp())
    os.environ.setdefault("XDG_STATE_HOME", tempfile.mkdtemp())
    sys.exit(asyncio.run(main()))
