"""Image noising: drag t and watch a picture dissolve into noise.

The scrubber (pages/scrubber/scrubber.html) gets x0 and ε once and renders every x_t in the
browser. Below it, the server draws the pictures at the page's own t (``img.t``): x0, ε, x_t with
its numbers, a strip of evenly spaced timesteps, two schedules side by side, and the downloads.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import time
import urllib.parse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
import torch
from PIL import Image, ImageDraw

from core import SCHEDULES, ForwardDiffusion, scrub
from core.figures import drawing_font
from core.i18n import DEFAULT_LANGUAGE, translate
from core.images import (
    ImageError,
    encode_animation,
    encode_png,
    image_sha256,
    is_animated,
    load_image,
    to_model,
)
from core.schedules import schedule_params
from pages.common import (
    MAX_T,
    UrlParam,
    bind,
    forward_process,
    grid_columns,
    quoted,
    settings,
    timestep_slider,
    tr,
)

PAGES = Path(__file__).resolve().parent.parent
ASSETS = PAGES.parent / "assets"
TEMPLATE = PAGES / "scrubber" / "scrubber.html"
SAMPLE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
STRIP_COUNT = scrub.STRIP_COUNT
ANIM_FRAMES = scrub.ANIMATION_FRAMES
ANIM_MS = 60  # 81 frames: ~5 s
STRIP_MIN_WIDTH = 96  # narrower pictures are enlarged in the strip download
ANIM_SIDE = {"GIF": 256, "WEBP": 384}  # GIF cannot compress noise: keep it to a few MB
SHOW_SIDE = 320  # st.image pictures are subsampled (no smoothing) to this long side
STRIP_SHOW_SIDE = 160
SMALL_SIDE = 32  # an upload whose long side is shorter is noted as small (never enlarged)
THIN_SIDE = 16  # one whose short side is shorter after scaling, as too thin to show much
UPLOAD_TYPES = [".png", ".jpg", ".jpeg", ".webp", ".gif"]
# With MIME types in the list Streamlit leaves the extension check to us (core.images), so a
# renamed file gives our translated message instead of an exception.
UPLOAD_ACCEPT = [*UPLOAD_TYPES, "image/png", "image/jpeg", "image/webp", "image/gif"]
UPLOAD_MB = 20  # the upload box refuses larger files itself (as .streamlit/config.toml)

SAMPLES: dict[str, Path] = {
    path.stem: path
    for path in sorted(ASSETS.glob("*"))
    if path.suffix.lower() in SAMPLE_SUFFIXES and path.is_file()
}

SIZE = UrlParam("img.size", 256, "int", 64, 512)
PATH = UrlParam("img.path", "closed", "choice", choices=("closed", "chain"))
TIMESTEP = UrlParam("img.t", 250, "int", 0, MAX_T - 1)
COMPARE = UrlParam("img.compare", "cosine", "choice", choices=tuple(SCHEDULES))
ANIM = UrlParam("img.anim", "GIF", "choice", choices=("GIF", "WEBP"))
SAMPLE = UrlParam("img.sample", next(iter(SAMPLES), ""), "choice", choices=tuple(SAMPLES) or ("",))

ProcessKey = tuple[int, str, tuple[tuple[str, float], ...], bool]


# -- cached, keyed on plain values ------------------------------------------------------------


@st.cache_data(max_entries=16, show_spinner=False)
def sample_bytes(name: str) -> bytes:
    return SAMPLES[name].read_bytes()


@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def decode(
    sha: str, size: int, filename: str | None, _data: bytes
) -> np.ndarray | tuple[str, dict[str, Any]]:
    """The RGB uint8 image of the bytes with hash ``sha`` at ``size``, or ImageError's code and
    params."""
    try:
        return load_image(_data, max_side=size, filename=filename)
    except ImageError as error:
        return error.code, dict(error.params)


def error_reason(code: str, params: dict[str, Any]) -> str:
    """An ImageError of ``code`` in the page's language, with the numbers it names."""
    fields = {key: value for key, value in params.items() if isinstance(value, str)}
    limit = params.get("limit")
    if code == "too_many_pixels" and isinstance(limit, int):
        fields["limit"] = f"{limit / 1e6:.0f}"
        width, height = params.get("width"), params.get("height")
        fields["size"] = (
            tr("img.error.size", width=f"{width:,}", height=f"{height:,}",
               mp=f"{width * height / 1e6:.1f}")
            if isinstance(width, int) and isinstance(height, int) else ""
        )  # fmt: skip
    return tr(f"img.error.{code}", **fields)


@st.cache_data(max_entries=8, ttl=3600, show_spinner=False)
def animated(sha: str, _data: bytes) -> bool:
    """Whether the file with hash ``sha`` is an animation (of which only frame 1 is used)."""
    return is_animated(_data)


def picture_notes(image: np.ndarray, size: int, animated: bool) -> list[str]:
    """What a user should know about how an upload was taken: only its first frame; a picture
    too small, or too thin at ``size``, to show much."""
    height, width = image.shape[:2]
    notes = [tr("img.note.animated")] if animated else []
    if max(height, width) < SMALL_SIDE:
        notes.append(tr("img.note.small", width=width, height=height))
    elif min(height, width) < THIN_SIDE:
        notes.append(tr("img.note.thin", width=width, height=height, size=size))
    return notes


@st.cache_data(max_entries=8, ttl=3600, show_spinner=False)
def noise_for(sha: str, size: int, seed: int, shape: tuple[int, int, int], device: str):
    """ε for one image, size and seed: drawn once (on the GPU when there is one), then reused."""
    return scrub.make_noise(shape, seed, device)


@st.cache_data(max_entries=4, ttl=3600, show_spinner=False)
def renderer_html(
    sha: str, size: int, seed: int, process: ProcessKey, labels: str, _x0: np.ndarray, _eps
) -> tuple[str, float]:
    """The scrubber document for one image and process, and the milliseconds it took."""
    start = time.perf_counter()
    fd = forward_process(*process)
    height, width = _x0.shape[:2]
    payload = scrub.build_payload(
        x0_png=encode_png(_x0),
        width=width,
        height=height,
        noise=_eps,
        alphas_cumprod=fd.alphas_cumprod,
        alphas=fd.alphas,
        seed=seed,
        key=sha[:16],
    )
    html = scrub.fill_template(template(), payload=scrub.to_script_json(payload), labels=labels)
    return html, (time.perf_counter() - start) * 1000


@st.cache_data(max_entries=1, show_spinner=False)
def template() -> str:
    return TEMPLATE.read_text(encoding="utf-8")


@st.cache_data(max_entries=8, ttl=3600, show_spinner=False)
def strip_frames(
    sha: str, size: int, seed: int, process: ProcessKey, path: str, steps: tuple[int, ...],
    _x0: np.ndarray, _eps: np.ndarray,
) -> np.ndarray:  # fmt: skip
    return noised(forward_process(*process), _x0, _eps, list(steps), path, seed)


@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def frame_at(
    sha: str, size: int, seed: int, process: ProcessKey, path: str, t: int,
    _x0: np.ndarray, _eps: np.ndarray,
) -> tuple[np.ndarray, float]:  # fmt: skip
    """(uint8 x_t, clipped fraction) at t."""
    fd = forward_process(*process)
    steps = chain_steps(fd.timesteps, t) if path == "chain" else [t]
    x_t = noised_values(fd, _x0, _eps, steps, path, seed)[-1]
    clipped = float(torch.count_nonzero(x_t.abs() > 1.0)) / x_t.numel()
    return scrub.tensor_pixels(x_t), clipped


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def pngs(key: tuple[Any, ...], side: int, _pictures: list[np.ndarray]) -> list[bytes]:
    """PNG bytes of ``_pictures`` subsampled to ``side`` (:func:`shrink`), for st.image.

    ``key`` holds the plain values that fix the pictures (what they are, the image's sha256,
    size, seed, process, path, t, device), so a rerun hands st.image the same bytes, which it
    sends as they are, instead of encoding the same pictures again.
    """
    return [encode_png(shrink(picture, side)) for picture in _pictures]


# -- plain computations (also run by the deferred downloads, outside the script thread) --------


def chain_steps(timesteps: int, t: int) -> list[int]:
    """The strip's timesteps before t, then t: the chain path continued from the strip's draw."""
    return [s for s in scrub.evenly_spaced(timesteps, STRIP_COUNT) if s < t] + [t]


def noised_values(
    fd: ForwardDiffusion, x0: np.ndarray, eps: np.ndarray, steps: list[int], path: str, seed: int
) -> torch.Tensor:
    """float32 x_t at ``steps`` [n, H, W, 3] on the process's device: closed form with ε, or
    one Markov-chain path (:func:`core.scrub.chain_path`)."""
    device = fd.device
    x = torch.from_numpy(to_model(x0)).to(device)
    e = torch.from_numpy(np.ascontiguousarray(eps)).to(device)
    if path == "chain":
        generator = torch.Generator(device=device).manual_seed(int(seed) + 1)
        return scrub.chain_path(x, e, steps, fd.alphas_cumprod, fd.alphas, generator)
    shape = (len(steps), *x.shape)
    out, _ = fd.q_sample(x.expand(shape), torch.tensor(steps), noise=e.expand(shape))
    return out


def noised(
    fd: ForwardDiffusion, x0: np.ndarray, eps: np.ndarray, steps: list[int], path: str, seed: int
) -> np.ndarray:
    """uint8 pictures of :func:`noised_values` (clipped to [-1, 1], as core.images.from_model)."""
    return scrub.tensor_pixels(noised_values(fd, x0, eps, steps, path, seed))


def show_noise(eps: np.ndarray) -> np.ndarray:
    """ε as pixels: ½ + ε/6, so ±3 standard deviations span black to white."""
    return np.rint(np.clip(0.5 + eps / 6.0, 0.0, 1.0) * 255.0).astype(np.uint8)


def shrink(rgb: np.ndarray, side: int) -> np.ndarray:
    """Every k-th pixel so the long side is at most ``side``: noise keeps its per-pixel look."""
    step = max(1, math.ceil(max(rgb.shape[:2]) / side))
    return np.ascontiguousarray(rgb[::step, ::step])


_SUBSCRIPTS = "₀₁₂₃₄₅₆₇₈₉"
_AS_DIGITS = str.maketrans(_SUBSCRIPTS, "0123456789")


def _draw_label(draw: Any, centre: float, top: float, label: str, size: int) -> None:
    """``label`` centred on ``centre``, its subscript digits (₀ … ₉) drawn as smaller, lower
    digits: Pillow's own font has no glyphs for them (it drew empty boxes)."""
    font, small = drawing_font(size), drawing_font(round(0.7 * size))
    runs = [
        (sub, "".join(chars))
        for sub, chars in itertools.groupby(label, key=lambda c: c in _SUBSCRIPTS)
    ]
    runs = [(sub, text.translate(_AS_DIGITS)) for sub, text in runs]
    widths = [draw.textlength(text, font=small if sub else font) for sub, text in runs]
    x = centre - sum(widths) / 2
    for (sub, text), width in zip(runs, widths, strict=True):
        y = top + 0.45 * size if sub else top
        draw.text((x, y), text, fill="black", font=small if sub else font, anchor="lt")
        x += width


def strip_png(frames: list[np.ndarray], labels: Sequence[str]) -> bytes:
    """The frames side by side with a label above each, on white, as PNG.

    Labels in plain Latin letters, digits and subscript digits (``x₀``, ``t = 250``): the
    file is the same in every language, and needs no font with Chinese glyphs.
    """
    height, width = frames[0].shape[:2]
    # a small picture is enlarged (whole pixels, up to 96 px wide and 512 tall), and each frame
    # sits in a slot as wide as its label, so that labels of narrow frames do not run together
    scale = max(1, min(STRIP_MIN_WIDTH // width, 512 // height))
    height, width = height * scale, width * scale
    gap, font_px = max(4, width // 32), max(14, min(40, width // 9))
    top = round(1.3 * font_px) + 2 * gap
    measure, font = ImageDraw.Draw(Image.new("1", (1, 1))), drawing_font(font_px)
    slot = max(width, *(round(measure.textlength(label, font=font)) for label in labels))
    canvas = Image.new("RGB", (len(frames) * (slot + gap) + gap, height + top + gap), "white")
    draw = ImageDraw.Draw(canvas)
    for i, (frame, label) in enumerate(zip(frames, labels, strict=True)):
        left = gap + i * (slot + gap)
        picture = Image.fromarray(frame)
        if scale > 1:
            picture = picture.resize((width, height), Image.Resampling.NEAREST)
        canvas.paste(picture, (left + (slot - width) // 2, top))
        _draw_label(draw, left + slot / 2, gap, label, font_px)
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def process_key_for(schedule: str) -> ProcessKey:
    s = settings()
    if schedule == s.schedule:
        return (s.timesteps, s.schedule, s.params, s.zero_snr)
    return (s.timesteps, schedule, tuple(schedule_params(schedule).items()), s.zero_snr)


def fmt_number(value: float) -> str:
    if math.isinf(value):
        return "∞"
    if value == 0:
        return "0"
    return f"{value:.3e}" if abs(value) >= 1e4 or abs(value) < 1e-3 else f"{value:.4g}"


def label_in(lang: str, prefix: str) -> Callable[[str], str]:
    """A format_func bound to this run's language (AppTest calls it outside the session)."""
    return lambda name: translate(f"{prefix}.{name}", lang)


def control_script(t: int, path: str) -> str:
    """Tells the scrubber the page's t and path without resending its (large) document."""
    state = json.dumps({"t": int(t), "mode": path})
    return (
        "<script>(function(){const c=" + state + ";window.__ddpmScrub=c;"
        "for(const f of document.querySelectorAll('iframe')){"
        "try{f.contentWindow.postMessage({ddpmScrub:c},'*');}catch(e){}}})();</script>"
    )


def show_document(html: str) -> None:
    """The scrubber's document in an iframe, with no copy of it left in urllib's cache.

    st.iframe first asks whether its argument is a URL, and urllib.parse.urlsplit remembers its
    last 128 arguments and results: each ~1 MB document would stay in memory twice (in a
    simulated lecture hall, 32 MB per server process after 50 students; up to ~300 MB).
    """
    st.iframe(html, height="content")
    urllib.parse.urlsplit.cache_clear()


def renderer_labels() -> str:
    keys = ("steps", "snr", "psnr", "clipped", "hist", "hint", "mode_closed", "mode_chain",
            "play", "pause", "slider", "canvas", "decode_error")  # fmt: skip
    return scrub.to_script_json({key: tr(f"img.scr.{key}") for key in keys})


# -- the page ---------------------------------------------------------------------------------


def main() -> None:
    """The page. Its values are locals, freed after the run: the download functions a session
    keeps until its next run hold only what they name."""
    s = settings()
    fd = s.process()
    if fd is None:
        st.stop()
    process = (s.timesteps, s.schedule, s.params, s.zero_snr)
    T = s.timesteps
    language = st.session_state.get("lang", DEFAULT_LANGUAGE)

    st.title(tr("img.title"))
    st.caption(tr("img.lead"))

    for param in (SIZE, PATH, TIMESTEP, COMPARE, ANIM):
        bind(param)
    if SAMPLES:
        bind(SAMPLE)

    source_col, upload_col, size_col, path_col = st.columns([1.1, 1.6, 1.1, 1.2])
    with source_col:
        if SAMPLES:
            st.selectbox(
                tr("img.sample"), tuple(SAMPLES), format_func=label_in(language, "img.sample"),
                key=SAMPLE.key,
            )  # fmt: skip
        else:
            st.info(tr("img.no_samples"))
    with upload_col:
        upload = st.file_uploader(
            tr("img.upload"), type=UPLOAD_ACCEPT, key="img.upload",
            max_upload_size=UPLOAD_MB, help=tr("img.upload.help", size=UPLOAD_MB),
        )  # fmt: skip
    with size_col:
        size = int(st.slider(tr("img.size"), 64, 512, step=16, key=SIZE.key,
                             help=tr("img.size.help")))  # fmt: skip
    with path_col:
        path = st.radio(
            tr("img.path"),
            PATH.choices,
            format_func=label_in(language, "img.path"),
            key=PATH.key,
            horizontal=True,
            help=tr("img.path.help"),
        )

    # The picture: an upload when there is a usable one, else the chosen sample.
    image = None
    name = ""
    if upload is not None:
        data = upload.getvalue()
        sha = image_sha256(data)
        result = decode(sha, size, upload.name, data)
        if isinstance(result, tuple):
            reason = error_reason(*result)
            key = "img.error.upload" if SAMPLES else "img.error.upload_no_sample"
            st.error(tr(key, name=quoted(upload.name, 80), reason=reason), icon="🚫")
        else:
            image, name, source = result, upload.name, upload
            st.caption(tr("img.using_upload", name=quoted(upload.name, 80)))
            for note in picture_notes(result, size, animated(sha, data)):
                st.info(note, icon="ℹ️")
    if image is None and SAMPLES:
        data = sample_bytes(st.session_state[SAMPLE.key])
        sha = image_sha256(data)
        result = decode(sha, size, None, data)
        if isinstance(result, tuple):  # a broken asset must not take the page down
            st.error(
                tr("img.error.upload_no_sample", name=SAMPLE.key, reason=error_reason(*result))
            )
        else:
            image, name = result, st.session_state[SAMPLE.key]
            source = name
    if image is None:
        st.stop()

    height, width = image.shape[:2]
    try:
        eps = noise_for(sha, size, s.seed, (height, width, 3), str(fd.device))
        # -- the scrubber: one document per picture and process, rendered in the browser ----------
        html, prep_ms = renderer_html(sha, size, s.seed, process, renderer_labels(), image, eps)
    except (RuntimeError, ValueError) as error:  # e.g. the GPU runs out of memory
        st.error(tr("img.error.compute", reason=error))
        st.stop()
    show_document(html)
    t = timestep_slider(TIMESTEP, T - 1, tr("img.t"), tr("img.t.help"), notice="t.clamped")
    st.html(control_script(t, path), unsafe_allow_javascript=True)
    st.caption(
        tr("img.convention") + " "
        + tr("img.prepared", ms=f"{prep_ms:.0f}", kb=f"{len(html) / 1024:.0f}", width=width,
             height=height)
    )  # fmt: skip

    # -- x0, ε and x_t at the page's t, with its numbers -------------------------------------------
    try:
        frame, clipped = frame_at(sha, size, s.seed, process, path, t, image, eps)
        steps = tuple(scrub.evenly_spaced(T, STRIP_COUNT))
        strip = strip_frames(sha, size, s.seed, process, path, steps, image, eps)
    except (RuntimeError, ValueError) as error:  # e.g. the GPU runs out of memory
        st.error(tr("img.error.compute", reason=error))
        st.stop()

    st.subheader(tr("img.at_t", t=t))
    ab = float(fd.alphas_cumprod[t])
    snr = scrub.snr(ab)
    psnr = scrub.psnr(frame, image)
    device = str(fd.device)
    (x0_png,) = pngs(("x0", sha, size), SHOW_SIDE, [image])
    (eps_png,) = pngs(("eps", sha, size, s.seed, device), SHOW_SIDE, [show_noise(eps)])
    (frame_png,) = pngs(("x_t", sha, size, s.seed, process, path, t, device), SHOW_SIDE, [frame])
    pictures = st.columns(3)
    pictures[0].image(x0_png, caption=tr("img.clean"), output_format="PNG", width="stretch")
    pictures[1].image(eps_png, caption=tr("img.noise"), output_format="PNG", width="stretch")
    frame_caption = tr("img.frame.chain" if path == "chain" else "img.frame", t=t)
    pictures[2].image(frame_png, caption=frame_caption, output_format="PNG", width="stretch")
    top, bottom = st.columns(3), st.columns(3)
    top[0].metric("ᾱ_t", fmt_number(ab))
    top[1].metric("√ᾱ_t", fmt_number(float(fd.sqrt_alphas_cumprod[t])))
    top[2].metric("√(1−ᾱ_t)", fmt_number(float(fd.sqrt_one_minus_alphas_cumprod[t])))
    bottom[0].metric(tr("img.metric.snr"), fmt_number(snr))
    bottom[1].metric(tr("img.metric.psnr"), "∞" if math.isinf(psnr) else f"{psnr:.2f} dB")
    bottom[2].metric(tr("img.metric.clipped"), f"{100 * clipped:.2f} %")
    st.caption(tr("img.clipped_note", pct=f"{100 * clipped:.2f} %", t=t))

    # -- the strip ---------------------------------------------------------------------------------
    st.subheader(tr("img.strip"))
    st.caption(tr("img.strip.chain" if path == "chain" else "img.strip.closed"))
    strip_labels = [tr("img.strip.clean"), *(f"t = {step}" for step in steps)]
    strip_pngs = pngs(
        ("strip", sha, size, s.seed, process, path, steps, device), STRIP_SHOW_SIDE, [image, *strip]
    )
    # four to a row on a phone, one row from a laptop up
    panels = grid_columns("img-strip", len(strip_pngs), min_width=66, gap="xsmall")
    for column, picture, label in zip(panels, strip_pngs, strip_labels, strict=True):
        column.image(picture, caption=label, output_format="PNG", width="stretch")

    # -- two schedules, same t, same ε -------------------------------------------------------------
    st.subheader(tr("img.compare.title"))
    compare = st.selectbox(tr("img.compare"), tuple(SCHEDULES), key=COMPARE.key,
                           format_func=label_in(language, "schedule"))  # fmt: skip
    other_key = process_key_for(compare)
    try:
        other = forward_process(*other_key)
    except ValueError as error:
        st.error(tr("error.schedule", reason=error))
        other = None
    sides = st.columns(2)
    for column, (label, key, proc) in zip(
        sides, [(s.schedule, process, fd), (compare, other_key, other)], strict=True
    ):
        if proc is None:
            continue
        picture, _ = frame_at(sha, size, s.seed, key, "closed", t, image, eps)
        (picture_png,) = pngs(("x_t", sha, size, s.seed, key, "closed", t, device), SHOW_SIDE,
                              [picture])  # fmt: skip
        ab_i = float(proc.alphas_cumprod[t])
        column.image(picture_png, output_format="PNG", width="stretch",
                     caption=tr("img.compare.caption", schedule=tr(f"schedule.{label}"),
                                alphabar=fmt_number(ab_i), snr=fmt_number(scrub.snr(ab_i))))  # fmt: skip

    # -- downloads (made when clicked) -------------------------------------------------------------
    st.subheader(tr("img.downloads"))
    stem = f"{Path(name).stem[:40] or 'image'}_{s.schedule}_T{T}_{path}"

    # A download's data is made when it is clicked, by a function the session keeps until its next
    # run. It keeps the picture's keys, not its arrays (x0 and ε of a 512 × 512 picture are 6 MB, a
    # lot per student in a full hall): the arrays come back from the caches above.
    def arrays(sha=sha, size=size, source=source, seed=s.seed, shape=(height, width, 3),
               device=str(fd.device)) -> Callable[[], tuple[np.ndarray, np.ndarray]]:  # fmt: skip
        def load() -> tuple[np.ndarray, np.ndarray]:
            if isinstance(source, str):
                data, filename = sample_bytes(source), None
            else:  # the upload, which the session holds anyway
                data, filename = source.getvalue(), source.name
            return decode(sha, size, filename, data), noise_for(sha, size, seed, shape, device)

        return load

    load_arrays = arrays()

    def frame_file(fd=fd, load=load_arrays, t=t, path=path, seed=s.seed) -> Callable[[], bytes]:
        def make() -> bytes:
            x0, eps = load()
            steps = chain_steps(fd.timesteps, t) if path == "chain" else [t]
            return encode_png(noised(fd, x0, eps, steps, path, seed)[-1])

        return make

    def strip_file(fd=fd, load=load_arrays, steps=steps, path=path, seed=s.seed,
                   labels=("x₀", *strip_labels[1:])) -> Callable[[], bytes]:  # fmt: skip
        def make() -> bytes:
            x0, eps = load()
            return strip_png([x0, *noised(fd, x0, eps, list(steps), path, seed)], labels)

        return make

    def animation_file(fd=fd, load=load_arrays, path=path, seed=s.seed, fmt="GIF"):
        def make() -> bytes:
            x0, eps = load()
            frames = noised(fd, x0, eps, scrub.evenly_spaced(fd.timesteps, ANIM_FRAMES), path, seed)
            # smaller pictures keep their size: the encoder never enlarges
            return encode_animation([x0, *frames], format=fmt, duration_ms=ANIM_MS,
                                    max_side=ANIM_SIDE[fmt])  # fmt: skip

        return make

    # buttons as wide as their labels, in a row that wraps (columns cut the labels short)
    row = st.container(horizontal=True, gap="small", vertical_alignment="bottom")
    row.download_button(tr("img.dl.frame", t=t), frame_file(), f"{stem}_t{t}.png", "image/png",
                        key="img.dl.frame", on_click="ignore", icon="🖼️")  # fmt: skip
    row.download_button(tr("img.dl.strip"), strip_file(), f"{stem}_strip.png", "image/png",
                        key="img.dl.strip", on_click="ignore", icon="🎞️")  # fmt: skip
    animation_button = row.empty()  # filled below, once the format is chosen
    anim = row.radio(tr("img.anim"), ANIM.choices, key=ANIM.key, horizontal=True,
                     help=tr("img.anim.help", frames=ANIM_FRAMES + 1,
                             side=ANIM_SIDE[st.session_state[ANIM.key]]))  # fmt: skip
    animation_button.download_button(
        tr("img.dl.anim", format=anim),
        animation_file(fmt=anim),
        f"{stem}.{anim.lower()}",
        f"image/{anim.lower()}",
        key="img.dl.anim",
        on_click="ignore",
        icon="🎬",
    )
