"""The Performance pane's fast Text-to-Strip path draws each line exactly as Textual's
own visual pipeline does (segments, styles, offsets), in the domain and host views, with
Unicode blocks and in ASCII."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.visual import Visual, visualize

from tests.support.pilot_helpers import ready, until
from tests.ui.conftest import build_app
from xentui.demo import demo_uri, synthetic_node
from xentui.ui.text_strips import TextStrips
from xentui.ui.widgets.graphs import PerformanceView


def textual_strip(perf: PerformanceView, text: Text, width: int) -> Strip:
    return Visual.to_strips(perf, visualize(perf, text), width, 1, perf.visual_style)[0]


async def test_lines_match_textuals_pipeline(tmp_path: Path) -> None:
    node = tmp_path / "node.xml"
    node.write_text(synthetic_node(6))
    app = build_app(demo_uri(node), interval=3600.0)
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        for _ in range(4):
            app.poll_now()
            await pilot.pause(0.05)
        perf = app.query_one(PerformanceView)
        await until(pilot, lambda: "CPU" in perf.render().plain, what="graphs drawn")
        checked = 0
        for host_wide, ascii in ((False, False), (True, False), (False, True)):
            if app.main.host_wide != host_wide:
                await pilot.press("G")
            perf.ascii = ascii
            await pilot.pause(0.05)
            assert app.main.host_wide == host_wide
            assert ("All CPU" in perf.render().plain) == host_wide
            width, height = perf.content_size.width, perf.content_size.height
            lines = perf._lines(width, height)
            strips = TextStrips()
            styles = set()
            for text in lines:
                fast = strips.strip(perf, text, width, app.console)
                slow = textual_strip(perf, text, width)
                assert list(fast) == list(slow), text.plain
                assert fast.cell_length == slow.cell_length
                styles.update(s.style for s in text.spans)
                checked += 1
            assert len(styles) >= 2  # several styles met (labels, graphs), not just one
        assert checked > 20


_STYLES = ["", "bold", "green", "bold red", "dim", "reverse cyan"]


@given(
    plain=st.text(alphabet="ab █▁·", max_size=12),
    base=st.sampled_from(_STYLES),
    spans=st.lists(st.tuples(st.integers(0, 14), st.integers(0, 14), st.sampled_from(_STYLES)),
                   max_size=4),
)
def test_pieces_are_cut_and_styled_as_rich_renders(
    plain: str, base: str, spans: list[tuple[int, int, str]]
) -> None:
    """Cut by hand (spans in order, apart) or by Rich (any others), the pieces are
    Rich's own segments: same text, same styles, in the same order."""
    console = Console()
    text = Text(plain, style=base)
    for start, end, style in spans:
        text.stylize(style, start, end)
    got = [(piece, style) for piece, style in TextStrips()._pieces(text, console) if piece]
    if text.spans:
        want = [(seg.text, seg.style or Style.null()) for seg in text.render(console)]
    else:
        want = [(plain, console.get_style(base) if base else Style.null())] if plain else []
    assert got == [w for w in want if w[0]]
