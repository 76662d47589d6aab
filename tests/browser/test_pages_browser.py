"""Each analysis page's main interaction in a real browser (the image page has its own file)."""

from __future__ import annotations

import re
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from playwright.sync_api import expect

from core import ForwardDiffusion
from core.i18n import translate
from tests.browser.conftest import (
    APP_TIMEOUT_MS,
    ARTIFACTS,
    grown_margins,
    new_page,
    start_server,
    stop_server,
    wait_for_app,
)

pytestmark = pytest.mark.browser
expect.set_options(timeout=APP_TIMEOUT_MS // 2)

_TRACE_NAMES_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
    .filter(gd => gd.offsetParent !== null && gd.data)
    .map(gd => gd.data.map(trace => trace.name || '').join('|'))"""


def visible_trace_names(page: Any) -> list[str]:
    return page.evaluate(_TRACE_NAMES_JS)


def test_schedules_page_picking_a_schedule_adds_its_curve(page: Any):
    page.goto("/schedules?sch.schedules=linear")
    wait_for_app(page)
    before = visible_trace_names(page)
    assert before and all("Sigmoid" not in names for names in before)
    chooser = page.locator('[data-testid="stMultiSelect"]').first
    chooser.click()
    page.get_by_role("option", name="Sigmoid").click()
    page.keyboard.press("Escape")
    expect(page).to_have_url(re.compile("sigmoid"))
    wait_for_app(page)
    page.wait_for_function(
        """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
            .some(gd => gd.data && gd.data.some(trace => (trace.name || '').includes('Sigmoid')))"""
    )
    assert page.locator('[data-testid="stException"]').count() == 0


def test_schedules_page_key_table_shows_every_row(page: Any):
    """Five schedules give 25 key rows: the table is as tall as they are, not ten rows with a
    scroll bar of its own."""
    page.goto("/schedules?sch.schedules=linear,cosine,quadratic,scaled_linear,sigmoid")
    wait_for_app(page)
    table = page.locator('[data-testid="stDataFrame"]').first
    expect(table).to_be_visible()
    rows = 25
    row_px = 30  # Streamlit's rows are 35 px; the header adds one more
    assert table.bounding_box()["height"] > (rows + 1) * row_px


def test_schedules_page_tabs_draw_one_figure_and_keep_it_in_the_url(page: Any):
    """Only the open tab's figure is in the page; the tab is part of a shared link."""
    page.goto("/schedules?sch.tab=alpha")
    wait_for_app(page)
    titles = page.locator('[data-testid="stPlotlyChart"] .gtitle')
    expect(titles).to_have_count(1)
    expect(titles).to_have_text(re.compile("ᾱ"))
    page.get_by_role("tab").filter(has_text="log-SNR").click()
    expect(page).to_have_url(re.compile(r"sch\.tab=logsnr"))
    wait_for_app(page)
    expect(titles).to_have_count(1)
    expect(titles).to_have_text(re.compile("signal-to-noise"))
    page.get_by_role("tab").first.click()  # β_t, the default: the link no longer names a tab
    expect(page).not_to_have_url(re.compile("sch\\.tab"))
    wait_for_app(page)
    expect(titles).to_have_text(re.compile("β"))
    assert "sch.tab" not in parse_qs(urlsplit(page.url).query)


@pytest.mark.parametrize(
    "path",
    [
        "/schedules",
        "/schedules?sch.tab=logsnr&zsnr=1",
        "/schedules?sch.pair=1&sch.schedules=linear,cosine,sigmoid,quadratic&lang=zh",
        "/signal_noise",
        "/signal_noise?zsnr=1&schedule=sigmoid&sig.compare=cosine&sig.t=999",
        "/histogram?hist.data=mixture",
    ],
)
def test_figures_are_drawn_without_growing_their_margins(page: Any, path: str):
    page.goto(path)
    wait_for_app(page)
    page.locator(".js-plotly-plot").first.wait_for()
    grown = grown_margins(page)
    assert grown and grown == [[]] * len(grown)


def test_schedules_page_full_table_downloads_when_pressed(page: Any, tmp_path: Path):
    """The full table is written when its button is pressed: the file is the exact table."""
    page.goto("/schedules?T=300")
    wait_for_app(page)
    button = page.locator('[data-testid="stDownloadButton"]').filter(has_text="Cosine").first
    with page.expect_download() as download:
        button.click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == "schedule_cosine_T300.csv"
    table = np.genfromtxt(path, delimiter=",", names=True)
    fd = ForwardDiffusion(300, "cosine", device="cpu")
    np.testing.assert_array_equal(table["t"], np.arange(300))
    np.testing.assert_array_equal(table["betas"], fd.betas)
    np.testing.assert_array_equal(table["alphas_cumprod"], fd.alphas_cumprod)
    assert page.locator('[data-testid="stException"]').count() == 0


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_schedules_page_refuses_too_big_an_upload_with_its_own_message(
    page: Any, tmp_path: Path, lang: str
):
    """A file over 1 MB gets the page's message in the page's language (the browser's own
    refusal was a bare mark with an English tooltip)."""
    page.goto(f"/schedules?lang={lang}")
    wait_for_app(page)
    page.get_by_text(translate("sch.upload.title", lang)).click()
    big = tmp_path / "big.csv"
    big.write_bytes(b"0.001\n" * 250_000)  # 1.5 MB
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(big))
    wait_for_app(page)
    message = translate("sch.upload.too_big", lang, size=1)
    expect(page.locator('[data-testid="stAlert"]').filter(has_text=message)).to_be_visible()


_WIDTHS_JS = "boxes => boxes.map(box => ({width: box.getBoundingClientRect().width}))"
FIVE = ("linear", "cosine", "quadratic", "scaled_linear", "sigmoid")
_BUTTONS_JS = """() => Array.from(document.querySelectorAll('[data-testid="stDownloadButton"] button'))
    .map(button => { const text = button.querySelector('[data-testid="stMarkdownContainer"]'), box = button.getBoundingClientRect();
        return {name: button.textContent.trim(), cut: text.scrollWidth - text.clientWidth,
                top: Math.round(box.top), left: Math.round(box.left)}; })"""


@pytest.mark.parametrize(
    "viewport",
    [{"width": 1024, "height": 600}, {"width": 390, "height": 844}, {"width": 360, "height": 740}],
)
def test_schedules_page_with_five_schedules_shows_whole_names(browser: Any, server: str, viewport):
    """Five schedules' parameter boxes are wide enough for their titles (five columns in one
    row were a hundred px each, words broken mid-word). Ten full-table buttons (each schedule
    with its zero-SNR twin): each name shows whole (they were cut to "Linear (T=1…" at 1024
    px), in the order of the schedules, row by row (a phone stacked them column by column:
    Linear, Scaled, Linear zero SNR, …)."""
    tab = new_page(browser, base_url=server, viewport=viewport)
    try:
        tab.goto(f"/schedules?sch.schedules={','.join(FIVE)}&sch.pair=1&sch.own_t=1")
        wait_for_app(tab)
        boxes = tab.locator('.st-key-sch-params [data-testid="stExpander"]')
        expect(boxes).to_have_count(5)
        assert min(box["width"] for box in boxes.evaluate_all(_WIDTHS_JS)) >= 200
        buttons = [b for b in tab.evaluate(_BUTTONS_JS) if " · " in b["name"]]
        assert len(buttons) == 10, buttons
        assert all(button["cut"] <= 0 for button in buttons), buttons
        places = [(button["top"], button["left"]) for button in buttons]
        assert places == sorted(places), buttons
        names = [b["name"].replace("⬇️", "").split(" (T=")[0] for b in buttons[::2]]
        assert names == [translate(f"schedule.{name}", "en") for name in FIVE], buttons
    finally:
        tab.context.close()


def test_signal_page_moving_the_marker_updates_the_values(page: Any):
    page.goto("/signal_noise?sig.t=100")
    wait_for_app(page)
    metrics = page.locator('[data-testid="stMetricValue"]')
    expect(metrics.first).to_be_visible()
    before = metrics.all_inner_texts()
    thumb = page.locator('[data-testid="stSlider"] input[type="range"]').first
    thumb.focus()
    for _ in range(5):
        thumb.press("ArrowRight")
    expect(page).to_have_url(re.compile(r"sig\.t=105"))
    wait_for_app(page)
    page.wait_for_function(
        """(before) => {
            const now = Array.from(document.querySelectorAll('[data-testid="stMetricValue"]'))
                .map(element => element.innerText);
            return now.length === before.length && now.join() !== before.join();
        }""",
        arg=before,
    )
    assert page.locator('[data-testid="stException"]').count() == 0


def _cached_functions(url: str) -> list[str]:
    """The Streamlit caches holding entries (the metrics endpoint keeps its figures 5 s)."""
    with urllib.request.urlopen(f"{url}/_stcore/metrics?families=cache_memory_bytes") as reply:
        text = reply.read().decode()
    return re.findall(r'^cache_memory_bytes\{cache_type="\w+",cache="([^"]+)"}', text, re.M)


def test_marker_moves_alone_keep_the_server_from_releasing_its_caches(browser: Any):
    """A marker move reruns only the signal page's fragment, not app.py; those reruns must count
    as activity, or the idle release empties every cache under a hall that only moves markers.

    The release comes 10 s after the last run here; the marker moves once a second for 17 s.
    The image page's caches, which the signal page does not fill again, must survive.
    """
    server = start_server(
        log=ARTIFACTS / "streamlit-idle-fragment.log", env={"DIFFUSION_IDLE_RELEASE_S": "10"}
    )
    try:
        page = new_page(browser, base_url=server.url)
        page.goto("/image_noising")
        wait_for_app(page)
        page.goto("/signal_noise?sig.t=100")
        wait_for_app(page)
        assert "pages.views.image_noising.decode" in _cached_functions(server.url)
        thumb = page.locator('[data-testid="stSlider"] input[type="range"]').first
        thumb.focus()
        start = time.monotonic()
        while time.monotonic() - start < 17:
            thumb.press("ArrowRight")
            time.sleep(1)
        expect(page).to_have_url(re.compile(r"sig\.t=1[12]\d"))  # the fragment ran each time
        assert "pages.views.image_noising.decode" in _cached_functions(server.url)
        page.context.close()
    finally:
        stop_server(server)


_HIST_STATE_JS = """() => {
    const gd = Array.from(document.querySelectorAll('.js-plotly-plot'))
        .find(gd => gd._fullLayout && gd._fullLayout.updatemenus && gd._fullLayout.updatemenus.length);
    if (!gd) return null;
    return {frames: (gd._transitionData._frames || []).length,
            bars: JSON.stringify(gd.data[0].y).slice(0, 400)};
}"""


def test_histogram_page_play_advances_the_frames(page: Any):
    page.goto("/histogram?hist.n=1000")
    wait_for_app(page)
    page.wait_for_function(f"({_HIST_STATE_JS})() !== null")
    start = page.evaluate(_HIST_STATE_JS)
    assert start["frames"] >= 50
    play = page.locator(".updatemenu-button").first
    play.click()
    page.wait_for_function(
        f"(start) => {{ const now = ({_HIST_STATE_JS})(); return now && now.bars !== start; }}",
        arg=start["bars"],
    )
    assert page.locator('[data-testid="stException"]').count() == 0


_KEYS_JS = r"""() => Array.from(document.querySelectorAll('.chart-key')).map(key =>
    Array.from(key.children, entry => {
        const style = getComputedStyle(entry.firstElementChild);
        const dashed = style.backgroundImage.startsWith('repeating-linear-gradient');
        return {name: entry.textContent, subscripts: entry.querySelectorAll('sub').length,
                mark: dashed ? 'dashed' : 'solid', thickness: parseFloat(style.height),
                color: dashed ? style.backgroundImage.match(/rgba?\([^)]*\)/)[0]
                              : style.backgroundColor};
    }))"""


def test_signal_page_keys_name_every_line_under_its_plot(page: Any):
    """The signal page draws each figure's key under it, as text (a legend's rows made plotly
    grow the figure's margin on a narrow plot): the sidebar's schedule solid, the compared one
    dashed in the same colour, subscripts drawn as subscripts."""
    page.goto("/signal_noise?sig.compare=cosine")
    wait_for_app(page)
    page.locator(".chart-key").nth(5).wait_for()
    keys = page.evaluate(_KEYS_JS)
    assert len(keys) == 6
    scales = keys[0]
    assert [entry["name"] for entry in scales] == [
        "signal √ᾱt", "noise √(1−ᾱt)", "signal √ᾱt (Cosine · defaults)",
        "noise √(1−ᾱt) (Cosine · defaults)",
    ]  # fmt: skip
    assert all(entry["subscripts"] == 1 for entry in scales)
    assert [entry["mark"] for entry in scales] == ["solid", "solid", "dashed", "dashed"]
    assert scales[0]["color"] == scales[2]["color"] != scales[1]["color"] == scales[3]["color"]
    assert [len(key) for key in keys] == [4, 2, 2, 2, 4, 4]  # ᾱ, SNR, log-SNR: one line a schedule
    # β_t is drawn as a band under β̃_t, and so is its mark (as thick as a mark gets)
    assert [entry["thickness"] for entry in keys[4]] == [6, 3.5, 6, 3.5]
    assert [entry["name"] for entry in keys[5]][:2] == ["c₁, weight of x0", "c₂, weight of xt"]
    assert [entry["mark"] for entry in keys[5]] == ["solid", "solid", "dashed", "dashed"]
    assert {entry["thickness"] for entry in scales} == {3.5}
