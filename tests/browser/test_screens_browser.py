"""The pages on a phone (390 x 844 and 360 x 740), a tablet (768 x 1024) and a small laptop (1024 x 768):
nothing wider than the screen, plots wide enough to read, titles and formulas inside their
boxes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core import scrub
from tests.browser.conftest import grown_margins, new_page, wait_for_app

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SCREENS = {"phone": PHONE, "small phone": {"width": 360, "height": 740},
           "tablet": {"width": 768, "height": 1024},
           "laptop": {"width": 1024, "height": 768}}  # fmt: skip
PROJECTOR = {"width": 1920, "height": 1080}
# Plot area of every figure, in px (three statistics plots in one figure once had 63).
MIN_PLOT_WIDTH = 150

_OVERFLOW_JS = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    return [main.scrollWidth, main.clientWidth];
}"""

_PLOTS_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => {
    const title = gd.querySelector('.gtitle'), box = title && title.getBBox();
    return {width: Math.round(gd._fullLayout._size.w), figure: gd._fullLayout.width,
            titleEnd: box ? Math.ceil(box.x + box.width) : 0};
})"""

# a formula wider than its box is cut (KaTeX scrolls it); 3 px of italic overhang are not
_FORMULAS_JS = """() => Array.from(document.querySelectorAll('.katex-display')).map(box =>
    box.querySelector('.katex').scrollWidth - box.clientWidth)"""

_FRAME_JS = """() => {
    const page = document.querySelector('iframe').contentDocument.documentElement;
    return [page.scrollWidth, page.clientWidth];
}"""


@pytest.fixture
def tab(browser: Any, server: str) -> Iterator[Any]:
    tab = new_page(browser, base_url=server, viewport=PHONE)
    try:
        yield tab
    finally:
        tab.context.close()


@pytest.mark.parametrize("screen", sorted(SCREENS))
@pytest.mark.parametrize(
    ("path", "plots"),
    [
        ("/", 0),  # formulas in two columns and four cards were cut on a small laptop
        ("/schedules", 1),  # the comparison of schedules was a table wider than a phone
        ("/schedules?sch.tab=logsnr&sch.schedules=linear,cosine,sigmoid,quadratic&lang=zh", 1),
        ("/signal_noise?sig.compare=cosine", 6),  # a title and a formula were cut
        # three statistics plots of 63 px in one figure; then ten snapshots
        ("/histogram?hist.data=mixture", 14),
        ("/histogram?lang=zh&hist.sampler=chain", 14),
    ],
)
def test_pages_fit_the_screen(tab: Any, screen: str, path: str, plots: int):
    tab.set_viewport_size(SCREENS[screen])
    tab.goto(path)
    wait_for_app(tab)
    if plots:
        tab.locator(".js-plotly-plot").nth(plots - 1).wait_for()
    scroll_width, width = tab.evaluate(_OVERFLOW_JS)
    assert scroll_width <= width, f"the page scrolls sideways: {scroll_width} px in {width} px"
    drawn = tab.evaluate(_PLOTS_JS)
    assert len(drawn) == plots
    for plot in drawn:
        assert plot["width"] >= MIN_PLOT_WIDTH, drawn
        assert plot["titleEnd"] <= plot["figure"], drawn
    # a margin plotly grows costs a second drawing of the figure
    assert grown_margins(tab) == [[]] * plots
    assert all(cut <= 3 for cut in tab.evaluate(_FORMULAS_JS)), tab.evaluate(_FORMULAS_JS)


_ANIMATION_JS = """() => {
    const gd = document.querySelector('.js-plotly-plot'), key = document.querySelector('.chart-key');
    const box = selector => gd.querySelector(selector).getBoundingClientRect();
    const rows = new Set(Array.from(key.children, entry => Math.round(entry.getBoundingClientRect().top)));
    return {entries: Array.from(key.children, entry => entry.textContent), keyRows: rows.size,
            keyBottom: key.getBoundingClientRect().bottom, figure: box('.main-svg'),
            axisTitle: box('.g-xtitle'), buttons: box('.updatemenu-container'),
            slider: box('.slider-container'), label: box('.slider-group > text.slider-label')};
}"""


@pytest.mark.parametrize(("screen", "rows"), [("phone", 3), ("projector", 1)])
def test_histogram_key_wraps_and_the_controls_keep_their_places(tab: Any, screen: str, rows: int):
    """The animation's key is text above it: one row on a projector, three on a phone, and no
    room kept for it in the figure (a legend's margin was as tall as a phone's four rows on
    every screen). Under the plots, in this order: the x axis title, Play/Pause, the slider
    and its label, inside the figure."""
    tab.set_viewport_size(PROJECTOR if screen == "projector" else PHONE)
    tab.goto("/histogram")
    wait_for_app(tab)
    tab.locator(".js-plotly-plot").first.wait_for()
    drawn = tab.evaluate(_ANIMATION_JS)
    assert grown_margins(tab)[0] == []
    assert len(drawn["entries"]) == 4 and drawn["entries"][-1] == "N(0, 1)", drawn
    assert drawn["keyRows"] == rows, drawn
    assert drawn["keyBottom"] <= drawn["figure"]["top"], drawn
    assert drawn["axisTitle"]["bottom"] <= drawn["buttons"]["top"], drawn
    assert drawn["buttons"]["bottom"] <= drawn["slider"]["top"], drawn
    assert drawn["slider"]["bottom"] <= drawn["figure"]["bottom"], drawn
    # t, ᾱ_t and the KS statistic above the slider, on two lines: one was cut on a phone
    assert drawn["label"]["right"] <= drawn["figure"]["right"], drawn


_HISTOGRAM_PLACES_JS = """() => {
    const box = element => element.getBoundingClientRect();
    const slider = box(document.querySelector('.st-key-hist-t'));
    const chart = box(document.querySelector('.js-plotly-plot'));
    const note = box(document.querySelector('[data-testid="stAlert"]'));
    const stats = box(document.querySelector('.st-key-hist-stats'));
    return {slider: slider.bottom, chart: chart.top, chartBottom: chart.bottom, note: note.top,
            stats: stats.top};
}"""


def test_histogram_on_a_projector_shows_the_slider_and_the_animation_first(tab: Any):
    """At 1280 x 720 in presentation mode the frame slider and the animation's top show on
    arrival: how the frames were made (the chain's cap, the time taken) comes under the
    animation, before the statistics (above the slider it pushed the animation below the first
    screen)."""
    tab.set_viewport_size({"width": 1280, "height": 720})
    tab.goto("/histogram?hide=controls")
    wait_for_app(tab)
    tab.locator(".js-plotly-plot").first.wait_for()
    places = tab.evaluate(_HISTOGRAM_PLACES_JS)
    assert places["slider"] <= 720, places
    assert places["chart"] <= 720 - 240, places  # 240 px of the animation at least
    assert places["chartBottom"] <= places["note"] <= places["stats"], places  # under its figure


@pytest.mark.parametrize("screen", sorted(SCREENS))
def test_scrubber_fits_the_screen(tab: Any, screen: str):
    """Its values table was cut on a tablet, where the panel stayed beside the picture."""
    tab.set_viewport_size(SCREENS[screen])
    tab.goto("/image_noising")
    wait_for_app(tab)
    frame = tab.frame_locator("iframe")
    frame.locator("#slider").wait_for()
    scroll_width, width = tab.evaluate(_FRAME_JS)
    assert scroll_width <= width, f"the scrubber scrolls sideways: {scroll_width} px in {width}"


_STRIP_ROWS_JS = """() => {
    const pictures = document.querySelectorAll('.st-key-img-strip [data-testid="stImage"] img');
    const tops = new Set(Array.from(pictures).map(img => Math.round(img.getBoundingClientRect().top)));
    return [pictures.length, tops.size,
            Math.min(...Array.from(pictures).map(img => img.getBoundingClientRect().width))];
}"""


def test_image_strip_wraps_into_rows_on_a_phone_and_one_row_on_a_laptop(tab: Any):
    """A phone stacks columns one to a row: the strip's pictures (x0 and the steps) would be
    as many screens high. They wrap four to a row instead, and stay in one row at 1280 px."""
    tab.goto("/image_noising")
    wait_for_app(tab)
    strip = tab.locator('.st-key-img-strip [data-testid="stImage"] img')
    strip.last.wait_for()
    count, rows, narrowest = tab.evaluate(_STRIP_ROWS_JS)
    assert count == 1 + scrub.STRIP_COUNT and rows == 3 and narrowest >= 66, (count, rows)
    tab.set_viewport_size({"width": 1280, "height": 800})
    tab.wait_for_function(f"() => ({_STRIP_ROWS_JS})()[1] === 1")


_METRICS_JS = """() => Array.from(document.querySelectorAll('[data-testid="stMetricValue"]'), value => {
    const text = document.createRange(), box = value.getBoundingClientRect();
    text.selectNodeContents(value.querySelector('p'));
    return {left: Math.round(box.left), top: Math.round(box.top), width: box.width,
            text: text.getBoundingClientRect().width};
})"""


@pytest.mark.parametrize("screen", ["phone", "tablet", "projector"])
def test_signal_values_fit_and_line_up_for_two_schedules(tab: Any, screen: str):
    """The values at the marker, for the sidebar's schedule and a compared one: log-SNR of
    scaled_linear at t = 354 is -0.000730386, the longest value of any schedule at T = 1000,
    and is not cut; the two schedules' values line up column by column (they wrapped to
    different widths); a projector has each schedule's seven values in one row."""
    tab.set_viewport_size(PROJECTOR if screen == "projector" else SCREENS[screen])
    tab.goto("/signal_noise?schedule=scaled_linear&sig.t=354&sig.compare=cosine")
    wait_for_app(tab)
    tab.locator('[data-testid="stMetricValue"]').nth(13).wait_for()
    values = tab.evaluate(_METRICS_JS)
    assert len(values) == 14
    assert all(value["text"] <= value["width"] for value in values), values
    ours, compared = values[:7], values[7:]
    assert [value["left"] for value in ours] == [value["left"] for value in compared]
    rows = len({value["top"] for value in ours})
    assert rows == 1 if screen == "projector" else rows > 1, values


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_histogram_slider_label_has_the_themes_text_colour(browser: Any, server: str, scheme: str):
    """The animation slider's label (t, ᾱ_t, KS D) was a mid grey, 4.3:1 on the dark theme:
    it is drawn in the theme's own text colour."""
    tab = new_page(browser, base_url=server, color_scheme=scheme)
    try:
        tab.goto("/histogram")
        wait_for_app(tab)
        tab.locator(".js-plotly-plot").first.wait_for()
        fill, text = tab.evaluate(
            """() => [getComputedStyle(document.querySelector('.slider-group > text.slider-label')).fill,
                      getComputedStyle(document.querySelector('[data-testid="stPlotlyChart"]')).color]"""
        )
    finally:
        tab.context.close()
    assert fill == text and fill != "rgb(128, 128, 128)", (fill, text)
