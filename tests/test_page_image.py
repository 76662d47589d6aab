"""The image-noising page under AppTest: inputs, the scrubber payload, the switches, downloads."""

from __future__ import annotations

import io
import json
import re
import tracemalloc
import urllib.parse

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from core import ForwardDiffusion, scrub
from core.i18n import CATALOG, translate
from core.images import encode_png, load_image
from pages.views.image_noising import UPLOAD_MB
from tests import apptest
from tests.conftest import ROOT
from tests.hostile import corpus

PAGE = "pages/image_noising.py"
SAMPLES = {
    path.stem: path
    for path in sorted((ROOT / "assets").glob("*"))
    if path.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp")
}


def make_app(**query: str) -> AppTest:
    return apptest.app(PAGE, **query)


def picture(width: int = 300, height: int = 200, fmt: str = "PNG") -> bytes:
    """A smooth colour picture (so resizing and noise are both visible)."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 255 // max(1, width - 1), y * 255 // max(1, height - 1),
                    (x + y) % 256], axis=-1).astype(np.uint8)  # fmt: skip
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format=fmt)
    return buffer.getvalue()


def upload(at: AppTest, name: str, data: bytes, mime: str = "image/png") -> AppTest:
    at.file_uploader(key="img.upload").set_value((name, data, mime))
    return at.run()


def srcdoc(at: AppTest) -> str:
    frames = [element.proto.srcdoc for element in at.get("iframe")]
    assert len(frames) == 1, "exactly one scrubber"
    return frames[0]


def payload_of(at: AppTest) -> dict:
    match = re.search(r"const P = (\{.*?\});\nconst L = (\{.*?\});\n", srcdoc(at), re.S)
    assert match, "payload markers filled"
    return json.loads(match.group(1))


def errors(at: AppTest) -> str:
    return " ".join(str(element.value) for element in at.error)


@pytest.fixture
def downloads(monkeypatch):
    return apptest.record_deferred_downloads(monkeypatch)


def test_there_are_at_least_three_samples():
    assert len(SAMPLES) >= 3, f"assets/ holds {sorted(SAMPLES)}"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_samples_are_listed_by_their_names_in_the_language(lang):
    """The picker shows each sample's name (not its file name) in the page's language."""
    at = make_app(lang=lang).run()
    assert not at.exception
    picker = at.selectbox(key="img.sample")
    assert picker.options == [CATALOG[f"img.sample.{name}"][lang] for name in SAMPLES]
    assert len(set(picker.options)) == len(SAMPLES)
    assert not set(picker.options) & set(SAMPLES)


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_each_sample_renders_and_its_payload_is_exact(sample):
    at = make_app(**{"img.sample": sample, "img.size": "128"}).run()
    assert not at.exception
    assert not at.error
    expected = load_image((SAMPLES[sample]).read_bytes(), max_side=128)
    payload = payload_of(at)
    png, eps, ab = scrub.decode_payload(payload)
    np.testing.assert_array_equal(load_image(png), expected)
    assert eps.shape == expected.shape
    np.testing.assert_array_equal(ab, ForwardDiffusion(1000).alphas_cumprod)


def test_upload_is_used_at_the_chosen_size_with_the_seeded_noise():
    at = make_app(**{"img.size": "160", "seed": "5"}).run()
    data = picture(300, 200)
    upload(at, "gradient.png", data)
    assert not at.exception
    assert not at.error
    assert any("gradient.png" in str(caption.value) for caption in at.caption)
    payload = payload_of(at)
    assert (payload["width"], payload["height"]) == (160, 107)
    png, eps, _ = scrub.decode_payload(payload)
    np.testing.assert_array_equal(load_image(png), load_image(data, max_side=160))
    np.testing.assert_array_equal(eps, scrub.make_noise((107, 160, 3), 5))
    assert payload["T"] == 1000


def test_the_page_slider_sets_the_scrubber_and_the_numbers():
    at = make_app(**{"img.size": "64"}).run()
    upload(at, "g.png", picture(64, 64))
    document = srcdoc(at)
    at.slider(key="img.t").set_value(999).run()
    assert not at.exception
    scripts = " ".join(element.proto.body for element in at.get("html"))
    assert '"t": 999' in scripts and '"mode": "closed"' in scripts
    # the big document is unchanged (Streamlit sends it as a cached reference)
    assert srcdoc(at) == document
    values = {metric.label: metric.value for metric in at.metric}
    fd = ForwardDiffusion(1000)
    assert values["ᾱ_t"] == f"{fd.alphas_cumprod[999]:.3e}"
    assert at.query_params["img.t"] == "999"
    at.slider(key="img.t").set_value(0).run()
    values = {metric.label: metric.value for metric in at.metric}
    assert values["√ᾱ_t"] == f"{fd.sqrt_alphas_cumprod[0]:.4g}"


def test_t_beyond_a_smaller_T_is_clamped():
    at = make_app(**{"img.t": "900", "T": "100", "img.size": "64"}).run()
    upload(at, "g.png", picture(64, 64))
    assert not at.exception
    assert at.slider(key="img.t").value == 99


def test_t_stays_where_it_is_when_T_changes():
    at = make_app(**{"img.t": "400", "img.size": "64"}).run()
    upload(at, "g.png", picture(64, 64))
    at.number_input(key="T").set_value(1010).run()
    assert not at.exception
    assert at.slider(key="img.t").value == 400
    at.number_input(key="T").set_value(100).run()
    assert at.slider(key="img.t").value == 99
    at.number_input(key="T").set_value(1000).run()  # back to the t chosen
    assert at.slider(key="img.t").value == 400


def animation(frames: int = 3) -> bytes:
    pictures = [Image.new("RGB", (64, 64), (80 * i, 40, 200)) for i in range(frames)]
    buffer = io.BytesIO()
    pictures[0].save(buffer, "GIF", save_all=True, append_images=pictures[1:], duration=50)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "mime", "note"),
    [
        ("wide.png", picture(10_000, 10), "image/png", "too thin"),
        ("dot.png", picture(1, 1), "image/png", "only 1×1 px"),
        ("moving.gif", animation(), "image/gif", "only its first frame"),
        ("plain.png", picture(64, 64), "image/png", None),
    ],
)
def test_uploads_say_how_they_were_taken(name, data, mime, note):
    at = upload(make_app(**{"img.size": "256"}).run(), name, data, mime)
    assert not at.exception and not at.error
    infos = " ".join(element.value for element in at.info)
    if note is None:
        assert not infos
    else:
        assert note in infos


def test_path_switch_reaches_the_scrubber_and_the_strip():
    at = make_app(**{"img.size": "64"}).run()
    upload(at, "g.png", picture(64, 64))
    closed = [element.value for element in at.image]
    at.radio(key="img.path").set_value("chain").run()
    assert not at.exception
    scripts = " ".join(element.proto.body for element in at.get("html"))
    assert '"mode": "chain"' in scripts
    assert at.query_params["img.path"] == "chain"
    chained = [element.value for element in at.image]
    assert closed != chained


def test_downloads_are_valid_files(downloads):
    at = make_app(**{"img.size": "96", "img.t": "500"}).run()
    upload(at, "g.png", picture(120, 90))
    assert not at.exception
    by_kind = {name.rsplit(".", 1)[-1] + ("_strip" if "strip" in name else ""): make
               for name, make in downloads.items() if name.startswith("g_")}  # fmt: skip
    frame = Image.open(io.BytesIO(by_kind["png"]()))
    assert frame.format == "PNG" and frame.size == (96, 72)
    strip = Image.open(io.BytesIO(by_kind["png_strip"]()))
    assert strip.format == "PNG" and strip.width > (scrub.STRIP_COUNT + 1) * 96
    animation = Image.open(io.BytesIO(by_kind["gif"]()))
    assert animation.format == "GIF" and animation.n_frames == scrub.ANIMATION_FRAMES + 1
    assert animation.size == (96, 72)
    assert "g_linear_T1000_closed_t500.png" in downloads

    downloads.clear()
    at.radio(key="img.anim").set_value("WEBP").run()
    webp = [make for name, make in downloads.items() if name == "g_linear_T1000_closed.webp"]
    assert len(webp) == 1
    animation = Image.open(io.BytesIO(webp[0]()))
    assert animation.format == "WEBP" and animation.size == (96, 72)
    # libwebp merges frames that encode alike into one longer frame: count the time instead
    total = 0
    for index in range(animation.n_frames):
        animation.seek(index)
        animation.load()
        total += animation.info["duration"]
    assert total == (scrub.ANIMATION_FRAMES + 1) * 60


@pytest.mark.parametrize("size", [(1, 1), (7, 5)])
def test_animations_of_a_tiny_picture_are_made(downloads, size):
    """Pictures under 8 px a side: the GIF and WebP have the picture's own size (they were
    refused by the encoder's lower bound on the side to shrink to, and nothing came)."""
    at = make_app(**{"img.size": "64"}).run()
    upload(at, "tiny.png", picture(*size))
    assert not at.exception and not at.error
    for fmt in ("GIF", "WEBP"):
        downloads.clear()
        at.radio(key="img.anim").set_value(fmt).run()
        (make,) = [make for name, make in downloads.items() if name.endswith(fmt.lower())]
        animation = Image.open(io.BytesIO(make()))
        assert animation.format == fmt and animation.size == size


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_upload_box_says_what_it_refuses_on_its_own(lang):
    """Files of other types (an iPhone's HEIC) and over the limit never reach the page's own
    messages: the upload box refuses them with a mark whose reason shows only on hover, in
    English. Its help says the rules in the page's language (its hint gives the size)."""
    at = make_app(lang=lang).run()
    uploader = at.file_uploader(key="img.upload").proto
    assert uploader.max_upload_size_mb == UPLOAD_MB
    assert "HEIC" in uploader.help and f"{UPLOAD_MB} MB" in uploader.help
    assert uploader.help == translate("img.upload.help", lang, size=UPLOAD_MB)


def test_the_frame_download_matches_the_closed_form(downloads):
    at = make_app(**{"img.size": "64", "img.t": "300", "seed": "3"}).run()
    data = picture(64, 64)
    upload(at, "g.png", data)
    make = downloads["g_linear_T1000_closed_t300.png"]
    shown = np.asarray(Image.open(io.BytesIO(make())))
    x0 = load_image(data, max_side=64)
    eps = scrub.make_noise(x0.shape, 3)
    fd = ForwardDiffusion(1000, device="cpu")
    expected, _ = scrub.display_frame(
        x0.astype(np.float32) / np.float32(127.5) - 1, eps,
        fd.sqrt_alphas_cumprod[300], fd.sqrt_one_minus_alphas_cumprod[300],
    )  # fmt: skip
    # float32 (server) vs float64 (browser) arithmetic: at most one level apart, rarely
    diff = np.abs(shown.astype(int) - expected.astype(int))
    assert diff.max() <= 1 and np.mean(diff) < 1e-3


BAD = [name for name, sample in corpus().items() if sample.expect == "error"]


@pytest.mark.parametrize("name", BAD[:12])
def test_a_broken_upload_gives_an_error_then_a_good_upload_works(name):
    sample = corpus()[name]
    at = make_app(**{"img.size": "64"}).run()
    upload(at, sample.filename, sample.data, "application/octet-stream")
    assert not at.exception
    assert sample.filename[:20] in errors(at)
    upload(at, "fine.png", picture(80, 60))
    assert not at.exception
    assert not at.error
    assert payload_of(at)["width"] == 64


def test_a_renamed_file_gets_our_message_not_streamlits():
    at = make_app(**{"img.size": "64"}).run()
    upload(at, "notes.txt", b"just some text", "text/plain")
    assert not at.exception
    assert "notes.txt" in errors(at)


@pytest.mark.parametrize(("lang", "title", "error"), [
    ("en", "Image noising", "cannot be used"),
    ("zh", "图像加噪", "无法使用"),
])  # fmt: skip
def test_both_languages(lang, title, error, monkeypatch):
    # AppTest re-formats every option with the stored format_func in the test process, where
    # there is no session: the shell's sidebar labels then need the run's language as default.
    monkeypatch.setattr("pages.common.DEFAULT_LANGUAGE", lang)
    at = make_app(lang=lang, **{"img.size": "64"}).run()
    upload(at, "x.png", b"\x89PNG\r\n\x1a\n broken")
    assert not at.exception
    assert error in errors(at)
    upload(at, "ok.png", picture(64, 64))
    assert not at.exception
    assert at.title[0].value == title
    labels = json.loads(re.search(r"const L = (\{.*?\});\n", srcdoc(at), re.S).group(1))
    assert labels["slider"] == ("时间步 t" if lang == "zh" else "timestep t")


def test_bad_url_values_are_ignored_with_a_notice():
    at = make_app(**{"img.path": "sideways", "img.size": "9999"}).run()
    assert not at.exception
    notices = " ".join(str(element.value) for element in at.warning)
    assert "img.path=sideways" in notices and "img.size=9999" in notices
    assert at.radio(key="img.path").value == "closed"


def test_payload_png_is_lossless_for_the_page_image():
    # the page sends exactly core.images.encode_png of the working image
    x0 = load_image(picture(50, 40), max_side=64)
    assert np.array_equal(load_image(encode_png(x0)), x0)


def test_a_rerun_encodes_no_picture_again(monkeypatch):
    at = make_app(**{"img.size": "80", "img.t": "321"}).run()
    upload(at, "g.png", picture(90, 70))
    assert not at.exception
    shown = [element.value for element in at.image]
    assert len(shown) == 3 + scrub.STRIP_COUNT + 1 + 2
    saved = []
    original = Image.Image.save

    def counting(self, *args, **kwargs):
        saved.append(self.size)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", counting)
    at.run()
    assert not at.exception
    assert saved == [], "st.image gets the cached PNG bytes and sends them as they are"
    assert [element.value for element in at.image] == shown
    at.slider(key="img.t").set_value(322).run()
    # x_t (also the sidebar schedule's side of the comparison) and the other schedule's x_t at the
    # new t; x0, ε and the strip are kept
    assert len(saved) == 2


def _arrays_reachable(function, depth: int = 3) -> list[np.ndarray]:
    """numpy arrays a function keeps alive: through its defaults, closure and globals."""
    found, seen = [], set()

    def visit(value, level):
        if id(value) in seen or level > depth:
            return
        seen.add(id(value))
        if isinstance(value, np.ndarray):
            found.append(value)
        elif callable(value) and hasattr(value, "__code__"):
            for cell in value.__closure__ or ():
                visit(cell.cell_contents, level + 1)
            for default in value.__defaults__ or ():
                visit(default, level + 1)
            for name in value.__code__.co_names:  # the globals it names, and the page's own
                if name in value.__globals__:
                    visit(value.__globals__[name], level + 1)
            if value.__globals__.get("__name__") == "__main__":
                for item in list(value.__globals__.values()):
                    visit(item, level + 1)
        elif isinstance(value, list | tuple):
            for item in value:
                visit(item, level + 1)

    visit(function, 0)
    return found


def test_downloads_keep_no_pictures_alive_between_runs(downloads):
    """A session keeps its download functions until its next run; they must not hold x0 or ε
    (6 MB at 512 × 512, for every student in a hall): they take them from the caches."""
    at = make_app(**{"img.size": "256"}).run()
    assert not at.exception and len(downloads) == 3
    for name, make in downloads.items():
        big = [a.shape for a in _arrays_reachable(make) if a.size > 10_000]
        assert big == [], name
        assert Image.open(io.BytesIO(make())).size[0] > 0  # and they still work


def test_no_copy_of_the_document_stays_in_urllibs_cache():
    """st.iframe passes the ~1 MB scrubber document through urllib.parse.urlsplit, whose
    lru_cache would keep the last 128 documents alive in every server process."""
    at = make_app(**{"img.size": "256", "seed": "3"}).run()
    assert not at.exception and len(srcdoc(at)) > 100_000
    for seed in (4, 5):
        at.number_input(key="seed").set_value(seed).run()
        assert not at.exception
    tracemalloc.start()
    try:
        at.number_input(key="seed").set_value(6).run()
        traced = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(True, urllib.parse.__file__)]
        )
        kept = sum(stat.size for stat in traced.statistics("filename"))
    finally:
        tracemalloc.stop()
    assert not at.exception
    assert kept < 100_000, f"urllib keeps {kept} bytes"


@pytest.mark.parametrize("truetype", [True, False])
def test_strip_labels_draw_subscripts_with_any_font(monkeypatch, truetype):
    """Pillow's own font has no glyph for ₀: "x₀" came out as "x" and an empty box (the glyph
    of a character the font lacks). The digit is now drawn small and low itself."""
    from PIL import ImageDraw, ImageFont

    from pages.views import image_noising as page

    if not truetype:
        monkeypatch.setattr(page, "drawing_font", lambda size: ImageFont.load_default(size=size))

    def ink(label: str) -> np.ndarray:
        canvas = Image.new("L", (120, 40), 255)
        page._draw_label(ImageDraw.Draw(canvas), 60, 4, label, 20)
        return np.asarray(canvas) < 128

    drawn, missing, plain = ink("x₀"), ink("x\ue000"), ink("x0")
    assert drawn.any() and not np.array_equal(drawn, missing)
    rows = np.flatnonzero(drawn.any(axis=1))
    assert rows.max() > np.flatnonzero(plain.any(axis=1)).max()  # the 0 sits lower


@pytest.mark.parametrize("size", [(1, 1), (7, 5), (40, 40), (3, 512)])
def test_strip_of_small_pictures_keeps_its_labels_apart(size):
    """Frames narrower than their labels ("t = 1000") had the labels run into each other; a
    small picture is now enlarged with whole pixels, and each frame sits in a slot at least as
    wide as its label."""
    from PIL import ImageDraw

    from pages.views import image_noising as page

    width, height = size
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for _ in range(5)]
    labels = ["x₀", "t = 0", "t = 250", "t = 500", "t = 1000"]
    strip = Image.open(io.BytesIO(page.strip_png(frames, labels)))
    font_px = max(14, min(40, max(1, page.STRIP_MIN_WIDTH // width) * width // 9))
    measure = ImageDraw.Draw(Image.new("1", (1, 1)))
    widest = max(measure.textlength(label, font=page.drawing_font(font_px)) for label in labels)
    assert strip.width >= len(labels) * widest
    scale = max(1, min(page.STRIP_MIN_WIDTH // width, 512 // height))
    assert strip.height >= height * scale  # enlarged: a 1×1 picture is 96 px, not 1
    if scale > 1:  # with whole pixels: the first frame's top-left block is one colour
        pixels = np.asarray(strip.convert("RGB")).reshape(-1, 3)
        assert (pixels == frames[0][0, 0]).all(axis=1).sum() >= scale * scale


def test_strip_download_is_the_same_in_every_language(downloads):
    strips = []
    for lang in ("en", "zh"):
        downloads.clear()
        at = make_app(**{"img.size": "96", "lang": lang}).run()
        assert not at.exception
        (make,) = [make for name, make in downloads.items() if "strip" in name]
        strips.append(make())
    assert strips[0] == strips[1]


@pytest.mark.parametrize(
    ("lang", "name", "data", "says"),
    [
        ("en", "shot.jpg", picture(64, 48, "PNG"),
         "its content is PNG, not the JPEG its name promises; rename it or save it again as JPEG"),
        ("zh", "shot.jpg", picture(64, 48, "PNG"), "无法使用文件“shot.jpg”：文件内容是 PNG 格式"),
        ("en", "bomb7000.png", corpus()["png_bomb_7000"].data,  # refused before decoding
         "more than 40 megapixels (7,000 × 7,000 px, 49.0 megapixels); scale it down first"),
    ],
)  # fmt: skip
def test_upload_errors_name_what_the_file_is(lang, name, data, says):
    at = upload(make_app(lang=lang).run(), name, data)
    assert not at.exception
    assert says in " ".join(element.value for element in at.error)
