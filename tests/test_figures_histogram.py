"""The histogram animation figures of core/figures.py, without Streamlit: frames, fixed axes,
density traces on every frame, finite data, labels, the binned KL and the GIF."""

import base64
import copy
import io
import json
import math
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io
import pytest
from PIL import Image

from core import ForwardDiffusion
from core import histogram as h
from core.figures import (
    FONT_SIZE,
    GIF_MAX_WIDTH,
    HistogramPanel,
    SampleStats,
    as_figure,
    binned_kl_to_standard_normal,
    figure_key,
    histogram_animation_figure,
    histogram_gif,
    histogram_snapshot_figure,
    histogram_stats_figures,
    with_active_frame,
    with_marker,
)

N = 20_000


@pytest.fixture(scope="module", params=["gaussian", "uniform"])
def frames(request):
    """All frames of a smooth and a jumping data choice (core's one-call pipeline)."""
    fd = ForwardDiffusion(1000, "linear", device="cpu")
    return h.histogram_frames(fd, h.data_distribution(request.param), N, n_bins=60, seed=3)


def panels(fr, both=True):
    out = [HistogramPanel("closed title", "closed form", fr.hist_closed, 0)]
    if both:
        out.append(HistogramPanel("chain title", "Markov chain", fr.hist_chain, 2))
    return out


def labels(fr):
    return [f"t = {t}  ·  KS D = {d:.4f}" for t, d in zip(fr.timesteps, fr.ks, strict=True)]


def animation(fr, both=True, active=0):
    return histogram_animation_figure(
        fr.edges,
        fr.timesteps,
        panels(fr, both),
        fr.grid,
        fr.density,
        frame_labels=labels(fr),
        density_label="exact q(x_t)",
        normal_label="N(0, 1)",
        x_title="x_t",
        y_title="density",
        play_label="▶ Play",
        pause_label="⏸ Pause",
        active=active,
        frame_ms=60,
    )


def decode(value):
    """An array of the figure JSON (plotly sends numpy arrays as base64 "bdata")."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value, dtype=np.float64)


@pytest.mark.parametrize("both", [True, False])
def test_frames_and_traces(frames, both):
    fig = as_figure(animation(frames, both))
    n_panels = 2 if both else 1
    assert len(fig.frames) == len(frames.timesteps) >= 50
    assert [f.name for f in fig.frames] == [str(int(t)) for t in frames.timesteps]
    assert [f.name for f in fig.frames] == sorted({f.name for f in fig.frames}, key=int)
    bars = [i for i, trace in enumerate(fig.data) if isinstance(trace, go.Bar)]
    lines = [i for i, trace in enumerate(fig.data) if trace.name == "exact q(x_t)"]
    normal = [trace for trace in fig.data if trace.name == "N(0, 1)"]
    assert len(bars) == len(lines) == len(normal) == n_panels
    assert all(trace.line.dash == "dash" for trace in normal)
    for k, frame in enumerate(fig.frames):
        assert list(frame.traces) == sorted(bars + lines)
        kinds = [type(trace) for trace in frame.data]
        assert kinds.count(go.Bar) == n_panels and kinds.count(go.Scatter) == n_panels
        density = [decode(trace.y) for trace in frame.data if isinstance(trace, go.Scatter)]
        for curve in density:  # the exact q(x_t) of this frame, on every frame
            np.testing.assert_allclose(curve, frames.density[k], rtol=1e-6)
            assert np.all(np.isfinite(curve))
        frame_bars = frame.data[::2]
        for trace, panel in zip(frame_bars, panels(frames, both), strict=True):
            np.testing.assert_allclose(decode(trace.y), panel.heights[k], rtol=1e-6)
        for trace in frame.data:
            assert np.all(np.isfinite(decode(trace.y)))


def test_fixed_axes_hold_every_frame(frames):
    fig = as_figure(animation(frames))
    x_range = fig.layout.xaxis.range
    assert x_range == (frames.edges[0], frames.edges[-1])
    assert fig.layout.xaxis.autorange is False and fig.layout.yaxis.autorange is False
    top = fig.layout.yaxis.range[1]
    assert fig.layout.yaxis.range[0] == 0
    highest = max(float(decode(trace.y).max()) for frame in fig.frames for trace in frame.data)
    assert highest <= top <= 1.06 * max(highest, 1 / math.sqrt(2 * math.pi))
    # the x range holds the data at t = 0 and N(0, 1) at the end
    assert frames.grid[0] <= -4 and frames.grid[-1] >= 4


def test_play_pause_and_slider(frames):
    fig = as_figure(animation(frames, active=7))
    play, pause = fig.layout.updatemenus[0].buttons
    assert play.label == "▶ Play" and pause.label == "⏸ Pause"
    assert play.args[0] is None and play.args[1]["transition"]["duration"] == 0
    assert 50 <= play.args[1]["frame"]["duration"] <= 80
    assert list(pause.args[0]) == [None]
    slider = fig.layout.sliders[0]
    assert slider.active == 7
    assert [step.label for step in slider.steps] == labels(frames)
    assert [step.args[0][0] for step in slider.steps] == [f.name for f in fig.frames]
    # the figure opens at frame `active`
    np.testing.assert_allclose(decode(fig.data[0].y), frames.hist_closed[7], rtol=1e-6)
    assert not fig.layout.title.text  # the page heads the figure
    assert fig.layout.font.size >= 16
    # below the plots (px from their bottom edge): the x axis, the buttons, the slider at full
    # width; a margin as tall as all of them, none above the plots (no legend, no title)
    buttons, slider = fig.layout.updatemenus[0], fig.layout.sliders[0]
    assert buttons.y == slider.y == 0 and buttons.yanchor == slider.yanchor == "top"
    assert 50 <= buttons.pad.t < slider.pad.t < fig.layout.margin.b - 80
    assert (slider.x, slider.len) == (0, 1)
    assert fig.layout.showlegend is False and fig.layout.margin.t <= 30


@pytest.mark.parametrize("both", [True, False])
def test_the_key_names_what_the_legend_would(frames, both):
    """The animation has no legend: the page draws its key, one entry per sampler's bars, the
    exact density and N(0, 1), in the traces' own colours and marks."""
    spec = animation(frames, both)
    key = figure_key(spec)
    bars = [panel.label for panel in panels(frames, both)]
    assert [entry.name for entry in key] == [*bars, "exact q(x_t)", "N(0, 1)"]
    assert [entry.mark for entry in key] == ["bar"] * len(bars) + ["line", "dash"]
    drawn = {trace["name"]: trace for trace in spec["data"]}
    for entry in key:
        trace = drawn[entry.name]
        color = trace["marker"]["color"] if entry.mark == "bar" else trace["line"]["color"]
        assert entry.color == color and entry.opacity == trace.get("opacity", 1.0)


def projector_axes(fig, count):
    axes = [
        fig.layout[f"{kind}axis{k}"] for kind in "xy" for k in ["", *map(str, range(2, count + 1))]
    ]
    assert all(axis.tickfont.size >= 16 for axis in axes)
    assert all(fig.layout[f"xaxis{k}"].title.text for k in ["", *map(str, range(2, count + 1))])


def test_every_axis_is_readable_on_a_projector(frames):
    projector_axes(as_figure(animation(frames)), 2)
    for spec in stats(frames):
        projector_axes(as_figure(spec), 1)


def test_json_is_small_and_finite(frames):
    text = plotly.io.to_json(animation(frames), validate=False)
    # bars + density as typed arrays, x only once: well under a megabyte for 60 frames
    assert len(text) < 1_000_000
    spec = json.loads(text)
    assert len(spec["frames"]) == len(frames.timesteps)
    for frame in spec["frames"]:
        for trace in frame["data"]:
            assert set(trace) == {"type", "y"}  # x is sent once, with the first frame
            assert np.all(np.isfinite(decode(trace["y"])))


def test_bad_shapes_are_refused(frames):
    with pytest.raises(ValueError, match="label"):
        histogram_animation_figure(
            frames.edges, frames.timesteps, panels(frames), frames.grid, frames.density,
            frame_labels=["t = 0"], density_label="q", normal_label="N",
            x_title="x", y_title="y", play_label="p", pause_label="s",
        )  # fmt: skip
    wrong = [HistogramPanel("a", "a", frames.hist_closed[:, :-1])]
    with pytest.raises(ValueError, match="bins"):
        histogram_animation_figure(
            frames.edges, frames.timesteps, wrong, frames.grid, frames.density,
            frame_labels=labels(frames), density_label="q", normal_label="N",
            x_title="x", y_title="y", play_label="p", pause_label="s",
        )  # fmt: skip


def stats(fr, marker_t=300):
    samples = [
        SampleStats("closed form", fr.mean_closed, fr.std_closed, fr.hist_closed, 0),
        SampleStats("Markov chain", fr.mean_chain, fr.std_chain, fr.hist_chain, 2, "diamond"),
    ]
    return histogram_stats_figures(
        fr.timesteps,
        samples,
        fr.edges,
        fr.mean_theory,
        fr.std_theory,
        fr.kl,
        y_titles=("mean", "std", "KL"),
        theory_label="exact",
        x_title="t",
        kl_sample_suffix=" (binned)",
        marker_t=marker_t,
    )


def test_stats_figures(frames):
    mean, std, kl = (as_figure(spec) for spec in stats(frames))
    for fig, theory in ((mean, frames.mean_theory), (std, frames.std_theory)):
        (exact,) = [trace for trace in fig.data if trace.name == "exact"]
        np.testing.assert_allclose(decode(exact.y), theory)
    for fig in (mean, std, kl):
        markers = [trace for trace in fig.data if trace.mode == "markers"]
        assert [trace.name for trace in markers] == ["closed form", "Markov chain"]
        # the chain's markers inside the closed form's: equal means once hid the first ones
        assert markers[0].marker.size >= markers[1].marker.size + 4
        for trace in fig.data:
            assert np.all(np.isfinite(decode(trace.y)))
        vlines = [s for s in fig.layout.shapes if s.x0 == s.x1 == 300]
        assert len(vlines) == 1
        assert not any(key.startswith(("xaxis2", "yaxis2")) for key in fig.layout.to_plotly_json())
    assert kl.layout.yaxis.type == "log"
    assert [fig.layout.yaxis.title.text for fig in (mean, std, kl)] == ["mean", "std", "KL"]
    assert all(fig.layout.font.size == FONT_SIZE for fig in (mean, std, kl))
    # no legend (the page names the markers); the same margins: the plots line up side by side
    assert [fig.layout.showlegend for fig in (mean, std, kl)] == [False] * 3
    assert mean.layout.margin == std.layout.margin == kl.layout.margin
    assert mean.layout.height == std.layout.height == kl.layout.height
    # N(0, 1)'s mean 0 and std 1 as dotted lines
    assert [
        [s.y0 for s in fig.layout.shapes if s.line.dash == "dot"] for fig in (mean, std, kl)
    ] == [
        [0.0],
        [1.0],
        [],
    ]


def test_sample_statistics_follow_the_theory(frames):
    """Mean and std of N samples within 5 standard errors of the exact values."""
    se_mean = frames.std_theory / math.sqrt(N)
    assert np.all(np.abs(frames.mean_closed - frames.mean_theory) < 5 * se_mean)
    assert np.all(np.abs(frames.mean_chain - frames.mean_theory) < 5 * se_mean)


def test_binned_kl_estimates_the_exact_kl(frames):
    kl = binned_kl_to_standard_normal(frames.hist_closed, frames.edges)
    bins = frames.edges.shape[0] - 1
    bias = (bins - 1) / (2 * N)
    assert np.all(kl >= 0)
    # where the exact KL is large the estimate is close to it; at the end it sits near the bias
    big = frames.kl > 0.1
    np.testing.assert_allclose(kl[big], frames.kl[big], rtol=0.1)
    assert kl[-1] < 5 * bias + frames.kl[-1]


def test_binned_kl_of_the_normal_itself_is_zero():
    edges = np.linspace(-6, 6, 121)
    cdf = 0.5 * np.array([math.erfc(-e / math.sqrt(2)) for e in edges])
    heights = (np.diff(cdf) / np.diff(edges))[None, :]
    assert binned_kl_to_standard_normal(heights, edges)[0] == pytest.approx(0, abs=1e-9)
    shifted = np.roll(heights, 10, axis=1)
    assert binned_kl_to_standard_normal(shifted, edges)[0] > 0.4  # N(1, 1): KL = 0.5


def test_gif_is_animated_small_and_readable(frames):
    data = histogram_gif(
        frames.edges,
        frames.timesteps,
        frames.alphas_cumprod,
        panels(frames),
        frames.grid,
        frames.density,
        legend=("x_t", "q(x_t)", "N(0, 1)"),
        title="x_0 ~ N(3, 1²)",
        frame_ms=80,
    )
    assert len(data) <= 3_000_000
    image = Image.open(io.BytesIO(data))
    assert image.format == "GIF" and image.is_animated
    assert image.n_frames == len(frames.timesteps) >= 50
    assert image.size[0] <= GIF_MAX_WIDTH
    assert image.info["loop"] == 0
    first = np.asarray(image.convert("RGB"))
    image.seek(image.n_frames - 1)
    last = np.asarray(image.convert("RGB"))
    assert not np.array_equal(first, last)  # the frames differ
    # the q(x_t) colour (vermillion) is drawn on the frames
    assert np.any(np.all(first == (213, 94, 0), axis=-1))


def test_gif_refuses_a_wide_image(frames):
    with pytest.raises(ValueError, match="width"):
        histogram_gif(
            frames.edges, frames.timesteps, frames.alphas_cumprod, panels(frames),
            frames.grid, frames.density, legend=("a", "b", "c"), width=1200,
        )  # fmt: skip


@pytest.mark.parametrize(("low", "high"), [(-6.8, 8.3), (0.0, 0.41), (-3.2, 3.2), (2.5, 1e3)])
def test_gif_ticks_lie_inside_the_axis(low, high):
    from core.figures import _nice_ticks

    ticks = _nice_ticks(low, high, 5)
    assert 2 <= len(ticks) <= 11
    assert ticks.min() >= low and ticks.max() <= high
    assert np.allclose(np.diff(ticks), ticks[1] - ticks[0])


def sent(spec) -> Any:
    """The JSON st.plotly_chart sends for a spec or a Figure, parsed (the order of keys in an
    object means nothing to plotly.js)."""
    return json.loads(plotly.io.to_json(spec, validate=False))


@pytest.mark.parametrize("index", [0, 7, 49, 99])
def test_with_active_frame_equals_building_at_that_frame(frames, index):
    base = animation(frames)
    before = copy.deepcopy(base)
    moved = with_active_frame(base, index)
    last = len(frames.timesteps) - 1
    assert sent(moved) == sent(animation(frames, active=min(index, last)))
    assert base == before and sent(base) == sent(before)  # a cached spec stays as it was
    # only the traces that change and the slider are copied: the frames are shared
    assert moved["frames"] is base["frames"]
    assert moved["layout"]["template"] is base["layout"]["template"]
    assert with_active_frame(base, 0) is base  # at its own frame: nothing to copy


def test_with_marker_on_the_statistics_figures(frames):
    for plain, marked in zip(
        stats(frames, marker_t=None), stats(frames, marker_t=420), strict=True
    ):
        before = copy.deepcopy(plain)
        moved = with_marker(plain, 420)
        assert sent(moved) == sent(marked)
        shapes = moved["layout"]["shapes"]
        assert shapes[-1]["xref"] == "x" and shapes[-1]["x0"] == 420
        assert plain == before  # the cached spec is unchanged
        assert len(plain["layout"].get("shapes", ())) == len(shapes) - 1
        assert moved["data"] is plain["data"]


@pytest.mark.parametrize("both", [True, False])
def test_the_animation_is_what_plotly_validates_it_to(frames, both):
    """Buttons, slider steps and frames are written as plain dicts (plotly would spend most of
    the build validating them): validating every key changes nothing, and the spec is what
    plotly writes for its Figure."""
    spec = animation(frames, both, active=3)
    assert sent(go.Figure(sent(spec))) == sent(spec)
    assert sent(as_figure(spec)) == sent(spec)
    moved = with_active_frame(spec, 9)
    assert sent(as_figure(moved)) == sent(moved)


@pytest.mark.parametrize("marker_t", [None, 420])
def test_the_statistics_are_what_plotly_validates_them_to(frames, marker_t):
    """The statistics figures are written as plain dicts too: validating them changes nothing,
    and each spec is what plotly writes for its Figure."""
    specs = stats(frames, marker_t=marker_t)
    for spec in specs:
        assert sent(go.Figure(sent(spec))) == sent(spec)
        assert sent(as_figure(spec)) == sent(spec)
    assert [spec["layout"]["yaxis"]["title"]["text"] for spec in specs] == ["mean", "std", "KL"]
    assert specs[2]["layout"]["yaxis"]["type"] == "log"
    marker = 0 if marker_t is None else 1
    shapes = [len(spec["layout"].get("shapes", ())) for spec in specs]
    assert shapes == [1 + marker, 1 + marker, marker]


@pytest.mark.parametrize("components", [3, 10])
def test_gif_title_never_runs_into_t_and_alpha_bar(frames, components):
    """A mixture's long formula is drawn smaller, then cut: a column of background stays
    between it and "t = … ᾱ_t = …" in the header on every frame."""
    title = "x_0 ~ " + " + ".join(f"0.{k}·N(−{k}.5, 0.{k}²)" for k in range(components))
    data = histogram_gif(
        frames.edges, frames.timesteps, frames.alphas_cumprod, panels(frames),
        frames.grid, frames.density, legend=("x_t", "q(x_t)", "N(0, 1)"), title=title,
    )  # fmt: skip
    image = Image.open(io.BytesIO(data))
    for index in (0, image.n_frames - 1):
        image.seek(index)
        header = np.asarray(image.convert("RGB"))[4:32]
        inked = np.flatnonzero(np.any(np.any(header != header[0, 0], axis=-1), axis=0))
        # the columns with text: the widest blank stretch among them (between the title and
        # the label; the words' own spaces are narrower) is at least 16 px
        assert np.diff(inked).max() >= 16, index


def test_snapshot_is_one_frame_on_fixed_axes(frames):
    i = list(frames.timesteps).index(999)
    spec = histogram_snapshot_figure(
        frames.edges, frames.hist_closed[i], frames.grid, frames.density[i],
        title="t = 999", label="closed form", density_label="exact q(x_t)", top=0.5, color=0,
    )  # fmt: skip
    bars, line = spec["data"]
    np.testing.assert_array_equal(decode(bars["y"]), frames.hist_closed[i])
    np.testing.assert_allclose(decode(bars["x"]), 0.5 * (frames.edges[:-1] + frames.edges[1:]))
    np.testing.assert_array_equal(decode(line["y"]), frames.density[i])
    layout = spec["layout"]
    assert layout["title"]["text"] == "t = 999" and layout["showlegend"] is False
    assert layout["xaxis"]["range"] == [frames.edges[0], frames.edges[-1]]
    assert layout["yaxis"]["range"] == [0.0, 0.525]
    assert as_figure(spec).to_dict() == spec  # plotly's own spec, unchanged by its validation
    with pytest.raises(ValueError):
        histogram_snapshot_figure(
            frames.edges, frames.hist_closed[i][:-1], frames.grid, frames.density[i],
            title="", label="", density_label="", top=0.5,
        )  # fmt: skip
    with pytest.raises(ValueError):
        histogram_snapshot_figure(
            frames.edges, frames.hist_closed[i], frames.grid, frames.density[i],
            title="", label="", density_label="", top=float("nan"),
        )  # fmt: skip
