"""The shell (app.py + pages/common.py) under AppTest: sidebar, URL state, languages, notices."""

import re

import numpy as np
import pytest
import torch
from streamlit.runtime.caching import cache_utils
from streamlit.testing.v1 import AppTest

from core import SCHEDULES, ForwardDiffusion
from core.i18n import translate
from core.schedules import schedule_params
from pages.common import BadValue, UrlParam, quoted
from pages.views.questions import QUESTIONS
from tests import apptest
from tests.conftest import APP

PAGES = [
    "pages/home.py",
    "pages/schedules.py",
    "pages/image_noising.py",
    "pages/histogram.py",
    "pages/signal_noise.py",
]


def make_app(**query):
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in query.items():
        at.query_params[key] = value
    return at


def warnings(at):
    return " ".join(str(element.value) for element in at.warning)


def test_home_runs_and_shows_the_formulas():
    at = make_app().run()
    assert not at.exception
    assert len(at.latex) >= 4
    assert at.sidebar.number_input(key="T").value == 1000
    assert at.sidebar.selectbox(key="schedule").value == "linear"
    assert not at.warning
    # ᾱ_t multiplies steps 0 … t, as the indexing under the formulas says and as
    # ForwardDiffusion computes it (ᾱ_0 = 1 − β_0)
    (alpha_bar,) = [latex.value for latex in at.latex if "prod" in latex.value]
    assert alpha_bar.count(r"\prod_{s=0}^{t}") == 2 and "s=1" not in alpha_bar


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_home_derives_the_closed_form_and_the_posterior(lang):
    at = make_app(lang=lang).run()
    assert not at.exception
    labels = {expander.label: expander for expander in at.main.expander}
    derive = labels[translate("home.derive", lang)]
    posterior = labels[translate("home.posterior", lang)]
    steps = " ".join(latex.value for latex in derive.latex)
    assert r"1-\alpha_t\alpha_{t-1}" in steps and r"q(x_t \mid x_0)" in steps
    (_, variance, mean) = (latex.value for latex in posterior.latex)
    # DDPM eq. 7, as ForwardDiffusion's posterior tables compute it
    assert (
        r"\tilde\beta_t = \frac{1-\overline{\alpha}_{t-1}}{1-\overline{\alpha}_t}\,\beta_t"
        in variance
    )
    assert r"\sqrt{\overline{\alpha}_{t-1}}\,\beta_t" in mean and r"\sqrt{\alpha_t}" in mean
    # and the page goes on after them: a card for each page
    assert [header.value for header in at.main.subheader] == [
        translate("home.pages", lang),
        translate("home.questions", lang),
    ]
    assert len(at.get("page_link")) == 4


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_home_asks_the_tutorials_questions_and_answers_them(lang):
    at = make_app(lang=lang).run()
    assert not at.exception
    labels = {expander.label: expander for expander in at.main.expander}
    asked = [question for _, items in QUESTIONS for question, _ in items]
    assert len(asked) == 12
    for _, items in QUESTIONS:
        for question, view in items:
            expander = labels[translate(question, lang)]
            assert expander.markdown[0].value == translate(f"{question}.answer", lang)
            buttons = [button.label for button in expander.button]
            assert buttons == ([translate("home.show", lang)] if view else [])


def example_table(at, lang):
    """The worked example's rows: label -> three numbers, as the home page shows them."""
    (expander,) = [e for e in at.main.expander if e.label == translate("q.direct_chain", lang)]
    (table,) = [m.value for m in expander.markdown if str(m.value).startswith("| |")]
    rows = {}
    for line in table.splitlines()[2:]:
        label, *values = [cell.strip() for cell in line.strip("|").split("|")]
        rows[label] = [float(v.replace("−", "-")) for v in values]
    return expander, rows


@pytest.mark.parametrize(("lang", "query"), [("en", {}), ("zh", {"seed": "5", "T": "300"})])
def test_home_works_the_tutorials_example_with_the_sidebar_settings(lang, query):
    at = make_app(lang=lang, **query).run()
    assert not at.exception
    expander, rows = example_table(at, lang)
    timesteps, seed = int(query.get("T", 1000)), int(query.get("seed", 0))
    fd = ForwardDiffusion(timesteps, "linear", device="cpu")
    x0 = torch.tensor([2.0, -1.0, 0.5], dtype=torch.float64)
    t = min(500, timesteps - 1)  # the tutorial's t = 500, or the last step of a shorter T
    closed, _ = fd.q_sample(x0, t, generator=torch.Generator().manual_seed(seed))
    chain = fd.q_sample_chain(x0, t, generator=torch.Generator().manual_seed(seed))
    alpha = fd.alphas_cumprod[t]
    assert rows["x₀"] == [2.0, -1.0, 0.5]
    np.testing.assert_allclose(rows[translate("q.example.mean", lang)], np.sqrt(alpha) * x0.numpy(),
                               atol=5e-5)  # fmt: skip
    np.testing.assert_allclose(rows[translate("q.example.std", lang)], [np.sqrt(1 - alpha)] * 3,
                               atol=5e-5)  # fmt: skip
    np.testing.assert_allclose(rows[translate("q.example.closed", lang)], closed, atol=5e-5)
    np.testing.assert_allclose(rows[translate("q.example.chain", lang)], chain, atol=5e-5)
    assert rows[translate("q.example.closed", lang)] != rows[translate("q.example.chain", lang)]
    caption = " ".join(c.value for c in expander.caption)
    assert f"t = {t}" in caption and f"{t + 1}" in caption


def test_the_worked_example_writes_no_negative_zero():
    at = make_app(zsnr="1", T="501").run()  # ᾱ_500 = 0: the mean of x₀ = −1 is −0.0
    assert not at.exception
    expander, rows = example_table(at, "en")
    assert rows[translate("q.example.mean", "en")] == [0.0, 0.0, 0.0]
    (table,) = [m.value for m in expander.markdown if str(m.value).startswith("| |")]
    assert "−0.0000" not in table


def test_the_worked_example_draws_anew_with_the_seed():
    at = make_app().run()
    _, first = example_table(at, "en")
    at.sidebar.number_input(key="seed").set_value(1).run()
    _, second = example_table(at, "en")
    closed, chain = translate("q.example.closed", "en"), translate("q.example.chain", "en")
    assert first[closed] != second[closed] and first[chain] != second[chain]
    assert first["x₀"] == second["x₀"]


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ({"T": "10"}, "With T = 10 this schedule ends at ᾱ = 0.904"),
        ({"linear.beta_start": "0.05", "lang": "zh"}, "β 从 0.05 开始、到 0.02 结束"),
    ],
)
def test_home_names_what_is_unusual_about_the_sidebars_process_at_its_top(query, shown):
    """A change in the sidebar on Home is answered next to it, not in a closed expander."""
    at = make_app(**query).run()
    assert not at.exception
    top = list(at.main.children.values())
    kinds = [type(node).__name__ for node in top]
    first_info = kinds.index("Info")
    assert first_info < kinds.index("Expander") and shown in top[first_info].value
    assert len(at.info) == 1  # not a second time inside the worked example
    _, rows = example_table(at, query.get("lang", "en"))
    assert rows["x₀"] == [2.0, -1.0, 0.5]


def test_the_worked_example_without_a_process_points_to_the_reason():
    def script():
        from pages.views.questions import worked_example

        worked_example(None)

    at = AppTest.from_function(script, default_timeout=60).run()
    assert not at.exception
    assert [caption.value for caption in at.caption] == [translate("q.example.none", "en")]
    assert not at.markdown


VIEWS = [(question, view) for _, items in QUESTIONS for question, view in items if view]


@pytest.mark.parametrize(("question", "view"), VIEWS, ids=[question for question, _ in VIEWS])
def test_every_question_view_is_a_clean_link(question, view):
    """A view opens like its link: no notice about the link, and the link stays as it is."""
    page, query = view
    at = apptest.open_page(page, **query)
    assert not at.exception
    assert not at.warning  # a bad or unknown link parameter would be named in a warning
    assert dict(at.query_params) == query


def test_the_question_views_show_what_the_answers_say():
    views = dict(VIEWS)
    beta_size = apptest.open_page(views["q.beta_size"][0], **views["q.beta_size"][1])
    assert "ᾱ = 0.904" in apptest.texts(beta_size.info)  # DDPM's β at T = 10 leaves data
    assert beta_size.slider(key="img.t").value == 9
    alpha_end = apptest.open_page(views["q.alpha_end"][0], **views["q.alpha_end"][1])
    metrics = {metric.label: metric.value for metric in alpha_end.metric}
    assert metrics[r"$\sqrt{\bar\alpha_t}$"] == "0.0682649"  # √ᾱ_T of scaled linear, as answered
    assert "0.068 for " in translate("q.alpha_end.answer", "en")


def test_a_question_button_asks_for_its_view_with_the_settings_reset():
    at = make_app(T="300", seed="7", lang="zh").run()
    at.button(key="view.q.alpha_end").click().run()
    assert not at.exception
    link = dict(at.query_params)
    assert link.pop("lang", "zh") == "zh"
    assert link == {"schedule": "scaled_linear", "sig.t": "999"}
    state = at.session_state
    assert (state["T"], state["seed"], state["lang"]) == (1000, 0, "zh")  # reset, but the language
    assert [title.value for title in at.title] == [translate("sig.title", "zh")]
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics[r"$\sqrt{\bar\alpha_t}$"] == "0.0682649"


TITLES = {
    "pages/schedules.py": "sch.title",
    "pages/image_noising.py": "img.title",
    "pages/histogram.py": "hist.title",
    "pages/signal_noise.py": "sig.title",
}


@pytest.mark.parametrize(("question", "view"), VIEWS, ids=[question for question, _ in VIEWS])
def test_every_question_button_opens_its_page(question, view):
    page, query = view
    at = make_app(T="300", seed="7", zsnr="1").run()  # settings a view must not keep
    at.button(key=f"view.{question}").click().run()
    assert not at.exception
    assert [title.value for title in at.title] == [translate(TITLES[page], "en")]
    assert dict(at.query_params) == query
    assert not at.warning


def test_url_restores_the_shared_settings():
    at = make_app(T="250", schedule="cosine", seed="7", zsnr="1", **{"cosine.s": "0.02"}).run()
    assert not at.exception
    assert not at.warning
    assert at.sidebar.number_input(key="T").value == 250
    assert at.sidebar.selectbox(key="schedule").value == "cosine"
    assert at.sidebar.number_input(key="seed").value == 7
    assert at.sidebar.toggle(key="zsnr").value is True
    assert at.sidebar.number_input(key="cosine.s").value == pytest.approx(0.02)
    settings = at.session_state["_settings"]
    assert (settings.timesteps, settings.schedule, settings.zero_snr) == (250, "cosine", True)
    assert dict(settings.params)["s"] == pytest.approx(0.02)


@pytest.mark.parametrize(
    ("query", "mentioned"),
    [
        ({"T": "abc"}, "T=abc"),
        ({"T": "5"}, "T=5"),
        ({"T": "1e9"}, "T=1e9"),
        ({"seed": "-4"}, "seed=-4"),
        ({"schedule": "<script>"}, "schedule=\\<script>"),  # shown as typed
        ({"linear.beta_end": "nan"}, "linear.beta_end=nan"),
        ({"linear.beta_end": "inf"}, "linear.beta_end=inf"),
        ({"zsnr": "maybe"}, "zsnr=maybe"),
        ({"lang": "fr"}, "lang=fr"),
        ({"bogus": "1"}, "bogus"),
        ({"": "x"}, "“”"),
    ],
)
def test_bad_url_values_are_ignored_with_a_notice(query, mentioned):
    at = make_app(**query).run()
    assert not at.exception
    assert mentioned in warnings(at)
    assert at.sidebar.number_input(key="T").value == 1000 or "T" not in query


def test_notices_quote_link_text_as_plain_text():
    """What a link says is quoted without control or direction characters (a right-to-left
    override would reverse the rest of the notice), cut with an ellipsis, markdown escaped."""
    at = make_app(
        schedule="\U0001f4a9\x00\u202elinear*", T="$1$", **{"x" * 60: "1", "[a](b)": "1"}
    ).run()
    assert not at.exception
    text = warnings(at)
    assert "\u202e" not in text and "\x00" not in text
    assert "schedule=\U0001f4a9linear\\*" in text
    assert "T=\\$1\\$" in text
    assert "x" * 39 + "…" in text and "x" * 40 not in text
    assert "\\[a\\](b)" in text


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (":smile: :red[r]", ":\u2060smile: :\u2060red\\[r\\]"),  # emoji, colour
        (":material/home:", ":\u2060material/home:"),  # icon
        ("a&lt;b <https://x.y>", "a\\&lt;b \\<https:\u2060//x.y>"),  # entity, autolink
        ("WWW.x.org me@x.org", "WWW\u2060.x.org me@\u2060x.org"),  # bare links
    ],
)
def test_link_text_cannot_become_an_emoji_icon_colour_or_link(text, shown):
    """Streamlit's markdown makes these even from escaped text: a word joiner (U+2060, unseen)
    after ":" and "@" (but not before a space) and inside "www." breaks them; entities and
    autolinks are escaped."""
    assert quoted(text, 100) == shown
    assert quoted(text, 100).replace("\u2060", "").replace("\\", "") == text


def test_a_notice_lists_the_allowed_values_but_not_the_empty_one():
    """hide= takes "" (the default: shown) or "controls": the notice names only the latter."""
    at = make_app(hide="all").run()
    assert "hide=all" in warnings(at)
    assert "allowed: controls" in warnings(at)
    assert "allowed: ," not in warnings(at)


def test_a_parameter_of_another_schedule_is_named_as_such():
    """cosine.s with the linear schedule is a real parameter, not an unknown one."""
    notice = warnings(make_app(**{"cosine.s": "0.1", "nope.s": "1"}).run())
    assert "“cosine.s” belongs to the Cosine schedule" in notice
    assert "unknown parameter “nope.s”" in notice
    assert "unknown parameter “cosine.s”" not in notice
    # a key of the schedules page's own parameters, on another page: not the sidebar's
    elsewhere = warnings(make_app(schedule="cosine", **{"sch.cosine.s": "0.1"}).run())
    assert "unknown parameter “sch.cosine.s”" in elsewhere
    chosen = make_app(schedule="cosine", **{"cosine.s": "0.1"}).run()
    assert not chosen.warning
    assert chosen.sidebar.number_input(key="cosine.s").value == 0.1


def test_a_chinese_notice_separates_its_problems_with_chinese_punctuation():
    at = make_app(lang="zh", T="abc", foo="1").run()
    assert "T=abc" in warnings(at) and "foo" in warnings(at)
    assert "；" in warnings(at) and "; " not in warnings(at)
    assert "; " in warnings(make_app(T="abc", foo="1").run())


def test_repeated_url_keys_use_the_first_value_with_a_notice():
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["T"] = ["300", "400"]
    at.run()
    assert not at.exception
    assert at.sidebar.number_input(key="T").value == 300
    assert "more than once" in warnings(at)


def test_notice_is_shown_once_then_gone():
    at = make_app(bogus="1").run()
    assert "bogus" in warnings(at)
    at.sidebar.number_input(key="T").set_value(200).run()
    assert not at.warning
    assert at.sidebar.number_input(key="T").value == 200
    assert at.session_state["_settings"].timesteps == 200


def test_changing_the_schedule_resets_its_parameters_to_the_published_defaults():
    at = make_app().run()
    at.sidebar.number_input(key="linear.beta_end").set_value(0.03).run()
    at.sidebar.selectbox(key="schedule").set_value("scaled_linear").run()
    assert not at.exception
    defaults = schedule_params("scaled_linear")
    for name, default in defaults.items():
        assert at.sidebar.number_input(key=f"scaled_linear.{name}").value == default


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_each_schedule_shows_all_of_its_parameters(schedule):
    at = make_app(schedule=schedule).run()
    keys = {widget.key for widget in at.sidebar.number_input}
    assert {f"{schedule}.{name}" for name in schedule_params(schedule)} <= keys


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_page_renders_in_both_languages(page, lang):
    at = make_app(lang=lang)
    at.switch_page(page).run()
    assert not at.exception
    assert not at.error
    label = at.sidebar.selectbox(key="lang").label
    assert label == ("语言" if lang == "zh" else "Language")


def test_presentation_mode_hides_the_sidebar_but_keeps_the_settings():
    at = make_app(hide="controls", T="300").run()
    assert not at.exception
    assert any("stSidebar" in str(element.proto.body) for element in at.get("html"))
    assert at.session_state["_settings"].timesteps == 300


def test_device_badge_names_the_device():
    at = make_app().run()
    badges = [element.value for element in at.sidebar.markdown if "badge" in element.value]
    assert len(badges) == 1
    assert re.fullmatch(
        r":blue-badge\[⚡ Computing on: (CPU|GPU: .+|Apple GPU \(MPS\))\]", badges[0]
    )


@pytest.mark.parametrize(
    ("param", "text", "expected"),
    [
        (UrlParam("n", 5, "int", 1, 10), " 7 ", 7),
        (UrlParam("x", 0.5, "float", 0.0, 1.0), "0.25", 0.25),
        (UrlParam("b", False, "bool"), "true", True),
        (UrlParam("c", "a", "choice", choices=("a", "b")), "b", "b"),
        (UrlParam("m", ["a"], "choices", choices=("a", "b")), "b,a", ["b", "a"]),
    ],
)
def test_url_param_parses_good_values(param, text, expected):
    assert param.parse(text) == expected
    assert param.parse(param.format(expected)) == expected


@pytest.mark.parametrize(
    ("param", "text"),
    [
        (UrlParam("n", 5, "int", 1, 10), "11"),
        (UrlParam("n", 5, "int", 1, 10), "2.5"),
        (UrlParam("x", 0.5, "float", 0.0, 1.0), "nan"),
        (UrlParam("x", 0.5, "float", 0.0, 1.0), "-inf"),
        (UrlParam("x", 0.5, "float", 0.0, 1.0), ""),
        (UrlParam("b", False, "bool"), "2"),
        (UrlParam("c", "a", "choice", choices=("a", "b")), "A"),
        (UrlParam("m", ["a"], "choices", choices=("a", "b")), "a,a"),
        (UrlParam("m", ["a"], "choices", choices=("a", "b")), ","),
    ],
)
def test_url_param_refuses_bad_values(param, text):
    with pytest.raises(BadValue):
        param.parse(text)


def test_widgets_keep_working_across_reruns_in_chinese():
    at = make_app(lang="zh", schedule="cosine").run()
    at.sidebar.number_input(key="T").set_value(300).run()
    assert not at.exception
    assert at.sidebar.selectbox(key="schedule").value == "cosine"
    assert at.session_state["_settings"].timesteps == 300


@pytest.mark.parametrize(
    ("env", "cores", "expected"),
    [("", 2, 1), ("", 8, 2), ("", 64, 4), ("3", 2, 3), ("zero", 8, 2), ("0", 8, 2)],
)
def test_torch_threads_share_the_cores_between_sessions(monkeypatch, env, cores, expected):
    from pages.common import torch_threads

    monkeypatch.setenv("DIFFUSION_TORCH_THREADS", env)
    monkeypatch.setattr("os.cpu_count", lambda: cores)
    assert torch_threads() == expected


@pytest.mark.parametrize("page", PAGES)
def test_reruns_make_no_cached_function_again(page, monkeypatch):
    """A cached function is made when its module is imported, not on every rerun: Streamlit
    hashes the source of each one it is given (milliseconds per function)."""
    made = []
    original = cache_utils._make_function_key

    def counting(cache_type, func):
        made.append(func.__qualname__)
        return original(cache_type, func)

    at = make_app().switch_page(page).run()
    assert not at.exception
    monkeypatch.setattr(cache_utils, "_make_function_key", counting)
    at.run()
    at.run()
    assert not at.exception
    assert made == []


def test_a_setting_no_longer_drawn_leaves_the_link_without_a_notice():
    """linear.beta_end went into the URL from a click; picking cosine stops drawing it: it
    leaves the URL silently, and a link's own unknown keys are still reported."""
    at = make_app(bogus="1").switch_page("pages/signal_noise.py").run()
    assert "bogus" in warnings(at)
    at.sidebar.number_input(key="linear.beta_end").set_value(0.03).run()
    assert at.query_params["linear.beta_end"] == "0.03"
    at.sidebar.selectbox(key="schedule").select("cosine").run()
    assert not at.exception
    assert not at.warning
    assert "linear.beta_end" not in at.query_params


def test_page_settings_survive_a_visit_to_another_page():
    at = make_app().switch_page("pages/signal_noise.py").run()
    at.slider(key="sig.t").set_value(251).run()
    at.switch_page("pages/histogram.py").run()
    assert "sig.t" not in at.query_params
    at.switch_page("pages/signal_noise.py").run()
    assert not at.exception and not at.warning
    assert at.slider(key="sig.t").value == 251
    assert at.query_params["sig.t"] == "251"


def test_settings_hidden_by_a_toggle_come_back_with_it():
    at = make_app(**{"sch.own_t": "true"}).switch_page("pages/schedules.py").run()
    at.number_input(key="sch.linear.T").set_value(100).run()
    at.toggle(key="sch.own_t").set_value(False).run()
    assert not at.warning
    at.toggle(key="sch.own_t").set_value(True).run()
    assert at.number_input(key="sch.linear.T").value == 100


def test_the_histogram_frame_survives_a_bad_mixture_input():
    """A bad mixture stops the page before its frame slider: the frame comes back after."""
    at = make_app(**{"hist.data": "mixture", "hist.n": "1000"})
    at.switch_page("pages/histogram.py").run()
    frames = at.select_slider(key="hist.t").options
    chosen = int(frames[len(frames) // 3])
    at.select_slider(key="hist.t").set_value(chosen).run()
    at.text_input(key="hist.mu").input("1, 2").run()
    assert at.error and not at.warning
    at.text_input(key="hist.mu").input("-3, 0.5, 4").run()
    assert not at.error and not at.exception
    assert at.select_slider(key="hist.t").value == chosen
    assert at.query_params["hist.t"] == str(chosen)
