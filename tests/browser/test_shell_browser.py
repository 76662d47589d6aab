"""The app shell in a real browser: navigation, language, shareable links, presentation mode.

Page-specific interactions are tested by each page's own browser tests; here every page only has
to load without an exception box or console error. Screenshots (1280x800) of every page go to
test-artifacts/screenshots/ (and docs/screenshots/ with UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from core.i18n import translate
from tests.browser.conftest import (
    APP_TIMEOUT_MS,
    ARTIFACTS,
    ROOT,
    new_page,
    open_expander,
    screenshot,
    start_server,
    stop_server,
    wait_for_app,
)

pytestmark = pytest.mark.browser
# Widgets are mounted (and take their session value) a moment after the run has finished, later
# still on a busy machine: assertions on them retry, up to this long.
expect.set_options(timeout=APP_TIMEOUT_MS // 2)

# (URL path, navigation title key, screenshot name, the page's title key)
PAGES = [
    ("schedules", "nav.schedules", "schedules", "sch.title"),
    ("image_noising", "nav.image", "image-noising", "img.title"),
    ("histogram", "nav.histogram", "histogram", "hist.title"),
    ("signal_noise", "nav.signal", "signal-noise", "sig.title"),
]


def query(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def expect_query(page: Any, expected: dict[str, list[str]], timeout_ms: int = 10_000) -> None:
    """Wait for the address bar's query to be ``expected``: the app writes it at the end of a
    run, after the widgets show their values."""
    waited = 0
    while query(page) != expected and waited < timeout_ms:
        page.wait_for_timeout(100)
        waited += 100
    assert query(page) == expected


def main_heading(page: Any) -> Any:
    return page.locator('[data-testid="stMain"] h1')


def sidebar(page: Any) -> Any:
    return page.locator('[data-testid="stSidebar"]')


def nav_link(page: Any, title: str) -> Any:
    return page.locator('[data-testid="stSidebarNavLink"]').filter(has_text=title)


def open_from_menu(page: Any, title: str, url: Any) -> None:
    """Click the menu's link ``title`` and wait for the page at ``url`` (a pattern)."""
    nav_link(page, title).click()
    page.wait_for_url(url)
    wait_for_app(page)


def number_field(page: Any, label: str) -> Any:
    return sidebar(page).get_by_label(label, exact=True)


def set_number(page: Any, label: str, key: str, value: str) -> None:
    """Type ``value`` into the sidebar's number field ``label`` and wait for the run it starts
    to write ``key=value`` into the address."""
    field = number_field(page, label)
    field.fill(value)
    field.press("Enter")
    page.wait_for_url(re.compile(rf"[?&]{re.escape(key)}={value}(&|$)"))
    wait_for_app(page)


def test_home_loads_cleanly(page: Any) -> None:
    page.goto("/")
    wait_for_app(page)
    expect(main_heading(page)).to_have_text(translate("app.title", "en"))
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    expect(page.locator('[data-testid="stAlert"]')).to_have_count(0)
    expected = [translate(key, "en") for key in ["nav.home"] + [key for _, key, _, _ in PAGES]]
    links = page.locator('[data-testid="stSidebarNavLink"]')
    expect(links).to_have_count(len(expected))
    for link, title in zip(links.all(), expected, strict=True):
        expect(link).to_contain_text(title)
    expect(page.locator('[data-testid="stPageLink"]')).to_have_count(len(PAGES))
    expect(number_field(page, translate("sidebar.timesteps", "en"))).to_have_value("1000")
    expect(page.locator(".katex").first).to_be_visible()
    screenshot(page, "home")


@pytest.mark.parametrize(
    ("path", "title_key", "shot", "heading_key"), PAGES, ids=[p[0] for p in PAGES]
)
def test_page_reachable_from_navigation(
    page: Any, path: str, title_key: str, shot: str, heading_key: str
) -> None:
    page.goto("/")
    wait_for_app(page)
    title = translate(title_key, "en")
    open_from_menu(page, title, re.compile(rf"/{path}(\?.*)?$"))
    expect(nav_link(page, title)).to_have_attribute("aria-current", "page")
    expect(nav_link(page, translate("nav.home", "en"))).not_to_have_attribute(
        "aria-current", "page"
    )
    # The page's own content replaced the home page: its title instead of the home page's.
    main = page.locator('[data-testid="stMain"]')
    expect(main_heading(page)).to_have_text(translate(heading_key, "en"))
    expect(main.get_by_text(translate("home.lead", "en")[:40])).to_have_count(0)
    expect(main.locator('[data-testid="stElementContainer"]').first).to_be_attached()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    screenshot(page, shot)


def test_home_cards_link_to_pages(page: Any) -> None:
    page.goto("/")
    wait_for_app(page)
    page.locator('[data-testid="stPageLink"]').first.click()
    page.wait_for_url(re.compile(r"/schedules(\?.*)?$"))
    wait_for_app(page)
    expect(nav_link(page, translate("nav.schedules", "en"))).to_have_attribute(
        "aria-current", "page"
    )


def switch_to_chinese(page: Any) -> None:
    """Choose 简体中文 in the sidebar's language box and wait for the page in Chinese."""
    language = (
        sidebar(page)
        .locator('[data-testid="stSelectbox"]')
        .filter(has_text=translate("sidebar.language", "en"))
    )
    language.locator('[role="combobox"], input').first.click()
    page.get_by_role("option", name="简体中文").click()
    page.wait_for_url(re.compile(r"[?&]lang=zh(&|$)"))
    wait_for_app(page)


def test_language_switch_to_chinese(page: Any) -> None:
    page.goto("/")
    wait_for_app(page)
    switch_to_chinese(page)
    expect_query(page, {"lang": ["zh"]})
    expect(main_heading(page)).to_have_text(translate("app.title", "zh"))
    side = sidebar(page)
    expect(side.get_by_text(translate("sidebar.language", "zh"), exact=True)).to_be_visible()
    expect(side.get_by_text(translate("sidebar.process", "zh"), exact=True)).to_be_visible()
    expect(nav_link(page, translate("nav.schedules", "zh"))).to_have_count(1)
    expect(page.get_by_text(translate("sidebar.language", "en"), exact=True)).to_have_count(0)
    expect(page.get_by_text(translate("home.pages", "zh"), exact=True)).to_be_visible()
    screenshot(page, "home-zh")


@pytest.mark.parametrize("path", ["", "schedules", "histogram", "signal_noise", "image_noising"])
def test_controls_work_after_a_language_switch(page: Any, path: str) -> None:
    """Every choice drawn with translated labels takes the new language's labels at once: the
    browser would otherwise send the old label back with the next interaction, a value no
    option has."""
    page.goto(f"/{path}")
    wait_for_app(page)
    switch_to_chinese(page)
    schedule = (
        sidebar(page)
        .locator('[data-testid="stSelectbox"]')
        .filter(has_text=translate("sidebar.schedule", "zh"))
    )
    expect(schedule.get_by_role("combobox")).to_have_value(translate("schedule.linear", "zh"))
    sidebar(page).locator('[data-testid="stNumberInputStepUp"]').first.click()  # T + 10
    page.wait_for_url(re.compile(r"[?&]T=1010(&|$)"))
    wait_for_app(page)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    assert query(page)["lang"] == ["zh"]
    expect(schedule.get_by_role("combobox")).to_have_value(translate("schedule.linear", "zh"))
    expect(main_heading(page)).to_have_count(1)
    if path == "schedules":  # the chosen schedules' chips too
        chips = page.locator('[data-testid="stMultiSelect"] [data-tag-index="0"]').last
        expect(chips).to_have_attribute("aria-label", translate("schedule.linear", "zh"))


def test_shared_link_restores_state(page: Any) -> None:
    page.goto("/?T=500&seed=7&lang=zh")
    wait_for_app(page)
    expect(number_field(page, translate("sidebar.timesteps", "zh"))).to_have_value("500")
    expect(number_field(page, translate("sidebar.seed", "zh"))).to_have_value("7")
    expect(main_heading(page)).to_have_text(translate("app.title", "zh"))
    expect(page.locator('[data-testid="stAlert"]')).to_have_count(0)
    expect_query(page, {"T": ["500"], "seed": ["7"], "lang": ["zh"]})
    # The settings survive a page switch and stay in the address bar.
    open_from_menu(page, translate("nav.schedules", "zh"), re.compile(r"/schedules\?"))
    expect_query(page, {"T": ["500"], "seed": ["7"], "lang": ["zh"]})
    expect(number_field(page, translate("sidebar.timesteps", "zh"))).to_have_value("500")


def test_back_and_forward_step_through_the_settings(page: Any) -> None:
    """Every change of a setting is an entry in the browser's history: Back undoes one change at
    a time and Forward redoes it (the app used to keep its settings and write them back)."""
    timesteps = translate("sidebar.timesteps", "en")
    seed = translate("sidebar.seed", "en")
    page.goto("/signal_noise")
    wait_for_app(page)
    set_number(page, timesteps, "T", "300")
    set_number(page, seed, "seed", "5")
    expect_query(page, {"T": ["300"], "seed": ["5"]})
    page.go_back()
    expect(number_field(page, seed)).to_have_value("0")
    expect(number_field(page, timesteps)).to_have_value("300")
    expect_query(page, {"T": ["300"]})
    page.go_back()
    expect(number_field(page, timesteps)).to_have_value("1000")
    expect_query(page, {})
    page.go_forward()
    expect(number_field(page, timesteps)).to_have_value("300")
    page.go_forward()
    expect(number_field(page, seed)).to_have_value("5")
    expect_query(page, {"T": ["300"], "seed": ["5"]})
    expect(main_heading(page)).to_have_text(translate("sig.title", "en"))


def test_back_undoes_a_change_that_moved_the_marker_in_one_step(page: Any) -> None:
    """A smaller T moves the signal page's marker too: one history entry, not two (the marker's
    own write of the URL used to add a half-changed one)."""
    page.goto("/signal_noise?sig.t=251")
    wait_for_app(page)
    set_number(page, translate("sidebar.timesteps", "en"), "T", "100")
    expect_query(page, {"T": ["100"], "sig.t": ["99"]})
    page.go_back()
    expect(number_field(page, translate("sidebar.timesteps", "en"))).to_have_value("1000")
    slider = page.locator('[data-testid="stSlider"] input[type="range"]').first
    expect(slider).to_have_value("251")
    expect_query(page, {"sig.t": ["251"]})


def test_back_undoes_the_first_change_after_a_page_switch(page: Any) -> None:
    """A page opened from the menu with every setting at its default has no empty entry of its
    own to pass: Back undoes the first change made there."""
    page.goto("/")
    wait_for_app(page)
    open_from_menu(page, translate("nav.schedules", "en"), re.compile(r"/schedules$"))
    set_number(page, translate("sidebar.timesteps", "en"), "T", "200")
    page.go_back()
    expect(number_field(page, translate("sidebar.timesteps", "en"))).to_have_value("1000")
    expect(main_heading(page)).to_have_text(translate("sch.title", "en"))
    expect_query(page, {})


def test_back_over_a_view_opened_after_a_page_switch_keeps_the_settings(page: Any) -> None:
    """The entries a menu switch and a view button leave on the home page are both passed by
    Back with the settings the home page had (the second used to hide the first, which then
    showed every default)."""
    timesteps = translate("sidebar.timesteps", "en")
    page.goto("/signal_noise")
    wait_for_app(page)
    set_number(page, timesteps, "T", "400")
    open_from_menu(page, translate("nav.home", "en"), re.compile(r"/\?T=400$"))
    open_expander(page, translate("q.gaussian", "en"))
    page.locator(".st-key-view-q-gaussian button").click()
    page.wait_for_url(re.compile(r"/histogram\?hist\.data=exponential$"))
    wait_for_app(page)
    for _ in range(3):
        page.go_back()
        wait_for_app(page)
        expect(number_field(page, timesteps)).to_have_value("400")
        # the run after Back may start after the page looked idle: the link retries too
        expect(page).to_have_url(re.compile(r"[?&]T=400(&|$)"))


def test_back_across_a_page_switch_keeps_the_settings(page: Any) -> None:
    """A page opened from the menu may show first with an empty address (Streamlit leaves that
    entry in the history unless the settings' address lands in the same step, which depends on
    timing); Back onto that entry keeps the settings, and Back from there returns to the page
    before with its own link."""
    timesteps = translate("sidebar.timesteps", "en")
    page.goto("/?T=500")
    wait_for_app(page)
    open_from_menu(page, translate("nav.schedules", "en"), re.compile(r"/schedules\?T=500$"))
    set_number(page, translate("sidebar.seed", "en"), "seed", "5")
    page.go_back()
    expect(number_field(page, translate("sidebar.seed", "en"))).to_have_value("0")
    wait_for_app(page)
    page.go_back()
    wait_for_app(page)
    expect(number_field(page, timesteps)).to_have_value("500")
    if urlsplit(page.url).path.endswith("/schedules"):  # the menu's empty address
        expect(main_heading(page)).to_have_text(translate("sch.title", "en"))
        page.go_back()
    page.wait_for_url(re.compile(r"/\?T=500$"))
    wait_for_app(page)
    expect(main_heading(page)).to_have_text(translate("app.title", "en"))
    expect(number_field(page, timesteps)).to_have_value("500")
    expect(page.locator('[data-testid="stAlert"]')).to_have_count(0)


def test_shared_link_opens_a_page(page: Any) -> None:
    page.goto("/signal_noise?seed=11")
    wait_for_app(page)
    expect(nav_link(page, translate("nav.signal", "en"))).to_have_attribute("aria-current", "page")
    expect(number_field(page, translate("sidebar.seed", "en"))).to_have_value("11")
    expect_query(page, {"seed": ["11"]})


def test_a_question_opens_the_view_that_answers_it(page: Any) -> None:
    """Home's "Show me" under a question opens its page as the view's link would: the view's
    settings, every other setting at its default, the language kept."""
    page.goto("/?T=300&seed=7&lang=zh")
    wait_for_app(page)
    open_expander(page, translate("q.alpha_end", "zh"))
    page.locator(".st-key-view-q-alpha_end button").click()
    page.wait_for_url(re.compile(r"/signal_noise\?"))
    wait_for_app(page)
    expect(main_heading(page)).to_have_text(translate("sig.title", "zh"))
    expect(nav_link(page, translate("nav.signal", "zh"))).to_have_attribute("aria-current", "page")
    expect(number_field(page, translate("sidebar.timesteps", "zh"))).to_have_value("1000")
    expect(number_field(page, translate("sidebar.seed", "zh"))).to_have_value("0")
    expect(page.locator('[data-testid="stMetric"]').nth(1)).to_contain_text("0.0682649")
    expect(page.locator('[data-testid="stAlert"]')).to_have_count(0)
    expect_query(page, {"lang": ["zh"], "schedule": ["scaled_linear"], "sig.t": ["999"]})
    # Back returns to the page and the settings before the click (the address Streamlit puts
    # on the home page on the way shows them too, instead of the view's)
    page.go_back()
    expect(main_heading(page)).to_have_text(translate("app.title", "zh"))
    expect(number_field(page, translate("sidebar.timesteps", "zh"))).to_have_value("300")
    expect(number_field(page, translate("sidebar.seed", "zh"))).to_have_value("7")
    expect_query(page, {"T": ["300"], "seed": ["7"], "lang": ["zh"]})
    page.go_forward()
    expect(main_heading(page)).to_have_text(translate("sig.title", "zh"))


def test_garbage_link_shows_notice(page: Any) -> None:
    page.goto("/?T=abc&bogus=1&seed=-4")
    wait_for_app(page)
    alert = page.locator('[data-testid="stAlertContentWarning"]')
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text("🔗")
    expect(alert).to_contain_text(translate("notice.url", "en", problems="").rstrip())
    for problem in ("“bogus”", "“T=abc”", "“seed=-4”"):
        expect(alert).to_contain_text(problem)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    # The bad values fell back to the defaults, and the link no longer carries them.
    expect(number_field(page, translate("sidebar.timesteps", "en"))).to_have_value("1000")
    expect(number_field(page, translate("sidebar.seed", "en"))).to_have_value("0")
    expect_query(page, {})
    expect(main_heading(page)).to_have_text(translate("app.title", "en"))
    screenshot(page, "bad-link-notice")


def test_hide_controls_hides_sidebar(page: Any) -> None:
    page.goto("/?hide=controls&T=200")
    wait_for_app(page)
    expect(main_heading(page)).to_be_visible()
    expect(sidebar(page)).to_be_hidden()
    expect(page.locator('[data-testid="stExpandSidebarButton"]')).to_be_hidden()
    expect(page.locator('[data-testid="stSidebarCollapsedControl"]')).to_be_hidden()
    # no header bar and its room above the title (the title began 110 px down)
    expect(page.locator('[data-testid="stHeader"]')).to_be_hidden()
    assert main_heading(page).bounding_box()["y"] < 60
    # Presentation mode and the hidden settings stay in the link.
    expect_query(page, {"hide": ["controls"], "T": ["200"]})
    screenshot(page, "home-presentation")


def test_first_visitor_of_a_fresh_server_gets_the_real_menu_at_once(
    browser: Any, page_errors: Any
) -> None:
    """Until the first ``st.navigation`` call of a process, Streamlit takes the folder pages/ for
    its old pages-folder mode and shows a menu of its files ("app, common, histogram, …").
    app.py called st.navigation only after torch had loaded, so the first visitor after a
    (re)start read that menu for as long (seconds; 12–16 s on a loaded 2-core machine). Here
    torch takes 20 s to import: the real menu must show while it still loads."""
    slow = ROOT / "tests" / "browser" / "slow_torch"
    fresh = start_server(
        log=ARTIFACTS / "streamlit-slow-torch.log",
        env={
            "PYTHONPATH": os.pathsep.join(filter(None, [str(slow), os.environ.get("PYTHONPATH")])),
            "SLOW_TORCH_S": "20",
        },
    )
    try:
        tab = new_page(browser, base_url=fresh.url)
        tab.on("console", page_errors.on_console)
        tab.on("pageerror", page_errors.on_page_error)
        tab.goto("/?lang=zh")
        links = tab.locator('[data-testid="stSidebarNavLink"]')
        keys = ["nav.home"] + [key for _, key, _, _ in PAGES]
        # each title after its icon
        titles = [re.compile(re.escape(translate(key, "zh")) + "$") for key in keys]
        expect(links).to_have_text(titles, timeout=10_000)  # torch is still loading
        assert fresh.process.poll() is None
        wait_for_app(tab)  # then the page itself, once torch is there
        expect(main_heading(tab)).to_have_text(translate("app.title", "zh"))
        expect(links).to_have_text(titles)
        tab.context.close()
    finally:
        stop_server(fresh)
    assert not page_errors.messages, page_errors.messages


def test_first_request_for_the_shared_module_gets_the_app(browser: Any, page_errors: Any) -> None:
    """In the pages-folder mode of a fresh server, /common ran pages/common.py as a page: a blank
    page under the menu of files, for good. Now it reaches the real menu and the home page."""
    fresh = start_server(log=ARTIFACTS / "streamlit-common.log")
    try:
        tab = new_page(browser, base_url=fresh.url)
        tab.on("pageerror", page_errors.on_page_error)
        tab.goto("/common")
        links = tab.locator('[data-testid="stSidebarNavLink"]')
        keys = ["nav.home"] + [key for _, key, _, _ in PAGES]
        expect(links).to_have_text([re.compile(re.escape(translate(k, "en")) + "$") for k in keys])
        wait_for_app(tab)
        expect(main_heading(tab)).to_have_text(translate("app.title", "en"))
        tab.context.close()
    finally:
        stop_server(fresh)
    assert not page_errors.messages, page_errors.messages


def test_deep_link_as_first_request_of_a_fresh_server(browser: Any, page_errors: Any) -> None:
    """The first visitor after a (re)start may open a shared link to a page, not the home page.

    Streamlit treats an app with a folder named ``pages/`` next to the main script as an old-style
    multipage app until the first ``st.navigation`` call of the process; a deep link as the very
    first request then runs the page script alone, without app.py (no sidebar, no settings).
    """
    fresh = start_server(log=ARTIFACTS / "streamlit-fresh.log")
    try:
        tab = new_page(browser, base_url=fresh.url)
        tab.on("console", page_errors.on_console)
        tab.on("pageerror", page_errors.on_page_error)
        tab.goto("/signal_noise?seed=3")
        wait_for_app(tab)
        links = tab.locator('[data-testid="stSidebarNavLink"]')
        expect(links).to_have_count(len(PAGES) + 1)
        expect(nav_link(tab, translate("nav.signal", "en"))).to_have_attribute(
            "aria-current", "page"
        )
        expect(number_field(tab, translate("sidebar.seed", "en"))).to_have_value("3")
        tab.context.close()
    finally:
        stop_server(fresh)
    assert not page_errors.messages, page_errors.messages
