"""core/figures.py without Streamlit: traces, finite data, markers, clipped log-SNR, axis types."""

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io
import pytest
from streamlit.testing.v1 import AppTest

from core import SCHEDULES, ForwardDiffusion
from core.figures import (
    FONT_SIZE,
    LINE_WIDTH,
    ScheduleCurve,
    Series,
    alphas_cumprod_figure,
    clip_log_snr,
    log_snr_figure,
    log_snr_limits,
    posterior_variance_figure,
    progress,
    ready_to_send,
    schedule_comparison_figure,
    signal_noise_figure,
    snr_figure,
    with_marker,
)

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
            array = np.asarray(values, dtype=np.float64)
            if array.size == 0 or not np.all(np.isfinite(array)):
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
    fig = schedule_comparison_figure(curves, quantity, **LABELS)
    assert [trace.name for trace in fig.data] == list(SCHEDULES)
    assert all_finite(fig)
    assert_projector_readable(fig)
    for trace, c in zip(fig.data, curves, strict=True):
        np.testing.assert_allclose(trace.y, getattr(c, quantity))
        assert trace.x[-1] == 1.0
    # distinct colours so the schedules can be told apart
    assert len({trace.line.color for trace in fig.data}) == len(curves)


def test_comparison_with_different_t_is_plotted_against_the_fraction_of_steps():
    short, long = curve("cosine", 100), curve("cosine", 1000)
    fig = schedule_comparison_figure([short, long], "alphas_cumprod", **LABELS)
    assert len(fig.data[0].x) == 100 and len(fig.data[1].x) == 1000
    # Cosine ᾱ at (t+1)/T does not depend on T: at the same fraction the curves coincide.
    np.testing.assert_allclose(fig.data[0].y[49], fig.data[1].y[499], rtol=1e-3)


def test_comparison_hover_carries_t_fraction_and_six_digit_value():
    c = curve("linear", 200)
    trace = schedule_comparison_figure([c], "alphas_cumprod", **LABELS).data[0]
    np.testing.assert_array_equal(trace.customdata, np.arange(200))
    np.testing.assert_allclose(trace.x, np.arange(1, 201) / 200)
    assert trace.hovertemplate.startswith("t = %{customdata}<br>(t+1)/T = %{x:.5f}<br>%{y:.6g}")
    assert trace.text is None  # no per-point strings unless a point is clipped


def test_zero_terminal_snr_log_snr_is_clipped_marked_and_noted():
    plain, rescaled = curve("linear"), curve("linear", zero_snr=True)
    assert np.isneginf(rescaled.log_snr[-1])
    fig = schedule_comparison_figure(
        [plain, rescaled], "log_snr", clipped_note="-inf drawn at {floor}", **LABELS
    )
    assert all_finite(fig)
    floor, _ = log_snr_limits([plain.log_snr, rescaled.log_snr])
    lines = [trace for trace in fig.data if trace.mode == "lines"]
    markers = [trace for trace in fig.data if trace.mode == "markers"]
    assert len(lines) == 2 and len(markers) == 1
    assert lines[1].y[-1] == floor
    assert list(markers[0].y) == [floor]
    assert lines[1].text[-1] == "−∞"
    assert floor < np.min(rescaled.log_snr[np.isfinite(rescaled.log_snr)])
    assert [a.text for a in fig.layout.annotations] == [f"-inf drawn at {floor:g}"]


def test_no_clipping_note_without_infinite_values():
    fig = schedule_comparison_figure([curve()], "log_snr", clipped_note="clipped", **LABELS)
    assert not fig.layout.annotations
    assert len(fig.data) == 1


def test_log_beta_axis_and_dashed_variant():
    curves = [curve("cosine"), curve("cosine", zero_snr=True, dash="dash")]
    fig = schedule_comparison_figure(curves, "betas", log_y=True, **LABELS)
    assert fig.layout.yaxis.type == "log"
    assert [trace.line.dash for trace in fig.data] == ["solid", "dash"]
    assert all(np.all(np.asarray(trace.y) > 0) for trace in fig.data)


def test_a_variant_can_share_its_schedules_colour():
    curves = [curve("linear", color=0), curve("linear", zero_snr=True, dash="dash", color=0)]
    fig = schedule_comparison_figure(curves, "alphas_cumprod", **LABELS)
    assert fig.data[0].line.color == fig.data[1].line.color
    assert [trace.line.dash for trace in fig.data] == ["solid", "dash"]


def test_signal_noise_figure_lines_marker_and_compare():
    p, q = process("linear"), process("cosine")
    fig = signal_noise_figure(
        p.sqrt_alphas_cumprod,
        p.sqrt_one_minus_alphas_cumprod,
        labels=("signal", "noise"),
        marker_t=37,
        **LABELS,
    )
    assert [trace.name for trace in fig.data] == ["signal", "noise"]
    np.testing.assert_allclose(fig.data[0].y, p.sqrt_alphas_cumprod)
    np.testing.assert_array_equal(fig.data[0].x, np.arange(100))
    assert len(fig.layout.shapes) == 1
    assert fig.layout.shapes[0].x0 == fig.layout.shapes[0].x1 == 37
    assert_projector_readable(fig)
    with_compare = signal_noise_figure(
        p.sqrt_alphas_cumprod,
        p.sqrt_one_minus_alphas_cumprod,
        labels=("signal", "noise"),
        compare=(q.sqrt_alphas_cumprod, q.sqrt_one_minus_alphas_cumprod, "(cosine)"),
        **LABELS,
    )
    assert len(with_compare.data) == 4
    assert with_compare.data[2].name == "signal (cosine)"
    assert with_compare.data[3].line.dash == "dash"
    assert not with_compare.layout.shapes


def test_snr_figure_uses_a_log_axis_and_drops_zero_snr():
    p = process("linear", zero_snr=True)
    assert p.snr[-1] == 0
    fig = snr_figure([Series("snr", p.snr)], marker_t=99, zero_note="SNR = 0 left out", **LABELS)
    assert fig.layout.yaxis.type == "log"
    assert all_finite(fig)
    assert len(fig.data[0].y) == 99  # the last point (SNR = 0) is left out
    assert np.all(np.asarray(fig.data[0].y) > 0)
    assert [a.text for a in fig.layout.annotations] == ["SNR = 0 left out"]
    assert fig.layout.shapes[0].x0 == 99
    plain = snr_figure([Series("snr", process().snr)], zero_note="unused", **LABELS)
    assert len(plain.data[0].y) == 100 and not plain.layout.annotations
    linear_axis = snr_figure([Series("snr", p.snr)], log_axis=False, **LABELS)
    assert linear_axis.layout.yaxis.type != "log"
    assert len(linear_axis.data[0].y) == 100


def test_log_snr_figure_clips_minus_infinity():
    p = process("cosine", zero_snr=True)
    fig = log_snr_figure([Series("a", p.log_snr)], marker_t=5, clipped_note="at {floor}", **LABELS)
    assert all_finite(fig)
    floor, _ = log_snr_limits([p.log_snr])
    assert fig.data[0].y[-1] == floor
    assert fig.data[1].mode == "markers" and list(fig.data[1].x) == [99]
    assert fig.layout.annotations[0].text == f"at {floor:g}"


def test_posterior_variance_figure_drops_the_zero_at_t0():
    p = process("linear")
    assert p.posterior_variance[0] == 0
    fig = posterior_variance_figure(
        p.betas,
        p.posterior_variance,
        labels=("β", "β̃"),
        marker_t=10,
        zero_note="β̃_0 = 0",
        **LABELS,
    )
    assert fig.layout.yaxis.type == "log"
    assert [trace.name for trace in fig.data] == ["β", "β̃"]
    assert len(fig.data[0].x) == 100 and len(fig.data[1].x) == 99
    assert fig.data[1].x[0] == 1
    np.testing.assert_allclose(fig.data[1].y, p.posterior_variance[1:])
    # β̃_t ≤ β_t: the posterior is never wider than the forward step
    assert np.all(p.posterior_variance <= p.betas + 1e-15)
    assert fig.layout.annotations[0].text == "β̃_0 = 0"
    assert fig.layout.shapes[0].x0 == 10
    q = process("sigmoid")
    compared = posterior_variance_figure(
        p.betas,
        p.posterior_variance,
        labels=("β", "β̃"),
        compare=(q.betas, q.posterior_variance, "(sigmoid)"),
        **LABELS,
    )
    assert len(compared.data) == 4


def test_alphas_cumprod_figure_overlays_series_with_a_marker():
    p, q = process("linear"), process("quadratic")
    fig = alphas_cumprod_figure(
        [Series("linear", p.alphas_cumprod), Series("quadratic", q.alphas_cumprod, 1, "dash")],
        marker_t=0,
        **LABELS,
    )
    assert len(fig.data) == 2
    assert fig.layout.shapes[0].x0 == 0
    assert fig.data[1].line.dash == "dash"
    assert fig.data[0].line.width == LINE_WIDTH
    assert fig.layout.font.size == FONT_SIZE


def test_nan_values_are_left_out():
    values = np.array([0.5, np.nan, 0.25])
    fig = alphas_cumprod_figure([Series("a", values)], **LABELS)
    np.testing.assert_array_equal(fig.data[0].x, [0, 2])
    assert all_finite(fig)


# -- cached figures: cheap copies that send the same JSON ----------------------------------------


def spec(fig: go.Figure) -> dict:
    """What st.plotly_chart sends for ``fig`` (its JSON, parsed)."""
    return json.loads(plotly.io.to_json(fig, validate=False))


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
    ]


@pytest.mark.parametrize("t", [0, 37, 99])
def test_with_marker_equals_building_with_the_marker_and_leaves_the_input_alone(t):
    for plain, marked in zip(timestep_figures(None), timestep_figures(t), strict=True):
        before = spec(plain)
        assert not before["layout"].get("shapes")
        copy = with_marker(plain, t)
        assert spec(copy) == spec(marked)
        assert spec(plain) == before
        assert with_marker(copy, t + 1)["layout"]["shapes"][-1]["x0"] == t + 1
        assert len(copy.layout.shapes) == 1  # a copy of the copy did not add to it


def test_ready_to_send_is_the_same_figure():
    p = process("linear", zero_snr=True)
    fig = schedule_comparison_figure(
        [ScheduleCurve("a", p.betas, p.alphas_cumprod, p.log_snr)],
        "log_snr",
        clipped_note="floor {floor}",
        **LABELS,
    )
    before = spec(fig)
    ready = ready_to_send(fig)
    assert spec(ready) == before
    assert spec(fig) == before
    # arrays are already plain base64 specs: nothing left for plotly to encode per rerun
    assert isinstance(ready.to_dict()["data"][0]["y"], dict)


def test_streamlit_plotly_chart_does_not_change_a_shared_figure():
    # The pages hand st.plotly_chart figures cached with st.cache_resource (one object for every
    # session); drawing one, in both themes, must leave it as it was.
    def script():
        import json

        import plotly.io
        import streamlit as st

        from core import ForwardDiffusion
        from core.figures import Series, alphas_cumprod_figure, ready_to_send, with_marker

        p = ForwardDiffusion(50, "cosine", device="cpu")
        plain = alphas_cumprod_figure([Series("a", p.alphas_cumprod)], title="t", x_title="x",
                                      y_title="y")  # fmt: skip
        for fig in (plain, with_marker(plain, 10), ready_to_send(plain)):
            before = plotly.io.to_json(fig, validate=False)
            st.plotly_chart(fig, theme="streamlit")
            st.plotly_chart(fig, theme=None)
            st.plotly_chart(fig, theme="streamlit", width="content", height="content")
            st.text(json.dumps(plotly.io.to_json(fig, validate=False) == before))

    at = AppTest.from_function(script, default_timeout=60).run()
    assert not at.exception
    assert [text.value for text in at.text] == ["true"] * 3
    assert len(at.get("plotly_chart")) == 9


# -- end of the schedules and signal/noise section -----------------------------------------------


def _validated(fig: go.Figure) -> dict:
    return json.loads(plotly.io.to_json(go.Figure(json.loads(fig.to_json())), validate=False))


@pytest.mark.parametrize("quantity", ["betas", "alphas_cumprod", "log_snr"])
@pytest.mark.parametrize("log_y", [False, True])
def test_comparison_is_what_plotly_validates_it_to(quantity, log_y):
    """Figures are written as plain specs (plotly does not validate them): validating every
    key changes nothing, the clipped markers and the note included."""
    curves = [curve("linear"), curve("cosine", 300, zero_snr=True, dash="dash", color=3)]
    fig = schedule_comparison_figure(
        curves, quantity, log_y=log_y, clipped_note="at {floor}", **LABELS
    )
    assert _validated(fig) == json.loads(plotly.io.to_json(fig, validate=False))


def test_timestep_figures_are_what_plotly_validates_them_to():
    p, q = process("linear", zero_snr=True), process("cosine")
    both = [Series("a", p.log_snr, 4), Series("b", q.log_snr, 4, "dash")]
    figures = [
        log_snr_figure(both, marker_t=7, clipped_note="at {floor}", **LABELS),
        snr_figure([Series("a", p.snr, 3)], zero_note="zero", **LABELS),
        alphas_cumprod_figure([Series("a", p.alphas_cumprod, 2)], marker_t=3, **LABELS),
    ]
    for fig in figures:
        assert _validated(fig) == json.loads(plotly.io.to_json(fig, validate=False))
