"""The signal & noise page under AppTest: plots, the shared timestep marker, metrics, URL state."""

import numpy as np
import pytest

from core import ForwardDiffusion
from tests import apptest
from tests.apptest import array, charts, texts

PAGE = "pages/signal_noise.py"
METRICS = {
    r"$\bar\alpha_t$": "alphas_cumprod",
    r"$\sqrt{\bar\alpha_t}$": "sqrt_alphas_cumprod",
    r"$\sqrt{1-\bar\alpha_t}$": "sqrt_one_minus_alphas_cumprod",
    "SNR": "snr",
    "log-SNR": "log_snr",
    r"$\beta_t$": "betas",
    r"$\tilde\beta_t$": "posterior_variance",
}


def open_page(**query):
    return apptest.open_page(PAGE, **query)


def shown(value):
    """How the page writes a table value."""
    if value == float("-inf"):
        return "−∞"
    return f"{value:.6g}"


def expected_metrics(fd, t):
    return [(label, shown(float(getattr(fd, table)[t]))) for label, table in METRICS.items()]


def metrics(at):
    return [(metric.label, metric.value) for metric in at.metric]


def marker_positions(at):
    return [[shape["x0"] for shape in spec["layout"].get("shapes", [])] for spec in charts(at)]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_runs_in_both_languages(lang):
    at = open_page(lang=lang)
    assert not at.exception
    assert not at.error
    assert not at.warning
    assert at.title[0].value == ("信号与噪声" if lang == "zh" else "Signal and noise")
    assert len(charts(at)) == 6
    assert len(at.latex) == 6  # one formula beside every plot
    assert [label for label, _ in metrics(at)] == list(METRICS)
    fd = ForwardDiffusion(1000, "linear", device="cpu")
    assert metrics(at) == expected_metrics(fd, 250)
    assert marker_positions(at) == [[250]] * 6


def test_the_posterior_mean_weights_are_the_cores_and_follow_the_sidebar():
    at = open_page(T="300", schedule="cosine", lang="zh")
    assert not at.exception
    weights = charts(at)[5]
    fd = ForwardDiffusion(300, "cosine", device="cpu")
    c1, c2 = (array(trace["y"]) for trace in weights["data"])
    np.testing.assert_array_equal(c1, fd.posterior_mean_coef1)
    np.testing.assert_array_equal(c2, fd.posterior_mean_coef2)
    assert weights["layout"]["title"]["text"] == "后验均值 μ̃<sub>t</sub> 的权重"
    assert [trace["name"] for trace in weights["data"]][0] == "c₁：x<sub>0</sub> 的权重"
    assert r"\tilde\mu_t" in at.latex[5].value
    assert "x_t 的权重升到接近 √α_t" in texts(at.markdown)


def test_moving_the_marker_moves_every_line_and_shows_the_table_values():
    at = open_page()
    at.slider(key="sig.t").set_value(600).run()
    assert not at.exception
    fd = ForwardDiffusion(1000, "linear", device="cpu")
    assert metrics(at) == expected_metrics(fd, 600)
    assert marker_positions(at) == [[600]] * 6
    assert at.query_params["sig.t"] == "600"
    at.slider(key="sig.t").set_value(250).run()
    assert "sig.t" not in at.query_params  # the default is not written


def test_url_restores_schedule_t_and_marker():
    at = open_page(schedule="cosine", T="200", **{"sig.t": "50"})
    assert not at.exception
    assert not at.warning
    assert at.slider(key="sig.t").value == 50
    assert at.slider(key="sig.t").max == 199
    fd = ForwardDiffusion(200, "cosine", device="cpu")
    assert metrics(at) == expected_metrics(fd, 50)
    assert marker_positions(at) == [[50]] * 6
    assert "Cosine" in texts(at.caption)


def test_url_with_garbage_shows_a_notice_and_keeps_working():
    at = open_page(T="abc", **{"sig.t": "-5", "sig.compare": "nope"})
    assert not at.exception
    notice = texts(at.warning)
    for part in ("T=abc", "sig.t=-5", "sig.compare=nope"):
        assert part in notice
    assert at.slider(key="sig.t").value == 250
    assert at.selectbox(key="sig.compare").value == ""
    assert len(charts(at)) == 6


def test_marker_beyond_the_last_step_is_moved_there():
    at = open_page(T="100", **{"sig.t": "3000"})
    assert not at.exception
    assert at.slider(key="sig.t").value == 99
    assert "t = 99" in texts(at.info)
    fd = ForwardDiffusion(100, "linear", device="cpu")
    assert metrics(at) == expected_metrics(fd, 99)


def test_the_marker_stays_where_it_is_when_T_changes():
    """A new T gives the slider a new range: the marker keeps its t; a smaller T moves it to the
    last step, with a notice (not for the default), and it comes back to the t chosen when T
    grows again, until another t is chosen."""
    at = open_page(**{"sig.t": "400"})
    at.number_input(key="T").set_value(1010).run()
    assert not at.exception
    assert at.slider(key="sig.t").value == 400
    assert at.query_params["sig.t"] == "400"
    at.number_input(key="T").set_value(500).run()
    assert at.slider(key="sig.t").value == 400
    at.number_input(key="T").set_value(100).run()
    assert at.slider(key="sig.t").value == 99
    assert "t = 99" in texts(at.info)
    at.number_input(key="T").set_value(200).run()  # still too small: the last step again
    assert at.slider(key="sig.t").value == 199
    at.number_input(key="T").set_value(4000).run()
    assert at.slider(key="sig.t").value == 400
    assert at.query_params["sig.t"] == "400"
    assert not at.info
    at.number_input(key="T").set_value(100).run()
    at.slider(key="sig.t").set_value(42).run()  # a t chosen at the smaller T stays
    at.number_input(key="T").set_value(1000).run()
    assert at.slider(key="sig.t").value == 42
    fresh = open_page(T="10")  # the default marker (250) beyond T: moved, nobody to tell
    assert fresh.slider(key="sig.t").value == 9
    assert "t = " not in texts(fresh.info)


def test_second_schedule_is_overlaid_dashed_with_its_own_values():
    at = open_page(**{"sig.t": "400"})
    at.selectbox(key="sig.compare").select_index(5).run()  # sigmoid
    assert not at.exception
    assert at.query_params["sig.compare"] == "sigmoid"
    scales, alpha, snr, log_snr, posterior, weights = charts(at)
    assert len(scales["data"]) == 4 and len(posterior["data"]) == 4 and len(weights["data"]) == 4
    assert len(alpha["data"]) == 2 and len(snr["data"]) == 2 and len(log_snr["data"]) == 2
    assert [trace["line"]["dash"] for trace in alpha["data"]] == ["solid", "dash"]
    sigmoid = ForwardDiffusion(1000, "sigmoid", device="cpu")
    assert metrics(at)[7:] == expected_metrics(sigmoid, 400)
    assert "Sigmoid" in texts(at.caption)


def test_zero_terminal_snr_stays_finite_and_says_so():
    at = open_page(zsnr="1", T="100", **{"sig.t": "99"})
    assert not at.exception
    values = dict(metrics(at))
    assert values["SNR"] == "0" and values["log-SNR"] == "−∞"
    assert values[r"$\bar\alpha_t$"] == "0"
    scales, alpha, snr, log_snr, posterior, weights = charts(at)
    assert snr["layout"]["yaxis"]["type"] == "log"
    assert any(trace["mode"] == "markers" for trace in log_snr["data"])  # the clipped point
    for spec in (scales, alpha, snr, log_snr, posterior, weights):
        for trace in spec["data"]:
            assert np.all(np.isfinite(array(trace["x"])))
            assert np.all(np.isfinite(array(trace["y"])))
    captions = texts(at.caption)
    assert "SNR = 0" in captions and "−∞" in captions


def test_reruns_and_marker_moves_reuse_the_cached_figures(monkeypatch):
    import core.figures

    built = []
    original = core.figures.timestep_figure

    def counting(*args, **kwargs):
        built.append(kwargs.get("title"))
        return original(*args, **kwargs)

    monkeypatch.setattr(core.figures, "timestep_figure", counting)
    at = open_page(T="130")  # a T no other test draws, so the figures are built here
    assert not at.exception
    assert len(built) == 6
    at.run()
    at.slider(key="sig.t").set_value(77).run()  # a marker position never drawn before
    assert not at.exception
    assert len(built) == 6, "a rerun or a marker move must not rebuild a figure"
    assert marker_positions(at) == [[77]] * 6


@pytest.mark.parametrize(
    ("page", "query", "shown"),
    [
        ("signal_noise", {"T": "10"}, "ᾱ = 0.904: the last x_t still holds √ᾱ = 0.95"),
        ("histogram", {"T": "200", "hist.n": "1000"}, "ᾱ = 0.132"),
        ("image_noising", {"T": "500", "schedule": "scaled_linear"}, "ᾱ = 0.0682"),
        ("signal_noise", {"T": "1000", "schedule": "scaled_linear"}, None),  # ᾱ = 0.0047
        ("histogram", {"T": "10", "schedule": "cosine", "hist.n": "1000"}, None),
    ],
)
def test_a_schedule_that_leaves_the_data_is_named(page, query, shown):
    """DDPM's β range at T = 10 ends at ᾱ = 0.90: x_t never becomes noise, and the pages say so."""
    at = apptest.open_page(f"pages/{page}.py", **query)
    assert not at.exception
    notices = texts(at.info)
    if shown is None:
        assert "pure noise" not in notices
    else:
        assert shown in notices and "far from pure noise" in notices


@pytest.mark.parametrize(
    ("page", "query", "shown"),
    [
        (
            "signal_noise",
            {"linear.beta_start": "0.02", "linear.beta_end": "0.0001"},
            "β starts at 0.02 and ends at 0.0001",
        ),
        (
            "histogram",
            {"schedule": "sigmoid", "sigmoid.beta_start": "0.03", "hist.n": "1000"},
            "β starts at 0.03 and ends at 0.02",
        ),
        (
            "image_noising",
            {"schedule": "quadratic", "quadratic.beta_start": "0.05", "lang": "zh"},
            "β 从 0.05 开始、到 0.02 结束",
        ),
        (
            "schedules",
            {"sch.schedules": "linear,sigmoid", "sch.sigmoid.beta_start": "0.05"},
            "Sigmoid: β starts at 0.05 and ends at 0.02",
        ),
        ("signal_noise", {"linear.beta_start": "0.02", "linear.beta_end": "0.02"}, None),
        ("signal_noise", {"schedule": "cosine"}, None),
    ],
)
def test_a_reversed_beta_range_is_named(page, query, shown):
    """β_start > β_end is drawn as asked, with a notice that the schedule runs backwards."""
    at = apptest.open_page(f"pages/{page}.py", **query)
    assert not at.exception
    notices = texts(at.info)
    if shown is None:
        assert "β starts" not in notices
    else:
        assert shown in notices
        assert ("reverse of every published schedule" in notices) or ("相反" in notices)
