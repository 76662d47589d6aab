"""Hostile query strings: every URL parameter the app binds, fuzzed with hypothesis.

The parameters are not listed by hand: they are recorded from ``pages.common.bind`` while AppTest
runs each page (once with the defaults, once more with every off-by-default switch turned on, so
parameters that only appear then are found too). Then:

* ``UrlParam.parse`` gets many examples per parameter (fast): it returns a valid value or raises
  ``BadValue``, nothing else; valid values survive ``format`` -> ``parse``.
* The whole app gets a bounded number of hostile query strings (NaN, inf, negative, huge, empty,
  unicode, repeated and unknown keys) on every page: no exception is shown, no run hangs, a bad
  value is reported in the URL notice and never reaches the widgets.
"""

from __future__ import annotations

import math
import sys
import urllib.parse
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from pages import common
from pages.common import BadValue, UrlParam
from tests.conftest import APP

PAGES = (
    "pages/home.py",
    "pages/schedules.py",
    "pages/image_noising.py",
    "pages/histogram.py",
    "pages/signal_noise.py",
)
TIMEOUT_S = 60

settings.register_profile(
    "apptest",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "parse",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _run_recording(page: str, query: dict[str, Any]) -> tuple[AppTest, dict[str, UrlParam]]:
    """Run ``page`` with ``query`` and return the test and every UrlParam bound meanwhile."""
    seen: dict[str, UrlParam] = {}
    original = common.bind

    def recording_bind(param: UrlParam) -> None:
        seen[param.key] = param
        original(param)

    # The pages' modules import bind by name: the loaded ones are patched where they hold it,
    # and those first imported during the run take the patched one; all get the original back.
    def holders(function: Any) -> list[Any]:
        return [module for module in list(sys.modules.values())
                if getattr(module, "bind", None) is function]  # fmt: skip

    for module in holders(original):
        module.bind = recording_bind
    try:
        at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
        at.switch_page(page)
        for key, value in query.items():
            at.query_params[key] = value
        at.run()
    finally:
        for module in holders(recording_bind):
            module.bind = original
    return at, seen


@pytest.fixture(scope="module")
def url_params() -> dict[str, dict[str, UrlParam]]:
    """Every page's bound parameters, by page and key."""
    from streamlit.runtime.pages_manager import PagesManager

    from tests.conftest import _navigation_pages_manager_init

    saved = PagesManager.__init__
    PagesManager.__init__ = _navigation_pages_manager_init  # the conftest patch, module-wide
    try:
        found: dict[str, dict[str, UrlParam]] = {}
        for page in PAGES:
            # An exception here is left to the tests below, which report it with its query.
            _, params = _run_recording(page, {})
            switches = {
                key: "1"
                for key, param in params.items()
                if param.kind == "bool" and not param.default
            }
            switches.pop(common.ZERO_SNR.key, None)
            if switches:
                _, more = _run_recording(page, switches)
                params |= more
            found[page] = params
        # every page's own parameters, whichever of its modules earlier tests imported
        for page, key in (("schedules", "sch.tab"), ("image_noising", "img.t"),
                          ("histogram", "hist.n"), ("signal_noise", "sig.t")):  # fmt: skip
            assert key in found[f"pages/{page}.py"], (page, sorted(found[f"pages/{page}.py"]))
        return found
    finally:
        PagesManager.__init__ = saved


@pytest.fixture(scope="module")
def all_params(url_params) -> list[UrlParam]:
    merged: dict[str, UrlParam] = {}
    for params in url_params.values():
        merged |= params
    return sorted(merged.values(), key=lambda param: param.key)


def test_every_page_binds_the_shared_settings(url_params):
    shared = {"lang", "T", "schedule", "zsnr", "seed", "hide"}
    for page, params in url_params.items():
        assert shared <= set(params), page
    # Keys are unique app-wide: one key means one definition on every page that binds it.
    definitions: dict[str, UrlParam] = {}
    for params in url_params.values():
        for key, param in params.items():
            if key in definitions:
                previous = definitions[key]
                assert (previous.kind, previous.low, previous.high, tuple(previous.choices)) == (
                    param.kind, param.low, param.high, tuple(param.choices)
                ), key  # fmt: skip
            definitions[key] = param


# -- UrlParam.parse on its own ----------------------------------------------------------------

HOSTILE_NUMBERS = [
    "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e400", "-1e400", "1e-400", "-1", "-0",
    "0", "1", "9" * 400, "-" + "9" * 400, "0x10", "1_000", "1e3", " 12 ", "12abc", "", " ",
    "\x00", "٣", "１２", "1,000", "1.5", "2**31", str(2**31), str(2**63), "true", "None",
]  # fmt: skip
texts = st.one_of(
    st.sampled_from(HOSTILE_NUMBERS),
    st.text(max_size=60),
    st.from_regex(r"-?[0-9]{0,30}(\.[0-9]{0,20})?(e-?[0-9]{1,4})?", fullmatch=True),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers().map(str),
)


def _check_value(param: UrlParam, value: Any) -> None:
    if param.kind == "int":
        assert isinstance(value, int) and not isinstance(value, bool)
        assert param.low <= value <= param.high
    elif param.kind == "float":
        assert isinstance(value, float) and math.isfinite(value)
        assert param.low <= value <= param.high
    elif param.kind == "bool":
        assert isinstance(value, bool)
    elif param.kind == "choice":
        assert param.format(value) in param.choices  # a choice may be held as its label
    elif param.kind == "choices":
        assert len(set(value)) == len(value) and set(value) <= set(param.choices)
    else:
        raise AssertionError(param.kind)


@settings(settings.get_profile("parse"))
@given(data=st.data())
def test_parse_returns_a_valid_value_or_bad_value(all_params, data):
    param = data.draw(st.sampled_from(all_params), label="param")
    if param.kind in ("choice", "choices"):
        options = st.sampled_from(list(param.choices) + [",", ""])
        text = data.draw(
            st.one_of(texts, st.lists(options, max_size=6).map(",".join)), label="text"
        )
    else:
        text = data.draw(texts, label="text")
    try:
        value = param.parse(text)
    except BadValue as error:
        assert str(error)  # a reason a person can read
        return
    _check_value(param, value)
    assert param.parse(param.format(value)) == value


@pytest.mark.parametrize("text", ["1_000", "1_0.5", "٣", "１２", "1e3", "0x10", "1,5"])
def test_numbers_are_plain_ascii_digits(all_params, text):
    """Python's int() and float() take "1_000" and other scripts' digits; a link's number is
    written with 0-9 only (and a float in Python's own notation, 1e3 included)."""
    for param in all_params:
        if param.kind == "int" or (param.kind == "float" and text != "1e3"):
            with pytest.raises(BadValue):
                param.parse(text)


def test_defaults_are_valid_and_round_trip(all_params):
    for param in all_params:
        assert param.parse(param.format(param.default)) == param.default, param.key


@settings(settings.get_profile("parse"))
@given(data=st.data())
def test_valid_values_round_trip(all_params, data):
    # Subclasses (e.g. the histogram's sample count, fixed steps) accept fewer values.
    plain = [p for p in all_params if p.kind != "bool" and type(p) is UrlParam]
    param = data.draw(st.sampled_from(plain))
    if param.kind == "int":
        value = data.draw(st.integers(int(param.low), int(param.high)))
    elif param.kind == "float":
        value = data.draw(st.floats(param.low, param.high, allow_nan=False))
    elif param.kind == "choice":
        value = data.draw(st.sampled_from(list(param.choices)))
    else:
        value = data.draw(st.lists(st.sampled_from(list(param.choices)), min_size=1, unique=True))
    assert param.parse(param.format(value)) == value


# -- the whole app ----------------------------------------------------------------------------


def _bad_text(param: UrlParam) -> st.SearchStrategy[str]:
    return texts.filter(lambda text: _is_bad(param, text))


def _is_bad(param: UrlParam, text: str) -> bool:
    try:
        param.parse(text)
    except BadValue:
        return True
    return False


@st.composite
def hostile_queries(draw, url_params) -> tuple[str, dict[str, Any], set[str]]:
    """A page, a query dict (values may be lists: repeated keys) and the keys given bad text."""
    page = draw(st.sampled_from(PAGES))
    params = url_params[page]
    keys = draw(st.lists(st.sampled_from(sorted(params)), min_size=1, max_size=6, unique=True))
    query: dict[str, Any] = {}
    bad: set[str] = set()
    for key in keys:
        param = params[key]
        if draw(st.booleans()):
            text = draw(_bad_text(param))
            bad.add(key)
        else:
            text = draw(texts | st.sampled_from([param.format(param.default)]))
            if _is_bad(param, text):
                bad.add(key)
        if draw(st.integers(0, 5)) == 0:  # a repeated key: the first value counts
            query[key] = [text, draw(texts)]
        else:
            query[key] = text
    if draw(st.integers(0, 3)) == 0:
        query[draw(st.text(min_size=1, max_size=20))] = draw(st.text(max_size=20))
    return page, query, bad


@settings(settings.get_profile("apptest"))
@given(data=st.data())
def test_hostile_query_strings_never_break_the_app(url_params, data):
    page, query, bad = data.draw(hostile_queries(url_params), label="query")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.switch_page(page)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()  # raises on a hang (timeout)
    assert not at.exception, [e.value for e in at.exception]
    params = url_params[page]
    notices = " ".join(w.value for w in at.warning)
    for key in bad:
        # Reported by key, and the widget kept a valid value (never the bad text).
        assert f"`{key}`" in notices or key in notices, (key, notices)
    for key, param in params.items():
        if key in at.session_state:
            _check_value(param, at.session_state[key])
    # A rerun (as after any click) keeps working and keeps the values valid.
    at.run()
    assert not at.exception
    written = urllib.parse.parse_qs(urllib.parse.urlencode(at.query_params, doseq=True))
    for key, values in written.items():
        if key in params:
            _check_value(params[key], params[key].parse(values[0]))
