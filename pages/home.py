"""Home: what the forward process is, its key formulas, a card for each page, and the tutorial's
questions with short answers, most with a button that opens the view showing the answer."""

import streamlit as st

from pages.common import grid_columns, settings, tr
from pages.views.questions import questions

st.title(tr("app.title"))
st.markdown(tr("home.lead"))
# the sidebar's process, for the worked example far below: why it cannot be built, or what is
# unusual about it, shows here, next to where it was changed
process = settings().process()

left, right = grid_columns("home-formulas", 2, min_width=360)  # one column on a tablet
with left:
    st.markdown(tr("home.step"))
    st.latex(
        r"q(x_t \mid x_{t-1}) = \mathcal{N}\!\left(\sqrt{1-\beta_t}\,x_{t-1},\ \beta_t \mathbf{I}\right)"
    )
    st.markdown(tr("home.closed"))
    st.latex(
        r"x_t = \sqrt{\overline{\alpha}_t}\,x_0 + \sqrt{1-\overline{\alpha}_t}\,\epsilon,"
        r"\quad \epsilon \sim \mathcal{N}(0, \mathbf{I})"
    )
with right:
    st.markdown(tr("home.alphabar"))
    # the app's indexing (home.index): state t is after steps 0 … t
    st.latex(r"\overline{\alpha}_t = \prod_{s=0}^{t} \alpha_s = \prod_{s=0}^{t} (1-\beta_s)")
    st.markdown(tr("home.snr"))
    st.latex(r"\mathrm{SNR}(t) = \frac{\overline{\alpha}_t}{1-\overline{\alpha}_t}")
st.caption(tr("home.index"))

# Where the closed form comes from, and the step back that the reverse process learns. Short
# lines: a formula wider than a phone scrolls in its box.
with st.expander(tr("home.derive")):
    st.markdown(tr("home.derive.step"))
    st.latex(r"x_t = \sqrt{\alpha_t}\,x_{t-1} + \sqrt{1-\alpha_t}\,\epsilon_{t-1}")
    st.markdown(tr("home.derive.twice"))
    st.latex(
        r"\begin{aligned}x_t &= \sqrt{\alpha_t\alpha_{t-1}}\,x_{t-2}"
        r" \\ &\quad + \sqrt{\alpha_t(1-\alpha_{t-1})}\,\epsilon_{t-2}"
        r" \\ &\quad + \sqrt{1-\alpha_t}\,\epsilon_{t-1}"
        r"\\ &= \sqrt{\alpha_t\alpha_{t-1}}\,x_{t-2} + \sqrt{1-\alpha_t\alpha_{t-1}}\,\bar\epsilon"
        r"\end{aligned}"
    )
    st.markdown(tr("home.derive.all"))
    st.latex(r"x_t = \sqrt{\overline{\alpha}_t}\,x_0 + \sqrt{1-\overline{\alpha}_t}\,\epsilon")
    st.latex(
        r"q(x_t \mid x_0) = \mathcal{N}\!\left(\sqrt{\overline{\alpha}_t}\,x_0,\ "
        r"(1-\overline{\alpha}_t)\mathbf{I}\right)"
    )
with st.expander(tr("home.posterior")):
    st.markdown(tr("home.posterior.text"))
    st.latex(
        r"q(x_{t-1} \mid x_t, x_0) = \mathcal{N}\!\left(\tilde\mu_t,\ \tilde\beta_t\mathbf{I}\right)"
    )
    st.latex(r"\tilde\beta_t = \frac{1-\overline{\alpha}_{t-1}}{1-\overline{\alpha}_t}\,\beta_t")
    st.latex(
        r"\begin{aligned}\tilde\mu_t &= \frac{\sqrt{\overline{\alpha}_{t-1}}\,\beta_t}"
        r"{1-\overline{\alpha}_t}\,x_0 \\ &\quad + \frac{\sqrt{\alpha_t}\,(1-\overline{\alpha}_{t-1})}"
        r"{1-\overline{\alpha}_t}\,x_t\end{aligned}"
    )
    st.caption(tr("home.posterior.after"))

st.subheader(tr("home.pages"))
cards = [
    ("pages/schedules.py", "nav.schedules", "home.card.schedules", "📈"),
    ("pages/image_noising.py", "nav.image", "home.card.image", "🖼️"),
    ("pages/histogram.py", "nav.histogram", "home.card.histogram", "📊"),
    ("pages/signal_noise.py", "nav.signal", "home.card.signal", "📉"),
]
columns = grid_columns("home-cards", len(cards), min_width=190)  # 2 x 2 on a tablet
for column, (path, title, text, icon) in zip(columns, cards, strict=True):
    with column.container(border=True, height="stretch"):
        st.markdown(f"#### {icon} {tr(title)}")
        st.write(tr(text))
        st.page_link(path, label=tr("home.open"), icon="➡️")

questions(process)
