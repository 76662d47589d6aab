"""Browser benchmarks: what a lecturer and students feel, measured in Debian's Chromium.

    python bench/bench_browser.py                 # everything, default repeats
    python bench/bench_browser.py --quick         # fewer repeats (a smoke run)
    python bench/bench_browser.py --only cold,switch,schedule,signal,memory,image,histogram

Prints one table (medians over repeated runs, p95 where a distribution matters) and writes it as
JSON to bench/results/browser.json. Not part of the test suite: figures, not assertions.

* cold start: from launching ``streamlit run app.py`` to the home page fully drawn in Chromium.
* page switch: click in the sidebar navigation -> the new page's main element drawn (its first
  chart line, the scrubber, or the home page's cards) and -> the run finished.
* schedule redraw: on the schedules page, press +/- on the sidebar's T -> the β curve's line
  redrawn in the browser (target p95 < 300 ms); switch the figure's tab -> its figure drawn.
* signal marker: an arrow key on the signal page's timestep slider -> all five charts show
  the marker at the new t, with one schedule and with two.
* server memory: RSS of the streamlit process and its children after one session vs after 20
  sessions (each opens home and the schedules page, then closes).
* image page: choose a 512×512 picture -> scrubber ready; frame times while dragging the slider
  (the renderer reports ``window.__scrubStats`` in its iframe).
* histogram page: choose 1,000,000 samples on the open page -> the animation redrawn with them
  (target < 3 s); frame rate while it plays; a first visit by a link asking for 1,000,000.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import psutil
from playwright.sync_api import Error as PlaywrightError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.i18n import translate  # noqa: E402
from tests.browser.conftest import (  # noqa: E402
    ARTIFACTS,
    chromium_problem,
    launch_chromium,
    new_page,
    start_server,
    stop_server,
    wait_for_app,
)

RESULTS = ROOT / "bench" / "results" / "browser.json"
Row = tuple[str, str, str]  # (measure, figure, note)

# Records when the user acted (capture phase, before the app sees it) and, every frame, whether
# the awaited thing is on screen; resolves with the milliseconds between the two.
WATCH_JS = """([selector, predicate, timeoutMs]) => new Promise((resolve, reject) => {
    const start = window.__benchT0;
    const test = new Function('el', 'return (' + predicate + ')(el);');
    const stop = performance.now() + timeoutMs;
    const tick = () => {
        const el = document.querySelector(selector);
        if (start !== undefined && el && test(el)) { resolve(performance.now() - start); return; }
        if (performance.now() > stop) { reject(new Error('not drawn: ' + selector)); return; }
        requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
})"""
ARM_JS = """() => {
    window.__benchT0 = undefined;
    if (!window.__benchArmed) {
        window.__benchArmed = true;
        for (const type of ['pointerdown', 'keydown']) {
            document.addEventListener(type, () => { window.__benchT0 = performance.now(); },
                                      {capture: true});
        }
    }
}"""
LINE = '[data-testid="stPlotlyChart"] .scatterlayer path.js-line'
TITLE = '[data-testid="stPlotlyChart"] .gtitle'
HISTOGRAM = '[data-testid="stPlotlyChart"] .js-plotly-plot'


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def ms(value: float) -> str:
    return f"{value:,.0f} ms" if value == value else "n/a"


def server_rss(process: subprocess.Popen[bytes]) -> float:
    """RSS in MiB of ``process`` and all its children."""
    root = psutil.Process(process.pid)
    total = 0
    for proc in [root, *root.children(recursive=True)]:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 2**20


def timed_click(page: Any, locator: Any, selector: str, predicate: str, timeout_ms: int) -> float:
    """Milliseconds from pressing ``locator`` to ``selector`` matching ``predicate`` on screen."""
    page.evaluate(ARM_JS)
    locator.click()
    return float(page.evaluate(WATCH_JS, [selector, predicate, timeout_ms]))


# -- the measures -------------------------------------------------------------------------------


def bench_cold_start(browser: Any, repeats: int) -> list[Row]:
    times, first_runs = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        server = start_server(log=ARTIFACTS / "bench-cold.log")
        healthy = time.perf_counter()
        try:
            page = new_page(browser)
            page.goto(server.url + "/")
            wait_for_app(page)
            page.locator('[data-testid="stPageLink"]').last.wait_for()
            times.append((time.perf_counter() - start) * 1000)
            first_runs.append((time.perf_counter() - healthy) * 1000)
            page.context.close()
        finally:
            stop_server(server)
    return [
        ("cold start: launch -> home drawn", ms(statistics.median(times)), f"n={repeats}, "
         f"min {ms(min(times))}, max {ms(max(times))}"),
        ("  of which: healthy -> home drawn", ms(statistics.median(first_runs)),
         "first session of the process (imports, first run)"),
    ]  # fmt: skip


# Page -> (selector, predicate) of its main element.
TARGETS: dict[str, tuple[str, str]] = {
    "schedules": (LINE, "el => el.getAttribute('d')"),
    "signal_noise": (LINE, "el => el.getAttribute('d')"),
    "histogram": ('[data-testid="stPlotlyChart"] .main-svg', "el => true"),
    "image_noising": ("iframe", "el => el.contentWindow && el.contentWindow.__scrubReady"),
}
HOME_TARGET = ('[data-testid="stPageLink"] a', "el => location.pathname === '/'")


def bench_page_switch(browser: Any, url: str, repeats: int) -> list[Row]:
    rows: list[Row] = []
    page = new_page(browser)
    page.goto(url + "/")
    wait_for_app(page)
    for path, (selector, predicate) in TARGETS.items():
        drawn, finished, back = [], [], []
        link = page.locator(f'[data-testid="stSidebarNavLink"][href$="/{path}"]')
        for _ in range(repeats):
            start = time.perf_counter()
            try:
                drawn.append(timed_click(page, link, selector, predicate, 120_000))
                wait_for_app(page, timeout_ms=120_000)
            except Exception as error:  # a page under construction: report, go on
                rows.append((f"page switch -> {path}", "failed", str(error).splitlines()[0][:80]))
                break
            finished.append((time.perf_counter() - start) * 1000)
            home = page.locator('[data-testid="stSidebarNavLink"]').first
            back.append(timed_click(page, home, *HOME_TARGET, 120_000))
            wait_for_app(page, timeout_ms=120_000)
        if drawn:
            rows.append((f"page switch home -> {path}: drawn", ms(statistics.median(drawn)),
                         f"p95 {ms(pct(drawn, 95))}, n={len(drawn)}; run finished "
                         f"{ms(statistics.median(finished))}"))  # fmt: skip
            rows.append((f"page switch {path} -> home: drawn", ms(statistics.median(back)),
                         f"p95 {ms(pct(back, 95))}"))  # fmt: skip
    page.context.close()
    return rows


def bench_schedule_redraw(browser: Any, url: str, repeats: int) -> list[Row]:
    page = new_page(browser)
    page.goto(url + "/schedules")
    wait_for_app(page, timeout_ms=120_000)
    field = page.locator('[data-testid="stSidebar"] [data-testid="stNumberInput"]').first
    buttons = [field.get_by_test_id("stNumberInputStepUp"),
               field.get_by_test_id("stNumberInputStepDown")]  # fmt: skip
    times = []
    for i in range(repeats):
        before = page.locator(LINE).first.get_attribute("d")
        predicate = f"el => el.getAttribute('d') !== {json.dumps(before)}"
        times.append(timed_click(page, buttons[i % 2], LINE, predicate, 60_000))
        wait_for_app(page)
    # The tabs rerun the page (only the open tab's figure is sent): switch between two of them.
    tabs = [page.get_by_role("tab").nth(2), page.get_by_role("tab").nth(0)]
    switches = []
    for i in range(max(repeats // 3, 2)):
        before = page.locator(TITLE).first.text_content()
        predicate = f"el => el.textContent !== {json.dumps(before)}"
        switches.append(timed_click(page, tabs[i % 2], TITLE, predicate, 60_000))
        wait_for_app(page)
    page.context.close()
    return [
        ("schedules: T +/- -> β curve redrawn", f"p50 {ms(pct(times, 50))}",
         f"p95 {ms(pct(times, 95))} (target < 300 ms), n={repeats}"),
        ("schedules: switch figure tab -> figure drawn", f"p50 {ms(pct(switches, 50))}",
         f"p95 {ms(pct(switches, 95))}, n={len(switches)}"),
    ]  # fmt: skip


# Every chart of the signal page shows its marker at t (plotly has drawn the shape there).
MARKED_JS = """(t) => {
    const charts = Array.from(document.querySelectorAll('.js-plotly-plot'));
    return charts.length === 5 && charts.every(gd => gd._fullLayout && gd.querySelector('.shapelayer path')
        && gd._fullLayout.shapes.some(shape => shape.x0 === t));
}"""


def bench_signal_marker(browser: Any, url: str, repeats: int) -> list[Row]:
    """A step of the signal page's timestep marker (arrow key): all five charts redrawn."""
    rows = []
    for query, what in (("", "one schedule"), ("&sig.compare=cosine", "two schedules")):
        page = new_page(browser)
        page.goto(f"{url}/signal_noise?sig.t=250{query}")
        wait_for_app(page, timeout_ms=120_000)
        page.locator(".js-plotly-plot").nth(4).wait_for()
        thumb = page.get_by_role("slider").first
        times = []
        for t in range(251, 251 + repeats):
            thumb.focus()
            page.evaluate(ARM_JS)
            thumb.press("ArrowRight")
            page.wait_for_function(f"() => ({MARKED_JS})({t})", timeout=60_000, polling="raf")
            times.append(float(page.evaluate("() => performance.now() - window.__benchT0")))
            wait_for_app(page)
        page.context.close()
        rows.append((f"signal & noise: marker step, {what} -> 5 charts", f"p50 {ms(pct(times, 50))}",
                     f"p95 {ms(pct(times, 95))}, n={repeats}"))  # fmt: skip
    return rows


def bench_memory(browser: Any, sessions: int) -> list[Row]:
    server = start_server(log=ARTIFACTS / "bench-memory.log")
    try:
        idle = server_rss(server.process)
        readings = {}
        for i in range(1, sessions + 1):
            page = new_page(browser)
            page.goto(server.url + "/")
            wait_for_app(page)
            page.goto(server.url + "/schedules")
            wait_for_app(page, timeout_ms=120_000)
            page.context.close()
            if i in (1, sessions):
                time.sleep(5)
                readings[i] = server_rss(server.process)
    finally:
        stop_server(server)
    one, many = readings[1], readings[sessions]
    return [
        ("server RSS before any session", f"{idle:,.0f} MiB", "streamlit + children"),
        ("server RSS after 1 session", f"{one:,.0f} MiB", "home + schedules, closed, +5 s"),
        (f"server RSS after {sessions} sessions", f"{many:,.0f} MiB",
         f"+{many - one:,.0f} MiB vs one ({(many - one) / max(sessions - 1, 1):.1f} MiB/session; "
         "closed sessions are kept 120 s: server.disconnectedSessionTTL)"),
    ]  # fmt: skip


def scrub_frame(page: Any) -> Any:
    """The frame of the image page's renderer (it defines ``__scrubStats``)."""
    for frame in page.frames:
        try:
            if frame.evaluate("() => window.__scrubReady === true"):
                return frame
        except Exception:  # detached or cross-origin frames
            continue
    return None


def scrub_eval(page: Any, script: str, timeout_s: float = 120) -> Any:
    """``script`` evaluated in the renderer's frame, which is replaced when the picture changes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        frame = scrub_frame(page)
        if frame is not None:
            try:
                return frame.evaluate(script)
            except Exception:  # replaced while we asked
                pass
        time.sleep(0.02)
    raise TimeoutError("no scrubber frame")


def bench_image(browser: Any, url: str, repeats: int) -> list[Row]:
    """512×512 upload -> scrubber ready; frame times while dragging (window.__scrubStats)."""
    page = new_page(browser)
    page.goto(url + "/image_noising?img.size=512")
    wait_for_app(page, timeout_ms=120_000)
    upload = page.locator('[data-testid="stFileUploader"] input[type="file"]')
    if not upload.count() or scrub_frame(page) is None:
        page.context.close()
        return [("image page", "not measurable", "no file input or no renderer yet")]
    from PIL import Image

    ready, frame_p50, frame_p95, frames = [], [], [], 0
    with tempfile.TemporaryDirectory() as folder:
        for i in range(repeats):
            y, x = np.mgrid[0:512, 0:512]
            rgb = np.stack([(x + 37 * i) % 256, y // 2, (x * y // 512 + i) % 256], axis=-1)
            picture = Path(folder) / f"picture-{i}.png"
            Image.fromarray(rgb.astype(np.uint8)).save(picture)
            old = scrub_eval(page, "() => window.__scrubStats.key")
            start = time.perf_counter()
            upload.set_input_files(str(picture))
            deadline = time.monotonic() + 120
            while scrub_eval(page, "() => window.__scrubStats.key") == old:
                if time.monotonic() > deadline:
                    raise TimeoutError("the scrubber did not get the new picture")
                time.sleep(0.02)
            ready.append((time.perf_counter() - start) * 1000)
            wait_for_app(page, timeout_ms=120_000)
            scrub_eval(page, "() => window.__scrubReset()")
            frame = scrub_frame(page)
            frame.locator("#slider").scroll_into_view_if_needed()
            box = frame.locator("#slider").bounding_box()
            y_mid = box["y"] + box["height"] / 2
            page.mouse.move(box["x"] + 2, y_mid)
            page.mouse.down()
            for step in range(1, 121):
                page.mouse.move(box["x"] + 2 + (box["width"] - 4) * step / 120, y_mid)
                page.wait_for_timeout(8)
            page.mouse.up()
            stats = frame.evaluate("() => window.__scrubStats")
            frames += int(stats["frames"])
            frame_p50.append(float(stats["p50"]))
            frame_p95.append(float(stats["p95"]))
    page.context.close()
    return [
        ("image: choose 512×512 -> scrubbing ready", ms(statistics.median(ready)),
         f"n={repeats}, max {ms(max(ready))}"),
        ("image: frame time while dragging", f"p50 {statistics.median(frame_p50):.1f} ms",
         f"p95 {statistics.median(frame_p95):.1f} ms, {frames} frames"),
    ]  # fmt: skip


PLAY_JS = """async (seconds) => {
    const gd = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
    const stamps = [];
    gd.on('plotly_animatingframe', () => stamps.push(performance.now()));
    const button = gd.querySelector('.updatemenu-button');
    button.dispatchEvent(new MouseEvent('click', {bubbles: true}));
    await new Promise((r) => setTimeout(r, seconds * 1000));
    return stamps;
}"""


def bench_histogram(browser: Any, url: str) -> list[Row]:
    """Choose 1,000,000 samples on the open page -> the animation redrawn with them; the frame
    rate while it plays; a first visit by a link that asks for 1,000,000 samples.

    Each uses a seed of its own, so the samples are computed, not taken from the cache."""
    seed = int(time.time()) % 1_000_000
    page = new_page(browser)
    page.goto(f"{url}/histogram?seed={seed}")
    wait_for_app(page, timeout_ms=120_000)
    slider = (
        page.locator('[data-testid="stSlider"]')
        .filter(has_text=translate("hist.n", "en"))
        .get_by_role("slider")
    )
    slider.focus()
    page.evaluate(ARM_JS)
    slider.press("End")  # the last stop: 1,000,000
    # the animation is drawn (plotly draws in the task that sets its data) with 10⁶-sample bars
    predicate = "el => (el.data || []).some(trace => (trace.name || '').includes('1,000,000'))"
    try:
        chosen = float(page.evaluate(WATCH_JS, [HISTOGRAM, predicate, 300_000]))
        wait_for_app(page, timeout_ms=300_000)
    except (AssertionError, PlaywrightError) as error:
        page.context.close()
        return [("histogram page", "not measurable", str(error).splitlines()[0][:80])]
    has_frames = page.evaluate("""() => {
        const gd = document.querySelector('[data-testid="stPlotlyChart"] .js-plotly-plot');
        return !!(gd && gd._transitionData && gd._transitionData._frames
                  && gd._transitionData._frames.length
                  && gd.querySelector('.updatemenu-button'));
    }""")
    stamps = page.evaluate(PLAY_JS, 4) if has_frames else []
    page.context.close()
    gaps = np.diff(stamps) if len(stamps) > 1 else np.array([])
    fps = 1000 / float(np.median(gaps)) if gaps.size else float("nan")

    page = new_page(browser)
    start = time.perf_counter()
    page.goto(f"{url}/histogram?hist.n=1000000&seed={seed + 1}")
    wait_for_app(page, timeout_ms=300_000)
    visit = (time.perf_counter() - start) * 1000
    page.context.close()
    return [
        ("histogram: choose 10⁶ samples -> animation redrawn", ms(chosen),
         "key press on the open page -> bars of 1,000,000 samples drawn (target < 3 s)"),
        ("histogram: frame rate while playing", f"{fps:.1f} fps" if has_frames else "n/a",
         f"{len(stamps)} frames in 4 s; p95 gap {pct(list(gaps), 95):.0f} ms"),
        ("histogram: first visit by a 10⁶-sample link", ms(visit),
         "new browser context: page, scripts and Plotly loaded, then run finished"),
    ]  # fmt: skip


# -- main ---------------------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    load = psutil.getloadavg()[0]
    return (f"{model}, {psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB;"
            f" load average {load:.1f} at start; {platform.python_version()}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--only", default="cold,switch,schedule,signal,memory,image,histogram")
    args = parser.parse_args()
    only = set(args.only.split(","))
    problem = chromium_problem()
    if problem:
        sys.exit(problem)
    repeats = {"cold": 2 if args.quick else 3, "switch": 3 if args.quick else 5,
               "schedule": 10 if args.quick else 30, "sessions": 20,
               "image": 2 if args.quick else 3, "signal": 8 if args.quick else 20}  # fmt: skip
    from playwright.sync_api import sync_playwright

    rows: list[Row] = []
    print(machine())
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        steps: list[tuple[str, Callable[[str], list[Row]]]] = [
            ("cold", lambda url: bench_cold_start(browser, repeats["cold"])),
            ("switch", lambda url: bench_page_switch(browser, url, repeats["switch"])),
            ("schedule", lambda url: bench_schedule_redraw(browser, url, repeats["schedule"])),
            ("signal", lambda url: bench_signal_marker(browser, url, repeats["signal"])),
            ("memory", lambda url: bench_memory(browser, repeats["sessions"])),
            ("image", lambda url: bench_image(browser, url, repeats["image"])),
            ("histogram", lambda url: bench_histogram(browser, url)),
        ]
        server = start_server(log=ARTIFACTS / "bench-browser.log")
        try:
            warm = new_page(browser)  # the first session pays for imports; measure warm ones
            warm.goto(server.url + "/")
            wait_for_app(warm)
            warm.context.close()
            for name, step in steps:
                if name not in only:
                    continue
                try:
                    new_rows = step(server.url)
                except Exception as error:
                    new_rows = [(name, "failed", f"{type(error).__name__}: {error}"[:100])]
                for row in new_rows:
                    print(f"{row[0]:<45} {row[1]:>14}  {row[2]}", flush=True)
                rows += new_rows
        finally:
            stop_server(server)
            browser.close()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=1,
                                  ensure_ascii=False))  # fmt: skip
    print("\n| measure | figure | note |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
