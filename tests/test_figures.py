"""core/figures.py without Streamlit: traces, finite data, markers, clipped log-SNR, axis types,
and the specs' handoff to st.plotly_chart."""

import copy
import json
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io
import plotly.tools
import pytest
from PIL import ImageColor
from streamlit.testing.v1 import AppTest

from core import SCHEDULES, ForwardDiffusion
from core.figures import (
    FONT_SIZE,
    LINE_WIDTH,
    PALETTE,
    ScheduleCurve,
    Series,
    alphas_cumprod_figure,
    as_figure,
    clip_log_snr,
    figure_key,
    log_snr_figure,
    log_snr_limits,
    posterior_mean_figure,
    posterior_variance_figure,
    progress,
    schedule_comparison_figure,
    signal_noise_figure,
    snr_figure,
    with_marker,
    without_legend,
)
from tests.apptest import array

# -- schedules and signal/noise section ----------------------------------------------------------

LABELS = {"title": "title", "x_title": "x", "y_title": "y"}


def process(name="linear", timesteps=100, zero_snr=False):
    return ForwardDiffusion(timesteps, name, device="cpu", zero_terminal_snr=zero_snr)


def curve(name="linear", timesteps=100, zero_snr=False, dash="solid", color=None):
    p = process(name, timesteps, zero_snr)
    return ScheduleCurve(name, p.betas, p.alphas_cumprod, p.log_snr, dash, color)


def all_finite(fig: go.Figure) -> bool:
    for trace in fig.data:
        for values in (trace.x, trace.y):
            values = array(values)
            if values.size == 0 or not np.all(np.isfinite(values)):
                return False
    return True


def assert_projector_readable(fig: go.Figure) -> None:
    assert fig.layout.font.size >= 16
    assert fig.layout.title.font.size >= 16
    assert fig.layout.xaxis.title.font.size >= 16
    assert fig.layout.yaxis.title.font.size >= 16
    for trace in fig.data:
        if trace.mode == "lines":
            assert trace.line.width >= 3
    # the app's theme decides the background (light or dark)
    assert fig.layout.paper_bgcolor is None
    assert fig.layout.plot_bgcolor is None


def test_progress_ends_at_one_for_any_timesteps():
    for timesteps in (2, 10, 999, 1000):
        x = progress(timesteps)
        assert x.shape == (timesteps,)
        assert x[0] == pytest.approx(1 / timesteps)
        assert x[-1] == 1.0
        assert np.all(np.diff(x) > 0)


def test_clip_log_snr_replaces_only_infinities():
    values = np.array([5.0, -3.0, -np.inf, np.inf])
    shown, clipped = clip_log_snr(values, -20.0, 20.0)
    np.testing.assert_array_equal(shown, [5.0, -3.0, -20.0, 20.0])
    np.testing.assert_array_equal(clipped, [False, False, True, True])


def test_log_snr_limits_lie_beyond_the_finite_values():
    floor, ceiling = log_snr_limits([np.array([9.2, -10.1, -np.inf]), np.array([3.0, -22.1])])
    assert floor <= -22.1 - 2
    assert ceiling >= 9.2 + 2
    assert floor == int(floor) and ceiling == int(ceiling)


@pytest.mark.parametrize("quantity", ["betas", "alphas_cumprod", "log_snr"])
def test_comparison_has_one_trace_per_schedule_with_finite_data(quantity):
    curves = [curve(name) for name in SCHEDULES]
    fig = as_figure(schedule_comparison_figure(curves, quantity, **LABELS))
    assert [trace.name for trace in fig.data] == list(SCHEDULES)
    assert all_finite(fig)
    assert_projector_readable(fig)
    for trace, c in zip(fig.data, curves, strict=True):
        np.testing.assert_allclose(array(trace.y), getattr(c, quantity))
        assert array(trace.x)[-1] == 1.0
    # distinct colours so the schedules can be told apart
    assert len({trace.line.color for trace in fig.data}) == len(curves)


def test_comparison_with_different_t_is_plotted_against_the_fraction_of_steps():
    short, long = curve("cosine", 100), curve("cosine", 1000)
    fig = as_figure(schedule_comparison_figure([short, long], "alphas_cumprod", **LABELS))
    assert len(array(fig.data[0].x)) == 100 and len(array(fig.data[1].x)) == 1000
    # Cosine ᾱ at (t+1)/T does not depend on T: at the same fraction the curves coincide.
    np.testing.assert_allclose(array(fig.data[0].y)[49], array(fig.data[1].y)[499], rtol=1e-3)


def test_comparison_hover_carries_t_fraction_and_six_digit_value():
    c = curve("linear", 200)
    trace = as_figure(schedule_comparison_figure([c], "alphas_cumprod", **LABELS)).data[0]
    np.testing.assert_array_equal(array(trace.customdata), np.arange(200))
    np.testing.assert_allclose(array(trace.x), np.arange(1, 201) / 200)
    assert trace.hovertemplate.startswith("t = %{customdata}<br>(t+1)/T = %{x:.5f}<br>%{y:.6g}")
    assert trace.text is None  # no per-point strings unless a point is clipped


def test_zero_terminal_snr_log_snr_is_clipped_marked_and_noted():
    plain, rescaled = curve("linear"), curve("linear", zero_snr=True)
    assert np.isneginf(rescaled.log_snr[-1])
    fig = as_figure(
        schedule_comparison_figure(
            [plain, rescaled], "log_snr", clipped_note="-inf drawn at {floor}", **LABELS
        )
    )
    assert all_finite(fig)
    floor, _ = log_snr_limits([plain.log_snr, rescaled.log_snr])
    lines = [trace for trace in fig.data if trace.mode == "lines"]
    markers = [trace for trace in fig.data if trace.mode == "markers"]
    assert len(lines) == 2 and len(markers) == 1
    assert array(lines[1].y)[-1] == floor
    assert list(array(markers[0].y)) == [floor]
    assert lines[1].text[-1] == "−∞"
    assert floor < np.min(rescaled.log_snr[np.isfinite(rescaled.log_snr)])
    assert [a.text for a in fig.layout.annotations] == [f"-inf drawn at −{-floor:g}"]
    # in the bottom left corner, where log-SNR never is: it falls from far above the floor,
    # and reaches the axis' bottom fifth only in the last half of the steps
    (note,) = fig.layout.annotations
    assert (note.xanchor, note.yanchor, note.x, note.y) == ("left", "bottom", 0.0, 0.02)
    low, high = floor, max(np.max(array(line.y)) for line in lines)
    for line in lines:
        x, y = array(line.x), array(line.y)
        assert np.all(y[x < 0.5] > low + (high - low) / 5)


def test_the_clipping_note_moves_off_a_curve_that_reaches_the_floor_early():
    """β from 0.5 to 0.999 takes ᾱ to 0 a quarter of the way in: the curve then lies on the
    floor along the bottom, under the bottom-left corner, and the note moves to the top right."""
    p = ForwardDiffusion(4000, "linear", beta_start=0.5, beta_end=0.999, device="cpu")
    steep = ScheduleCurve("steep", p.betas, p.alphas_cumprod, p.log_snr)
    assert np.isneginf(steep.log_snr[len(steep.log_snr) // 3])
    fig = as_figure(schedule_comparison_figure([steep], "log_snr", clipped_note="n", **LABELS))
    (note,) = fig.layout.annotations
    assert (note.xanchor, note.yanchor) == ("right", "top")
    # with cosine, whose log-SNR stays near 0 along the top: in the middle
    both = [steep, curve("cosine", 4000, zero_snr=True)]
    fig = as_figure(schedule_comparison_figure(both, "log_snr", clipped_note="n", **LABELS))
    (note,) = fig.layout.annotations
    assert (note.xanchor, note.yanchor, note.x, note.y) == ("center", "middle", 0.5, 0.5)


def test_no_clipping_note_without_infinite_values():
    fig = as_figure(
        schedule_comparison_figure([curve()], "log_snr", clipped_note="clipped", **LABELS)
    )
    assert not fig.layout.annotations
    assert len(fig.data) == 1


def test_log_beta_axis_and_dashed_variant():
    curves = [curve("cosine"), curve("cosine", zero_snr=True, dash="dash")]
    fig = as_figure(schedule_comparison_figure(curves, "betas", log_y=True, **LABELS))
    assert fig.layout.yaxis.type == "log"
    assert [trace.line.dash for trace in fig.data] == ["solid", "dash"]
    assert all(np.all(array(trace.y) > 0) for trace in fig.data)


def test_a_variant_can_share_its_schedules_colour():
    curves = [curve("linear", color=0), curve("linear", zero_snr=True, dash="dash", color=0)]
    fig = as_figure(schedule_comparison_figure(curves, "alphas_cumprod", **LABELS))
    assert fig.data[0].line.color == fig.data[1].line.color
    assert [trace.line.dash for trace in fig.data] == ["solid", "dash"]


def test_signal_noise_figure_lines_marker_and_compare():
    p, q = process("linear"), process("cosine")
    fig = as_figure(
        signal_noise_figure(
            p.sqrt_alphas_cumprod,
            p.sqrt_one_minus_alphas_cumprod,
            labels=("signal", "noise"),
            marker_t=37,
            **LABELS,
        )
    )
    assert [trace.name for trace in fig.data] == ["signal", "noise"]
    np.testing.assert_allclose(array(fig.data[0].y), p.sqrt_alphas_cumprod)
    np.testing.assert_array_equal(array(fig.data[0].x), np.arange(100))
    assert len(fig.layout.shapes) == 1
    assert fig.layout.shapes[0].x0 == fig.layout.shapes[0].x1 == 37
    assert_projector_readable(fig)
    with_compare = as_figure(
        signal_noise_figure(
            p.sqrt_alphas_cumprod,
            p.sqrt_one_minus_alphas_cumprod,
            labels=("signal", "noise"),
            compare=(q.sqrt_alphas_cumprod, q.sqrt_one_minus_alphas_cumprod, "(cosine)"),
            **LABELS,
        )
    )
    assert len(with_compare.data) == 4
    assert with_compare.data[2].name == "signal (cosine)"
    assert with_compare.data[3].line.dash == "dash"
    assert not with_compare.layout.shapes


def test_snr_figure_uses_a_log_axis_and_drops_zero_snr():
    p = process("linear", zero_snr=True)
    assert p.snr[-1] == 0
    fig = as_figure(
        snr_figure([Series("snr", p.snr)], marker_t=99, zero_note="SNR = 0 left out", **LABELS)
    )
    assert fig.layout.yaxis.type == "log"
    assert all_finite(fig)
    assert len(array(fig.data[0].y)) == 99  # the last point (SNR = 0) is left out
    assert np.all(array(fig.data[0].y) > 0)
    assert [a.text for a in fig.layout.annotations] == ["SNR = 0 left out"]
    assert fig.layout.shapes[0].x0 == 99
    plain = as_figure(snr_figure([Series("snr", process().snr)], zero_note="unused", **LABELS))
    assert len(array(plain.data[0].y)) == 100 and not plain.layout.annotations
    linear_axis = as_figure(snr_figure([Series("snr", p.snr)], log_axis=False, **LABELS))
    assert linear_axis.layout.yaxis.type != "log"
    assert len(array(linear_axis.data[0].y)) == 100


def contrast(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """WCAG's contrast ratio of two sRGB colours."""

    def luminance(rgb: tuple[int, ...]) -> float:
        linear = [(c / 255) / 12.92 if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_a_note_hides_the_marker_behind_it():
    """A marker through a note's box must not cross its text (a dashed line through "β̃_0 = 0"
    read "≠"): the box is opaque, with its own text colour on either theme's background."""
    p = process("linear")
    fig = as_figure(
        posterior_variance_figure(
            p.betas, p.posterior_variance, labels=("β", "β̃"), marker_t=90, zero_note="β̃_0 = 0",
            **LABELS,
        )
    )  # fmt: skip
    (note,) = fig.layout.annotations
    assert fig.layout.shapes[0].x0 == 90  # the marker, under the note's corner
    box = ImageColor.getrgb(note.bgcolor)
    assert len(box) == 3 or box[3] == 255, note.bgcolor
    text = ImageColor.getrgb(note.font.color)
    assert contrast(box[:3], text[:3]) >= 4.5


def test_log_snr_figure_clips_minus_infinity():
    p = process("cosine", zero_snr=True)
    fig = as_figure(
        log_snr_figure([Series("a", p.log_snr)], marker_t=5, clipped_note="at {floor}", **LABELS)
    )
    assert all_finite(fig)
    floor, _ = log_snr_limits([p.log_snr])
    assert array(fig.data[0].y)[-1] == floor
    assert fig.data[1].mode == "markers" and list(array(fig.data[1].x)) == [99]
    assert fig.layout.annotations[0].text == f"at −{-floor:g}"  # a true minus sign


def test_posterior_variance_figure_drops_the_zero_at_t0():
    p = process("linear")
    assert p.posterior_variance[0] == 0
    fig = as_figure(
        posterior_variance_figure(
            p.betas,
            p.posterior_variance,
            labels=("β", "β̃"),
            marker_t=10,
            zero_note="β̃_0 = 0",
            **LABELS,
        )
    )
    assert fig.layout.yaxis.type == "log"
    assert [trace.name for trace in fig.data] == ["β", "β̃"]
    assert len(array(fig.data[0].x)) == 100 and len(array(fig.data[1].x)) == 99
    assert array(fig.data[1].x)[0] == 1
    np.testing.assert_allclose(array(fig.data[1].y), p.posterior_variance[1:])
    # β̃_t ≤ β_t: the posterior is never wider than the forward step
    assert np.all(p.posterior_variance <= p.betas + 1e-15)
    assert fig.layout.annotations[0].text == "β̃_0 = 0"
    assert fig.layout.shapes[0].x0 == 10
    # β̃_t lies on β_t for most t: β_t is drawn first and wider, a band around β̃_t
    assert fig.data[0].line.width >= 2 * fig.data[1].line.width
    q = process("sigmoid")
    compared = posterior_variance_figure(
        p.betas,
        p.posterior_variance,
        labels=("β", "β̃"),
        compare=(q.betas, q.posterior_variance, "(sigmoid)"),
        **LABELS,
    )
    assert len(compared["data"]) == 4
    widths = [trace["line"]["width"] for trace in compared["data"]]
    assert widths[0] == widths[2] > widths[1] == widths[3]
    # the key draws each line as thick as the figure does: β_t a band, β̃_t a line
    assert [entry.width for entry in figure_key(compared)] == widths


@pytest.mark.parametrize(
    ("name", "timesteps", "zero_snr", "params"),
    [
        ("linear", 1000, False, {}),
        ("cosine", 1000, True, {}),
        ("linear", 2000, False, {"beta_end": 0.999}),  # ᾱ underflows to 0 from t = 1454
    ],
)
def test_posterior_mean_figure_draws_both_weights_in_zero_to_one(name, timesteps, zero_snr, params):
    p = ForwardDiffusion(timesteps, name, device="cpu", zero_terminal_snr=zero_snr, **params)
    fig = as_figure(
        posterior_mean_figure(
            p.posterior_mean_coef1, p.posterior_mean_coef2, labels=("c1", "c2"), marker_t=7,
            **LABELS,
        )
    )  # fmt: skip
    assert all_finite(fig)
    assert [trace.name for trace in fig.data] == ["c1", "c2"]
    c1, c2 = (array(trace.y) for trace in fig.data)
    assert len(c1) == len(c2) == timesteps
    # μ̃_t of the core's posterior is these weights applied to x_0 and x_t
    x0, xt = np.full(timesteps, 0.7), np.full(timesteps, -1.3)
    mean, _, _ = p.q_posterior_mean_variance(x0, xt, np.arange(timesteps))
    np.testing.assert_allclose(c1 * 0.7 + c2 * -1.3, mean, rtol=1e-12, atol=1e-15)
    # one step from x_0, the way back is x_0 (c1 = β_0/(1 − (1 − β_0)), rounded)
    assert c1[0] == pytest.approx(1, rel=1e-12) and c2[0] == 0
    assert np.all((c1 >= 0) & (c1 <= 1 + 1e-12) & (c2 >= 0) & (c2 <= 1))
    assert list(fig.layout.yaxis.range) == [-0.02, 1.02]
    assert fig.layout.shapes[0].x0 == 7
    late = slice(timesteps // 2, None)  # c2 close to √α_t once x_0 is mostly gone
    np.testing.assert_allclose(c2[late], np.sqrt(p.alphas[late]), atol=0.01)


def test_alphas_cumprod_figure_overlays_series_with_a_marker():
    p, q = process("linear"), process("quadratic")
    fig = as_figure(
        alphas_cumprod_figure(
            [Series("linear", p.alphas_cumprod), Series("quadratic", q.alphas_cumprod, 1, "dash")],
            marker_t=0,
            **LABELS,
        )
    )
    assert len(fig.data) == 2
    assert fig.layout.shapes[0].x0 == 0
    assert fig.data[1].line.dash == "dash"
    assert fig.data[0].line.width == LINE_WIDTH
    assert fig.layout.font.size == FONT_SIZE


def test_nan_values_are_left_out():
    values = np.array([0.5, np.nan, 0.25])
    fig = as_figure(alphas_cumprod_figure([Series("a", values)], **LABELS))
    np.testing.assert_array_equal(array(fig.data[0].x), [0, 2])
    assert all_finite(fig)


# -- cached specs: cheap copies, and what st.plotly_chart sends ----------------------------------


def sent(spec) -> Any:
    """The JSON st.plotly_chart sends for a spec or a Figure, parsed (the order of keys in an
    object means nothing to plotly.js)."""
    return json.loads(plotly.io.to_json(spec, validate=False))


def timestep_figures(marker_t):
    """Every timestep figure of the signal page, zero terminal SNR included (clipped points)."""
    p, q = process("linear", zero_snr=True), process("cosine")
    both = [Series("a", p.log_snr), Series("b", q.log_snr, 1, "dash")]
    return [
        signal_noise_figure(
            p.sqrt_alphas_cumprod,
            p.sqrt_one_minus_alphas_cumprod,
            labels=("s", "n"),
            compare=(q.sqrt_alphas_cumprod, q.sqrt_one_minus_alphas_cumprod, "(c)"),
            marker_t=marker_t,
            **LABELS,
        ),
        alphas_cumprod_figure([Series("a", p.alphas_cumprod)], marker_t=marker_t, **LABELS),
        snr_figure([Series("a", p.snr)], marker_t=marker_t, zero_note="zero", **LABELS),
        log_snr_figure(both, marker_t=marker_t, clipped_note="at {floor}", **LABELS),
        posterior_variance_figure(
            p.betas, p.posterior_variance, labels=("b", "v"), marker_t=marker_t, **LABELS
        ),
        posterior_mean_figure(
            p.posterior_mean_coef1,
            p.posterior_mean_coef2,
            labels=("c1", "c2"),
            compare=(q.posterior_mean_coef1, q.posterior_mean_coef2, "(c)"),
            marker_t=marker_t,
            **LABELS,
        ),
    ]


@pytest.mark.parametrize("t", [0, 37, 99])
def test_with_marker_equals_building_with_the_marker_and_leaves_the_input_alone(t):
    for plain, marked in zip(timestep_figures(None), timestep_figures(t), strict=True):
        before = copy.deepcopy(plain)
        assert not plain["layout"].get("shapes")
        moved = with_marker(plain, t)
        assert sent(moved) == sent(marked)
        assert plain == before and sent(plain) == sent(before)  # a cached spec stays as it was
        # only the layout and its shapes are copied: the traces are shared
        assert moved["data"] is plain["data"]
        assert moved["layout"]["template"] is plain["layout"]["template"]
        again = with_marker(moved, t + 1)
        assert again["layout"]["shapes"][-1]["x0"] == t + 1
        assert len(moved["layout"]["shapes"]) == 1  # a copy of the copy did not add to it


def test_a_spec_is_what_plotly_writes_for_it():
    """st.plotly_chart gets the spec itself (pages.common.plotly_chart): it must be what plotly
    would write for the spec's Figure, with nothing left to encode."""
    p = process("linear", zero_snr=True)
    curves = [ScheduleCurve("a", p.betas, p.alphas_cumprod, p.log_snr)]
    specs = [
        schedule_comparison_figure(curves, "log_snr", clipped_note="floor {floor}", **LABELS),
        *timestep_figures(None),
        *timestep_figures(7),
        with_marker(timestep_figures(None)[0], 3),
    ]
    for spec in specs:
        assert set(spec) == {"data", "layout"}
        assert sent(as_figure(spec)) == sent(spec)
        assert as_figure(spec).to_dict() == spec
        # numpy arrays are already base64 typed arrays: nothing for plotly to encode per rerun
        assert all(isinstance(trace["x"], dict) for trace in spec["data"])
        assert "template" in spec["layout"]  # the default template, as plotly adds it


def test_a_figure_of_a_spec_holds_copies():
    spec = timestep_figures(5)[0]
    before = copy.deepcopy(spec)
    fig = as_figure(spec)
    fig.layout.title.text = "changed"
    fig.layout.shapes[0].x0 = 50
    fig.data[0].line.color = "red"
    fig.layout.template.layout.font.size = 3
    assert spec == before


def test_the_page_helper_sends_exactly_what_plotly_would():
    # The pages hand st.plotly_chart specs cached with st.cache_resource (one object for every
    # session) through pages.common.plotly_chart, which skips plotly's copy: Streamlit must send
    # the JSON of the spec's plotly Figure, in both themes, and leave the spec as it was. A
    # Streamlit that asks the figure for more than to_dict() fails here too.
    def script():
        import json

        import plotly.io
        import streamlit as st

        from core import ForwardDiffusion
        from core.figures import Series, alphas_cumprod_figure, as_figure, with_marker
        from pages.common import plotly_chart

        p = ForwardDiffusion(50, "cosine", device="cpu")
        plain = alphas_cumprod_figure([Series("a", p.alphas_cumprod)], title="t", x_title="x",
                                      y_title="y")  # fmt: skip
        for spec in (plain, with_marker(plain, 10)):
            before = plotly.io.to_json(spec, validate=False)
            expected = plotly.io.to_json(as_figure(spec), validate=False)
            plotly_chart(spec, theme="streamlit")
            plotly_chart(spec, theme=None)
            plotly_chart(spec, theme="streamlit", width="content", height="content")
            st.text(json.dumps([expected, plotly.io.to_json(spec, validate=False) == before]))

    at = AppTest.from_function(script, default_timeout=60).run()
    assert not at.exception
    charts = at.get("plotly_chart")
    assert len(charts) == 6 and len(at.text) == 2
    for i, text in enumerate(at.text):
        expected, unchanged = json.loads(text.value)
        assert unchanged
        assert "template" in json.loads(expected)["layout"]
        assert [json.loads(chart.proto.spec) for chart in charts[3 * i : 3 * i + 3]] == [
            json.loads(expected)
        ] * 3


def test_the_page_helper_hands_over_the_spec_itself():
    from pages.common import SpecFigure

    spec = timestep_figures(5)[0]
    # what st.plotly_chart does with a figure before writing its JSON: no copy
    assert plotly.tools.return_figure_from_figure_or_data(SpecFigure(spec), True) is spec


def test_without_legend_keeps_the_plot_area_and_the_key_names_every_line():
    """The signal page draws its figures' keys under them: the figure drops the legend and
    its rows of margin, and its plot area stays the size it was; the key has an entry for
    each line (not the -inf markers), solid or dashed as drawn."""
    p, q = process("linear", zero_snr=True), process("cosine")
    both = [Series("a", p.log_snr, 4), Series("b<sub>t</sub>", q.log_snr, 1, "dash")]
    spec = log_snr_figure(both, marker_t=7, clipped_note="at {floor}", **LABELS)
    before = copy.deepcopy(spec)
    bare = without_legend(spec)
    assert spec == before  # a cached spec is shared: left alone
    layout, plain = bare["layout"], spec["layout"]
    assert layout["showlegend"] is False and plain.get("showlegend") is not False
    assert layout["margin"]["b"] < plain["margin"]["b"]

    def plot_height(lay):
        return lay["height"] - lay["margin"]["t"] - lay["margin"]["b"]

    assert plot_height(layout) == plot_height(plain)
    assert bare["data"] is spec["data"]
    # the -inf marker of "a" is a trace of its own, hidden from a legend
    assert len(spec["data"]) == 3
    key = figure_key(bare)
    assert [(e.name, e.color, e.mark) for e in key] == [
        ("a", PALETTE[4], "line"),
        ("b<sub>t</sub>", PALETTE[1], "dash"),
    ]
    assert _validated(bare) == sent(bare)


def test_the_key_is_html_with_the_sub_and_superscripts_plotly_draws():
    from pages.common import _key_name

    assert _key_name("√ᾱ<sub>t</sub> & x<sup>2</sup>") == "√ᾱ<sub>t</sub> &amp; x<sup>2</sup>"
    assert _key_name("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert _key_name('<sub onclick="x">t</sub>') == "&lt;sub onclick=&quot;x&quot;&gt;t</sub>"


# -- end of the schedules and signal/noise section -----------------------------------------------


def _validated(spec) -> dict:
    """The spec as plotly's validation of every key writes it (JSON parsed)."""
    return sent(go.Figure(sent(spec)))


@pytest.mark.parametrize("quantity", ["betas", "alphas_cumprod", "log_snr"])
@pytest.mark.parametrize("log_y", [False, True])
def test_comparison_is_what_plotly_validates_it_to(quantity, log_y):
    """Figures are written as plain specs (plotly does not validate them): validating every
    key changes nothing, the clipped markers and the note included."""
    curves = [curve("linear"), curve("cosine", 300, zero_snr=True, dash="dash", color=3)]
    fig = schedule_comparison_figure(
        curves, quantity, log_y=log_y, clipped_note="at {floor}", **LABELS
    )
    assert _validated(fig) == sent(fig)


def test_timestep_figures_are_what_plotly_validates_them_to():
    p, q = process("linear", zero_snr=True), process("cosine")
    both = [Series("a", p.log_snr, 4), Series("b", q.log_snr, 4, "dash")]
    figures = [
        log_snr_figure(both, marker_t=7, clipped_note="at {floor}", **LABELS),
        snr_figure([Series("a", p.snr, 3)], zero_note="zero", **LABELS),
        alphas_cumprod_figure([Series("a", p.alphas_cumprod, 2)], marker_t=3, **LABELS),
    ]
    for fig in figures:
        assert _validated(fig) == sent(fig)
