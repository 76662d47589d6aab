"""Browser fixtures: a real ``streamlit run app.py`` server and Debian's Chromium via Playwright.

* ``server`` (session): starts the app on a free loopback port (8630-8649 first), waits for
  ``/_stcore/health`` and yields the base URL; stops the server afterwards.
* ``browser`` (session): headless Chromium at ``CHROMIUM_PATH`` (default ``/usr/bin/chromium``).
  A missing browser FAILS the tests with a clear message: CI installs it.
* ``page``: a fresh context (new Streamlit session) at 1280x800 in the light colour scheme. Every
  console error and uncaught page error is collected; any of them fails the test at teardown.

The plain helpers (``start_server``, ``stop_server``, ``launch_chromium``, ``wait_for_app``,
``screenshot``) are used by ``bench/bench_browser.py`` too.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
README_SCREENSHOTS = ROOT / "docs" / "screenshots"
PORTS = range(8630, 8650)
HEALTH_TIMEOUT_S = 60.0
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-dev-shm-usage",
]
VIEWPORT = {"width": 1280, "height": 800}
# How long a Streamlit rerun may take before a test gives up (the first run imports torch).
APP_TIMEOUT_MS = 60_000


# -- server -----------------------------------------------------------------------------------


def free_port(candidates: range = PORTS) -> int:
    """The first port in ``candidates`` free on 127.0.0.1, else any free loopback port."""
    for port in [*candidates, 0]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return probe.getsockname()[1]
    raise RuntimeError("no free loopback port")


@dataclass
class Server:
    """A running ``streamlit run app.py``."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path
    url: str = field(init=False)

    def __post_init__(self) -> None:
        self.url = f"http://127.0.0.1:{self.port}"

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start_server(
    port: int | None = None,
    log: Path | None = None,
    timeout_s: float = HEALTH_TIMEOUT_S,
    env: dict[str, str] | None = None,
) -> Server:
    """Start the app from the repository root (so ``.streamlit/config.toml`` applies), healthy.

    ``env``: variables set for the server on top of this process's environment.
    """
    port = port or free_port()
    log = log or ARTIFACTS / f"streamlit-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT, env=env
        )
    server = Server(process, port, log)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"streamlit exited with code {process.returncode}:\n{server.log_tail()}"
            )
        if _healthy(server.url):
            return server
        time.sleep(0.1)
    stop_server(server)
    raise RuntimeError(f"{server.url}/_stcore/health not ready in {timeout_s:.0f} s:\n"
                       f"{server.log_tail()}")  # fmt: skip


def stop_server(server: Server) -> None:
    """Terminate the server; kill it when it does not stop within 10 s."""
    process = server.process
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# -- browser ----------------------------------------------------------------------------------


def chromium_problem() -> str | None:
    """Why Chromium cannot be used here, or None."""
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        return (
            f"Chromium not found at {CHROMIUM}. Install it (Debian: `apt-get install chromium`) "
            "or set CHROMIUM_PATH; the browser tests need it and do not skip."
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed: `pip install -r requirements-dev.txt`."
    return None


def launch_chromium(playwright: Any) -> Any:
    """Headless Chromium from ``CHROMIUM_PATH`` (Playwright cannot download its own here)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


class _InFlight:
    """Counts a page's unfinished HTTP requests (the websocket is not one)."""

    def __init__(self, page: Any) -> None:
        self.pending: set[Any] = set()
        page.on("request", self.started)
        page.on("requestfinished", self.ended)
        page.on("requestfailed", self.ended)

    def started(self, request: Any) -> None:
        self.pending.add(request)

    def ended(self, request: Any) -> None:
        self.pending.discard(request)


_IN_FLIGHT: weakref.WeakKeyDictionary[Any, _InFlight] = weakref.WeakKeyDictionary()


def new_page(browser: Any, **context_options: Any) -> Any:
    """A page in a fresh context (a new Streamlit session), 1280x800, light scheme."""
    options = {"viewport": VIEWPORT, "color_scheme": "light", **context_options}
    context = browser.new_context(**options)
    context.set_default_timeout(APP_TIMEOUT_MS)
    page = context.new_page()
    _IN_FLIGHT[page] = _InFlight(page)
    return page


# The app state Streamlit's frontend publishes on the root element for its own e2e tests. Elements
# whose frontend code is loaded lazily show a skeleton until it has arrived and run.
_APP_IDLE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app !== null
        && app.getAttribute('data-test-connection-state') === 'CONNECTED'
        && app.getAttribute('data-test-script-state') === 'notRunning'
        && document.querySelector('[data-testid="stStatusWidget"]') === null
        && document.querySelector('[data-testid="stSkeleton"]') === null
        && document.querySelector('[data-testid="stMainBlockContainer"]') !== null;
}"""


_STATE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return 'script ' + (app && app.getAttribute('data-test-script-state'))
        + ', connection ' + (app && app.getAttribute('data-test-connection-state'))
        + ', skeletons ' + document.querySelectorAll('[data-testid="stSkeleton"]').length;
}"""

# Lazily loaded frontend parts (page links, KaTeX, plotly) appear after the run has finished, so
# "drawn" also means: the DOM has not changed for a while.
_QUIET_JS = """(quietMs) => {
    if (window.__fdeLastMutation === undefined) {
        window.__fdeLastMutation = performance.now();
        new MutationObserver(() => { window.__fdeLastMutation = performance.now(); })
            .observe(document.body, {subtree: true, childList: true, attributes: true,
                                     characterData: true});
    }
    return performance.now() - window.__fdeLastMutation >= quietMs;
}"""


def wait_for_app(page: Any, timeout_ms: int = APP_TIMEOUT_MS, quiet_ms: int = 400) -> None:
    """Wait until Streamlit has finished running the script and drawn; fail on an exception box.

    Finished: connected, script state ``notRunning``, no status widget, no skeleton (an element
    whose code is still loading), no HTTP request in flight (tracked for pages made by
    :func:`new_page`) and no DOM change for ``quiet_ms``. All of it must hold twice in a row,
    because a click reaches the server asynchronously and right after it the app can still
    report the previous run as finished. Widget values settle a moment after mounting, so
    assert on them with Playwright's retrying ``expect``.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    deadline = time.monotonic() + timeout_ms / 1000
    in_flight = _IN_FLIGHT.get(page)
    page.evaluate(_QUIET_JS, quiet_ms)
    try:
        while True:
            remaining = max(1, int((deadline - time.monotonic()) * 1000))
            page.wait_for_function(_APP_IDLE_JS, timeout=remaining)
            remaining = max(1, int((deadline - time.monotonic()) * 1000))
            page.wait_for_function(_QUIET_JS, arg=quiet_ms, timeout=remaining, polling=50)
            if page.evaluate(_APP_IDLE_JS) and not (in_flight and in_flight.pending):
                break
            if time.monotonic() > deadline:
                raise PlaywrightTimeout("requests still in flight")
            page.wait_for_timeout(50)
    except PlaywrightTimeout as error:
        state = page.evaluate(_STATE_JS)
        raise AssertionError(
            f"{page.url} not drawn within {timeout_ms / 1000:.0f} s ({state}): {error}"
        ) from None
    exceptions = page.locator('[data-testid="stException"]')
    if exceptions.count():
        raise AssertionError(f"exception shown on the page:\n{exceptions.first.inner_text()}")


_SETTLED_JS = """(box) => box.open
    && box.getAnimations({subtree: true}).every((a) => a.playState !== 'running')"""


def open_expander(page: Any, title: str) -> None:
    """Click the expander ``title`` open and wait until it has stopped moving.

    The expander opens with an animation of its height; on a busy machine a click on its content
    during it can press on a button and release beside it, which is no click.
    """
    summary = page.locator('[data-testid="stExpander"] summary').filter(has_text=title)
    summary.click()
    box = summary.locator("xpath=..").element_handle()
    page.wait_for_function(_SETTLED_JS, arg=box)


# Plotly grows a margin that cannot hold the tick labels, titles or legend by drawing the whole
# figure again; Streamlit draws a new chart for every new figure, so that would double the
# browser's work on every change. The app's figures come with margins that need no growth.
_GROWN_MARGINS_JS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(gd => {
    const asked = gd._fullLayout.margin, drawn = gd._fullLayout._size;
    return ['l', 'r', 't', 'b'].filter(side => Math.round(drawn[side]) > asked[side])
        .map(side => `${side}: ${asked[side]} -> ${Math.round(drawn[side])}`);
})"""


def grown_margins(page: Any) -> list[list[str]]:
    """For each plotly figure on ``page``, the margins plotly grew ("b: 150 -> 181"); [] if none."""
    return page.evaluate(_GROWN_MARGINS_JS)


def screenshot(page: Any, name: str) -> Path:
    """Save a PNG of the viewport to test-artifacts/screenshots/<name>.png.

    With UPDATE_SCREENSHOTS=1 it is copied to docs/screenshots/ for the README too.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        README_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, README_SCREENSHOTS / path.name)
    return path


# -- fixtures ---------------------------------------------------------------------------------


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def streamlit_server() -> Iterator[Server]:
    """A ``streamlit run app.py`` started for this test session."""
    try:
        running = start_server()
    except RuntimeError as error:
        pytest.fail(f"could not start the app: {error}")
    try:
        yield running
    finally:
        stop_server(running)


@pytest.fixture(scope="session")
def server(streamlit_server: Server) -> str:
    """The base URL of the app."""
    return streamlit_server.url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    problem = chromium_problem()
    if problem:
        pytest.fail(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


_PROBE_PATH = re.compile(r"^/[^/]+/_stcore/(health|host-config)$")


def _base_url_probe(message: Any) -> bool:
    """Whether ``message`` is the 404 of Streamlit's base-URL discovery (harmless).

    Opening a deep link such as /signal_noise, the frontend cannot tell a page name from a
    reverse-proxy prefix, so it first tries /signal_noise/_stcore/health and .../host-config
    and, on 404, falls back to /_stcore/... (``getPossibleBaseUris`` in the frontend bundle:
    at most two candidates, longest first). The browser logs each 404 as a console error;
    the app then connects normally, which ``wait_for_app`` checks.
    """
    url = (message.location or {}).get("url", "")
    return "status of 404" in message.text and bool(_PROBE_PATH.match(urlsplit(url).path))


@dataclass
class PageErrors:
    """Console errors and uncaught exceptions seen by a page."""

    messages: list[str] = field(default_factory=list)

    def on_console(self, message: Any) -> None:
        if message.type == "error" and not _base_url_probe(message):
            self.messages.append(f"console.error: {message.text} @ {message.location}")

    def on_page_error(self, error: Any) -> None:
        self.messages.append(f"page error: {error}")


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


@pytest.fixture
def page(
    request: pytest.FixtureRequest,
    browser: Any,
    streamlit_server: Server,
    page_errors: PageErrors,
) -> Iterator[Any]:
    """A fresh session's page; the test fails at teardown if any console/page error appeared.

    What the server logged during the test is shown with a failure (tracebacks are there:
    the page itself only shows a redacted error box).
    """
    log_start = streamlit_server.log.stat().st_size
    tab = new_page(browser, base_url=streamlit_server.url)
    tab.on("console", page_errors.on_console)
    tab.on("pageerror", page_errors.on_page_error)
    try:
        yield tab
    finally:
        with contextlib.suppress(Exception):
            tab.context.close()
        with streamlit_server.log.open("rb") as log:
            log.seek(log_start)
            logged = log.read().decode(errors="replace").strip()
        if logged:
            request.node.add_report_section("teardown", "streamlit log", logged[-6000:])
    if page_errors.messages:
        pytest.fail("errors in the browser console:\n" + "\n".join(page_errors.messages))
