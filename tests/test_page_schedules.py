"""The schedules page under AppTest: selection, parameters, URL state, tables, downloads, uploads."""

import io

import numpy as np
import pandas as pd
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from core import ForwardDiffusion
from core.diffusion import TABLES
from pages.views.schedules import TAB, TAB_LABELS
from tests import apptest
from tests.apptest import array, charts, texts

PAGE = "pages/schedules.py"
TABLE_COLUMNS = ["t", *TABLES]


def open_page(**query):
    return apptest.open_page(PAGE, **query)


def line_names(spec):
    return [trace["name"] for trace in spec["data"] if trace["mode"] == "lines"]


def key_table(at):
    return at.dataframe[0].value


def reference(name, timesteps=1000, zero_snr=False, **params):
    return ForwardDiffusion(timesteps, name, device="cpu", zero_terminal_snr=zero_snr, **params)


@pytest.fixture
def downloads(monkeypatch):
    """Every file the page hands to st.download_button: {file name: bytes}. The files written
    only when their button is pressed (the full tables) are written here at once."""
    saved = {}
    load, defer = MemoryMediaFileStorage.load_and_get_id, MediaFileManager.add_deferred

    def record(self, path_or_data, mimetype, kind, filename=None):
        saved[filename] = path_or_data
        return load(self, path_or_data, mimetype, kind, filename)

    def record_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        saved[file_name] = data_callable()
        return defer(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    monkeypatch.setattr(MediaFileManager, "add_deferred", record_deferred)
    return saved


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_runs_in_both_languages(lang):
    at = open_page(lang=lang)
    assert not at.exception
    assert not at.error
    assert not at.warning
    assert at.title[0].value == ("噪声调度" if lang == "zh" else "Noise schedules")
    specs = tab_charts(lang=lang)
    assert len(specs) == 3
    names = ["线性", "余弦"] if lang == "zh" else ["Linear", "Cosine"]
    assert all(line_names(spec) == names for spec in specs)
    assert len(key_table(at)) == 10
    cards = [md.value for md in at.markdown if md.value.startswith("#### ")]
    names = (
        ["线性", "余弦", "二次", "Sigmoid"]
        if lang == "zh"
        else ["Linear", "Cosine", "Quadratic", "Sigmoid"]
    )
    assert [card.splitlines()[0] for card in cards][: len(names)] == [f"#### {n}" for n in names]
    assert len(cards) == 4
    aspects = ["优点", "缺点", "适用场景"] if lang == "zh" else ["Strengths", "Weaknesses"]
    assert all(f"**{aspect}**" in card for card in cards for aspect in aspects)


def tab_charts(**query):
    """The figure of each tab, opened by its link: only the open tab's figure is sent."""
    specs = []
    for name in TAB_LABELS:
        at = open_page(**query, **{TAB.key: name})
        assert not at.exception
        specs += charts(at)
    return specs


def test_only_the_open_tab_is_drawn_and_the_url_names_it():
    at = open_page()
    assert [spec["layout"]["yaxis"]["title"]["text"] for spec in charts(at)] == ["β<sub>t</sub>"]
    at = open_page(**{"sch.tab": "logsnr"})
    assert not at.warning
    assert [spec["layout"]["yaxis"]["title"]["text"] for spec in charts(at)] == ["log-SNR"]
    at = open_page(**{"sch.tab": "gamma"})
    assert "sch.tab=gamma" in texts(at.warning)
    assert [spec["layout"]["yaxis"]["title"]["text"] for spec in charts(at)] == ["β<sub>t</sub>"]


def test_default_selection_is_the_sidebar_schedule_plus_cosine():
    at = open_page(schedule="sigmoid")
    assert at.multiselect(key="sch.schedules").value == ["sigmoid", "cosine"]
    assert at.query_params.get("sch.schedules") is None  # the default is not written
    at = open_page(schedule="cosine")
    assert at.multiselect(key="sch.schedules").value == ["cosine", "linear"]


def test_selecting_another_schedule_adds_traces_and_rows():
    at = open_page()
    at.multiselect(key="sch.schedules").select("sigmoid").run()
    assert not at.exception
    assert all(len(line_names(spec)) == 3 for spec in charts(at))
    table = key_table(at)
    assert len(table) == 15
    assert list(table["Schedule"].unique()) == ["Linear", "Cosine", "Sigmoid"]
    assert at.query_params["sch.schedules"] == "linear,cosine,sigmoid"
    at.multiselect(key="sch.schedules").set_value([]).run()
    assert not at.exception
    assert not at.get("plotly_chart")
    assert "Choose at least one schedule" in texts(at.info)
    # none chosen is in the link too, and the link opens it without a notice
    assert at.query_params["sch.schedules"] == ""
    shared = open_page(**{"sch.schedules": ""})
    assert not shared.exception and not shared.warning
    assert shared.multiselect(key="sch.schedules").value == []
    assert "Choose at least one schedule" in texts(shared.info)


def test_key_table_holds_the_exact_values_at_the_key_timesteps():
    at = open_page()
    table = key_table(at)
    linear = table[table["Schedule"] == "Linear"]
    assert list(linear["t"]) == [0, 250, 500, 750, 999]
    fd = reference("linear")
    np.testing.assert_array_equal(linear["ᾱ_t"], fd.alphas_cumprod[[0, 250, 500, 750, 999]])
    np.testing.assert_array_equal(linear["SNR"], fd.snr[[0, 250, 500, 750, 999]])
    np.testing.assert_array_equal(
        linear["√(1−ᾱ_t)"], fd.sqrt_one_minus_alphas_cumprod[[0, 250, 500, 750, 999]]
    )


def test_url_restores_the_selection_and_t():
    at = open_page(**{"sch.schedules": "linear,sigmoid", "T": "200"})
    assert not at.exception
    assert not at.warning
    assert at.multiselect(key="sch.schedules").value == ["linear", "sigmoid"]
    table = key_table(at)
    assert set(table["T"]) == {200}
    assert list(table["t"][:5]) == [0, 50, 100, 150, 199]
    fd = reference("sigmoid", 200)
    np.testing.assert_array_equal(table["ᾱ_t"][5:], fd.alphas_cumprod[[0, 50, 100, 150, 199]])


def test_url_with_garbage_shows_a_notice_and_keeps_working():
    at = open_page(**{"sch.schedules": "nope", "T": "abc", "sch.linear.beta_end": "zzz"})
    assert not at.exception
    notice = texts(at.warning)
    assert "sch.schedules=nope" in notice and "T=abc" in notice
    assert "sch.linear.beta_end=zzz" in notice
    assert at.multiselect(key="sch.schedules").value == ["linear", "cosine"]
    assert len(key_table(at)) == 10


def test_per_schedule_parameters_change_the_curves():
    at = open_page()
    at.number_input(key="sch.linear.beta_end").set_value(0.04).run()
    assert not at.exception
    table = key_table(at)
    linear = table[table["Schedule"] == "Linear"]
    fd = reference("linear", beta_end=0.04)
    np.testing.assert_array_equal(linear["ᾱ_t"], fd.alphas_cumprod[[0, 250, 500, 750, 999]])
    assert at.query_params["sch.linear.beta_end"] == "0.04"
    # the sidebar's own linear parameters are untouched
    assert at.session_state["_settings"].params == (("beta_start", 1e-4), ("beta_end", 0.02))
    at.button(key="sch.linear.reset").click().run()
    assert at.number_input(key="sch.linear.beta_end").value == pytest.approx(0.02)


def test_own_t_per_schedule_from_the_url():
    at = open_page(**{"sch.own_t": "1", "sch.cosine.T": "100"})
    assert not at.exception
    assert not at.warning
    table = key_table(at)
    assert list(table.groupby("Schedule", sort=False)["T"].first()) == [1000, 100]
    for spec in charts(at):
        lines = [trace for trace in spec["data"] if trace["mode"] == "lines"]
        assert [trace["name"] for trace in lines] == ["Linear (T=1000)", "Cosine (T=100)"]
        assert [len(array(trace["x"])) for trace in lines] == [1000, 100]
        assert [array(trace["x"])[-1] for trace in lines] == [1.0, 1.0]
    # the caption no longer names the sidebar's T, which none of them uses now
    captions = " ".join(caption.value for caption in at.caption)
    assert "own T" in captions and "T = 1000" not in captions
    shared = " ".join(caption.value for caption in open_page(T="200").caption)
    assert "From the sidebar: T = 200" in shared


def test_zero_terminal_snr_is_clipped_and_said_so():
    at = open_page(zsnr="1", **{"sch.tab": "logsnr"})
    assert not at.exception
    table = key_table(at)
    assert list(table[table["t"] == 999]["SNR"]) == [0.0, 0.0]
    (log_snr,) = charts(at)
    markers = [trace for trace in log_snr["data"] if trace["mode"] == "markers"]
    assert len(markers) == 2
    for trace in log_snr["data"]:
        assert np.all(np.isfinite(array(trace["y"])))
    assert "−∞" in log_snr["layout"]["annotations"][0]["text"]
    assert "−∞" in texts(at.caption)


def test_pair_toggle_draws_each_schedule_with_and_without_zero_snr():
    at = open_page()
    at.toggle(key="sch.pair").set_value(True).run()
    assert not at.exception
    spec = charts(at)[0]
    names = line_names(spec)
    assert names == [
        "Linear · original",
        "Linear · zero SNR",
        "Cosine · original",
        "Cosine · zero SNR",
    ]
    assert [trace["line"]["dash"] for trace in spec["data"]] == ["solid", "dash"] * 2
    assert len(key_table(at)) == 20


def test_log_beta_axis_can_be_switched_off():
    at = open_page()
    assert charts(at)[0]["layout"]["yaxis"]["type"] == "log"
    at.toggle(key="sch.log_beta").set_value(False).run()
    assert charts(at)[0]["layout"]["yaxis"].get("type") != "log"
    assert at.query_params["sch.log_beta"] == "0"


def test_downloads_are_valid_csv_with_the_exact_tables(downloads):
    at = open_page(T="300")
    assert not at.exception
    key = pd.read_csv(io.BytesIO(downloads["key_timesteps.csv"]))
    assert list(key.columns) == [
        "schedule",
        "T",
        "zero_terminal_snr",
        "params",
        "t",
        "alphas_cumprod",
        "sqrt_alphas_cumprod",
        "sqrt_one_minus_alphas_cumprod",
        "snr",
    ]
    assert len(key) == 10 and list(key["schedule"].unique()) == ["linear", "cosine"]
    full = pd.read_csv(io.BytesIO(downloads["schedule_cosine_T300.csv"]))
    assert list(full.columns) == TABLE_COLUMNS
    assert len(full) == 300
    fd = reference("cosine", 300)
    for column in TABLE_COLUMNS[1:]:
        np.testing.assert_array_equal(full[column].to_numpy(), getattr(fd, column), column)
    assert "schedule_linear_T300.csv" in downloads


def test_downloads_of_changed_parameters_say_so(downloads):
    """Two downloads of one schedule with other parameters are told apart by name and content."""
    at = open_page(**{"T": "200", "sch.schedules": "sigmoid", "sch.sigmoid.beta_end": "0.03"})
    assert not at.exception
    full = pd.read_csv(io.BytesIO(downloads["schedule_sigmoid_T200_beta_end0.03.csv"]))
    np.testing.assert_array_equal(
        full["betas"].to_numpy(), reference("sigmoid", 200, beta_end=0.03).betas
    )
    key = pd.read_csv(io.BytesIO(downloads["key_timesteps.csv"]), keep_default_na=False)
    assert set(key["params"]) == {"beta_end=0.03"}
    downloads.clear()
    open_page(**{"T": "200", "sch.schedules": "sigmoid"})
    key = pd.read_csv(io.BytesIO(downloads["key_timesteps.csv"]), keep_default_na=False)
    assert "schedule_sigmoid_T200.csv" in downloads and set(key["params"]) == {""}


def test_full_table_keeps_minus_infinity_with_zero_snr(downloads):
    open_page(zsnr="1", T="100")
    full = pd.read_csv(io.BytesIO(downloads["schedule_linear_T100_zsnr.csv"]))
    assert full["log_snr"].iloc[-1] == -np.inf
    assert full["snr"].iloc[-1] == 0
    assert not full.isna().any().any()


# -- uploads ---------------------------------------------------------------------------------


def upload(at, name, data, mime="text/csv"):
    at.file_uploader(key="sch.upload").set_value((name, data, mime)).run()
    assert not at.exception
    return at


def test_good_csv_with_a_header_is_added_as_custom(downloads):
    betas = np.linspace(1e-4, 0.03, 400)
    data = ("beta\n" + "\n".join(repr(float(b)) for b in betas) + "\n").encode()
    at = upload(open_page(), "mine.csv", data)
    assert not at.error
    assert "400" in texts(at.success)
    assert all(line_names(spec)[-1] == "Custom (uploaded) · T = 400" for spec in charts(at))
    table = key_table(at)
    custom = table[table["T"] == 400]
    assert list(custom["t"]) == [0, 100, 200, 300, 399]
    np.testing.assert_allclose(custom["ᾱ_t"], np.cumprod(1 - betas)[[0, 100, 200, 300, 399]])
    full = pd.read_csv(io.BytesIO(downloads["schedule_custom_T400.csv"]))
    np.testing.assert_array_equal(full["betas"], betas)


def test_csv_with_separators_quotes_and_blank_lines_is_read():
    data = b'\xef\xbb\xbf"beta";\r\n0.001;\r\n\r\n"0.002"\r\n0.003,\n'
    at = upload(open_page(), "semi.csv", data)
    assert not at.error
    assert "3" in texts(at.success)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_text_with_its_byte_order_mark_is_read(encoding):
    """Excel saves "Unicode text" as UTF-16 with a byte-order mark."""
    text = "beta\r\n0.001\r\n0.002\r\n0.003\r\n"
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    at = upload(open_page(), "unicode.txt", data)
    assert not at.error
    assert "3 betas" in texts(at.success)


def test_an_upload_rescaled_for_zero_terminal_snr_says_so():
    """With the sidebar's zero terminal SNR on, 0.1, 0.2, 0.3 are drawn as 0.1, 0.663, 1: the
    message that loads them says they are rescaled."""
    plain = upload(open_page(), "three.csv", b"0.1\n0.2\n0.3\n")
    assert "rescaled" not in texts(plain.success)
    at = upload(open_page(zsnr="1"), "three.csv", b"0.1\n0.2\n0.3\n")
    assert not at.error
    assert "3 betas" in texts(at.success) and "rescaled" in texts(at.success)
    zh = upload(open_page(zsnr="1", lang="zh"), "three.csv", b"0.1\n0.2\n0.3\n")
    assert "加入比较。侧边栏" in texts(zh.success)  # no space between Chinese sentences


def test_npy_is_added_as_custom():
    buffer = io.BytesIO()
    np.save(buffer, np.full(50, 0.02))
    at = upload(open_page(), "betas.npy", buffer.getvalue(), "application/octet-stream")
    assert not at.error
    assert line_names(charts(at)[0])[-1] == "Custom (uploaded) · T = 50"
    at.toggle(key="sch.pair").set_value(True).run()  # pairs: its one curve says which it is
    assert line_names(charts(at)[0])[-1] == "Custom (uploaded) · T = 50 · original"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"beta\n0.01\n0.02\nabc\n0.04\n", ["Row 4", "abc"]),
        (b"0.01\n0.02\n1.5\n", ["row 3", "1.5", "0 < β ≤ 1"]),
        (b"beta\n0.01\n-0.02\n", ["row 3", "-0.02"]),
        (b"beta\n0.01\nnan\n", ["row 3", "nan", "finite"]),
        (b"0.01\n0.02\ninf\n", ["row 3", "inf"]),
        (b"0.01,0.02\n0.03,0.04\n", ["Row 1", "2 columns"]),
        (b"1e-20\n0.02\n0.02\n", ["row 1", "too small"]),
        (b"0.5\n1e-20\n0.02\n", ["row 2", "too small"]),
        (b"0.02\n", ["at least 2"]),
        (b"beta\n", ["No numbers"]),
        (b"", ["No numbers"]),
        (b"\xc3\x28\x00\x01garbage\x00", ["not UTF-8 text"]),
        (b"\xff\xfe\x00\xd8garbage", ["not UTF-8 text"]),  # a UTF-16 mark, then no UTF-16
    ],
)
def test_bad_csv_names_the_row_and_keeps_the_page_working(data, expected):
    at = upload(open_page(), "bad.csv", data)
    message = texts(at.error)
    for part in expected:
        assert part in message
    assert len(key_table(at)) == 10  # the comparison still works without the custom schedule
    assert all(len(line_names(spec)) == 2 for spec in charts(at))


def test_bad_row_message_is_translated():
    at = upload(open_page(), "bad.csv", b"beta\n0.01\nabc\n")
    # (switch after the upload: AppTest formats the sidebar's options in English on a rerun)
    at.sidebar.selectbox(key="lang").set_value("zh").run()
    assert not at.exception
    assert "第 3 行" in texts(at.error)
    assert "abc" in texts(at.error)


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (np.ones((3, 4)) * 0.01, "(3, 4)"),
        (np.array([0.01, 2.0, 0.03]), "element 1"),
        (np.array(["a", "b"]), "<U1"),
        (np.array([1 + 2j, 0.5]), "complex"),
    ],
)
def test_bad_npy_gives_a_clear_message(array, expected):
    buffer = io.BytesIO()
    np.save(buffer, array)
    at = upload(open_page(), "bad.npy", buffer.getvalue(), "application/octet-stream")
    assert expected in texts(at.error)


@pytest.mark.parametrize(
    "data",
    [
        bytes(range(256)) * 8,
        b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f8', 'fortran_order': False, 'shape': (10000000000,), }\n",
        b"\x93NUMPY\x01\x00garbage",
        b"\x93NUMPY\x09\x00",
    ],
)
def test_garbage_npy_never_raises(data):
    at = upload(open_page(), "junk.npy", data, "application/octet-stream")
    assert at.error
    assert len(key_table(at)) == 10


def test_a_decimal_comma_is_named_as_such():
    at = upload(open_page(), "comma.csv", b"0,01\n0,02\n")
    assert not at.exception
    assert "decimal comma" in texts(at.error) and "0,01" in texts(at.error)
    at = upload(open_page(), "exponent.csv", b"1,0e-04\n2,0e-04\n")
    assert "decimal comma" in texts(at.error) and "1,0e-04" in texts(at.error)
    at = upload(open_page(), "two.csv", b"0.01,0.02\n")  # two real columns: named as such
    assert "2 columns" in texts(at.error)


def test_too_many_rows_and_too_big_files_are_refused():
    at = upload(open_page(), "long.csv", b"0.001\n" * 10_001)
    assert "10000" in texts(at.error) and "(10001 found)" in texts(at.error)
    at = upload(open_page(), "longer.csv", b"0.001\n" * 20_000)
    assert "(20000 found)" in texts(at.error)  # the count is the file's, not where it stopped
    at = upload(open_page(), "huge.csv", b"0.001\n" * (1024 * 1024 // 6 + 10))
    assert "1 MB" in texts(at.error)


def test_removing_the_upload_removes_the_custom_schedule():
    at = upload(open_page(), "mine.csv", b"0.01\n0.02\n0.03\n")
    assert len(key_table(at)) == 13  # 3 steps: t = 0, 1, 2
    at.file_uploader(key="sch.upload").clear().run()
    assert not at.exception
    assert len(key_table(at)) == 10


def test_reruns_reuse_the_cached_figures(monkeypatch):
    from pages.views import schedules as page  # the page's module, imported once per process

    built = []
    original = page.schedule_comparison_figure

    def counting(*args, **kwargs):
        built.append(kwargs.get("title"))
        return original(*args, **kwargs)

    monkeypatch.setattr(page, "schedule_comparison_figure", counting)
    at = open_page(T="170")  # a T no other test draws, so the figures are built here
    assert not at.exception
    assert len(built) == 1  # the open tab's
    before = charts(at)
    at.run()
    assert len(built) == 1, "a rerun must not rebuild a figure"
    assert charts(at) == before
    at.toggle(key="sch.log_beta").set_value(False).run()
    assert len(built) == 2
    at.session_state[TAB.key] = TAB_LABELS["alpha"]
    at.run()
    assert len(built) == 3
    at.toggle(key="sch.log_beta").set_value(True).run()  # the ᾱ figure does not depend on it
    assert len(built) == 3


def test_file_names_and_cells_are_quoted_as_text_not_markdown():
    """Markdown in a file's name or in a bad cell is shown as typed: no bold, link or maths."""
    name = "**bold** [link](http:x) $x^2$.csv"
    at = upload(open_page(), name, b"0.01\n0.02\n0.03\n")
    assert "“\\*\\*bold\\*\\* \\[link\\](http:\u2060x) \\$x^2\\$.csv”" in texts(at.success)
    at = upload(open_page(), "bad.csv", b"0.01\n**0.02**\n0.03\n")
    assert r"“\*\*0.02\*\*” is not a number" in texts(at.error)
