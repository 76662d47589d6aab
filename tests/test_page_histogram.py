"""The histogram animation page under AppTest: data choices, samplers, the user's mixture, URL
state and bounds, both languages, the frame marker and the GIF download."""

import io
import json

import numpy as np
import pytest
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

from core import histogram as h
from core import scrub
from tests import apptest
from tests.apptest import texts


def charts(at: AppTest) -> list[dict]:
    """The animation and the three statistics figures (the snapshots follow them)."""
    return apptest.charts(at)[:4]


def snapshot_charts(at: AppTest) -> list[dict]:
    return apptest.charts(at)[4:]


PAGE = "pages/histogram.py"
SMALL = "1000"  # samples: enough for every check here, quick on a busy CPU


def open_page(**query: str) -> AppTest:
    return apptest.open_page(PAGE, **query)


def bar_names(spec) -> list[str]:
    return [trace["name"] for trace in spec["data"] if trace["type"] == "bar"]


def step_labels(spec) -> list[str]:
    return [step["label"] for step in spec["layout"]["sliders"][0]["steps"]]


@pytest.fixture
def downloads(monkeypatch):
    return apptest.record_deferred_downloads(monkeypatch)


@pytest.mark.parametrize("data", sorted(h.DATA))
def test_every_data_choice_shows_the_animation(data):
    at = open_page(**{"hist.data": data, "hist.n": SMALL})
    assert not at.exception
    assert not at.error
    animation, *stats = charts(at)
    assert len(animation["frames"]) >= 50
    assert len(bar_names(animation)) == 2  # both samplers by default
    density = [t for t in animation["data"] if t["type"] == "scatter" and "q(x_t)" in t["name"]]
    assert density and all("analytic" in t["name"] for t in density)  # all in closed form
    assert all("KS D = " in label for label in step_labels(animation))
    assert [[t["name"] for t in spec["data"]].count("exact") for spec in stats] == [1, 1, 1]
    assert at.selectbox(key="hist.data").value == data


@pytest.mark.parametrize(
    ("sampler", "bars"),
    [("closed", ["closed form, 1,000 samples"]), ("chain", ["Markov chain, 1,000 trajectories"])],
)
def test_one_sampler_shows_one_panel_without_ks(sampler, bars):
    at = open_page(**{"hist.sampler": sampler, "hist.n": SMALL})
    assert not at.exception
    animation, *_ = charts(at)
    assert bar_names(animation) == bars
    assert not any("KS" in label for label in step_labels(animation))
    assert "Kolmogorov" not in texts(at.caption)


def test_the_two_samplers_agree_by_the_ks_test():
    at = open_page(**{"hist.n": "10000", "hist.data": "bimodal"})
    assert not at.exception
    caption = next(c.value for c in at.caption if "Kolmogorov" in c.value)
    above = int(caption.split("Frames above it: ")[1].split(" of ")[0])
    # at the 0.1% level, 50 frames of one distribution rarely give more than one rejection
    assert above <= 1


@pytest.mark.parametrize(
    ("weights", "means", "stds", "message"),
    [
        ("0.5, abc", "0, 1", "1, 1", "“abc” in “Weights w_k” is not a number"),
        ("0.5, **2**", "0, 1", "1, 1", r"“\*\*2\*\*” in “Weights w_k” is not a number"),
        ("0.5, 0.5", "0, 1, 2", "1, 1", "as many weights"),
        ("0.5, 0.5", "0, 1", "1, 0", "standard deviation must be > 0"),
        ("0, 0", "0, 1", "1, 1", "weights must be ≥ 0 and not all 0"),
        ("1, -1", "0, 1", "1, 1", "weights must be ≥ 0"),
        ("", "", "", "is empty"),
        ("1", "1e9", "1", "at most 1000"),
        ("1", "nan", "1", "finite"),
        (",".join(["1"] * 11), ",".join(["0"] * 11), ",".join(["1"] * 11), "1 to 10 components"),
    ],
)
def test_bad_mixture_gives_a_message_and_the_app_keeps_working(weights, means, stds, message):
    at = open_page(**{"hist.data": "mixture", "hist.n": SMALL})
    assert not at.exception and not at.error
    at.text_input(key="hist.w").set_value(weights)
    at.text_input(key="hist.mu").set_value(means)
    at.text_input(key="hist.sigma").set_value(stds).run()
    assert not at.exception
    assert message in texts(at.error)
    assert not charts(at)
    at.text_input(key="hist.w").set_value("1, 3")
    at.text_input(key="hist.mu").set_value("-1, 2")
    at.text_input(key="hist.sigma").set_value("0.3, 0.6").run()
    assert not at.exception and not at.error
    animation, *_ = charts(at)
    heading = "#### Data x₀ ~ 0.25·N(−1, 0.3²) + 0.75·N(2, 0.6²)"
    assert heading in [element.value for element in at.markdown]
    assert at.query_params["hist.w"] == "1, 3"


def test_the_mixture_is_kept_while_another_choice_is_shown():
    at = open_page(**{"hist.data": "mixture", "hist.n": SMALL, "hist.w": "1, 2"})
    assert at.text_input(key="hist.w").value == "1, 2"
    at.selectbox(key="hist.data").select_index(0).run()
    assert not at.exception
    at.selectbox(key="hist.data").set_value("mixture").run()
    assert at.text_input(key="hist.w").value == "1, 2"


@pytest.mark.parametrize("count", ["50", "5000000", "1234", "many"])
def test_sample_count_out_of_bounds_is_ignored_with_a_notice(count):
    at = open_page(**{"hist.n": count, "hist.sampler": "closed"})
    assert not at.exception
    assert "hist.n" in texts(at.warning)
    assert at.select_slider(key="hist.n").value == 100_000


def test_url_state_restores():
    at = open_page(
        **{"hist.data": "bimodal", "hist.n": SMALL, "hist.sampler": "closed", "hist.t": "500"}
    )
    assert not at.exception
    assert not at.warning
    assert at.selectbox(key="hist.data").value == "bimodal"
    assert at.select_slider(key="hist.n").value == 1000
    assert at.radio(key="hist.sampler").value == "closed"
    # t snaps to the nearest frame, and the figure opens there
    t = at.select_slider(key="hist.t").value
    animation, *stats = charts(at)
    names = [frame["name"] for frame in animation["frames"]]
    assert abs(t - 500) <= 20 and str(t) in names
    assert animation["layout"]["sliders"][0]["active"] == names.index(str(t))
    assert [spec["layout"]["shapes"][-1]["x0"] for spec in stats] == [t] * 3
    assert at.query_params["hist.data"] == "bimodal"
    assert at.query_params["hist.n"] == SMALL
    assert at.query_params["hist.t"] == str(t)
    # the default values are not written
    at.selectbox(key="hist.data").set_value("gaussian").run()
    assert "hist.data" not in at.query_params


def test_a_frame_beyond_the_last_step_moves_there_with_a_notice():
    """A link's t beyond a smaller T shows the last frame and says so, as the other pages do;
    the default t and a t snapped to a nearby frame need no notice."""
    at = open_page(T="100", **{"hist.n": SMALL, "hist.t": "500"})
    assert not at.exception
    assert at.select_slider(key="hist.t").value == 99
    assert "t = 99" in " ".join(info.value for info in at.info)
    assert at.query_params["hist.t"] == "99"
    at.select_slider(key="hist.t").set_value(50).run()
    assert not [info for info in at.info if "t = " in info.value]
    snapped = open_page(T="100", **{"hist.n": SMALL, "hist.t": "51"})
    assert not [info for info in snapped.info if "t = " in info.value]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_both_languages(lang):
    at = open_page(lang=lang, **{"hist.n": SMALL})
    assert not at.exception
    assert not at.error
    assert at.title[0].value == ("直方图动画" if lang == "zh" else "Histogram animation")
    animation, *stats = charts(at)
    legend = " ".join(bar_names(animation))
    assert ("闭合形式" in legend) == (lang == "zh")
    assert ("closed form" in legend) == (lang == "en")
    assert stats[0]["layout"]["yaxis"]["title"]["text"] == (
        "x_t 的均值" if lang == "zh" else "mean of x_t"
    )


def test_gif_download_is_an_animated_gif(downloads, caplog):
    at = open_page(**{"hist.n": SMALL})
    assert not at.exception
    name = "forward-diffusion-histogram-gaussian.gif"
    assert name in downloads
    caplog.clear()
    with caplog.at_level("WARNING"):
        data = downloads[name]()  # outside the run, as when the button is pressed
    assert "ScriptRunContext" not in caplog.text  # it needs nothing of the session
    assert len(data) <= 3_000_000
    image = Image.open(io.BytesIO(data))
    assert image.format == "GIF" and image.is_animated
    assert image.n_frames == len(charts(at)[0]["frames"]) >= 50
    assert image.size[0] <= 800
    frames = []
    for k in (0, image.n_frames - 1):
        image.seek(k)
        frames.append(np.asarray(image.convert("RGB")))
    assert not np.array_equal(*frames)


def test_chain_is_capped_on_the_cpu_with_a_message():
    from pages.views.histogram import CHAIN_BUDGET_CPU

    m = CHAIN_BUDGET_CPU // 4000
    assert 1000 <= m < 50_000
    at = open_page(**{"T": "4000", "hist.n": "50000", "hist.sampler": "chain"})
    assert not at.exception
    assert f"{m:,} trajectories (not 50,000)" in texts(at.info)
    assert "closed form" not in texts(at.info)  # not drawn: the chain alone
    animation, *_ = charts(at)
    assert bar_names(animation) == [f"Markov chain, {m:,} trajectories"]
    both = open_page(**{"T": "4000", "hist.n": "50000", "hist.sampler": "both"})
    assert "The closed form uses all 50,000 samples" in texts(both.info)


@pytest.mark.parametrize(
    "query",
    [
        {"T": "10"},
        {"zsnr": "1", "hist.data": "uniform"},
        {"schedule": "cosine", "hist.data": "exponential", "seed": "7"},
        {"T": "4000", "schedule": "sigmoid", "hist.data": "bimodal"},
    ],
)
def test_sidebar_settings_work_with_the_page(query):
    at = open_page(**{"hist.n": SMALL, **query})
    assert not at.exception
    assert not at.error
    animation, *_ = charts(at)
    frames = len(animation["frames"])
    T = int(query.get("T", "1000"))
    # 50 frames, and the snapshots' ten evenly spaced t where those are not among them
    assert frames == T if T <= 50 else 50 <= frames <= 58
    names = [int(frame["name"]) for frame in animation["frames"]]
    assert names[0] == 0 and names[-1] == T - 1 and names == sorted(set(names))
    assert set(scrub.evenly_spaced(T, 10)) <= set(names)
    titles = [spec["layout"]["title"]["text"] for spec in snapshot_charts(at)]
    assert [int(title.split()[2]) for title in titles] == scrub.evenly_spaced(T, 10)


def test_same_seed_same_picture_and_another_seed_another():
    def bars(seed):
        st.cache_data.clear()  # recompute, do not read the cache
        at = open_page(**{"hist.n": SMALL, "seed": seed})
        assert not at.exception
        animation, *_ = charts(at)
        return json.dumps([frame["data"] for frame in animation["frames"]])

    first = bars("5")
    assert bars("5") == first
    assert bars("6") != first


def test_moving_t_draws_the_cached_figures_at_the_new_frame(monkeypatch):
    from pages.views import histogram as page  # the page's module, imported once per process

    built = []
    original = page.histogram_animation_figure

    def counted(*args, **kwargs):
        built.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(page, "histogram_animation_figure", counted)
    at = open_page(**{"hist.n": "1200", "hist.seed": "77"})  # settings no other test caches
    assert built == [1]
    ts = at.select_slider(key="hist.t").options
    for t in (ts[10], ts[30], ts[10]):
        at.select_slider(key="hist.t").set_value(int(t)).run()
        animation, *stats = charts(at)
        names = [frame["name"] for frame in animation["frames"]]
        index = names.index(str(t))
        assert animation["layout"]["sliders"][0]["active"] == index
        bars = animation["frames"][index]["data"][0]["y"]
        assert animation["data"][0]["y"] == bars  # the open frame's bars are shown
        assert [spec["layout"]["shapes"][-1]["x0"] for spec in stats] == [int(t)] * 3
    assert built == [1]  # built once, then copied
    at.selectbox(key="lang").set_value("zh").run()
    assert len(built) == 2  # another language: other labels


def test_the_chosen_frame_does_not_drift_when_the_frames_change():
    """Each new set of frames shows the frame nearest to the t the user chose: changing the
    schedule or T and back brings that very t back."""
    at = open_page(**{"hist.n": SMALL})
    options = [int(t) for t in at.select_slider(key="hist.t").options]
    chosen = options[len(options) // 2]
    at.select_slider(key="hist.t").set_value(chosen).run()
    for schedule in ("cosine", "sigmoid", "quadratic", "linear"):
        at.sidebar.selectbox(key="schedule").select(schedule).run()
        assert not at.exception
    assert int(at.select_slider(key="hist.t").value) == chosen
    for T in (1010, 990, 1000):
        at.sidebar.number_input(key="T").set_value(T).run()
    assert int(at.select_slider(key="hist.t").value) == chosen


def test_data_names_use_true_minus_signs_and_mixture_text_refuses_underscores():
    at = open_page(**{"hist.n": SMALL})
    options = " ".join(at.selectbox(key="hist.data").options)
    assert "N(−2, 0.5²)" in options and "-" not in options
    at = open_page(**{"hist.n": SMALL, "hist.data": "mixture"})
    at.text_input(key="hist.w").input("1_000, 1, 1").run()
    assert not at.exception
    assert r"“1\_000”" in texts(at.error)  # shown as typed: 1_000


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_data_menu_writes_each_law_as_the_figure_heading_does(lang):
    """The menu's labels once read "0 + Exp(mean 1)" and "(1−0.5)·N(…)" where the heading over
    the figure has "Exp(1)" and "0.5·N(…)"."""
    for name in ("gaussian", "bimodal", "uniform", "exponential"):
        at = open_page(lang=lang, **{"hist.n": SMALL, "hist.data": name})
        assert not at.exception
        heading = next(m.value for m in at.markdown if m.value.startswith("#### "))
        law = heading.split(" ~ ", 1)[1]
        menu = at.selectbox(key="hist.data")
        label = menu.options[list(h.DATA).index(name)]
        assert label.endswith(law) or f"{law}，" in label or f"{law}," in label, (label, law)
        assert "(1−" not in label and "0 + " not in label


def test_snapshots_are_the_animations_frames_at_the_tutorials_timesteps():
    at = open_page(**{"hist.n": SMALL, "lang": "zh"})
    assert not at.exception
    animation, *_ = charts(at)
    snapshots = snapshot_charts(at)
    assert len(snapshots) == 10
    frames = {frame["name"]: frame["data"] for frame in animation["frames"]}
    tops = set()
    for spec, t in zip(snapshots, [0, 111, 222, 333, 444, 555, 666, 777, 888, 999], strict=True):
        bars, line = spec["data"]
        closed_bars, closed_density = frames[str(t)][:2]  # the first panel: the closed form
        np.testing.assert_array_equal(apptest.array(bars["y"]), apptest.array(closed_bars["y"]))
        np.testing.assert_array_equal(apptest.array(line["y"]), apptest.array(closed_density["y"]))
        assert spec["layout"]["title"]["text"].startswith(f"t = {t}  ·  ᾱ_t = ")
        assert bars["name"] == "闭合形式，1,000 个样本"
        tops.add(spec["layout"]["yaxis"]["range"][1])
    assert len(tops) == 1  # one y axis for the row
    assert "快照" in texts(at.markdown) and "教程" in texts(at.caption)
