"""Regenerate the SVG screenshots in this folder from the real app on the demo host.

Run: `.venv/bin/python screenshots/regenerate.py` (takes about 15 seconds: the app
samples a few passes first so that rates and graphs have something to show).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PASSES = 12


async def shoot(size: tuple[int, int], name: str, keys: list[str]) -> None:
    from xentui.config import Settings
    from xentui.demo import demo_uri
    from xentui.ui.app import make_app

    app = make_app(demo_uri(), settings=Settings(interval=0.5), log_to_file=False)
    async with app.run_test(size=size) as pilot:
        while app.passes < PASSES:
            await pilot.pause(0.1)
        await pilot.press(*keys)
        await pilot.pause(1.0)
        app.save_screenshot(filename=f"{name}.svg", path=str(HERE))
        print(f"wrote {HERE / name}.svg")


async def main() -> None:
    await shoot((160, 50), "main", ["j", "j", "j", "j", "j"])
    await shoot((80, 24), "main-80x24", ["j"])
    await shoot((160, 50), "host-graphs", ["G"])
    await shoot((120, 40), "detail", ["j", "j", "j", "j", "j", "enter"])
    await shoot((120, 40), "help", ["j", "question_mark"])
    await shoot((100, 30), "confirm", ["j", "j", "j", "j", "j", "F"])


if __name__ == "__main__":
    os.environ.setdefault("XDG_CONFIG_HOME", tempfile.mkdtemp())
    sys.exit(asyncio.run(main()))
