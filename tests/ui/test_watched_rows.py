"""The rows on screen are the domains whose I/O counters the backend reads every pass;
scrolling moves that set, and off-screen domains' I/O figures carry their age."""

from __future__ import annotations

from pathlib import Path

from tests.support.pilot_helpers import ready, until
from tests.ui.conftest import build_app
from xentui.demo import demo_uri, synthetic_node


def on_screen(app) -> set[str]:
    table = app.main.table
    top = int(table.scroll_offset.y)
    rows = table.size.height - 1  # the header takes the first line
    return {r.uuid for r in table.order[top : top + rows]}


async def test_rows_on_screen_are_watched_and_scrolling_moves_them(tmp_path: Path) -> None:
    node = tmp_path / "node.xml"
    node.write_text(synthetic_node(120))
    app = build_app(demo_uri(node), per_domain=True)
    async with app.run_test(size=(140, 30)) as pilot:
        await ready(pilot)
        host = app.host
        watched = lambda: host._watched  # noqa: E731
        await until(pilot, lambda: watched() is not None and on_screen(app) <= watched())
        first = on_screen(app)
        assert len(watched()) < len(app.main.table.order)
        await pilot.press("end")
        await until(pilot, lambda: on_screen(app) != first and on_screen(app) <= watched())
        assert not first & on_screen(app) & watched()
        # the next passes read the rows now shown afresh; rows scrolled away age
        passes = app.passes
        await until(pilot, lambda: app.passes >= passes + 3, timeout=10)
        last = host.last.domains
        shown = on_screen(app)
        assert all(last[u].sample.io_age_s == 0 for u in shown)
        aged = [u for u in first if last[u].sample.state.active and last[u].sample.io_age_s > 0]
        assert aged
