"""Signal & noise: √ᾱ_t and √(1-ᾱ_t), ᾱ_t, SNR, log-SNR, β_t against the posterior variance
β̃_t, and the two weights of the posterior mean, for the sidebar's schedule (optionally overlaid
with a second schedule), with a timestep marker shared by all plots and the exact values at that
timestep."""

from __future__ import annotations

import math

import numpy as np
import streamlit as st

from core import SCHEDULES, ForwardDiffusion
from core.figures import (
    Series,
    Spec,
    alphas_cumprod_figure,
    log_snr_figure,
    log_snr_limits,
    posterior_mean_figure,
    posterior_variance_figure,
    shown_number,
    signal_noise_figure,
    snr_figure,
    with_marker,
    without_legend,
)
from core.i18n import DEFAULT_LANGUAGE, translate
from core.schedules import schedule_params
from pages.common import (
    MAX_T,
    UrlParam,
    bind,
    chart_key,
    forward_process,
    fragment,
    plotly_chart,
    settings,
    sync_url_now,
    timestep_slider,
    tr,
)

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


# Every value has the width of the longest at six significant digits ("-0.000730386", 133 px
# at 1.5rem), so two schedules' values line up column by column, seven to a row at 1920 px.
METRIC_WIDTH = 140
_METRICS_CSS = (
    "<style>[class*='st-key-sig-metrics-'] [data-testid='stMetricValue'] {font-size: 1.5rem;}"
    "</style>"
)


def metrics_row(process: ForwardDiffusion, t: int, caption: str, key: str) -> None:
    st.caption(caption)
    with st.container(horizontal=True, gap="small", key=key):
        for name, table in METRICS:
            st.metric(name, number(float(getattr(process, table)[t])), width=METRIC_WIDTH)


def explain(formula: str, text_key: str) -> None:
    st.latex(formula)
    st.markdown(tr(text_key))


ProcessKey = tuple[int, str, tuple[tuple[str, float], ...], bool]
# (plot key, formula, explanation key) of the plots, top to bottom
PLOTS = (
    (
        "scales",
        r"\begin{aligned} x_t &= \sqrt{\bar\alpha_t}\,x_0 \\ &+ \sqrt{1-\bar\alpha_t}\,\epsilon"
        r"\end{aligned}",
        "sig.text.scales",
    ),
    ("alpha", r"\bar\alpha_t = \prod_{s=0}^{t} (1-\beta_s)", "sig.text.alpha"),
    ("snr", r"\mathrm{SNR}(t) = \frac{\overline{\alpha}_t}{1-\bar\alpha_t}", "sig.text.snr"),
    (
        "logsnr",
        r"\begin{aligned} &\log\mathrm{SNR}(t) \\ &= \log\frac{\overline{\alpha}_t}{1-\bar\alpha_t}"
        r"\end{aligned}",
        "sig.text.logsnr",
    ),
    (
        "posterior",
        r"\tilde\beta_t = \frac{1-\bar\alpha_{t-1}}{1-\bar\alpha_t}\,\beta_t",
        "sig.text.posterior",
    ),
    (
        "posterior_mean",
        r"\begin{aligned} \tilde\mu_t &= c_1\,x_0 + c_2\,x_t \\ c_1 &= "
        r"\frac{\beta_t}{1-\bar\alpha_t}\sqrt{\bar\alpha_{t-1}} \\ c_2 &= "
        r"\frac{1-\bar\alpha_{t-1}}{1-\bar\alpha_t}\sqrt{\alpha_t} \end{aligned}",
        "sig.text.posterior_mean",
    ),
)


@st.cache_resource(max_entries=20, ttl=3600, show_spinner=False)
def plain_figure(
    plot: str, processes: tuple[ProcessKey, ...], labels: tuple[str, ...], lang: str
) -> Spec:
    """Plot ``plot`` of the processes (the sidebar's, then the compared one) without a marker
    and without a legend (the page draws the key under it, :func:`pages.common.chart_key`).

    Keyed on plain values and shared by every session: nothing changes it after it is built
    (:func:`core.figures.with_marker` only reads it).
    """
    return without_legend(_figure(plot, processes, labels, lang))


def _figure(
    plot: str, processes: tuple[ProcessKey, ...], labels: tuple[str, ...], lang: str
) -> Spec:
    def text(key: str) -> str:
        return translate(key, lang)

    fds = [forward_process(*key) for key in processes]
    main, other = fds[0], (fds[1] if len(fds) > 1 else None)
    x_title = text("sig.axis.t")
    suffix = f"({labels[1]})" if other is not None else ""
    dashes = ("solid", "dash")

    def series(table: str, color: int) -> list[Series]:
        return [
            Series(label, getattr(fd, table), color, dash)
            for fd, label, dash in zip(fds, labels, dashes, strict=False)
        ]

    if plot == "scales":
        return signal_noise_figure(
            main.sqrt_alphas_cumprod,
            main.sqrt_one_minus_alphas_cumprod,
            labels=(text("sig.signal"), text("sig.noise")),
            title=text("sig.fig.scales"),
            x_title=x_title,
            y_title=text("sig.axis.scale"),
            compare=(other.sqrt_alphas_cumprod, other.sqrt_one_minus_alphas_cumprod, suffix)
            if other
            else None,
        )
    if plot == "alpha":
        return alphas_cumprod_figure(
            series("alphas_cumprod", 2),
            title=text("sig.fig.alpha"),
            x_title=x_title,
            y_title="ᾱ<sub>t</sub>",
        )
    if plot == "snr":
        return snr_figure(
            series("snr", 3),
            title=text("sig.fig.snr"),
            x_title=x_title,
            y_title=text("sig.axis.snr"),
            zero_note=text("sig.note.snr_zero"),
        )
    if plot == "logsnr":
        return log_snr_figure(
            series("log_snr", 4),
            title=text("sig.fig.logsnr"),
            x_title=x_title,
            y_title="log-SNR",
            clipped_note=text("sig.note.clipped"),
        )
    if plot == "posterior":
        return posterior_variance_figure(
            main.betas,
            main.posterior_variance,
            labels=("β<sub>t</sub>", "β̃<sub>t</sub>"),
            title=text("sig.fig.posterior"),
            x_title=x_title,
            y_title=text("sig.axis.variance"),
            compare=(other.betas, other.posterior_variance, suffix) if other else None,
            zero_note=text("sig.note.posterior_zero"),
        )
    if plot == "posterior_mean":
        return posterior_mean_figure(
            main.posterior_mean_coef1,
            main.posterior_mean_coef2,
            labels=(text("sig.weight.x0"), text("sig.weight.xt")),
            title=text("sig.fig.posterior_mean"),
            x_title=x_title,
            y_title=text("sig.axis.weight"),
            compare=(other.posterior_mean_coef1, other.posterior_mean_coef2, suffix)
            if other
            else None,
        )
    raise ValueError(f"unknown plot {plot!r}")


def marked_figure(
    plot: str, processes: tuple[ProcessKey, ...], labels: tuple[str, ...], lang: str, t: int
) -> Spec:
    """:func:`plain_figure` with the marker at t: a shallow copy of its layout (tens of µs, less
    than a cache lookup), so a new t never rebuilds."""
    return with_marker(plain_figure(plot, processes, labels, lang), t)


@fragment
def marker_and_plots(keys: tuple[ProcessKey, ...], labels: tuple[str, ...], lang: str) -> None:
    """The marker slider, the values at the marker and every plot (reruns alone on a move)."""
    fds = [forward_process(*key) for key in keys]
    main = fds[0]
    last = main.timesteps - 1
    bind(MARKER)
    t = timestep_slider(MARKER, last, tr("sig.t"), tr("sig.t.help"), notice="t.clamped")
    sync_url_now(MARKER, t)  # a marker move reruns only this fragment

    st.html(_METRICS_CSS)
    for i, (fd, label) in enumerate(zip(fds, labels, strict=True)):
        metrics_row(fd, t, tr("sig.values", schedule=label, t=t), key=f"sig-metrics-{i}")

    zero_snr = any(bool(np.any(fd.snr <= 0)) for fd in fds)
    for plot, formula_tex, text_key in PLOTS:
        column, formula = st.columns([5, 2], vertical_alignment="center")
        with column:
            spec = marked_figure(plot, keys, labels, lang, t)
            plotly_chart(spec, theme="streamlit", key=f"sig.fig.{plot}")
            chart_key(spec)
        with formula:
            explain(formula_tex, text_key)
        if plot == "snr" and zero_snr:
            st.caption(tr("sig.caption.snr_zero"))
        if plot == "logsnr" and zero_snr:
            floor, _ = log_snr_limits([fd.log_snr for fd in fds])
            st.caption(tr("sig.caption.clipped", floor=shown_number(floor)))
        if plot == "posterior":
            st.caption(tr("sig.caption.posterior"))


def main() -> None:
    """The page."""
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
    keys: tuple[ProcessKey, ...] = ((s.timesteps, s.schedule, s.params, s.zero_snr),)
    labels = (main_label,)
    if other is not None:
        keys += ((s.timesteps, compare, params, s.zero_snr),)
        labels += (other_label,)
    marker_and_plots(keys, labels, st.session_state.get("lang", DEFAULT_LANGUAGE))
