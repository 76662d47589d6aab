"""Every page on a phone's screen (390 x 844): nothing wider than the screen, plots wide enough to
read, titles inside their figures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core import scrub
from tests.browser.conftest import new_page, wait_for_app

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
# The main area is 358 px wide on this phone; a plot keeps at least this much of it.
MIN_PLOT_WIDTH = 200

_OVERFLOW_JS = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    return [main.scrollWidth, main.clientWidth];
}"""

_PLOTS_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => {
    const title = gd.querySelector('.gtitle'), box = title && title.getBBox();
    return {width: Math.round(gd._fullLayout._size.w), figure: gd._fullLayout.width,
            titleEnd: box ? Math.ceil(box.x + box.width) : 0};
})"""

_FRAME_JS = """() => {
    const page = document.querySelector('iframe').contentDocument.documentElement;
    return [page.scrollWidth, page.clientWidth];
}"""


@pytest.fixture
def phone(browser: Any, server: str) -> Iterator[Any]:
    tab = new_page(browser, base_url=server, viewport=PHONE)
    try:
        yield tab
    finally:
        tab.context.close()


@pytest.mark.parametrize(
    ("path", "plots"),
    [
        ("/", 0),
        ("/schedules", 1),  # the comparison of schedules was a table wider than the screen
        ("/schedules?sch.tab=logsnr&sch.schedules=linear,cosine,sigmoid,quadratic&lang=zh", 1),
        ("/signal_noise?sig.compare=cosine", 5),  # a title was cut at the figure's edge
        ("/histogram?hist.data=mixture", 4),  # three statistics panels of 63 px in one figure
        ("/histogram?lang=zh&hist.sampler=chain", 4),
    ],
)
def test_pages_fit_a_phone(phone: Any, path: str, plots: int):
    phone.goto(path)
    wait_for_app(phone)
    if plots:
        phone.locator(".js-plotly-plot").nth(plots - 1).wait_for()
    scroll_width, width = phone.evaluate(_OVERFLOW_JS)
    assert scroll_width <= width, f"the page scrolls sideways: {scroll_width} px in {width} px"
    drawn = phone.evaluate(_PLOTS_JS)
    assert len(drawn) == plots
    for plot in drawn:
        assert plot["width"] >= MIN_PLOT_WIDTH, drawn
        assert plot["titleEnd"] <= plot["figure"], drawn


def test_histogram_controls_keep_their_places_on_a_phone(phone: Any):
    """The animation's legend takes four rows on a phone; its margin holds them, so plotly
    does not grow it (which would shrink the plot and put the play buttons on the x axis)."""
    phone.goto("/histogram")
    wait_for_app(phone)
    phone.locator(".js-plotly-plot").first.wait_for()
    margins = phone.evaluate(
        """() => { const gd = document.querySelector('.js-plotly-plot');
                   return [gd._fullLayout.margin.t, Math.round(gd._fullLayout._size.t)]; }"""
    )
    assert margins[1] <= margins[0], margins


def test_scrubber_fits_a_phone(phone: Any):
    phone.goto("/image_noising")
    wait_for_app(phone)
    frame = phone.frame_locator("iframe")
    frame.locator("#slider").wait_for()
    scroll_width, width = phone.evaluate(_FRAME_JS)
    assert scroll_width <= width, f"the scrubber scrolls sideways: {scroll_width} px in {width}"


_STRIP_ROWS_JS = """() => {
    const pictures = document.querySelectorAll('.st-key-img-strip [data-testid="stImage"] img');
    const tops = new Set(Array.from(pictures).map(img => Math.round(img.getBoundingClientRect().top)));
    return [pictures.length, tops.size,
            Math.min(...Array.from(pictures).map(img => img.getBoundingClientRect().width))];
}"""


def test_image_strip_wraps_into_rows_on_a_phone_and_one_row_on_a_laptop(phone: Any):
    """A phone stacks columns one to a row: the strip's pictures (x0 and the steps) would be
    as many screens high. They wrap four to a row instead, and stay in one row at 1280 px."""
    phone.goto("/image_noising")
    wait_for_app(phone)
    strip = phone.locator('.st-key-img-strip [data-testid="stImage"] img')
    strip.last.wait_for()
    count, rows, narrowest = phone.evaluate(_STRIP_ROWS_JS)
    assert count == 1 + scrub.STRIP_COUNT and rows == 3 and narrowest >= 66, (count, rows)
    phone.set_viewport_size({"width": 1280, "height": 800})
    phone.wait_for_function(f"() => ({_STRIP_ROWS_JS})()[1] === 1")
