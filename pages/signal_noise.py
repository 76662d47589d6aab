"""Signal & noise: √ᾱ_t and √(1-ᾱ_t), ᾱ_t, SNR, log-SNR, and β_t against the posterior variance
β̃_t for the sidebar's schedule (optionally overlaid with a second schedule), with a timestep
marker shared by all plots and the exact values at that timestep."""

from __future__ import annotations

import math

import numpy as np
import streamlit as st

from core import SCHEDULES, ForwardDiffusion
from core.figures import (
    Series,
    alphas_cumprod_figure,
    log_snr_figure,
    log_snr_limits,
    posterior_variance_figure,
    signal_noise_figure,
    snr_figure,
)
from core.schedules import schedule_params
from pages.common import MAX_T, UrlParam, bind, forward_process, settings, tr

COMPARE = UrlParam("sig.compare", "", "choice", choices=("", *SCHEDULES))
MARKER = UrlParam("sig.t", 250, "int", 0, MAX_T - 1)
# (label, table name) of the values shown at the marker
METRICS = (
    (r"$\bar\alpha_t$", "alphas_cumprod"),
    (r"$\sqrt{\bar\alpha_t}$", "sqrt_alphas_cumprod"),
    (r"$\sqrt{1-\bar\alpha_t}$", "sqrt_one_minus_alphas_cumprod"),
    ("SNR", "snr"),
    ("log-SNR", "log_snr"),
    (r"$\beta_t$", "betas"),
    (r"$\tilde\beta_t$", "posterior_variance"),
)


def label(name: str) -> str:
    return tr(f"schedule.{name}") if name else tr("sig.compare.none")


def number(value: float) -> str:
    """A table value to 6 significant digits; ±inf as ±∞."""
    if math.isinf(value):
        return "−∞" if value < 0 else "+∞"
    return f"{value:.6g}"


def metrics_row(process: ForwardDiffusion, t: int, caption: str) -> None:
    st.caption(caption)
    # content-wide metrics that wrap: six significant digits are never cut off
    with st.container(horizontal=True, gap="large"):
        for name, table in METRICS:
            st.metric(name, number(float(getattr(process, table)[t])), width="content")


def explain(formula: str, text_key: str) -> None:
    st.latex(formula)
    st.markdown(tr(text_key))


@st.fragment
def marker_and_plots(
    main: ForwardDiffusion, main_label: str, other: ForwardDiffusion | None, other_label: str
) -> None:
    """The marker slider, the values at the marker and every plot (reruns alone on a move)."""
    last = main.timesteps - 1
    bind(MARKER)
    if st.session_state[MARKER.key] > last:
        st.session_state[MARKER.key] = last
        st.info(tr("sig.t.clamped", last=last), icon="ℹ️")
    t = st.slider(tr("sig.t"), 0, last, key=MARKER.key, help=tr("sig.t.help"))
    # A marker move reruns only this fragment, so app.py's sync_url does not run: keep the
    # address bar up to date here.
    wanted = None if t == MARKER.default else MARKER.format(t)
    if st.query_params.get(MARKER.key) != wanted:
        if wanted is None:
            del st.query_params[MARKER.key]
        else:
            st.query_params[MARKER.key] = wanted

    metrics_row(main, t, tr("sig.values", schedule=main_label, t=t))
    if other is not None:
        metrics_row(other, t, tr("sig.values", schedule=other_label, t=t))

    x_title = tr("sig.axis.t")
    suffix = f"({other_label})"
    both = [(main, main_label, "solid")] + ([(other, other_label, "dash")] if other else [])

    def series(table: str, color: int) -> list[Series]:
        return [Series(text, getattr(p, table), color, dash) for p, text, dash in both]

    plot, formula = st.columns([5, 2], vertical_alignment="center")
    plot.plotly_chart(
        signal_noise_figure(
            main.sqrt_alphas_cumprod,
            main.sqrt_one_minus_alphas_cumprod,
            labels=(tr("sig.signal"), tr("sig.noise")),
            title=tr("sig.fig.scales"),
            x_title=x_title,
            y_title=tr("sig.axis.scale"),
            marker_t=t,
            compare=(other.sqrt_alphas_cumprod, other.sqrt_one_minus_alphas_cumprod, suffix)
            if other
            else None,
        ),
        theme="streamlit",
        key="sig.fig.scales",
    )
    with formula:
        explain(
            r"\begin{aligned} x_t &= \sqrt{\bar\alpha_t}\,x_0 \\ &+ \sqrt{1-\bar\alpha_t}\,\epsilon"
            r"\end{aligned}",
            "sig.text.scales",
        )

    plot, formula = st.columns([5, 2], vertical_alignment="center")
    plot.plotly_chart(
        alphas_cumprod_figure(
            series("alphas_cumprod", 2),
            title=tr("sig.fig.alpha"),
            x_title=x_title,
            y_title="ᾱ<sub>t</sub>",
            marker_t=t,
        ),
        theme="streamlit",
        key="sig.fig.alpha",
    )
    with formula:
        explain(r"\bar\alpha_t = \prod_{s=0}^{t} (1-\beta_s)", "sig.text.alpha")

    zero_snr = any(bool(np.any(p.snr <= 0)) for p, _, _ in both)
    plot, formula = st.columns([5, 2], vertical_alignment="center")
    plot.plotly_chart(
        snr_figure(
            series("snr", 3),
            title=tr("sig.fig.snr"),
            x_title=x_title,
            y_title=tr("sig.axis.snr"),
            marker_t=t,
            zero_note=tr("sig.note.snr_zero"),
        ),
        theme="streamlit",
        key="sig.fig.snr",
    )
    with formula:
        explain(r"\mathrm{SNR}(t) = \frac{\overline{\alpha}_t}{1-\bar\alpha_t}", "sig.text.snr")
    if zero_snr:
        st.caption(tr("sig.caption.snr_zero"))

    plot, formula = st.columns([5, 2], vertical_alignment="center")
    plot.plotly_chart(
        log_snr_figure(
            series("log_snr", 4),
            title=tr("sig.fig.logsnr"),
            x_title=x_title,
            y_title="log-SNR",
            marker_t=t,
            clipped_note=tr("sig.note.clipped"),
        ),
        theme="streamlit",
        key="sig.fig.logsnr",
    )
    with formula:
        explain(
            r"\log\mathrm{SNR}(t) = \log\frac{\overline{\alpha}_t}{1-\bar\alpha_t}",
            "sig.text.logsnr",
        )
    if zero_snr:
        floor, _ = log_snr_limits([p.log_snr for p, _, _ in both])
        st.caption(tr("sig.caption.clipped", floor=f"{floor:g}"))

    plot, formula = st.columns([5, 2], vertical_alignment="center")
    plot.plotly_chart(
        posterior_variance_figure(
            main.betas,
            main.posterior_variance,
            labels=("β<sub>t</sub>", "β̃<sub>t</sub>"),
            title=tr("sig.fig.posterior"),
            x_title=x_title,
            y_title=tr("sig.axis.variance"),
            marker_t=t,
            compare=(other.betas, other.posterior_variance, suffix) if other else None,
            zero_note=tr("sig.note.posterior_zero"),
        ),
        theme="streamlit",
        key="sig.fig.posterior",
    )
    with formula:
        explain(
            r"\tilde\beta_t = \frac{1-\bar\alpha_{t-1}}{1-\bar\alpha_t}\,\beta_t",
            "sig.text.posterior",
        )
    st.caption(tr("sig.caption.posterior"))


st.title(tr("sig.title"))
st.markdown(tr("sig.lead"))

s = settings()
process = s.process()
if process is None:
    st.stop()

bind(COMPARE)
compare = st.selectbox(
    tr("sig.compare"),
    COMPARE.choices,
    format_func=label,
    key=COMPARE.key,
    help=tr("sig.compare.help"),
)
other = None
if compare:
    try:
        params = tuple(schedule_params(compare).items())
        other = forward_process(s.timesteps, compare, params, s.zero_snr)
    except ValueError as error:
        st.error(tr("sig.compare.error", schedule=label(compare), reason=error), icon="⚠️")
main_label = label(s.schedule)
other_label = label(compare) + (" · " + tr("sig.defaults") if compare else "")
if compare == s.schedule:
    main_label += " · " + tr("sig.sidebar")
st.caption(
    tr("sig.shared", schedule=label(s.schedule), T=s.timesteps)
    + (" " + tr("sig.shared.zsnr") if s.zero_snr else "")
)
marker_and_plots(process, main_label, other, other_label)
