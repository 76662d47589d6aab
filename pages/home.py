"""Home: what the forward process is, its key formulas, and a card for each page."""

import streamlit as st

from pages.common import grid_columns, tr

st.title(tr("app.title"))
st.markdown(tr("home.lead"))

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
