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
from xentui.config import Settings
from xentui.demo import demo_uri, synthetic_node
from xentui.demo.host import demo_fleet
from xentui.ui.app import XentuiApp
from xentui.ui.text_strips import TextStrips
from xentui.ui.widgets.graphs import PerformanceView
from xentui.ui.widgets.host_bar import HostBar


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



async def test_header_lines_match_textuals_whole_text(tmp_path: Path) -> None:
    """The header draws each of its lines alone; each equals the line Textual draws from
    the whole three-line text (at a width that fits, and one that cuts it with an
    ellipsis), so a pass redraws only the lines it changed."""
    node = tmp_path / "node.xml"
    node.write_text(synthetic_node(6))
    app = build_app(demo_uri(node), interval=3600.0)
    for size in ((160, 50), (60, 24)):
        async with app.run_test(size=size) as pilot:
            await ready(pilot)
            bar = app.query_one(HostBar)
            await until(pilot, lambda: "last pass" in bar.render().plain,  # noqa: B023
                        what="a pass in the header")
            width, height = bar.size
            whole = Visual.to_strips(bar, visualize(bar, bar.render()), width, height,
                                     bar.visual_style)
            lines = [bar.render_line(y) for y in range(height)]
            assert [list(s) for s in lines] == [list(s) for s in whole]
            assert [s.cell_length for s in lines] == [s.cell_length for s in whole]
            cut = any("…" in s.text for s in whole)
            assert cut == (size[0] < 100)  # the narrow header is cut with an ellipsis
        app = build_app(demo_uri(node), interval=3600.0)


async def test_a_pass_draws_the_header_lines_it_changed(tmp_path: Path) -> None:
    """A pass that changes one line of the header draws that line alone, from its own
    text, without turning the whole three-line text into strips."""
    node = tmp_path / "node.xml"
    node.write_text(synthetic_node(6))
    app = build_app(demo_uri(node), interval=3600.0)
    async with app.run_test(size=(160, 50)) as pilot:
        await ready(pilot)
        bar = app.query_one(HostBar)
        await until(pilot, lambda: "last pass" in bar.render().plain, what="a pass")
        await pilot.pause(0.05)
        drawn: list[int] = []
        whole = [0]
        render_line, render = bar.render_line, bar.render

        def counting_line(y: int) -> Strip:
            drawn.append(y)
            return render_line(y)

        def counting_render() -> Text:
            whole[0] += 1
            return render()

        bar.render_line = counting_line  # type: ignore[method-assign]
        bar.render = counting_render  # type: ignore[method-assign]
        text = bar.render()
        lines = text.split("\n")
        bar._put(Text("\n").join([lines[0], lines[1], Text("Domains changed")]))
        whole[0] = 0
        await pilot.pause(0.1)
    assert drawn == [2]
    assert whole[0] == 0


async def test_fleet_header_lines_match_textuals_whole_text() -> None:
    """The same for the demo fleet's header (a reversed DEMO label, sums over hosts)."""
    app = XentuiApp(demo_fleet(interval=3600.0, past_s=0), Settings(), live=True)
    async with app.run_test(size=(160, 50)) as pilot:
        await until(pilot, lambda: app.passes >= 3, what="the fleet's passes")
        await pilot.pause(0.05)
        bar = app.query_one(HostBar)
        assert "Fleet of 3 hosts" in bar.render().plain
        width, height = bar.size
        whole = Visual.to_strips(bar, visualize(bar, bar.render()), width, height,
                                 bar.visual_style)
        assert [list(bar.render_line(y)) for y in range(height)] == [list(s) for s in whole]


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
