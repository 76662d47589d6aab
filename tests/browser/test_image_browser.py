"""The scrubber in real Chromium: upload through the real file input, drag the slider with the mouse.

Proves that the picture changes under the pointer with no message to the server during the drag,
that the browser's pixels equal the numpy mirror of its formula, and measures what the lecturer
feels: time from choosing a 512×512 picture to scrubbing, bytes sent for it, frame times while
dragging. The figures are printed (run with ``-s``) and kept in test-artifacts/image_scrub.json.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from core import ForwardDiffusion, scrub
from core.images import load_image, to_model
from tests.browser.conftest import (
    ARTIFACTS,
    PageErrors,
    free_port,
    new_page,
    screenshot,
    start_server,
    stop_server,
    wait_for_app,
)

pytestmark = pytest.mark.browser

PORTS = range(8620, 8630)


def make_upload_bytes() -> bytes:
    """A fresh 512×512 PNG (not a sample, so nothing about it is cached yet)."""
    from PIL import Image

    y, x = np.mgrid[0:512, 0:512]
    rgb = np.stack([x // 2, y // 2, ((x - 256) ** 2 + (y - 256) ** 2) // 512 % 256], axis=-1)
    buffer = io.BytesIO()
    Image.fromarray(rgb.astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def make_upload(folder: Any) -> Any:
    """:func:`make_upload_bytes` as a file in ``folder``."""
    path = folder / "lecture_picture.png"
    path.write_bytes(make_upload_bytes())
    return path


READY_JS = "() => window.__scrubReady === true"
CANVAS_HASH_JS = """() => {
    const c = document.getElementById('frame');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let h = 2166136261 >>> 0;
    for (let i = 0; i < d.length; i++) { h ^= d[i]; h = Math.imul(h, 16777619) >>> 0; }
    return h;
}"""
CANVAS_RGB_JS = """() => {
    const c = document.getElementById('frame');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let s = '';
    for (let i = 0; i < d.length; i += 4) s += String.fromCharCode(d[i], d[i + 1], d[i + 2]);
    return btoa(s);
}"""
GOTO_JS = """async (t) => {
    const s = document.getElementById('slider');
    s.value = String(t);
    s.dispatchEvent(new Event('input'));
    for (let i = 0; i < 3; i++) await new Promise((r) => requestAnimationFrame(r));
    return window.__scrubStats.last.t;
}"""


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    server = start_server(port=free_port(PORTS), log=ARTIFACTS / "streamlit-image-browser.log")
    try:
        yield server.url
    finally:
        stop_server(server)


@pytest.fixture
def tab(browser: Any, app_url: str) -> Iterator[tuple[Any, PageErrors]]:
    errors = PageErrors()
    page = new_page(browser, base_url=app_url)
    page.on("console", errors.on_console)
    page.on("pageerror", errors.on_page_error)
    try:
        yield page, errors
    finally:
        page.context.close()
    if errors.messages:
        pytest.fail("errors in the browser console:\n" + "\n".join(errors.messages))


def open_image_page(page: Any, query: str) -> None:
    # The home page first: on a fresh server, a first request straight to a page URL runs the
    # page file alone (Streamlit's pages-folder mode) until app.py has called st.navigation.
    page.goto("/")
    wait_for_app(page)
    page.goto(f"/image_noising?{query}")
    wait_for_app(page)


class Socket:
    """Counts what goes through Streamlit's websocket, both ways."""

    def __init__(self, page: Any) -> None:
        self.sent = 0
        self.received_bytes = 0
        page.on("websocket", self._attach)

    def _attach(self, ws: Any) -> None:
        ws.on("framesent", self._sent)
        ws.on("framereceived", self._received)

    def _sent(self, payload: Any) -> None:
        self.sent += 1

    def _received(self, payload: Any) -> None:
        self.received_bytes += len(payload)


def scrubber(page: Any, width: int, key: str | None = None, timeout_s: float = 60) -> Any:
    """The scrubber's frame once it is ready and shows a picture ``width`` pixels wide.

    ``key``: the start of the picture's sha256, to wait for one picture's document.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for frame in page.frames:
            if frame == page.main_frame:
                continue
            try:
                stats = frame.evaluate("() => window.__scrubReady && window.__scrubStats")
            except Exception:  # a frame being replaced
                continue
            if stats and stats["width"] == width and key in (None, stats["key"]):
                return frame
        page.wait_for_timeout(20)
    raise AssertionError(f"no scrubber {width} px wide within {timeout_s} s")


def drag_across(page: Any, frame: Any, steps: int = 240) -> None:
    frame.locator("#slider").scroll_into_view_if_needed()
    box = frame.locator("#slider").bounding_box()
    y = box["y"] + box["height"] / 2
    left, right = box["x"] + 2, box["x"] + box["width"] - 2
    page.mouse.move(left, y)
    page.mouse.down()
    for i in range(1, steps + 1):
        page.mouse.move(left + (right - left) * i / steps, y)
        page.wait_for_timeout(4)
    for i in range(1, steps + 1):  # and back to 40 %: the whole range both ways
        page.mouse.move(right - 0.6 * (right - left) * i / steps, y)
        page.wait_for_timeout(4)
    page.mouse.up()


def test_scrubbing_is_local_exact_and_fast(tab, tmp_path):
    page, _ = tab
    upload = make_upload(tmp_path)
    socket = Socket(page)
    open_image_page(page, "img.size=512")
    scrubber(page, 512)  # the first sample at 512 px

    # -- choose a 512×512 picture through the real file input --------------------------------
    received_before = socket.received_bytes
    chosen = time.perf_counter()
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(upload))
    frame = scrubber(page, 512, key=hashlib.sha256(upload.read_bytes()).hexdigest()[:16])
    ready_s = time.perf_counter() - chosen
    in_frame = frame.evaluate("() => [window.__scrubStats.decodeMs, window.__scrubStats.readyMs]")
    wait_for_app(page)
    caption = page.get_by_text("Prepared for the browser in").first.inner_text()
    server_ms = int(caption.split("Prepared for the browser in ")[1].split(" ms")[0])
    received = socket.received_bytes - received_before
    document_bytes = page.evaluate(
        """() => Math.max(...[...document.querySelectorAll('iframe')]
                          .map((f) => (f.srcdoc || '').length))"""
    )

    # -- the browser's pixels are the formula's ---------------------------------------------
    x0 = load_image(upload.read_bytes(), max_side=512)
    eps = scrub.make_noise(x0.shape, seed=0)
    fd = ForwardDiffusion(1000, device="cpu")
    for t in (0, 250, 999):
        assert frame.evaluate(GOTO_JS, t) == t
        shown = np.frombuffer(base64.b64decode(frame.evaluate(CANVAS_RGB_JS)), np.uint8)
        expected, clipped = scrub.display_frame(
            to_model(x0), eps, fd.sqrt_alphas_cumprod[t], fd.sqrt_one_minus_alphas_cumprod[t]
        )
        diff = np.abs(shown.reshape(x0.shape).astype(int) - expected.astype(int))
        assert diff.max() <= 1 and np.count_nonzero(diff) <= 4, (t, np.count_nonzero(diff))
        assert frame.evaluate("() => window.__scrubStats.last.clipped") == pytest.approx(clipped)

    # -- keyboard: every timestep is reachable --------------------------------------------------
    frame.locator("#slider").focus()
    frame.evaluate(GOTO_JS, 500)
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(100)
    assert frame.evaluate("() => window.__scrubStats.last.t") == 501
    page.keyboard.press("End")
    page.wait_for_timeout(100)
    assert frame.evaluate("() => window.__scrubStats.last.t") == 999
    page.keyboard.press("Home")
    page.wait_for_timeout(100)
    assert frame.evaluate("() => window.__scrubStats.last.t") == 0

    # -- drag with the mouse: pixels change, nothing goes to the server -----------------------
    before = frame.evaluate(CANVAS_HASH_JS)
    frame.evaluate("() => window.__scrubReset()")
    sent_before = socket.sent
    drag_across(page, frame)
    page.wait_for_timeout(200)
    closed = frame.evaluate("() => window.__scrubStats")
    assert socket.sent == sent_before, "the drag sent messages to the server"
    assert page.locator('[data-testid="stStatusWidget"]').count() == 0
    assert frame.evaluate(CANVAS_HASH_JS) != before
    assert 300 <= closed["last"]["t"] <= 500
    assert closed["frames"] >= 50
    screenshot(page, "image_scrubber_512")

    # -- the Markov-chain path: revisiting t draws fresh noise -----------------------------------
    page.get_by_text("Markov chain (fresh noise)").click()
    wait_for_app(page)
    page.wait_for_function(
        "() => [...document.querySelectorAll('iframe')].some((f) => {"
        " try { return f.contentWindow.__scrubStats.last.mode === 'chain'; } catch (e) { return false; } })"
    )
    frame.evaluate(GOTO_JS, 300)
    first = frame.evaluate(CANVAS_HASH_JS)
    frame.evaluate(GOTO_JS, 600)
    frame.evaluate(GOTO_JS, 300)
    assert frame.evaluate(CANVAS_HASH_JS) != first
    frame.evaluate("() => window.__scrubReset()")
    sent_before = socket.sent
    drag_across(page, frame)
    page.wait_for_timeout(200)
    chain = frame.evaluate("() => window.__scrubStats")
    assert socket.sent == sent_before
    assert chain["frames"] >= 50 and chain["last"]["mode"] == "chain"

    figures = {
        "picture": "512x512 PNG upload",
        "choose_to_ready_s": round(ready_s, 3),
        "server_document_ms": server_ms,
        "frame_decode_ms": round(in_frame[0], 1),
        "frame_ready_ms": round(in_frame[1], 1),
        "websocket_bytes_received_for_it": received,
        "scrubber_document_bytes": document_bytes,
        "closed_form_drag": {k: closed[k] for k in ("frames", "p50", "p95", "max")},
        "markov_chain_drag": {k: chain[k] for k in ("frames", "p50", "p95", "max")},
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "image_scrub.json").write_text(json.dumps(figures, indent=2))
    print("\nscrubber figures:", json.dumps(figures, indent=2))


def test_page_slider_moves_the_scrubber_without_resending_it(tab):
    page, _ = tab
    socket = Socket(page)
    open_image_page(page, "img.size=128")
    frame = scrubber(page, 128)
    frame.evaluate(GOTO_JS, 10)
    received_before = socket.received_bytes
    slider = (
        page.locator('[data-testid="stSlider"]').filter(has_text="Timestep t").get_by_role("slider")
    )
    slider.focus()
    page.keyboard.press("End")
    wait_for_app(page)
    page.wait_for_function(
        "() => [...document.querySelectorAll('iframe')].some((f) => {"
        " try { return f.contentWindow.__scrubStats.last.t === 999; } catch (e) { return false; } })"
    )
    # the same document stays: its frame was not reloaded, only told the new t
    assert frame.evaluate("() => window.__scrubStats.last.t") == 999
    document_bytes = frame.evaluate("() => document.documentElement.outerHTML.length")
    assert socket.received_bytes - received_before < document_bytes / 2


def page_t_to_the_end(page: Any, frame: Any) -> None:
    """End on the page's own "Timestep t" slider: the scrubber then shows t = 999."""
    slider = (
        page.locator('[data-testid="stSlider"]').filter(has_text="Timestep t").get_by_role("slider")
    )
    slider.focus()
    page.keyboard.press("End")
    wait_for_app(page)
    frame.wait_for_function("() => window.__scrubStats.last.t === 999")


def test_a_new_noise_path_keeps_the_scrubbers_t(tab):
    """Choosing the path on the page redraws the scrubber where the lecturer left it; only a new
    page t moves it."""
    page, _ = tab
    open_image_page(page, "img.size=128")
    frame = scrubber(page, 128)
    assert frame.evaluate(GOTO_JS, 700) == 700
    page.get_by_text("Markov chain (fresh noise)").click()
    wait_for_app(page)
    frame.wait_for_function("() => window.__scrubStats.last.mode === 'chain'")
    assert frame.evaluate("() => window.__scrubStats.last.t") == 700
    page.get_by_text("Closed form (same ε)").click()
    wait_for_app(page)
    frame.wait_for_function("() => window.__scrubStats.last.mode === 'closed'")
    assert frame.evaluate("() => window.__scrubStats.last.t") == 700
    page_t_to_the_end(page, frame)


CHAIN_TO_JS = """async (t) => {
    window.postMessage({ddpmScrub: {t: t, mode: 'chain'}}, '*');
    for (let i = 0; i < 60 && !(window.__scrubStats.last && window.__scrubStats.last.t === t
                                 && window.__scrubStats.last.mode === 'chain'); i++) {
        await new Promise((r) => requestAnimationFrame(r));
    }
    return window.__scrubStats.last;
}"""


def test_markov_chain_stays_noise_where_alphas_cumprod_is_zero(browser):
    """T = 2000 with β up to 0.999 (the sidebar allows it): ᾱ is exactly 0 from t = 1454 on.

    A backward move there once took r = ᾱ_t/ᾱ_t' = 0/0 and turned every pixel NaN, shown black
    for good. The scrubber's document runs on its own here, driven as the page drives it.
    """
    from core.i18n import translate
    from pages.views.image_noising import TEMPLATE, encode_png

    fd = ForwardDiffusion(2000, "linear", beta_end=0.999)
    height, width = 32, 48
    payload = scrub.build_payload(
        x0_png=encode_png(np.full((height, width, 3), 200, np.uint8)), width=width,
        height=height, noise=scrub.make_noise((height, width, 3), seed=1),
        alphas_cumprod=fd.alphas_cumprod, alphas=fd.alphas, seed=3,
    )  # fmt: skip
    keys = ("steps", "snr", "psnr", "clipped", "hist", "hint", "mode_closed", "mode_chain",
            "play", "pause", "slider", "canvas", "decode_error")  # fmt: skip
    labels = {key: translate(f"img.scr.{key}", "en") for key in keys}
    html = scrub.fill_template(
        TEMPLATE.read_text(encoding="utf-8"),
        payload=scrub.to_script_json(payload),
        labels=scrub.to_script_json(labels),
    )
    page = new_page(browser)
    errors = PageErrors()
    page.on("console", errors.on_console)
    page.on("pageerror", errors.on_page_error)
    try:
        page.set_content(html)
        page.wait_for_function(READY_JS)
        for t in [1500, 1800, 1600, 1999, 1460, 1461, 1454, 100]:
            last = page.evaluate(CHAIN_TO_JS, t)
            assert (last["t"], last["mode"]) == (t, "chain")
            raw = base64.b64decode(page.evaluate(CANVAS_RGB_JS))
            pixels = np.frombuffer(raw, np.uint8).astype(float)
            # pure noise N(0, 1) shown clipped to [-1, 1]: mean 127.5, spread wide
            assert pixels.std() > 50, (t, pixels.mean(), pixels.std())
            if fd.alphas_cumprod[t] == 0:
                assert abs(pixels.mean() - 127.5) < 12, (t, pixels.mean())
    finally:
        page.context.close()
    assert not errors.messages, errors.messages


# (viewport, query, picture, the least width the picture is shown at)
FIT_QUERIES = [
    pytest.param({"width": 1280, "height": 720}, "hide=controls", "", 500, id="projector"),
    pytest.param({"width": 1920, "height": 1080}, "hide=controls", "", 900, id="full-hd"),
    pytest.param({"width": 1024, "height": 600}, "", "", 400, id="small-screen"),
    pytest.param({"width": 1280, "height": 800}, "", "portrait", 200, id="portrait-picture"),
    pytest.param({"width": 390, "height": 844}, "", "portrait", 200, id="phone-portrait-picture"),
]
HEADER_BOTTOM_JS = """() => {
    const header = document.querySelector('[data-testid="stHeader"]');
    return header ? Math.max(0, header.getBoundingClientRect().bottom) : 0;
}"""


def upload_portrait(page: Any, folder: Any) -> Any:
    """Upload a 200×600 picture (1:3) and return its scrubber (85×256 at 256 px)."""
    from PIL import Image

    path = folder / "portrait.png"
    Image.new("RGB", (200, 600), (30, 120, 200)).save(path)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    return scrubber(page, 85, key=hashlib.sha256(path.read_bytes()).hexdigest()[:16])


@pytest.mark.parametrize("viewport, query, picture, least_width", FIT_QUERIES)
def test_slider_and_whole_picture_fit_on_one_screen(
    browser, app_url, tmp_path, viewport, query, picture, least_width
):
    """A lecturer sees the slider on arrival, and one scroll shows it with the whole picture, as
    large as the screen allows, below the page's header where it covers the page."""
    errors = PageErrors()
    page = new_page(browser, base_url=app_url, viewport=viewport)
    page.on("console", errors.on_console)
    page.on("pageerror", errors.on_page_error)
    try:
        open_image_page(page, f"img.size=256&{query}")
        frame = scrubber(page, 256)
        if picture == "portrait":  # as tall as three screens at the widest picture
            frame = upload_portrait(page, tmp_path)
        height = viewport["height"]
        slider = frame.locator("#slider").bounding_box()
        assert slider["y"] >= 0 and slider["y"] + slider["height"] <= height, slider

        top = page.evaluate(HEADER_BOTTOM_JS)
        page.evaluate(
            "(by) => document.querySelector('[data-testid=stMain]').scrollBy(0, by)",
            frame.locator("#controls").bounding_box()["y"] - top,
        )
        page.wait_for_timeout(200)
        controls = frame.locator("#controls").bounding_box()
        shown = frame.locator("#frame").bounding_box()
        assert controls["y"] >= top - 1, (controls, top)
        assert shown["y"] + shown["height"] <= height + 1, (shown, height)
        assert shown["width"] >= least_width, shown
        screenshot(page, f"image-fit-{viewport['width']}x{height}-{picture or 'sample'}")
    finally:
        page.context.close()
    assert not errors.messages, errors.messages


def test_the_scrubber_gets_shorter_when_its_picture_does(browser, app_url, tmp_path):
    """A window made lower shrinks the picture, and the frame around it shrinks with it (no
    blank below): Streamlit on its own only ever makes such a frame taller."""
    page = new_page(browser, base_url=app_url, viewport={"width": 1280, "height": 1080})
    try:
        open_image_page(page, "img.size=256&hide=controls")
        scrubber(page, 256)
        frame = upload_portrait(page, tmp_path)
        gap_js = """() => {
            const box = window.frameElement.getBoundingClientRect().height;
            return box - document.body.getBoundingClientRect().height;
        }"""
        before = frame.locator("#frame").bounding_box()["height"]
        page.set_viewport_size({"width": 1280, "height": 720})
        frame.wait_for_function(
            f"() => document.getElementById('frame').getBoundingClientRect().height < {before - 200}"
        )
        frame.wait_for_function(f"() => ({gap_js})() < 2", timeout=5000)
    finally:
        page.context.close()


def test_the_scrubber_keeps_its_t_for_a_new_picture_and_shows_it_by_the_slider(tab):
    """A new document (another working size here) starts where the last one was left while the
    page's t is the same; the value next to the slider says which t is shown."""
    page, _ = tab
    open_image_page(page, "img.size=128")
    frame = scrubber(page, 128)
    assert frame.evaluate(GOTO_JS, 650) == 650
    assert frame.locator("#tnow").inner_text() == "t = 650"
    size = page.locator('[data-testid="stSlider"]').filter(has_text="Working resolution")
    size.get_by_role("slider").focus()
    page.keyboard.press("ArrowRight")
    frame = scrubber(page, 144)
    frame.wait_for_function("() => window.__scrubStats.last !== null")
    assert frame.evaluate("() => window.__scrubStats.last.t") == 650
    assert frame.locator("#tnow").inner_text() == "t = 650"
    page_t_to_the_end(page, frame)


@pytest.mark.parametrize("width", [320, 360])
def test_the_values_fit_a_narrow_phone(browser, app_url, width):
    """The longest values (T = 4000, last step: SNR 4e-5 at −44 dB) fit the frame's width."""
    page = new_page(browser, base_url=app_url, viewport={"width": width, "height": 740})
    try:
        open_image_page(page, "img.size=256&T=4000&img.t=3999")
        frame = scrubber(page, 256)
        frame.wait_for_function(
            "() => window.__scrubStats.last && window.__scrubStats.last.t === 3999"
        )
        overflow = frame.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, overflow
    finally:
        page.context.close()


def test_a_file_name_shows_as_typed_with_no_link_icon_or_emoji(tab):
    """Markdown and the forms Streamlit turns into emoji, icons, colours and links, in a file's
    name, are shown exactly as typed."""
    page, _ = tab
    open_image_page(page, "img.size=128")
    scrubber(page, 128)
    name = ":smile: :red[r] :material/home: **b** a&lt;b <https:__x> www.x.org me@x.org.png"
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        {"name": name, "mimeType": "image/png", "buffer": make_upload_bytes()}
    )
    caption = page.locator('[data-testid="stCaptionContainer"]').filter(has_text="Using your file")
    caption.wait_for()
    assert caption.inner_text().replace("\u2060", "") == (
        f"Using your file “{name}”. Remove it to go back to the samples."
    )
    assert caption.locator("a, img, code, strong, em, .katex").count() == 0
