"""The tutorial's self-test questions, each with a short answer and, where the app can show the
answer, a button that opens that view (:func:`pages.common.open_view`)."""

from __future__ import annotations

import streamlit as st

from pages.common import open_view, tr

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


def questions() -> None:
    """The questions in their groups, each an expander with its answer and view button."""
    st.subheader(tr("home.questions"))
    st.caption(tr("home.questions.lead"))
    for group, items in QUESTIONS:
        st.markdown(f"**{tr(group)}**")
        for question, view in items:
            with st.expander(tr(question)):
                st.markdown(tr(f"{question}.answer"))
                if view is not None:
                    st.button(
                        tr("home.show"), key=f"view.{question}", icon="➡️", on_click=open_view,
                        args=view,
                    )  # fmt: skip
