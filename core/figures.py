"""Plotly figures of the forward process, built from plain inputs (numpy arrays and strings).

Every figure function returns a :data:`Spec`, the plain dict plotly writes for a figure
(``go.Figure(...).to_dict()``), and never touches Streamlit, so the figures are unit-tested
without a server; :func:`as_figure` makes a ``plotly.graph_objects.Figure`` of one. Translated
text (titles, axis labels, notes) comes in as arguments. Figures are made for a lecture
projector: large fonts, thick lines, colours that read on light and dark backgrounds, and no
hard-coded background (the page passes ``theme="streamlit"`` so the app's theme applies).

This module imports plotly; ``core/__init__.py`` does not import it, so the core stays usable
without a web stack.
"""

from __future__ import annotations

import base64
import copy
import functools
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from _plotly_utils.utils import to_typed_array_spec
from plotly.basedatatypes import BasePlotlyType

# -- shared style ------------------------------------------------------------------------------

FONT_SIZE = 18
LINE_WIDTH = 3.5
MARKER_LINE_WIDTH = 3
# Okabe–Ito colours without black: distinguishable with colour blindness and readable on
# both the light and the dark Streamlit theme.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")
# A mid grey stays visible on white and on near-black backgrounds.
MARKER_COLOR = "rgba(128, 128, 128, 0.95)"
STATS_MARKER_SIZE = 12  # the first sampler's markers in the statistics plots


@functools.lru_cache(maxsize=8)
def _grid(cols: int, shared_y: bool, spacing: float) -> dict[str, Any]:
    """The axes of plotly's one-row subplot grid (``make_subplots(rows=1, cols=cols, ...)``).

    Built once per shape: make_subplots takes ~25 ms, a copy of its axes a few µs.
    """
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=cols, shared_yaxes=shared_y, horizontal_spacing=spacing)
    layout = fig.to_dict()["layout"]
    return {key: value for key, value in layout.items() if key.startswith(("xaxis", "yaxis"))}


def _axis(col: int) -> str:
    """The suffix of subplot ``col``'s axes: "" for the first (x, y), then "2" (x2, y2), ..."""
    return "" if col == 1 else str(col)


def _axis_names(cols: int) -> list[str]:
    return [_axis(col) for col in range(1, cols + 1)]


def _on(col: int, trace: dict[str, Any]) -> dict[str, Any]:
    """A plain trace spec placed on subplot ``col`` of a one-row grid (as ``add_trace``)."""
    return {**trace, "xaxis": f"x{_axis(col)}", "yaxis": f"y{_axis(col)}"}


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``update`` merged into ``base`` (nested dicts merged, other values replaced), in place."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _subplots_layout(
    cols: int, *, shared_y: bool, spacing: float, title: str, x_title: str, height: int
) -> dict[str, Any]:
    """The shared style on a one-row grid of ``cols`` subplots: every x axis titled ``x_title``,
    every axis with the projector's tick and title sizes (y titles left to the caller)."""
    layout = copy.deepcopy(_grid(cols, shared_y, spacing))
    _merge(layout, _style_layout((), title, x_title, "", height=height))
    for axis in _axis_names(cols):
        _merge(layout[f"xaxis{axis}"], {
            "title": {"text": x_title, "font": {"size": FONT_SIZE}}, "tickfont": {"size": 16},
        })  # fmt: skip
        _merge(
            layout[f"yaxis{axis}"],
            {"title": {"font": {"size": FONT_SIZE}}, "tickfont": {"size": 16}},
        )
    return layout


# The bottom margin of :func:`_style_layout`: the x axis's tick labels and title, then the legend.
_AXIS_MARGIN = 75
_LEGEND_MARGIN = 45


def _style_layout(
    traces: Sequence[dict[str, Any]],
    title: str,
    x_title: str,
    y_title: str,
    height: int = 460,
) -> dict[str, Any]:
    """The shared projector-readable layout of a figure holding ``traces``, as a plain dict.

    The legend sits at the figure's bottom edge, under the axis title, so however many rows it
    wraps into it never covers the plot; the figure and its bottom margin grow with the number
    of entries so the plot area keeps its size. Colours of paper and plot are left to the theme.

    The margins already hold the tick labels, axis titles and a legend of a few rows. Plotly
    grows a margin that is too small, but only by drawing the whole figure a second time, and
    Streamlit draws a new chart for every new figure (a browser test checks that the app's
    figures need no growth).

    ``traces`` are plain trace dicts: figures are written as dicts (:func:`_spec`), ~10x
    faster than building them from plotly's objects and ``update_layout``.
    """
    entries = sum(1 for trace in traces if trace.get("showlegend") is not False)
    extra = 15 * max(0, entries - 2)
    return {
        "title": {"text": title, "font": {"size": FONT_SIZE + 4}, "x": 0.0, "xanchor": "left"},
        "font": {"size": FONT_SIZE},
        "height": height + extra,
        "margin": {"l": 100, "r": 20, "t": 60, "b": _AXIS_MARGIN + _LEGEND_MARGIN + extra},
        "hovermode": "closest",
        "hoverlabel": {"font": {"size": FONT_SIZE - 2}},
        "legend": {
            "orientation": "h",
            "yref": "container",
            "yanchor": "bottom",
            "y": 0.0,
            "xanchor": "left",
            "x": 0.0,
            "font": {"size": FONT_SIZE - 2},
        },
        "xaxis": {
            "title": {"text": x_title, "font": {"size": FONT_SIZE}},
            "tickfont": {"size": 16},
        },
        "yaxis": {
            "title": {"text": y_title, "font": {"size": FONT_SIZE}},
            "tickfont": {"size": 16},
        },
    }


# -- figure specs --------------------------------------------------------------------------------

Spec = dict[str, Any]
"""A figure as the plain dict plotly writes for it (``go.Figure(...).to_dict()``): "data",
"layout" and, for an animation, "frames"; numpy arrays as base64 typed arrays. Specs may be
cached and shared: functions taking one never change it."""


def _default_template() -> dict[str, Any] | None:
    """The template plotly puts in the layout of a figure without one: ``pio.templates.default``
    (importing Streamlit sets it to Streamlit's own)."""
    default = pio.templates.default
    if default is None:
        return None
    template = default if isinstance(default, BasePlotlyType) else pio.templates[default]
    return template.to_plotly_json()


def _encoded(trace: dict[str, Any]) -> dict[str, Any]:
    """``trace`` with its numpy arrays as plotly's typed arrays (base64), as ``to_dict()`` writes
    them. Traces here keep their arrays at the top level (x, y, ...), so one pass over the keys
    does what plotly's ``convert_to_base64`` does by walking the whole figure."""
    return {
        key: to_typed_array_spec(value) if isinstance(value, np.ndarray) else value
        for key, value in trace.items()
    }


def _spec(
    traces: Sequence[dict[str, Any]],
    layout: dict[str, Any],
    frames: Sequence[dict[str, Any]] = (),
) -> Spec:
    """The spec of a figure written as plain trace, layout and frame dicts: what plotly's
    ``go.Figure(...).to_dict()`` would give (the same JSON, keys perhaps in another order),
    without building plotly's objects, which copy every trace and validate every frame, several
    times the cost of writing the dicts. Tests check that a Figure of the spec, and plotly's
    validation, change nothing.
    """
    layout = dict(layout)
    if "template" not in layout and (template := _default_template()) is not None:
        layout["template"] = template
    spec: Spec = {"data": [_encoded(trace) for trace in traces], "layout": layout}
    if frames:
        spec["frames"] = [
            {**frame, "data": [_encoded(trace) for trace in frame["data"]]} for frame in frames
        ]
    return spec


def as_figure(spec: Spec) -> go.Figure:
    """The plotly Figure of ``spec`` (its ``to_dict()`` is ``spec`` again), for code that wants
    plotly's objects. Built without validation, which tests check would change nothing, from a
    copy: plotly rearranges the dicts it is given, and a spec may be shared."""
    return go.Figure(copy.deepcopy(spec), _validate=False)


# -- schedules and signal/noise ------------------------------------------------------------------
# (schedules page and signal & noise page)

Quantity = Literal["betas", "alphas_cumprod", "log_snr"]


@dataclass(frozen=True)
class ScheduleCurve:
    """One schedule to draw: its label and float64 tables of shape (T,), index t = 0..T-1.

    ``dash`` is a plotly dash style ("solid", "dash", "dot", ...) and ``color`` an index into
    :data:`PALETTE` (default: the curve's position), so a variant of a schedule can share its
    colour and differ in dash.
    """

    label: str
    betas: np.ndarray
    alphas_cumprod: np.ndarray
    log_snr: np.ndarray
    dash: str = "solid"
    color: int | None = None

    @property
    def timesteps(self) -> int:
        return int(self.betas.shape[0])


def progress(timesteps: int) -> np.ndarray:
    """The fraction of the process done at index t = 0..T-1: (t + 1)/T.

    State t has had t + 1 of the T steps, so every schedule ends at exactly 1 whatever its T;
    for the cosine schedule, ᾱ at (t + 1)/T is the continuous ᾱ(τ) of Nichol & Dhariwal eq. 17,
    so two cosine curves with different T lie on top of each other.
    """
    return np.arange(1, timesteps + 1, dtype=np.float64) / timesteps


def clip_log_snr(values: np.ndarray, floor: float, ceiling: float) -> tuple[np.ndarray, np.ndarray]:
    """log-SNR with ±inf replaced by ``floor``/``ceiling`` for display, and where that happened.

    ᾱ_t = 0 (zero terminal SNR) gives log-SNR = -inf, which no axis can show.
    Returns (clipped values, boolean mask of clipped points). NaN stays NaN (callers drop it).
    """
    values = np.asarray(values, dtype=np.float64)
    clipped = np.isinf(values)
    shown = np.where(np.isneginf(values), floor, values)
    shown = np.where(np.isposinf(shown), ceiling, shown)
    return shown, clipped


def log_snr_limits(arrays: Sequence[np.ndarray]) -> tuple[float, float]:
    """Floor and ceiling for drawing infinite log-SNR: a little beyond the finite values."""
    finite = [a[np.isfinite(a)] for a in arrays]
    finite = [a for a in finite if a.size]
    low = min((float(a.min()) for a in finite), default=0.0)
    high = max((float(a.max()) for a in finite), default=0.0)
    margin = max(2.0, 0.05 * (high - low))
    return float(np.floor(low - margin)), float(np.ceil(high + margin))


# Hover shows a value to 6 significant digits; only a trace with clipped (infinite) points
# carries per-point text, since thousands of strings make a figure several times slower to
# build and send.
_HOVER_VALUE = {False: "%{y:.6g}", True: "%{text}"}


def _hover_values(y: np.ndarray, clipped: np.ndarray) -> dict[str, list[str]]:
    if not clipped.any():
        return {}
    text = [("−∞" if v < 0 else "+∞") if c else f"{v:.6g}" for v, c in zip(y, clipped, strict=True)]
    return {"text": text}


def _finite(x: np.ndarray, y: np.ndarray, *extra: np.ndarray) -> tuple[np.ndarray, ...]:
    keep = np.isfinite(y)
    return (x[keep], y[keep], *(e[keep] for e in extra))


def schedule_comparison_figure(
    curves: Sequence[ScheduleCurve],
    quantity: Quantity,
    *,
    title: str,
    x_title: str,
    y_title: str,
    log_y: bool = False,
    clipped_note: str = "",
) -> Spec:
    """Overlay β_t, ᾱ_t or log-SNR of several schedules against (t + 1)/T.

    Plotting against the fraction of the process, not t, compares schedules with different T.
    For ``log_snr`` an infinite value (ᾱ_t = 0) is drawn at a floor below the finite values
    with a triangle marker, and ``clipped_note`` (which may hold ``{floor}``) is shown on the
    figure when that happens. With ``log_y`` non-positive values are left out (a log axis
    cannot show them). Hover shows t, (t + 1)/T and the value to 6 significant digits.
    """
    traces: list[dict[str, Any]] = []
    floor, ceiling = log_snr_limits([c.log_snr for c in curves])
    any_clipped = False
    for index, curve in enumerate(curves):
        color = PALETTE[(index if curve.color is None else curve.color) % len(PALETTE)]
        t = np.arange(curve.timesteps)
        x = progress(curve.timesteps)
        raw = np.asarray(getattr(curve, quantity), dtype=np.float64)
        clipped = np.zeros(raw.shape, dtype=bool)
        y = raw
        if quantity == "log_snr":
            y, clipped = clip_log_snr(raw, floor, ceiling)
        if log_y:
            y = np.where(y > 0, y, np.nan)
        x, y, t, clipped = _finite(x, y, t, clipped)
        traces.append(
            {
                "type": "scatter",
                "x": x,
                "y": y,
                "mode": "lines",
                "name": curve.label,
                "line": {"color": color, "width": LINE_WIDTH, "dash": curve.dash},
                "customdata": t.astype(np.int32),
                **_hover_values(y, clipped),
                "hovertemplate": "t = %{customdata}<br>(t+1)/T = %{x:.5f}<br>"
                + _HOVER_VALUE[bool(clipped.any())]
                + "<extra>"
                + curve.label
                + "</extra>",
            }
        )
        if clipped.any():
            any_clipped = True
            traces.append(
                {
                    "type": "scatter",
                    "x": x[clipped],
                    "y": y[clipped],
                    "mode": "markers",
                    "name": curve.label,
                    "showlegend": False,
                    "marker": {"color": color, "size": 16, "symbol": "triangle-down"},
                    "customdata": t[clipped].astype(np.int32),
                    "hovertemplate": "t = %{customdata}<br>(t+1)/T = %{x:.5f}<br>−∞<extra>"
                    + curve.label
                    + "</extra>",
                }
            )
    layout = _style_layout(traces, title, x_title, y_title)
    layout["xaxis"]["range"] = [0, 1.02]
    if log_y:
        layout["yaxis"] |= {"type": "log", "exponentformat": "power"}
    if any_clipped and clipped_note:
        note = clipped_note.format(floor=shown_number(floor))
        layout["annotations"] = [_note(note, _free_corner(traces))]
    return _spec(traces, layout)


def _free_corner(traces: Sequence[dict[str, Any]]) -> NotePlace:
    """Where a note covers no point of ``traces`` (plain x, y arrays; x in [0, 1]): bottom
    left, where log-SNR usually is not (it starts high and falls), else top right or in the
    middle (a schedule whose ᾱ reaches 0 early lies on the floor from then on). A
    note takes up to 60 % of a phone's narrow plot and 15 % of its height."""
    ys = np.concatenate([np.asarray(trace["y"], dtype=np.float64) for trace in traces])
    low, high = float(np.nanmin(ys)), float(np.nanmax(ys))
    band = 0.15 * (high - low)
    for place, inside in (
        ("bottom left", lambda x, y: (x < 0.6) & (y < low + band)),
        ("top right", lambda x, y: (x > 0.4) & (y > high - band)),
        (
            "middle center",
            lambda x, y: (np.abs(x - 0.5) < 0.3) & (np.abs(y - (low + high) / 2) < band),
        ),
    ):
        if not any(np.any(inside(np.asarray(tr["x"]), np.asarray(tr["y"]))) for tr in traces):
            return place
    return "bottom left"


def shown_number(value: float) -> str:
    """``value`` as text for people (format ``g``), negative with a true minus sign (−22, as
    the axes and −∞ have it, not -22)."""
    return f"{value:g}".replace("-", "−")


NotePlace = Literal["top right", "middle center", "bottom right", "bottom left"]


# A note's box: opaque, so that a timestep marker passing behind it cannot cross its text (a
# line through "=" reads "≠"); light with dark text on the light and the dark theme alike.
NOTE_BACKGROUND = "#ececf0"
NOTE_TEXT = "#31333f"


def _note(text: str, place: NotePlace = "top right") -> dict[str, Any]:
    """A boxed note inside the plot area, where the curves usually leave room (an annotation,
    drawn above the curves and the marker)."""
    vertical, horizontal = place.split()
    return {
        "text": text,
        "xref": "paper",
        "yref": "paper",
        "x": {"left": 0.0, "center": 0.5, "right": 1.0}[horizontal],
        "y": {"top": 0.98, "middle": 0.5, "bottom": 0.02}[vertical],
        "xanchor": horizontal,
        "yanchor": vertical,
        "showarrow": False,
        "font": {"size": FONT_SIZE - 2, "color": NOTE_TEXT},
        "bgcolor": NOTE_BACKGROUND,
        "bordercolor": MARKER_COLOR,
        "borderwidth": 1,
        "borderpad": 4,
    }


@dataclass(frozen=True)
class Series:
    """One line of a timestep plot: label, values at t = 0..T-1, colour index and dash."""

    label: str
    values: np.ndarray
    color: int = 0
    dash: str = "solid"
    width: float = LINE_WIDTH


def timestep_figure(
    series: Sequence[Series],
    *,
    title: str,
    x_title: str,
    y_title: str,
    marker_t: int | None = None,
    log_y: bool = False,
    neg_inf_at: float | None = None,
    note: str = "",
    note_place: NotePlace = "top right",
    y_range: tuple[float, float] | None = None,
) -> Spec:
    """Lines of per-timestep values against t with a vertical marker line at ``marker_t``.

    ``log_y`` draws a log axis and leaves out values ≤ 0 (SNR = 0 at zero terminal SNR,
    β̃_0 = 0). ``neg_inf_at`` draws -inf values (log-SNR where ᾱ = 0) at that height with a
    triangle marker. NaN values are always left out, so the figure holds finite data only.
    ``note`` is written on the figure; ``y_range`` fixes the y axis. Hover shows t and the
    value to 6 significant digits.
    """
    traces: list[dict[str, Any]] = []
    for line in series:
        color = PALETTE[line.color % len(PALETTE)]
        raw = np.asarray(line.values, dtype=np.float64)
        t = np.arange(raw.shape[0])
        clipped = np.isneginf(raw) if neg_inf_at is not None else np.zeros(raw.shape, bool)
        y = np.where(clipped, neg_inf_at if neg_inf_at is not None else np.nan, raw)
        if log_y:
            y = np.where(y > 0, y, np.nan)
        t, y, clipped = _finite(t, y, clipped)
        traces.append(
            {
                "type": "scatter",
                "x": t.astype(np.int32),
                "y": y,
                "mode": "lines",
                "name": line.label,
                "line": {"color": color, "width": line.width, "dash": line.dash},
                **_hover_values(y, clipped),
                "hovertemplate": "t = %{x:d}<br>"
                + _HOVER_VALUE[bool(clipped.any())]
                + "<extra>"
                + line.label
                + "</extra>",
            }
        )
        if clipped.any():
            traces.append(
                {
                    "type": "scatter",
                    "x": t[clipped],
                    "y": y[clipped],
                    "mode": "markers",
                    "name": line.label,
                    "showlegend": False,
                    "marker": {"color": color, "size": 16, "symbol": "triangle-down"},
                    "cliponaxis": False,  # whole at t = T−1, the edge of the axis
                    "hovertemplate": "t = %{x:d}<br>−∞<extra>" + line.label + "</extra>",
                }
            )
    layout = _style_layout(traces, title, x_title, y_title, height=420)
    # 0..T−1 whatever is drawn: autorange would widen the axis for the marker at T−1 (and for
    # the ▾ markers), add a tick label past the end and grow the right margin
    last = max((len(line.values) for line in series), default=1) - 1
    layout["xaxis"]["range"] = [0, max(last, 1)]
    if log_y:
        layout["yaxis"] |= {"type": "log", "exponentformat": "power"}
    if y_range is not None:
        layout["yaxis"]["range"] = list(y_range)
    if marker_t is not None:
        layout["shapes"] = [marker_shape(marker_t)]
    if note:
        layout["annotations"] = [_note(note, note_place)]
    return _spec(traces, layout)


def marker_shape(t: int) -> dict[str, object]:
    """The dashed vertical line at timestep ``t`` across the whole plot (as ``add_vline``)."""
    return {
        "type": "line",
        "x0": t,
        "x1": t,
        "xref": "x",
        "y0": 0,
        "y1": 1,
        "yref": "y domain",
        "line": {"color": MARKER_COLOR, "width": MARKER_LINE_WIDTH, "dash": "dash"},
    }


@dataclass(frozen=True)
class KeyEntry:
    """One entry of a figure's key: a trace's name, colour and opacity, and its mark: "bar" (a
    filled square), "line" or "dash" ``width`` px thick (as the line is drawn)."""

    name: str
    color: str
    mark: Literal["bar", "line", "dash"]
    opacity: float = 1.0
    width: float = 0.0


def figure_key(spec: Spec) -> list[KeyEntry]:
    """The entries plotly's legend would show for ``spec`` (traces not hidden from it), bars
    first, for a page to draw as a key beside a figure that has no legend of its own."""
    entries = []
    for trace in spec["data"]:
        if trace.get("showlegend") is False:
            continue
        opacity = float(trace.get("opacity", 1.0))
        if trace["type"] == "bar":
            entries.append(KeyEntry(trace["name"], trace["marker"]["color"], "bar", opacity))
        else:
            line = trace["line"]
            mark = "line" if line.get("dash", "solid") == "solid" else "dash"
            width = float(line.get("width", 2.0))
            entries.append(KeyEntry(trace["name"], line["color"], mark, opacity, width))
    return sorted(entries, key=lambda entry: entry.mark != "bar")


def without_legend(spec: Spec) -> Spec:
    """A figure of the shared style (a timestep or schedule plot) with no legend, for a page
    that draws its key (:func:`figure_key`) outside it: the legend's rows leave the bottom
    margin, and the figure keeps its plot area. ``spec`` is not changed."""
    layout = dict(spec["layout"])
    room = layout["margin"]["b"] - _AXIS_MARGIN
    layout["margin"] = {**layout["margin"], "b": _AXIS_MARGIN}
    layout["height"] -= room
    layout["showlegend"] = False
    return {**spec, "layout": layout}


def with_active_frame(spec: Spec, index: int) -> Spec:
    """An animation (:func:`histogram_animation_figure`) opened at frame ``index``: the same
    spec as building it with ``active=index``, without rebuilding.

    The slider's active step moves and the animated traces take that frame's values. Only the
    containers that change are copied; ``spec`` is not changed, so a cached spec shared by
    sessions can be the input. At its own frame it is returned as it is.
    """
    frames = spec.get("frames")
    if not frames:
        raise ValueError("the figure has no frames")
    index = int(np.clip(index, 0, len(frames) - 1))
    slider, *other_sliders = spec["layout"]["sliders"]
    if slider["active"] == index:
        return spec  # already there: nothing to copy
    data = list(spec["data"])
    frame = frames[index]
    for trace, values in zip(frame["traces"], frame["data"], strict=True):
        data[trace] = {**data[trace], "y": values["y"]}
    sliders = [{**slider, "active": index}, *other_sliders]
    return {**spec, "data": data, "layout": {**spec["layout"], "sliders": sliders}}


def with_marker(spec: Spec, t: int) -> Spec:
    """``spec`` (built with ``marker_t=None``) with the marker at t: the same spec as building it
    with ``marker_t=t``, ~100x cheaper (tens of µs), so a cached spec takes a new marker position
    without being rebuilt.

    Only the layout and its list of shapes are copied; ``spec`` is not changed, so a cached spec
    shared by sessions can be the input.
    """
    layout = dict(spec["layout"])
    layout["shapes"] = [*layout.get("shapes", ()), marker_shape(int(t))]
    return {**spec, "layout": layout}


def _line_pair(
    labels: tuple[str, str],
    values: tuple[np.ndarray, np.ndarray],
    colors: tuple[int, int],
    compare: tuple[np.ndarray, np.ndarray, str] | None,
    widths: tuple[float, float] = (LINE_WIDTH, LINE_WIDTH),
) -> list[Series]:
    """Two solid lines; with ``compare`` = (first, second, suffix), a second schedule's two
    lines dashed in the same colours and widths, ``suffix`` appended to their labels."""
    series = [
        Series(label, value, color, width=width)
        for label, value, color, width in zip(labels, values, colors, widths, strict=True)
    ]
    if compare is not None:
        *others, suffix = compare
        series += [
            Series(f"{label} {suffix}", other, color, "dash", width)
            for label, other, color, width in zip(labels, others, colors, widths, strict=True)
        ]
    return series


def signal_noise_figure(
    sqrt_alphas_cumprod: np.ndarray,
    sqrt_one_minus_alphas_cumprod: np.ndarray,
    *,
    labels: tuple[str, str],
    title: str,
    x_title: str,
    y_title: str,
    marker_t: int | None = None,
    compare: tuple[np.ndarray, np.ndarray, str] | None = None,
) -> Spec:
    """√ᾱ_t (signal scale) and √(1-ᾱ_t) (noise scale) against t (DDPM eq. 4).

    ``labels`` names the two lines; ``compare`` = (√ᾱ, √(1-ᾱ), suffix) of a second schedule,
    drawn dashed with ``suffix`` appended to the labels.
    """
    return _unit_figure(
        _line_pair(labels, (sqrt_alphas_cumprod, sqrt_one_minus_alphas_cumprod), (0, 1), compare),
        title=title,
        x_title=x_title,
        y_title=y_title,
        marker_t=marker_t,
    )


def _unit_figure(series: list[Series], **axes: Any) -> Spec:
    """Lines of values in [0, 1] against t, on a fixed axis from 0 to 1 (``axes``: the titles
    and marker of :func:`timestep_figure`)."""
    return timestep_figure(series, y_range=(-0.02, 1.02), **axes)


def snr_figure(
    snr: Sequence[Series],
    *,
    title: str,
    x_title: str,
    y_title: str,
    marker_t: int | None = None,
    log_axis: bool = True,
    zero_note: str = "",
) -> Spec:
    """SNR(t) = ᾱ_t/(1-ᾱ_t), on a log axis by default.

    A log axis cannot show SNR = 0 (zero terminal SNR): those points are left out, and
    ``zero_note`` is written on the figure when any were.
    """
    return timestep_figure(
        snr,
        title=title,
        x_title=x_title,
        y_title=y_title,
        marker_t=marker_t,
        log_y=log_axis,
        note=_zero_note(snr, zero_note, log_axis),
    )


def _zero_note(series: Sequence[Series], note: str, log_axis: bool) -> str:
    """``note`` when a log axis has to leave out values ≤ 0 of ``series``, else ""."""
    has_zero = any(bool(np.any(np.asarray(s.values) <= 0)) for s in series)
    return note if (has_zero and log_axis) else ""


def log_snr_figure(
    log_snr: Sequence[Series],
    *,
    title: str,
    x_title: str,
    y_title: str,
    marker_t: int | None = None,
    clipped_note: str = "",
) -> Spec:
    """log-SNR(t) = log ᾱ_t - log(1-ᾱ_t); -inf (ᾱ_t = 0) drawn at a floor, noted on the figure.

    ``clipped_note`` may hold ``{floor}``.
    """
    floor, _ = log_snr_limits([np.asarray(s.values, dtype=np.float64) for s in log_snr])
    clipped = any(bool(np.any(np.isneginf(s.values))) for s in log_snr)
    return timestep_figure(
        log_snr,
        title=title,
        x_title=x_title,
        y_title=y_title,
        marker_t=marker_t,
        neg_inf_at=floor,
        note=clipped_note.format(floor=shown_number(floor)) if clipped else "",
    )


def posterior_variance_figure(
    betas: np.ndarray,
    posterior_variance: np.ndarray,
    *,
    labels: tuple[str, str],
    title: str,
    x_title: str,
    y_title: str,
    marker_t: int | None = None,
    log_axis: bool = True,
    compare: tuple[np.ndarray, np.ndarray, str] | None = None,
    zero_note: str = "",
) -> Spec:
    """β_t against the posterior variance β̃_t = (1-ᾱ_{t-1})/(1-ᾱ_t)·β_t (DDPM eq. 7).

    β̃_0 = 0 (x_0 is known exactly), which a log axis cannot show: it is left out and
    ``zero_note`` is written on the figure.
    """
    # β_t three times as wide, under β̃_t: where the two meet (most of t) β_t shows as a band
    # around β̃_t instead of hiding under it
    series = _line_pair(
        labels, (betas, posterior_variance), (2, 3), compare, widths=(3 * LINE_WIDTH, LINE_WIDTH)
    )
    return timestep_figure(
        series,
        title=title,
        x_title=x_title,
        y_title=y_title,
        marker_t=marker_t,
        log_y=log_axis,
        note=_zero_note(series, zero_note, log_axis),
        note_place="bottom right",
    )


def posterior_mean_figure(
    coef1: np.ndarray,
    coef2: np.ndarray,
    *,
    labels: tuple[str, str],
    title: str,
    x_title: str,
    y_title: str,
    marker_t: int | None = None,
    compare: tuple[np.ndarray, np.ndarray, str] | None = None,
) -> Spec:
    """The two weights of the posterior mean μ̃_t = c1·x_0 + c2·x_t (DDPM eq. 7) against t.

    c1 = √ᾱ_{t-1}·β_t/(1-ᾱ_t) and c2 = √α_t·(1-ᾱ_{t-1})/(1-ᾱ_t) both lie in [0, 1]: c1 is 1
    and c2 is 0 at t = 0 (one step from x_0 the way back is x_0), then c1 falls towards 0 and c2
    rises to nearly √α_t and stays close to it. ``compare`` as in :func:`signal_noise_figure`.
    """
    return _unit_figure(
        _line_pair(labels, (coef1, coef2), (0, 3), compare),
        title=title,
        x_title=x_title,
        y_title=y_title,
        marker_t=marker_t,
    )


def alphas_cumprod_figure(
    alphas_cumprod: Sequence[Series],
    *,
    title: str,
    x_title: str,
    y_title: str,
    marker_t: int | None = None,
) -> Spec:
    """ᾱ_t = Π_{s≤t}(1-β_s) against t, on [0, 1]."""
    return _unit_figure(
        list(alphas_cumprod), title=title, x_title=x_title, y_title=y_title, marker_t=marker_t
    )


# -- end of the schedules / signal & noise section -----------------------------------------------


# -- histogram animation page ---------------------------------------------------------------------
# (pages/views/histogram.py) The animated histogram of 1-D x_t with the exact q(x_t), the statistics
# against t, and the same animation as a GIF for slides (drawn with Pillow: no extra dependency).


@dataclass(frozen=True)
class HistogramPanel:
    """One animated histogram: its GIF panel title, legend label and densities [frames, bins]."""

    title: str
    label: str
    heights: np.ndarray
    color: int = 0


@dataclass(frozen=True)
class SampleStats:
    """Per-frame sample statistics of one sampler: label, mean, std, histogram densities."""

    label: str
    mean: np.ndarray
    std: np.ndarray
    heights: np.ndarray
    color: int = 0
    symbol: str = "circle"


def _bin_centres(edges: np.ndarray) -> np.ndarray:
    return 0.5 * (edges[:-1] + edges[1:])


def _normal_pdf(x: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi)


def _typed_array(values: np.ndarray) -> dict[str, str]:
    """float32 values as plotly's typed-array spec (base64 "bdata"), as ``to_dict()`` writes a
    float32 array: written here, ~40x faster than plotly's converter (4 µs an array, not 150),
    which would spend most of the time of building an animation on its hundreds of arrays."""
    data = np.ascontiguousarray(values, dtype="<f4")
    return {"dtype": "f4", "bdata": base64.b64encode(data.tobytes()).decode("ascii")}


def _bars(
    centres: np.ndarray, width: float, heights: np.ndarray, label: str, color: int
) -> dict[str, Any]:
    """The bars of one histogram (densities ``heights`` at bin ``centres``)."""
    return {
        "type": "bar",
        "x": centres,
        "y": _typed_array(heights),
        "width": width,
        "name": label,
        "marker": {"color": PALETTE[color % len(PALETTE)], "line": {"width": 0}},
        "opacity": 0.8,
        "hovertemplate": "x = %{x:.3f}<br>%{y:.4f}<extra>" + label + "</extra>",
    }


def _density_line(grid: np.ndarray, density: np.ndarray, name: str, width: float) -> dict[str, Any]:
    """The exact q(x_t) on ``grid`` as a line over a histogram."""
    return {
        "type": "scatter",
        "x": grid,
        "y": _typed_array(density),
        "mode": "lines",
        "name": name,
        "line": {"color": PALETTE[1], "width": width},
        "hovertemplate": "x = %{x:.3f}<br>q = %{y:.4f}<extra></extra>",
    }


def _check_frames(
    edges: np.ndarray, timesteps: np.ndarray, grid: np.ndarray, density: np.ndarray, panels: int
) -> None:
    frames = timesteps.shape[0]
    if edges.ndim != 1 or edges.shape[0] < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError("edges must be 1-D and strictly increasing")
    if density.shape != (frames, grid.shape[0]):
        raise ValueError(f"density must be [frames, len(grid)], got {density.shape}")
    if panels < 1:
        raise ValueError("need at least one histogram panel")


def histogram_animation_figure(
    edges: np.ndarray,
    timesteps: np.ndarray,
    panels: Sequence[HistogramPanel],
    grid: np.ndarray,
    density: np.ndarray,
    *,
    frame_labels: Sequence[str],
    density_label: str,
    normal_label: str,
    x_title: str,
    y_title: str,
    play_label: str,
    pause_label: str,
    active: int = 0,
    frame_ms: int = 60,
    height: int = 635,
) -> Spec:
    """Histograms of x_t (bars) with the exact q(x_t) (line) and N(0, 1) (dashed), animated over t.

    One subplot per panel (sharing the y axis), one plotly frame per entry of ``timesteps``
    (named by its t): frames only carry the new bar heights and density values, so the figure
    stays small. Axes are fixed: x on the histogram range ``edges[0]..edges[-1]``, y from 0 to
    the largest bar or density value over all frames, so the motion is visible. The play
    button plays all frames (``frame_ms`` each, no transition), the slider jumps to one, and
    the figure opens at frame ``active``. ``frame_labels`` (one per frame: t, ᾱ_t, ...) are
    the slider's steps, shown large above it, in at most two lines (``<br>`` breaks one);
    frames do not redraw the layout (a full redraw per frame is several times slower in the
    browser).

    The figure has no title and no legend: the page heads it and draws its key
    (:func:`figure_key`) as text that wraps on a narrow screen, where plotly's legend would need
    a margin as tall as its most rows on every screen. The play buttons and the slider each
    have a row of their own under the plots, at full width, placed in pixels from the plots'
    bottom edge.
    """
    edges = np.asarray(edges, dtype=np.float64)
    timesteps = np.asarray(timesteps)
    grid = np.asarray(grid, dtype=np.float64)
    density = np.asarray(density, dtype=np.float32)
    _check_frames(edges, timesteps, grid, density, len(panels))
    frames = timesteps.shape[0]
    if len(frame_labels) != frames:
        raise ValueError("need one label per frame")
    for panel in panels:
        if panel.heights.shape != (frames, edges.shape[0] - 1):
            raise ValueError(f"heights of {panel.label!r} must be [frames, bins]")
    active = int(np.clip(active, 0, frames - 1))
    centres = _bin_centres(edges)
    width = float(edges[1] - edges[0])
    heights = [np.nan_to_num(np.asarray(p.heights, dtype=np.float32)) for p in panels]
    phi = _normal_pdf(grid).astype(np.float32)
    top = max([float(phi.max()), float(np.nanmax(density))] + [float(h.max()) for h in heights])

    # the key names the panels (by colour): subplot titles would not fit a phone's narrow panels
    traces: list[dict[str, Any]] = []
    animated: list[int] = []
    for col, (panel, h) in enumerate(zip(panels, heights, strict=True), start=1):
        first = col == 1
        animated.append(len(traces))
        traces.append(_on(col, _bars(centres, width, h[active], panel.label, panel.color)))
        animated.append(len(traces))
        line = _density_line(grid, density[active], density_label, LINE_WIDTH)
        traces.append(_on(col, {**line, "legendgroup": "q", "showlegend": first}))
        traces.append(_on(col, {
            "type": "scatter",
            "x": grid,
            "y": phi,
            "mode": "lines",
            "name": normal_label,
            "legendgroup": "normal",
            "showlegend": first,
            "line": {"color": MARKER_COLOR, "width": MARKER_LINE_WIDTH, "dash": "dash"},
            "hovertemplate": "x = %{x:.3f}<br>φ = %{y:.4f}<extra></extra>",
        }))  # fmt: skip

    names = [str(int(t)) for t in timesteps]
    cols = len(panels)
    layout = _subplots_layout(
        cols, shared_y=True, spacing=0.03, title="", x_title=x_title, height=height
    )
    layout["yaxis"]["title"]["text"] = y_title
    for axis in _axis_names(cols):
        layout[f"xaxis{axis}"] |= {"range": [float(edges[0]), float(edges[-1])], "autorange": False}
        layout[f"yaxis{axis}"] |= {"range": [0.0, 1.05 * top], "autorange": False}
    # own margins (not the shared style's): none needed above the plots; below them the x axis,
    # then a row of play buttons, then the slider, placed in px under the plots' bottom edge
    _merge(layout, {
        "height": height,
        "bargap": 0,
        "margin": {"l": 90, "r": 20, "t": 24, "b": 245},
        "showlegend": False,
    })  # fmt: skip
    still = {"mode": "immediate", "transition": {"duration": 0}}
    # The whole figure is written as plain dicts: plotly would validate every one of the
    # hundreds of keys of its traces, axes, buttons, slider steps and frames, 10x the time of
    # building it (tests check that plotly's validation leaves the result unchanged).
    layout.update(
        updatemenus=[
            {
                "type": "buttons",
                "direction": "left",
                "showactive": False,
                "x": 0.0,
                "xanchor": "left",
                "y": 0.0,
                "yanchor": "top",
                "pad": {"t": 62, "r": 10},
                "font": {"size": FONT_SIZE},
                "buttons": [
                    {
                        "label": play_label,
                        "method": "animate",
                        "args": [
                            None,
                            {
                                **still,
                                "frame": {"duration": int(frame_ms), "redraw": False},
                                "fromcurrent": True,
                            },
                        ],
                    },
                    {
                        "label": pause_label,
                        "method": "animate",
                        "args": [[None], {**still, "frame": {"duration": 0, "redraw": False}}],
                    },
                ],
            }
        ],
        sliders=[
            {
                "active": active,
                "x": 0.0,
                "len": 1.0,
                "y": 0.0,
                "yanchor": "top",
                "pad": {"t": 110},
                # tick labels would overlap: the current value shows the t instead
                "font": {"size": 8, "color": "rgba(0, 0, 0, 0)"},
                # greys that read on a light and a dark theme (plotly's rail is near white)
                "bgcolor": "rgba(128, 128, 128, 0.25)",
                "activebgcolor": "rgba(128, 128, 128, 0.6)",
                "bordercolor": "rgba(128, 128, 128, 0.5)",
                "tickcolor": MARKER_COLOR,
                "currentvalue": {
                    "prefix": "",
                    # its own colour: it would inherit the hidden tick labels' one
                    "font": {"size": FONT_SIZE + 2, "color": MARKER_COLOR},
                    "xanchor": "left",
                },
                "transition": {"duration": 0},
                "steps": [
                    {
                        "method": "animate",
                        "label": label,
                        "args": [[name], {**still, "frame": {"duration": 0, "redraw": False}}],
                    }
                    for name, label in zip(names, frame_labels, strict=True)
                ],
            }
        ],
    )
    animation_frames = [
        {
            "data": [
                trace
                for h in heights
                for trace in (
                    {"type": "bar", "y": _typed_array(h[i])},
                    {"type": "scatter", "y": _typed_array(density[i])},
                )
            ],
            "name": names[i],
            "traces": list(animated),
        }
        for i in range(frames)
    ]
    return _spec(traces, layout, animation_frames)


def histogram_snapshot_figure(
    edges: np.ndarray,
    heights: np.ndarray,
    grid: np.ndarray,
    density: np.ndarray,
    *,
    title: str,
    label: str,
    density_label: str,
    top: float,
    color: int = 0,
    height: int = 270,
) -> Spec:
    """One small histogram of x_t (bars) with the exact q(x_t) (line), for a row of snapshots.

    The tutorial's figure of the forward process is such a row: the histogram at ten evenly
    spaced t, each titled with its t and ᾱ_t. Every snapshot of a row gets the same axes (x on
    ``edges``, y from 0 to ``top``), so their heights compare. No legend and no axis titles:
    the page names the colours and the axes once for the row.
    """
    edges = np.asarray(edges, dtype=np.float64)
    heights = np.nan_to_num(np.asarray(heights, dtype=np.float32))
    grid = np.asarray(grid, dtype=np.float64)
    density = np.asarray(density, dtype=np.float32)
    if edges.ndim != 1 or edges.shape[0] < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError("edges must be 1-D and strictly increasing")
    if heights.shape != (edges.shape[0] - 1,) or density.shape != grid.shape:
        raise ValueError("need one height per bin and one density value per grid point")
    if not (math.isfinite(top) and top > 0):
        raise ValueError(f"top must be a positive number, got {top!r}")
    traces = [
        _bars(_bin_centres(edges), float(edges[1] - edges[0]), heights, label, color),
        _density_line(grid, density, density_label, 2.5),
    ]
    layout = {
        "title": {"text": title, "font": {"size": 16}, "x": 0.0, "xanchor": "left"},
        "font": {"size": 14},
        "height": height,
        "margin": {"l": 50, "r": 10, "t": 40, "b": 40},
        "showlegend": False,
        "bargap": 0,
        "hovermode": "closest",
        "xaxis": {
            "range": [float(edges[0]), float(edges[-1])],
            "autorange": False,
            "tickfont": {"size": 13},
            "nticks": 5,
        },
        "yaxis": {
            "range": [0.0, 1.05 * float(top)],
            "autorange": False,
            "tickfont": {"size": 13},
            "nticks": 4,
        },
    }
    return _spec(traces, layout)


def binned_kl_to_standard_normal(heights: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Plug-in KL(p̂ ‖ N(0, 1)) of histogram densities [frames, bins] on ``edges``, in nats.

    Σ_i p_i·log(p_i/φ_i) with p_i = h_i·Δ_i the sample mass of bin i and φ_i its N(0, 1) mass
    (mass outside the edges is left out; empty bins contribute 0). Binning can only lower a
    KL divergence, while sampling raises the estimate by about (bins - 1)/(2n): it levels off
    near that value once q(x_t) is close to N(0, 1).
    """
    heights = np.asarray(heights, dtype=np.float64)
    edges = np.asarray(edges, dtype=np.float64)
    cdf = 0.5 * np.array([math.erfc(-e / math.sqrt(2.0)) for e in edges])
    phi = np.diff(cdf)
    p = heights * np.diff(edges)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0) / np.maximum(phi, 1e-300)), 0.0)
    return terms.sum(axis=-1)


STATS_PANELS = ("mean", "std", "kl")
"""The panels of :func:`histogram_stats_figures`, in order."""


def histogram_stats_figures(
    timesteps: np.ndarray,
    samples: Sequence[SampleStats],
    edges: np.ndarray,
    mean_theory: np.ndarray,
    std_theory: np.ndarray,
    kl_theory: np.ndarray,
    *,
    y_titles: tuple[str, str, str],
    theory_label: str,
    x_title: str,
    kl_sample_suffix: str,
    marker_t: int | None = None,
    height: int = 340,
) -> tuple[Spec, Spec, Spec]:
    """Mean, standard deviation and KL divergence to N(0, 1) of x_t against t: three figures
    (:data:`STATS_PANELS`), for three columns, which a phone stacks at full width.

    Lines are the theory (E[x_t] = √ᾱ_t·E[x0], Std = √(ᾱ_t·Var[x0] + 1 - ᾱ_t), the KL of the
    exact q(x_t)); markers are the sample values of each sampler (for the KL the binned
    estimate of :func:`binned_kl_to_standard_normal`); dotted lines are N(0, 1)'s mean 0 and
    std 1; a dashed vertical line marks ``marker_t``. The KL has a log axis (values ≤ 0 are
    left out). No legend: in three narrow columns it would take a plot's room, so the page
    names the lines and markers (they have the animation's colours); the hover labels name
    each trace too. All three have the same margins, so their plots line up side by side.
    """
    t = np.asarray(timesteps)
    reference = {"color": MARKER_COLOR, "width": 2, "dash": "dot"}
    kls = [binned_kl_to_standard_normal(series.heights, edges) for series in samples]
    theory = (mean_theory, std_theory, kl_theory)
    specs = []
    for panel, (y_title, level) in enumerate(zip(y_titles, (0.0, 1.0, None), strict=True)):
        log = panel == 2

        def points(values: np.ndarray, log: bool = log) -> tuple[np.ndarray, np.ndarray]:
            x, y = _finite(t, np.asarray(values, dtype=np.float64))
            return (x[y > 0], y[y > 0]) if log else (x, y)

        x, y = points(theory[panel])
        traces: list[dict[str, Any]] = [{
            "type": "scatter", "x": x, "y": y, "mode": "lines", "name": theory_label,
            "line": {"color": PALETTE[1], "width": LINE_WIDTH},
            "hovertemplate": "t = %{x:d}<br>%{y:.5g}<extra>" + theory_label + "</extra>",
        }]  # fmt: skip
        for index, (series, kl) in enumerate(zip(samples, kls, strict=True)):
            x, y = points((series.mean, series.std, kl)[panel])
            label = series.label + (kl_sample_suffix if log else "")
            # each sampler's markers smaller than the last one's: where both samplers agree
            # (the mean, always) the second sits inside the first, and both show
            traces.append({
                "type": "scatter", "x": x, "y": y, "mode": "markers", "name": series.label,
                "marker": {"color": PALETTE[series.color % len(PALETTE)],
                           "size": STATS_MARKER_SIZE - 5 * index, "symbol": series.symbol},
                "hovertemplate": "t = %{x:d}<br>%{y:.5g}<extra>" + label + "</extra>",
            })  # fmt: skip
        shapes = []
        if level is not None:  # as add_hline: across the whole plot at N(0, 1)'s value
            shapes.append({"type": "line", "x0": 0, "x1": 1, "xref": "x domain", "y0": level,
                           "y1": level, "yref": "y", "line": reference})  # fmt: skip
        layout = _subplots_layout(
            1, shared_y=False, spacing=0.0, title="", x_title=x_title, height=height
        )
        layout["yaxis"]["title"]["text"] = y_title
        if log:  # one label per decade: plotly's 2 and 5 minor labels crowd a narrow plot
            layout["yaxis"] |= {"type": "log", "exponentformat": "power", "dtick": 1}
        _merge(layout, {
            "height": height,
            "margin": {"l": 95, "r": 15, "t": 30, "b": 90},
            "showlegend": False,
        })  # fmt: skip
        if marker_t is not None:
            shapes.append(marker_shape(marker_t))
        if shapes:  # plotly leaves out an empty list
            layout["shapes"] = shapes
        specs.append(_spec(traces, layout))
    return specs[0], specs[1], specs[2]


# GIF colours: a fixed palette, so every frame is quantised the same way (no flicker).
_GIF_COLORS = {
    "background": (255, 255, 255),
    "ink": (30, 30, 30),
    "grid": (215, 215, 215),
    "normal": (110, 110, 110),
    "density": (213, 94, 0),
    "bars0": (0, 114, 178),
    "bars2": (0, 158, 115),
}
GIF_MAX_WIDTH = 800


def drawing_font(size: int):  # PIL's font types differ with and without FreeType
    """DejaVu Sans at ``size`` px where it is installed, else Pillow's own font (fewer glyphs),
    for text drawn into pictures (the GIFs, the image page's strip)."""
    from PIL import ImageFont

    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size)


def _fitted(draw: Any, text: str, room: float, font: Any, smaller: Any) -> tuple[str, Any]:
    """``text`` and the font to draw it in within ``room`` pixels: ``font`` if it fits, else
    ``smaller``, cut with an ellipsis if even that is too wide."""
    if draw.textlength(text, font=font) <= room:
        return text, font
    while len(text) > 1 and draw.textlength(text, font=smaller) > room:
        text = text[:-2] + "…"
    return text, smaller


def _nice_ticks(low: float, high: float, count: int = 6) -> np.ndarray:
    span = high - low
    raw = span / max(count, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= raw)
    first = math.ceil(low / step) * step
    ticks = np.arange(first, high + 0.5 * step, step)
    return ticks[(ticks >= low - 1e-9 * span) & (ticks <= high + 1e-9 * span)]


def _tick_text(value: float) -> str:
    text = f"{value:.3g}"
    return "0" if text in ("-0", "0") else text.replace("-", "−")


def histogram_gif(
    edges: np.ndarray,
    timesteps: np.ndarray,
    alphas_cumprod: np.ndarray,
    panels: Sequence[HistogramPanel],
    grid: np.ndarray,
    density: np.ndarray,
    *,
    legend: tuple[str, str, str],
    title: str = "",
    width: int = GIF_MAX_WIDTH,
    height: int = 450,
    frame_ms: int = 80,
    hold_ms: int = 1500,
) -> bytes:
    """The histogram animation as an animated GIF for slides (Pillow only, white background).

    One GIF frame per entry of ``timesteps``: each panel draws its bars, the exact q(x_t) as a
    polyline and N(0, 1) dashed, on the fixed axes of the plotly figure, with x and y ticks;
    the header holds ``title`` and t and ᾱ_t. ``legend`` = (bars, q(x_t), N(0, 1)) labels. The text is drawn
    with DejaVu Sans (Pillow's own font where it is missing), so pass formulas and Latin
    text. Frames last ``frame_ms``, the last one ``hold_ms``; the GIF loops.
    """
    from PIL import Image, ImageDraw

    edges = np.asarray(edges, dtype=np.float64)
    timesteps = np.asarray(timesteps)
    alphas_cumprod = np.asarray(alphas_cumprod, dtype=np.float64)
    grid = np.asarray(grid, dtype=np.float64)
    density = np.asarray(density, dtype=np.float64)
    _check_frames(edges, timesteps, grid, density, len(panels))
    if not 200 <= width <= GIF_MAX_WIDTH or not 150 <= height <= 1000:
        raise ValueError(f"width must be in [200, {GIF_MAX_WIDTH}] and height in [150, 1000]")
    frames = timesteps.shape[0]
    heights = [np.nan_to_num(np.asarray(p.heights, dtype=np.float64)) for p in panels]
    phi = _normal_pdf(grid)
    top = 1.05 * max([phi.max(), np.nanmax(density)] + [h.max() for h in heights])
    low, high = float(edges[0]), float(edges[-1])

    names = list(_GIF_COLORS)
    palette_image = Image.new("P", (1, 1))
    flat = [c for name in names for c in _GIF_COLORS[name]]
    palette_image.putpalette(flat + flat[-3:] * (256 - len(names)))
    small, large = drawing_font(14), drawing_font(18)
    header, footer, left, gap, right = 56, 52, 52, 16, 10
    panel_w = (width - left - right - gap * (len(panels) - 1)) // len(panels)
    plot_h = height - header - footer
    x_ticks = _nice_ticks(low, high, 5 if len(panels) > 1 else 8)
    y_ticks = _nice_ticks(0.0, top, 4)

    def draw_panel(draw: ImageDraw.ImageDraw, x0: int, i: int, p: int) -> None:
        def px(x: np.ndarray | float) -> np.ndarray:
            return x0 + (np.asarray(x) - low) / (high - low) * panel_w

        def py(y: np.ndarray | float) -> np.ndarray:
            return header + plot_h - np.clip(np.asarray(y) / top, 0.0, 1.0) * plot_h

        for tick in y_ticks:
            y = float(py(tick))
            draw.line([(x0, y), (x0 + panel_w, y)], fill=_GIF_COLORS["grid"], width=1)
            if p == 0:
                draw.text((x0 - 6, y), _tick_text(tick), font=small, fill="black", anchor="rm")
        for tick in x_ticks:
            x = float(px(tick))
            draw.line([(x, header + plot_h), (x, header + plot_h + 5)], fill="black", width=2)
            draw.text((x, header + plot_h + 7), _tick_text(tick), font=small, fill="black",
                      anchor="ma")  # fmt: skip
        color = _GIF_COLORS["bars2" if panels[p].color == 2 else "bars0"]
        bar_left, bar_right = px(edges[:-1]), px(edges[1:])
        bar_top = py(heights[p][i])
        for a, b, c in zip(bar_left, bar_right, bar_top, strict=True):
            if c < header + plot_h - 0.5:
                draw.rectangle([(a, c), (max(a, b - 1), header + plot_h)], fill=color)
        normal = list(zip(px(grid).tolist(), py(phi).tolist(), strict=True))
        for k in range(0, len(normal) - 1, 8):
            draw.line(normal[k : k + 5], fill=_GIF_COLORS["normal"], width=2)
        draw.line(
            list(zip(px(grid).tolist(), py(density[i]).tolist(), strict=True)),
            fill=_GIF_COLORS["density"],
            width=3,
            joint="curve",
        )
        draw.rectangle([(x0, header), (x0 + panel_w, header + plot_h)], outline="black", width=1)
        draw.text((x0 + 6, header + 4), panels[p].title, font=small, fill="black")

    # the title takes the room the widest "t = … ᾱ_t = …" leaves it: smaller, then cut
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    widest = measure.textlength(f"t = {int(timesteps.max())}   ᾱ_t = 0.0000", font=large)
    title, title_font = _fitted(measure, title, width - right - left - widest - 24, large, small)

    images = []
    for i in range(frames):
        image = Image.new("RGB", (width, height), _GIF_COLORS["background"])
        draw = ImageDraw.Draw(image)
        for p in range(len(panels)):
            draw_panel(draw, left + p * (panel_w + gap), i, p)
        t = int(timesteps[i])
        ab = float(alphas_cumprod[i])
        draw.text((left, 8), title, font=title_font, fill="black")
        draw.text((width - right, 8), f"t = {t}   ᾱ_t = {ab:.4f}", font=large, fill="black",
                  anchor="ra")  # fmt: skip
        key_y = height - 18
        x = left
        for panel in panels:
            swatch = _GIF_COLORS["bars2" if panel.color == 2 else "bars0"]
            draw.rectangle([(x, key_y - 6), (x + 14, key_y + 6)], fill=swatch)
            x += 18
        draw.text((x + 4, key_y), legend[0], font=small, fill="black", anchor="lm")
        x += 16 + draw.textlength(legend[0], font=small)
        draw.line([(x, key_y), (x + 24, key_y)], fill=_GIF_COLORS["density"], width=3)
        draw.text((x + 30, key_y), legend[1], font=small, fill="black", anchor="lm")
        x += 42 + draw.textlength(legend[1], font=small)
        draw.line([(x, key_y), (x + 8, key_y)], fill=_GIF_COLORS["normal"], width=2)
        draw.line([(x + 14, key_y), (x + 22, key_y)], fill=_GIF_COLORS["normal"], width=2)
        draw.text((x + 30, key_y), legend[2], font=small, fill="black", anchor="lm")
        images.append(image.quantize(palette=palette_image, dither=Image.Dither.NONE))
    out = io.BytesIO()
    durations = [int(frame_ms)] * (frames - 1) + [int(hold_ms)]
    images[0].save(
        out,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=durations,
        loop=0,
        optimize=False,
        disposal=1,
    )
    return out.getvalue()


# -- end of the histogram animation section -----------------------------------------------------
