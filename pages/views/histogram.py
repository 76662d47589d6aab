"""Histogram animation: 1-D data noised from t = 0 to T-1, the tutorial's third picture made exact.

Samples of x_t from the closed form and from the Markov chain are histogrammed at 50
timesteps; the browser animates them (plotly frames) over the exact density q(x_t) and N(0, 1).
Below: mean, standard deviation and KL divergence to N(0, 1) against t, and a GIF export.

The frames are :func:`core.histogram.histogram_frames`: this page runs only the samplers that
are shown, keeps the memory of 1,000,000 closed-form samples per frame bounded (frames in
chunks), and caps the Markov chain on the CPU: the chain costs T noise draws per trajectory
(1,000,000 × T = 1000 is 10⁹ draws, tens of seconds on a small CPU), so there it runs at most
CHAIN_BUDGET_CPU / T trajectories.
"""

from __future__ import annotations

import math
import re
import time
from typing import Any

import numpy as np
import streamlit as st
import torch

from core import describe_device, scrub
from core import histogram as h
from core.figures import (
    STATS_PANELS,
    HistogramPanel,
    SampleStats,
    Spec,
    histogram_animation_figure,
    histogram_gif,
    histogram_snapshot_figure,
    histogram_stats_figures,
    with_active_frame,
    with_marker,
)
from core.i18n import DEFAULT_LANGUAGE
from pages.common import (
    MAX_T,
    BadValue,
    UrlParam,
    bind,
    chart_key,
    chosen_timestep,
    forward_process,
    fragment,
    grid_columns,
    heavy_work,
    plotly_chart,
    quoted,
    remember_timestep,
    settings,
    sync_url_now,
    tr,
)

# 50 frames (the least asked for) of 70 ms: a 3.5 s animation; every frame costs n samples
# of the closed form, so fewer keep 1,000,000 samples within about 3 s on two cores.
N_FRAMES = 50
# The tutorial's figure: histograms at ten evenly spaced t (frames of the animation too).
SNAPSHOTS = 10
FRAME_MS = 70
GIF_FRAME_MS = 80
GRID_POINTS = 300
# Trajectories × steps of the Markov chain on the CPU: 10,000 trajectories at T = 1000 take
# about 0.07 s on one core (bench/bench_histogram.py); 1,000,000 take seven seconds. Its
# noise draws were the largest single cost of a server under a simulated lecture hall (20 %
# of its CPU at twice this budget), so the chain gets what keeps a full hall responsive.
CHAIN_BUDGET_CPU = 10_000_000
# Closed-form samples per chunk (float32): 8 Mi values = 32 MiB, whatever n is; WORKERS chunks
# (or the chain) are computed at once.
CHUNK_VALUES = 1 << 23
WORKERS = 2
SAMPLE_COUNTS = tuple(
    m * 10**e for e in range(2, 7) for m in (1, 2, 5) if m * 10**e <= h.MAX_SAMPLES
)
MAX_TEXT = 200
_LABEL_CSS = (
    "<style>.stPlotlyChart .slider-group > text.slider-label {fill: currentColor !important;}"
    "</style>"
)


class _CountParam(UrlParam):
    """A sample count: an integer that is one of the slider's stops."""

    def parse(self, text: str) -> Any:
        value = super().parse(text)
        if value not in SAMPLE_COUNTS:
            raise BadValue(tr("hist.reason.count", low=SAMPLE_COUNTS[0], high=SAMPLE_COUNTS[-1]))
        return value


class _TextParam(UrlParam):
    """Free text of at most MAX_TEXT characters (the page checks what it means)."""

    def parse(self, text: str) -> Any:
        text = text.strip()
        if len(text) > MAX_TEXT:
            raise BadValue(tr("hist.reason.long", limit=MAX_TEXT))
        return text

    def format(self, value: Any) -> str:
        return str(value)


def _numbers_text(values: Any) -> str:
    return ", ".join(f"{float(v):g}" for v in values)


_MIXTURE_DEFAULTS = h.data_params("mixture")
DATA = UrlParam("hist.data", "gaussian", "choice", choices=tuple(h.DATA))
COUNT = _CountParam("hist.n", 100_000, "int", h.MIN_SAMPLES, h.MAX_SAMPLES)
SAMPLER = UrlParam("hist.sampler", "both", "choice", choices=h.SAMPLERS)
FRAME = UrlParam("hist.t", 0, "int", 0, MAX_T - 1)
MIXTURE = {
    field: _TextParam(f"hist.{short}", _numbers_text(_MIXTURE_DEFAULTS[field]), "text")
    for field, short in (("weights", "w"), ("means", "mu"), ("stds", "sigma"))
}


# -- computing the frames ---------------------------------------------------------------------


def bin_count(n: int) -> int:
    """Rice's rule 2·n^(1/3), kept in [20, 100]: fine bins for many samples, few for 100."""
    return int(np.clip(round(2.0 * n ** (1.0 / 3.0)), 20, 100))


def chain_count(n: int, timesteps: int, device: torch.device) -> int:
    """Trajectories of the Markov chain: all n on a GPU, at most CHAIN_BUDGET_CPU / T on the CPU."""
    if device.type != "cpu":
        return n
    return min(n, max(h.MIN_SAMPLES, CHAIN_BUDGET_CPU // timesteps))


@st.cache_data(max_entries=8, ttl=3600, show_spinner=False)
def compute_frames(
    timesteps: int,
    schedule: str,
    params: tuple[tuple[str, float], ...],
    zero_snr: bool,
    data_name: str,
    data_args: tuple[tuple[str, Any], ...],
    n: int,
    seed: int,
    sampler: str,
) -> tuple[h.HistogramFrames, float, str]:
    """All frames for plain settings (cached), the seconds they took and the device's name.

    Runs in one of the server's heavy-work slots (:func:`pages.common.heavy_work`), on WORKERS
    threads, the closed form in chunks of CHUNK_VALUES samples.
    """
    with heavy_work():
        start = time.perf_counter()
        fd = forward_process(timesteps, schedule, params, zero_snr)
        frames = h.histogram_frames(
            fd, h.data_distribution(data_name, **dict(data_args)), n, n_frames=N_FRAMES,
            extra_timesteps=scrub.evenly_spaced(timesteps, SNAPSHOTS), n_bins=bin_count(n), n_grid=GRID_POINTS, seed=seed, samplers=sampler,
            chain_n=chain_count(n, timesteps, fd.device), chunk_values=CHUNK_VALUES,
            workers=WORKERS,
        )  # fmt: skip
        return frames, time.perf_counter() - start, describe_device(fd.device)


def data_formula(data: h.DataDistribution) -> str:
    """The law of x0 as a formula, e.g. 0.5·N(−2, 0.5²) + 0.5·N(2, 0.5²) (no words: no translation)."""
    if isinstance(data, h.GaussianMixture):
        terms = [
            f"N({m:.3g}, {s:.3g}²)" if len(data.weights) == 1 else f"{w:.3g}·N({m:.3g}, {s:.3g}²)"
            for w, m, s in zip(data.weights, data.means, data.stds, strict=True)
        ]
        text = " + ".join(terms)
    elif isinstance(data, h.Uniform):
        text = f"U({data.low:.3g}, {data.high:.3g})"
    elif isinstance(data, h.Exponential):
        text = "Exp(1)" if data.scale == 1 else f"{data.scale:.3g}·Exp(1)"
        if data.loc != 0:
            text = f"{data.loc:.3g} + {text}"
    else:
        text = type(data).__name__
    return text.replace("-", "−")


# -- the user's mixture -----------------------------------------------------------------------


def parse_numbers(text: str, what: str) -> tuple[float, ...]:
    """Comma-separated numbers (also ，; or spaces); raises ValueError with a translated message."""
    parts = [part for part in re.split(r"[,，;；\s]+", text.strip()) if part]
    if not parts:
        raise ValueError(tr("hist.error.empty", what=what))
    values = []
    for part in parts:
        try:
            if "_" in part:  # Python's float reads 1_000; a number written here does not
                raise ValueError(part)
            value = float(part)
        except ValueError:
            raise ValueError(tr("hist.error.number", what=what, text=quoted(part, 20))) from None
        if not math.isfinite(value) or abs(value) > h.MAX_ABS_PARAM:
            raise ValueError(tr("hist.error.finite", what=what, limit=f"{h.MAX_ABS_PARAM:g}"))
        values.append(value)
    return tuple(values)


def mixture_args(texts: dict[str, str]) -> tuple[tuple[str, Any], ...]:
    """The mixture's parameters from the three texts; ValueError with a translated message."""
    names = {field: tr(f"hist.mix.{field}") for field in MIXTURE}
    values = {field: parse_numbers(texts[field], names[field]) for field in MIXTURE}
    lengths = {len(v) for v in values.values()}
    if len(lengths) != 1:
        raise ValueError(tr("hist.error.lengths", **{f: len(v) for f, v in values.items()}))
    if not 1 <= lengths.pop() <= h.MAX_COMPONENTS:
        raise ValueError(tr("hist.error.components", most=h.MAX_COMPONENTS))
    if any(w < 0 for w in values["weights"]) or math.fsum(values["weights"]) <= 0:
        raise ValueError(tr("hist.error.weights"))
    if any(s <= 0 for s in values["stds"]):
        raise ValueError(tr("hist.error.stds"))
    args = tuple((field, values[field]) for field in MIXTURE)
    try:  # the core has the last word
        h.data_distribution("mixture", **dict(args))
    except ValueError as error:
        raise ValueError(tr("hist.error.mixture", reason=error)) from None
    return args


def mixture_inputs() -> dict[str, str]:
    """Three text boxes for the weights, means and standard deviations (kept while hidden)."""
    for param in MIXTURE.values():
        bind(param)
    texts = {}
    for column, (field, param) in zip(st.columns(3), MIXTURE.items(), strict=True):
        texts[field] = column.text_input(
            tr(f"hist.mix.{field}"), key=param.key, max_chars=MAX_TEXT,
            help=tr(f"hist.mix.{field}.help"),
        )  # fmt: skip
    st.caption(tr("hist.mix.caption", most=h.MAX_COMPONENTS))
    return texts


# -- drawing ----------------------------------------------------------------------------------


def data_label(name: str) -> str:
    if name == "mixture":
        return tr("hist.data.mixture")
    # the law as the figure's heading writes it
    return tr(f"hist.data.{name}", formula=data_formula(h.data_distribution(name)))


def count_label(n: int) -> str:
    return f"{n:,}"


def _panels(frames: h.HistogramFrames) -> list[tuple[HistogramPanel, str]]:
    """(panel, GIF title) for each sampler shown."""
    out = []
    if frames.hist_closed is not None:
        n = f"{frames.n_closed:,}"
        gif_title = f"x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε   (n = {n})"
        panel = HistogramPanel(gif_title, tr("hist.panel.closed", n=n), frames.hist_closed, 0)
        out.append((panel, gif_title))
    if frames.hist_chain is not None:
        n = f"{frames.n_chain:,}"
        gif_title = f"x_t = √(1−β_t)·x_(t−1) + √β_t·ε   (n = {n})"
        panel = HistogramPanel(gif_title, tr("hist.panel.chain", n=n), frames.hist_chain, 2)
        out.append((panel, gif_title))
    return out


def frame_labels(frames: h.HistogramFrames) -> list[str]:
    labels = []
    for i, (t, ab) in enumerate(zip(frames.timesteps, frames.alphas_cumprod, strict=True)):
        label = tr("hist.frame", t=int(t), alpha=f"{ab:.4f}")
        if frames.ks is not None:
            # on a line of its own: one line of all three was wider than a phone's plot
            label += "<br>" + tr("hist.frame.ks", d=f"{frames.ks[i]:.4f}")
        labels.append(label)
    return labels


def gif_panels(frames: h.HistogramFrames) -> list[HistogramPanel]:
    """The GIF's panels, titled by their formulas (made in the run: they need its language)."""
    return [HistogramPanel(title, p.label, p.heights, p.color) for p, title in _panels(frames)]


def gif_bytes(frames: h.HistogramFrames, panels: list[HistogramPanel], formula: str) -> bytes:
    """The animation as a GIF (run when the download button is pressed, outside the run)."""
    return histogram_gif(
        frames.edges,
        frames.timesteps,
        frames.alphas_cumprod,
        panels,
        frames.grid,
        frames.density,
        legend=("x_t", "q(x_t)", "N(0, 1)"),
        title=f"x_0 ~ {formula}",
        frame_ms=GIF_FRAME_MS,
    )


# Both figure specs of one computation in one language, built once (~0.02 CPU-s) and shared by
# every session: a rerun only makes shallow copies with its frame and marker. One pair holds 50
# frames of bars (~0.45 MB): 8 pairs stay under 4 MB.
@st.cache_resource(max_entries=8, ttl=3600, show_spinner=False)
def figures(
    settings: tuple[Any, ...], lang: str, _frames: h.HistogramFrames
) -> tuple[Spec, tuple[Spec, Spec, Spec]]:
    """The animation (at its first frame) and the three statistics figures (no marker) of
    ``_frames``.

    ``_frames`` is :func:`compute_frames` of ``settings``; with the labels' language ``lang``
    they name the figures. Never changed after they are built: reruns draw copies.
    """
    frames = _frames
    panels = [panel for panel, _ in _panels(frames)]
    method = tr("hist.density.analytic" if frames.analytic else "hist.density.numeric")
    animation_figure = histogram_animation_figure(
        frames.edges,
        frames.timesteps,
        panels,
        frames.grid,
        frames.density,
        frame_labels=frame_labels(frames),
        density_label=tr("hist.legend.density", method=method),
        normal_label=tr("hist.legend.normal"),
        x_title=tr("hist.axis.x"),
        y_title=tr("hist.axis.density"),
        play_label=tr("hist.play"),
        pause_label=tr("hist.pause"),
        frame_ms=FRAME_MS,
    )
    samples = []
    closed = (frames.hist_closed, frames.mean_closed, frames.std_closed)
    chain = (frames.hist_chain, frames.mean_chain, frames.std_chain)
    for (heights, mean, std), key, color, symbol in (
        (closed, "hist.legend.closed", 0, "circle"),
        (chain, "hist.legend.chain", 2, "diamond"),
    ):
        if heights is not None:
            samples.append(SampleStats(tr(key), mean, std, heights, color, symbol))
    stats = histogram_stats_figures(
        frames.timesteps,
        samples,
        frames.edges,
        frames.mean_theory,
        frames.std_theory,
        frames.kl,
        y_titles=(tr("hist.stats.mean"), tr("hist.stats.std"), tr("hist.stats.kl")),
        theory_label=tr("hist.stats.theory"),
        x_title=tr("hist.axis.t"),
        kl_sample_suffix=tr("hist.stats.binned"),
    )
    return animation_figure, stats


@fragment
def animation(
    frames: h.HistogramFrames,
    formula: str,
    data_name: str,
    settings: tuple[Any, ...],
    made: tuple[str | None, str],
) -> None:
    """The frame slider, the animated histograms, the statistics and the GIF (reruns alone).

    ``made``: how the frames were made, shown under the animation: the chain's cap (or None)
    and the time taken. Above the slider it pushed the animation off a projector's screen.
    """
    ts = [int(t) for t in frames.timesteps]
    bind(FRAME)
    state = st.session_state
    shown = int(state[FRAME.key])
    # new frames (another T, schedule or data) show the frame nearest to the t the user chose
    nearest = chosen_timestep(
        FRAME.key, shown, lambda wanted: min(ts, key=lambda t: abs(t - wanted))
    )
    if nearest != shown:
        state[FRAME.key] = nearest
        if shown > ts[-1] and shown != FRAME.default:  # beyond the last step: say so
            st.info(tr("t.clamped", last=nearest), icon="ℹ️")
    t = st.select_slider(
        tr("hist.t"), options=ts, key=FRAME.key, help=tr("hist.t.help", frames=len(ts))
    )
    remember_timestep(FRAME.key, t)
    sync_url_now(FRAME, t)  # a move reruns only this fragment
    index = ts.index(t)
    lang = state.get("lang", DEFAULT_LANGUAGE)
    animation_figure, stats = figures(settings, lang, frames)
    st.markdown("#### " + tr("hist.fig.title", data=formula))
    # the slider's label (t, ᾱ_t, KS D) in the theme's text colour: no one grey reads at 4.5:1
    # on both the light and the dark theme's background
    st.html(_LABEL_CSS)
    chart_key(animation_figure)
    plotly_chart(
        with_active_frame(animation_figure, index), theme="streamlit", key="hist.animation"
    )
    method = tr("hist.density.analytic" if frames.analytic else "hist.density.numeric")
    st.caption(tr("hist.caption.density", method=method))
    if frames.ks is not None and frames.ks_critical is not None:
        above = int(np.sum(frames.ks > frames.ks_critical))
        st.caption(
            tr(
                "hist.caption.ks",
                n=f"{frames.n_chain:,}",
                d=f"{frames.ks[index]:.4f}",
                critical=f"{frames.ks_critical:.4f}",
                above=above,
                frames=len(ts),
            )
        )
    capped, timing = made
    if capped:
        st.info(capped, icon="ℹ️")
    st.caption(timing)
    # side by side on a laptop, two to a row on a tablet, one on a phone
    columns = grid_columns("hist-stats", 3, min_width=260)
    for column, panel, spec in zip(columns, STATS_PANELS, stats, strict=True):
        with column:
            plotly_chart(with_marker(spec, t), theme="streamlit", key=f"hist.stats.{panel}")
    st.caption(tr("hist.caption.stats"))
    panels = gif_panels(frames)
    st.download_button(
        tr("hist.gif"),
        data=lambda: gif_bytes(frames, panels, formula),
        file_name=f"forward-diffusion-histogram-{data_name}.gif",
        mime="image/gif",
        icon="🎞️",
        on_click="ignore",
        help=tr("hist.gif.help"),
        key="hist.gif",
    )


@st.cache_resource(max_entries=8, ttl=3600, show_spinner=False)
def snapshot_figures(
    settings: tuple[Any, ...], lang: str, _frames: h.HistogramFrames
) -> tuple[str, list[Spec]]:
    """The snapshots of ``_frames`` (:func:`compute_frames` of ``settings``) at the SNAPSHOTS
    evenly spaced t, in ``lang``: the first sampler's panel, and one figure per t."""
    frames = _frames
    panel, _ = _panels(frames)[0]
    ts = [int(t) for t in frames.timesteps]
    chosen = [ts.index(t) for t in scrub.evenly_spaced(ts[-1] + 1, SNAPSHOTS)]
    top = max(float(panel.heights[chosen].max()), float(frames.density[chosen].max()))
    method = tr("hist.density.analytic" if frames.analytic else "hist.density.numeric")
    specs = [
        histogram_snapshot_figure(
            frames.edges,
            panel.heights[i],
            frames.grid,
            frames.density[i],
            title=tr("hist.frame", t=ts[i], alpha=f"{frames.alphas_cumprod[i]:.4f}"),
            label=panel.label,
            density_label=tr("hist.legend.density", method=method),
            top=top,
            color=panel.color,
        )  # fmt: skip
        for i in chosen
    ]
    return panel.label, specs


def snapshots(frames: h.HistogramFrames, settings: tuple[Any, ...]) -> None:
    """The tutorial's row of histograms at evenly spaced t (five to a row on a laptop)."""
    lang = st.session_state.get("lang", DEFAULT_LANGUAGE)
    label, specs = snapshot_figures(settings, lang, frames)
    st.markdown("#### " + tr("hist.snap.title", count=len(specs)))
    columns = grid_columns("hist-snapshots", len(specs), min_width=220, most=5)
    for i, (column, spec) in enumerate(zip(columns, specs, strict=True)):
        with column:
            plotly_chart(spec, theme="streamlit", key=f"hist.snap.{i}")
    st.caption(tr("hist.snap.caption", panel=label, count=len(specs)))


def main() -> None:
    s = settings()
    st.title(tr("hist.title"))
    st.markdown(tr("hist.lead"))
    fd = s.process()
    if fd is None:
        return
    for param in (DATA, COUNT, SAMPLER):
        bind(param)
    left, middle, right = st.columns([3, 3, 3])
    data_name = left.selectbox(tr("hist.data"), tuple(h.DATA), format_func=data_label, key=DATA.key)
    n = middle.select_slider(
        tr("hist.n"), options=SAMPLE_COUNTS, format_func=count_label, key=COUNT.key,
        help=tr("hist.n.help"),
    )  # fmt: skip
    sampler = right.radio(
        tr("hist.sampler"),
        h.SAMPLERS,
        format_func=lambda name: tr(f"hist.sampler.{name}"),
        key=SAMPLER.key,
        horizontal=True,
    )
    data_args: tuple[tuple[str, Any], ...] = ()
    if data_name == "mixture":
        texts = mixture_inputs()
        try:
            data_args = mixture_args(texts)
        except ValueError as error:
            st.error(tr("hist.error.fix", reason=error), icon="⚠️")
            return
    key = (
        s.timesteps, s.schedule, s.params, s.zero_snr, data_name, data_args, int(n), s.seed,
        sampler,
    )  # fmt: skip
    try:
        with st.spinner(tr("hist.computing", n=f"{int(n):,}")):
            frames, seconds, device = compute_frames(*key)
    except (ValueError, RuntimeError, MemoryError) as error:
        st.error(tr("hist.error.compute", reason=error), icon="⚠️")
        return
    formula = data_formula(h.data_distribution(data_name, **dict(data_args)))
    m, capped = frames.n_chain, None
    if m and m < n:
        cap = "hist.chain.capped" if sampler == "chain" else "hist.chain.capped.both"
        capped = tr(cap, m=f"{m:,}", n=f"{int(n):,}", T=s.timesteps)
    timing = tr("hist.caption.time", seconds=f"{seconds:.2f}", device=device)
    animation(frames, formula, data_name, key, (capped, timing))
    snapshots(frames, key)
