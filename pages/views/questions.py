"""The tutorial's self-test questions, each with a short answer and, where the app can show the
answer, a button that opens that view (:func:`pages.common.open_view`); under the question on
direct sampling against the chain, the tutorial's worked example."""

from __future__ import annotations

import math

import streamlit as st
import torch

from core import ForwardDiffusion
from pages.common import open_view, settings, tr

View = tuple[str, dict[str, str]]  # (page, the query of its link)

# (group, [(question key, (page, link query) of the view showing the answer, or None)])
QUESTIONS: tuple[tuple[str, tuple[tuple[str, View | None], ...]], ...] = (
    (
        "q.group.basics",
        (
            ("q.fixed", None),
            ("q.gaussian", ("pages/histogram.py", {"hist.data": "exponential"})),
            ("q.markov", ("pages/histogram.py", {})),
        ),
    ),
    (
        "q.group.schedules",
        (
            (
                "q.linear_cosine",
                ("pages/schedules.py", {"sch.tab": "alpha"}),
            ),
            ("q.beta_size", ("pages/image_noising.py", {"T": "10", "img.t": "9"})),
            (
                "q.choose",
                (
                    "pages/schedules.py",
                    {
                        "sch.schedules": "linear,cosine,quadratic,scaled_linear,sigmoid",
                        "sch.tab": "logsnr",
                    },
                ),
            ),
        ),
    ),
    (
        "q.group.closed",
        (
            ("q.closed_why", ("pages/image_noising.py", {})),
            ("q.derive", None),
            ("q.direct_chain", ("pages/histogram.py", {"hist.data": "bimodal"})),
        ),
    ),
    (
        "q.group.further",
        (
            ("q.non_markov", None),
            (
                "q.alpha_end",
                ("pages/signal_noise.py", {"schedule": "scaled_linear", "sig.t": "999"}),
            ),
            ("q.reverse", ("pages/signal_noise.py", {"sig.t": "500"})),
        ),
    ),
)


# The tutorial's worked example (§3.3): three values of x_0, noised to t = 500 both ways.
EXAMPLE_X0 = (2.0, -1.0, 0.5)
EXAMPLE_T = 500


def _number(value: float) -> str:
    """Four decimals with a true minus sign; a value that rounds to zero is "0.0000", not
    "−0.0000" (the mean of −1 when ᾱ_t is 0 or nearly)."""
    text = f"{value:.4f}"
    return ("0.0000" if float(text) == 0 else text).replace("-", "−")


def worked_example(process: ForwardDiffusion | None) -> None:
    """x_0 = [2, −1, 0.5] at t = 500 (or the last step, if T is shorter) with the sidebar's
    ``process`` and seed: the mean and spread of q(x_t | x_0), and one draw each from the
    closed form and from the Markov chain, on the CPU whatever the pages compute on. Without
    a process (the sidebar's settings cannot make one), a line pointing to the reason."""
    if process is None:
        st.caption(tr("q.example.none"))
        return
    s = settings()
    t = min(EXAMPLE_T, s.timesteps - 1)
    x0 = torch.tensor(EXAMPLE_X0, dtype=torch.float64)
    closed, _ = process.q_sample(x0, t, generator=torch.Generator().manual_seed(s.seed))
    chain = process.q_sample_chain(x0, t, generator=torch.Generator().manual_seed(s.seed))
    alpha = float(process.alphas_cumprod[t])
    rows = (
        ("x₀", EXAMPLE_X0),
        (tr("q.example.mean"), [math.sqrt(alpha) * x for x in EXAMPLE_X0]),
        (tr("q.example.std"), [math.sqrt(1.0 - alpha)] * len(EXAMPLE_X0)),
        (tr("q.example.closed"), closed.tolist()),
        (tr("q.example.chain"), chain.tolist()),
    )
    table = "| | x₀[0] | x₀[1] | x₀[2] |\n|---|--:|--:|--:|\n" + "\n".join(
        f"| {label} | " + " | ".join(_number(v) for v in values) + " |" for label, values in rows
    )
    st.caption(tr("q.example", t=t, alpha=f"{alpha:.4g}", steps=t + 1))
    st.markdown(table)


def questions(process: ForwardDiffusion | None) -> None:
    """The questions in their groups, each an expander with its answer and view button; the
    worked example uses ``process``, the sidebar's (None when it cannot be built)."""
    st.subheader(tr("home.questions"))
    st.caption(tr("home.questions.lead"))
    for group, items in QUESTIONS:
        st.markdown(f"**{tr(group)}**")
        for question, view in items:
            with st.expander(tr(question)):
                st.markdown(tr(f"{question}.answer"))
                if question == "q.direct_chain":
                    worked_example(process)
                if view is not None:
                    st.button(
                        tr("home.show"), key=f"view.{question}", icon="➡️", on_click=open_view,
                        args=view,
                    )  # fmt: skip
