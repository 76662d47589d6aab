"""What every page shares: translation, URL-bound settings, the sidebar, the cached process and
drawing a figure spec.

Settings that belong in a shareable link are declared as :class:`UrlParam`. ``bind(param)``
gives the widget with key ``param.key`` its starting value: from the URL the first time the
key is seen in a session, and again after the browser's Back or Forward button (validated; a bad
value is ignored with a visible notice), else the default. At the end of each run ``sync_url()``
writes the non-default values back to the URL, so the address bar always opens the same view.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import html
import logging
import math
import os
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go
import streamlit as st
import torch
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

# This package's __init__, whatever ran this file: a first request for /common runs it as a page
# in Streamlit's pages-folder mode, and pages/__init__.py then puts the real menu in place.
import pages
from core import SCHEDULES, DeviceError, ForwardDiffusion, describe_device, pick_device
from core.figures import Spec, figure_key
from core.i18n import DEFAULT_LANGUAGE, LANGUAGES, translate
from core.schedules import schedule_params

MIN_T, MAX_T = 10, 4000
MAX_SEED = 2**31 - 1
_SEEDED = "_url_seeded"
_BOUND = "_url_bound"
_DRAWN = "_url_drawn"  # the keys bound in the last finished run
_KEPT = "_url_kept"  # the last value of every setting bound in this session
_RANGES = "_slider_ranges"  # the last timestep of each timestep slider, as last drawn
_CHOSEN = "_slider_chosen"  # (the t chosen, the t shown) of each timestep widget
_NOTICES = "_url_notices"
_REPORTED = "_url_reported"
_VIEW = "_view"  # the page a view button asked for, opened at the start of the next run
_PAGE = "_url_page"  # the page of the last full run
_SHOWN = "_url_shown"  # the URL as the last run left it
_MENU_RUN = "_url_menu_run"  # this run opened its page from the menu, with an empty address
# (page, URL, URL after it, URL to show instead) of the entries in the browser's history that
# are no view of their own (see follow_history), the latest last
_PASSING = "_url_passing"
_PASSING_KEPT = 64
_READ_FROM = "_url_read_from"  # after Back or Forward: the URL every setting is read from


def language() -> str:
    """The session's language."""
    return st.session_state.get("lang", DEFAULT_LANGUAGE)


def tr(key: str, /, **fields: object) -> str:
    """``key`` in the session's language."""
    return translate(key, language(), **fields)


# -- URL-bound settings ------------------------------------------------------------------------


_INTEGER = re.compile(r"[+-]?[0-9]+")


class BadValue(ValueError):
    """A URL value that cannot be used; ``reason`` is a translated explanation."""


@dataclass(frozen=True)
class UrlParam:
    """One setting kept in the URL query string under ``key`` (also the widget's key).

    ``kind`` is "int", "float", "bool", "choice" or "choices" (a comma-separated list); numbers
    must lie in [low, high], choices in ``choices``.
    """

    key: str
    default: Any
    kind: str
    low: float | None = None
    high: float | None = None
    choices: Sequence[str] = field(default_factory=tuple)

    def parse(self, text: str) -> Any:
        """The value for URL text ``text``; raises :class:`BadValue`."""
        text = text.strip()
        if self.kind == "int":
            if not _INTEGER.fullmatch(text):  # int() would take "1_000" and other digits
                raise BadValue(tr("reason.integer"))
            return self._in_range(int(text))
        if self.kind == "float":
            if "_" in text or not text.isascii():  # float() would take "1_0.5" and other digits
                raise BadValue(tr("reason.number"))
            try:
                value = float(text)
            except ValueError:
                raise BadValue(tr("reason.number")) from None
            if not math.isfinite(value):
                raise BadValue(tr("reason.number"))
            return self._in_range(value)
        if self.kind == "bool":
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise BadValue(tr("reason.bool"))
        if self.kind == "choice":
            if text in self.choices:
                return text
            # the empty choice (none, the default) is the parameter left out: not listed
            raise BadValue(tr("reason.choice", choices=", ".join(filter(None, self.choices))))
        if self.kind == "choices":  # none chosen is a choice too, written as an empty value
            values = [part.strip() for part in text.split(",") if part.strip()]
            wrong = [value for value in values if value not in self.choices]
            if wrong or len(set(values)) != len(values) or (not values and text):
                raise BadValue(tr("reason.choice", choices=", ".join(self.choices)))
            return values
        raise AssertionError(f"unknown kind {self.kind!r}")

    def format(self, value: Any) -> str:
        """``value`` as URL text."""
        if self.kind == "bool":
            return "1" if value else "0"
        if self.kind == "choices":
            return ",".join(value)
        if self.kind == "float":
            return repr(float(value))
        return str(value)

    def _in_range(self, value: float) -> float:
        if (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            raise BadValue(tr("reason.range", low=self.low, high=self.high))
        return value


def _notice(message: str) -> None:
    st.session_state.setdefault(_NOTICES, []).append(message)


# Markdown that could format, link or typeset quoted text (Streamlit escapes HTML), escaped;
# and where Streamlit's markdown would still make an emoji, icon, colour or link (":smile:",
# ":material/home:", "http://…", "me@x.org", "www.x.org"), a word joiner (U+2060, unseen)
# after a ":" or "@" that something follows, and inside "www.".
_MARKDOWN = re.compile(r"([\\`*_\[\]$~|&<])")
_LINKING = re.compile(r"(?<=[:@])(?=\S)|(?<=(?i:www))(?=\.)")


def quoted(text: str, limit: int = 40) -> str:
    """Text from a user (a link's value, a file's name), fit to quote in a message: without
    control and format characters (a right-to-left override would reverse the rest of the
    message), cut to ``limit`` characters with an ellipsis, its markdown escaped."""
    shown = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf"))
    if len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return _LINKING.sub("\u2060", _MARKDOWN.sub(r"\\\1", shown))


def follow_history() -> None:
    """Call at the start of every full run, before any :func:`bind`.

    Every change of a setting writes the URL, and Streamlit keeps each URL in the browser's
    history. Back or Forward reruns the page with an earlier URL: that run reads every setting
    from it again, so Back undoes one change at a time.

    Some entries are no view of their own, and Back onto one of them from the entry after it
    shows the settings next to it instead:

    - a page opened from the menu first shows with an empty address (Streamlit clears it)
      before the app writes its settings: Back onto it shows those settings again;
    - a view button (:func:`open_view`) first puts the view's URL on the page it is on, then
      opens the view's page with it: Back onto it shows that page as it was before the click;
    - a click on the menu while a page still runs can put the new page's URL on the old page:
      Back from the new page onto the old one with the very same URL shows the old page as it
      was left, not with its own settings at their defaults.
    """
    state = st.session_state
    ctx = get_script_run_ctx()
    page = ctx.page_script_hash if ctx is not None else ""
    url = st.query_params.to_dict()
    came_from = state.get(_SHOWN)
    history = ctx is not None and ctx.is_history_navigation
    if _PAGE in state and not history and not url and page != state[_PAGE]:
        state[_MENU_RUN] = page
    state[_READ_FROM] = None
    if not history:
        return
    for entry_page, entry, after, instead in reversed(state.get(_PASSING, [])):
        if (entry_page, entry, after) == (page, url, came_from):
            state[_READ_FROM] = instead
            return
    if page != state.get(_PAGE) and url == came_from:
        return  # the old page with the new page's URL: keep the old page's settings
    state[_READ_FROM] = url


def _passing(page: str, entry: dict[str, str], after: dict[str, str], instead: dict[str, str]):
    """Record an entry of the browser's history that is no view (:func:`follow_history`)."""
    records = st.session_state.setdefault(_PASSING, [])
    records.append((page, entry, after, instead))
    del records[:-_PASSING_KEPT]


def remember_page() -> None:
    """Call once the navigation has chosen this run's page (for :func:`follow_history`; before
    it, the first run of a session names the main script instead of its page)."""
    ctx = get_script_run_ctx()
    st.session_state[_PAGE] = ctx.page_script_hash if ctx is not None else ""


def _read_from() -> dict[str, str] | None:
    """The URL to read every setting from again: in a full run after Back or Forward (not in a
    fragment's rerun), else None."""
    ctx = get_script_run_ctx()
    if ctx is None or not ctx.is_history_navigation:
        return None
    return st.session_state.get(_READ_FROM)


def bind(param: UrlParam) -> None:
    """Set the starting value of the widget keyed ``param.key`` (call before creating it).

    The URL is read once per key and session, and again after Back or Forward
    (:func:`follow_history`); a bad value is ignored with a notice. Streamlit forgets a
    widget's value while it is not drawn (another page, a hidden control, a page stopped early
    by an error): it comes back with the value it had when last drawn.
    """
    state = st.session_state
    state.setdefault(_BOUND, {})[param.key] = param
    seeded: set[str] = state.setdefault(_SEEDED, set())
    address = _read_from()
    reread = address is not None
    if param.key in state and not reread:
        return
    value = param.default if reread else state.get(_KEPT, {}).get(param.key, param.default)
    if param.key not in seeded or reread:
        seeded.add(param.key)
        if address is not None:
            texts = [address[param.key]] if param.key in address else []
        else:
            texts = st.query_params.get_all(param.key)
        if len(texts) > 1:
            _notice(tr("notice.url.repeated", key=param.key))
        if texts:
            try:
                value = param.parse(texts[0])
            except BadValue as error:
                shown, reason = quoted(texts[0]), quoted(str(error), 300)
                _notice(tr("notice.url.bad", key=param.key, value=shown, reason=reason))
    state[param.key] = value


def timestep_slider(
    param: UrlParam, last: int, label: str, help: str, notice: str | None = None
) -> int:
    """A slider over timesteps 0..last keyed ``param.key`` (bound before), that keeps its t when
    T changes: Streamlit makes a slider with another range a new widget, which would start at
    0. A t beyond ``last`` moves to ``last``, and back to the t chosen when T grows again (a
    t moved by T is not chosen: moving it again and again would drift away from the user's);
    ``notice`` (a text key with a field ``last``) says when it moves, unless that t was the
    default, which nobody chose."""
    state = st.session_state
    ranges: dict[str, int] = state.setdefault(_RANGES, {})
    value = state[param.key]
    t = chosen_timestep(param.key, value, lambda wanted: min(wanted, last))
    if t != value or ranges.get(param.key, last) != last:
        state[param.key] = t  # set anew: the new widget starts from it
        if value > last and value != param.default and notice:
            st.info(tr(notice, last=last), icon="ℹ️")
    ranges[param.key] = last
    t = int(st.slider(label, 0, last, key=param.key, help=help))
    remember_timestep(param.key, t)
    return t


def chosen_timestep(key: str, value: int, place: Callable[[int], int]) -> int:
    """Where the timestep widget keyed ``key``, now at ``value``, should stand: ``place`` (the
    allowed t nearest to it) of the t last chosen. A t that ``place`` moved is not chosen:
    moving it again and again (T smaller, then larger) would drift away from the user's.
    Call :func:`remember_timestep` with the widget's value once it is drawn."""
    chosen: dict[str, tuple[int, int]] = st.session_state.setdefault(_CHOSEN, {})
    wanted, shown = chosen.get(key, (value, value))
    if value != shown:  # moved by the user, a link, Back or Forward
        wanted = value
    chosen[key] = (wanted, place(wanted))
    return chosen[key][1]


def remember_timestep(key: str, t: int) -> None:
    """The widget keyed ``key`` shows ``t`` (for :func:`chosen_timestep`)."""
    chosen: dict[str, tuple[int, int]] = st.session_state[_CHOSEN]
    wanted, placed = chosen[key]
    chosen[key] = (wanted if t == placed else t, t)


def reset(params: Sequence[UrlParam]) -> None:
    """Put ``params`` back to their defaults (a button callback)."""
    for param in params:
        st.session_state[param.key] = param.default


def sync_url(notice_area: Any) -> None:
    """Write the bound settings that differ from their defaults into the URL; report the rest.

    Called once at the end of every run. Unknown URL keys are reported once and dropped; a
    setting of this app that is not drawn in this run leaves the URL silently.
    """
    state = st.session_state
    bound: dict[str, UrlParam] = state.get(_BOUND, {})
    reported: set[str] = state.setdefault(_REPORTED, set())
    kept: dict[str, Any] = state.setdefault(_KEPT, {})
    # the last run's settings too: a fragment may have changed one since the last full run
    for key in (*state.get(_DRAWN, ()), *bound):
        if key in state:
            kept[key] = state[key]
    for key in st.query_params:
        if key not in bound and key not in kept and key not in reported:
            reported.add(key)
            owner = _schedule_of(key, bound)
            if owner is None:
                _notice(tr("notice.url.unknown", key=quoted(key)))
            else:
                _notice(tr("notice.url.other_schedule", key=quoted(key), schedule=owner))
    wanted = {
        key: param.format(state[key])
        for key, param in bound.items()
        if key in state and state[key] != param.default
    }
    if wanted != st.query_params.to_dict():
        st.query_params.from_dict(wanted)
    notices = state.pop(_NOTICES, [])
    if notices:
        notice_area.warning(
            tr("notice.url", problems=tr("notice.url.separator").join(notices)), icon="🔗"
        )
    state[_DRAWN] = tuple(bound)
    state[_BOUND] = {}
    shown = state[_SHOWN] = st.query_params.to_dict()
    menu_page = state.pop(_MENU_RUN, None)
    if menu_page is not None and shown:  # the menu's empty address, then these settings
        _passing(menu_page, {}, shown, shown)


def _schedule_of(key: str, bound: dict[str, UrlParam]) -> str | None:
    """The schedule whose parameter URL key ``key`` is ("cosine.s" of the sidebar, or
    "sch.cosine.s" on the schedules page, the page that binds "sch.schedules"), or None."""
    name, _, param = key.partition(".")
    if name == "sch" and "sch.schedules" in bound:
        name, _, param = param.partition(".")
    if name in SCHEDULES and param in schedule_params(name):
        return tr(f"schedule.{name}")
    return None


def sync_url_now(param: UrlParam, value: Any) -> None:
    """Write one bound setting into the URL at once, as :func:`sync_url` would: for a fragment,
    whose rerun ends without app.py's call of :func:`sync_url`. In a full run it leaves the URL
    to :func:`sync_url`: a write here too would add a history entry of its own, half changed."""
    ctx = get_script_run_ctx()
    if ctx is None or not ctx.fragment_ids_this_run:
        return
    text = None if value == param.default else param.format(value)
    if st.query_params.get(param.key) != text:
        if text is None:
            del st.query_params[param.key]
        else:
            st.query_params[param.key] = text
    st.session_state[_SHOWN] = st.query_params.to_dict()


def open_view(page: str, query: dict[str, str]) -> None:
    """A button's callback: open ``page`` as the link ``page?query`` would open in a new tab,
    but in this session. Every setting goes back to its default, except the language and
    presentation mode; the view's own settings are then read from ``query``, like any link's.
    :func:`follow_view` switches to the page once the run starts.
    """
    state = st.session_state
    kept = state.setdefault(_KEPT, {})
    settings = {*kept, *state.get(_SEEDED, ()), *state.get(_DRAWN, ()), *state.get(_BOUND, {})}
    stay = {LANG.key, HIDE.key}
    for key in settings - stay:
        state.pop(key, None)
        kept.pop(key, None)
    state[_SEEDED] = state.get(_SEEDED, set()) & stay
    state[_VIEW] = (page, query)


def follow_view() -> None:
    """Switch to the page a view button asked for (:func:`open_view`), if any, with the view's
    query and the language and presentation mode in its URL."""
    view = st.session_state.pop(_VIEW, None)
    if view is not None:
        page, query = view
        state = st.session_state
        shared = {
            param.key: param.format(state[param.key])
            for param in (LANG, HIDE)
            if param.key in state and state[param.key] != param.default
        }
        url = {**query, **shared}
        # Streamlit puts the URL on this page first: Back onto it shows this page as it was
        ctx = get_script_run_ctx()
        here = ctx.page_script_hash if ctx is not None else ""
        _passing(here, url, url, state.get(_SHOWN, {}))
        st.switch_page(page, query_params=url)


# -- the shared sidebar ------------------------------------------------------------------------

LANG = UrlParam("lang", DEFAULT_LANGUAGE, "choice", choices=tuple(LANGUAGES))
TIMESTEPS = UrlParam("T", 1000, "int", MIN_T, MAX_T)
SCHEDULE = UrlParam("schedule", "linear", "choice", choices=tuple(SCHEDULES))
ZERO_SNR = UrlParam("zsnr", False, "bool")
SEED = UrlParam("seed", 0, "int", 0, MAX_SEED)
HIDE = UrlParam("hide", "", "choice", choices=("", "controls"))

# Bounds of the schedule parameters in the widgets and the URL.
PARAM_BOUNDS: dict[str, tuple[float, float]] = {
    "beta_start": (1e-6, 0.5),
    "beta_end": (1e-6, 0.999),
    "s": (0.0, 0.5),
    "min_beta": (1e-8, 0.5),
    "max_beta": (0.5, 1.0),
}


def schedule_param_specs(schedule: str, prefix: str = "") -> list[UrlParam]:
    """The URL/widget parameters of ``schedule``, keyed ``<prefix><schedule>.<param>`` (a page
    with its own copies of the sidebar's parameters gives them a prefix of its own)."""
    return [
        UrlParam(f"{prefix}{schedule}.{name}", default, "float", *PARAM_BOUNDS[name])
        for name, default in schedule_params(schedule).items()
    ]


def schedule_param_input(spec: UrlParam) -> None:
    """The number input of one schedule parameter (a :func:`schedule_param_specs` entry), bound
    to the URL and labelled by the parameter's name (the key's last part)."""
    bind(spec)
    name = spec.key.rsplit(".", 1)[1]
    st.number_input(
        tr(f"param.{name}"),
        min_value=spec.low,
        max_value=spec.high,
        step=spec.default / 10 if spec.default else 0.001,
        format="%.6g",
        key=spec.key,
    )


def torch_threads() -> int:
    """CPU threads for torch in this server process.

    Many sessions share one process, each running its script in its own thread; torch's
    default (one thread per core for every call) then oversubscribes the cores. A quarter of
    the cores (1 to 4) keeps one user's work parallel without starving the others;
    ``DIFFUSION_TORCH_THREADS`` overrides it.
    """
    text = os.environ.get("DIFFUSION_TORCH_THREADS", "")
    if text.strip().isdigit() and int(text) > 0:
        return int(text)
    return max(1, min(4, (os.cpu_count() or 1) // 4))


# Heavy computations (a histogram page's million samples) at once in this server process: one
# per core. In a full lecture hall, students who ask for big computations together would
# otherwise share the cores (each one slower, the other pages waiting on the GIL behind them)
# and hold all their working memory at the same time; with fewer slots they wait in line
# (one per two cores: histogram p95 15 s at 100 students, one per core: 8.7 s).
# DIFFUSION_HEAVY_SLOTS overrides it.
_slots = os.environ.get("DIFFUSION_HEAVY_SLOTS", "").strip()
HEAVY_SLOTS = int(_slots) if _slots.isdigit() and int(_slots) > 0 else max(1, os.cpu_count() or 1)
_heavy = threading.BoundedSemaphore(HEAVY_SLOTS)
try:
    _libc = ctypes.CDLL("libc.so.6")
    _malloc_trim = _libc.malloc_trim
except (OSError, AttributeError):  # not glibc
    _libc = _malloc_trim = None

# glibc gives threads that allocate at the same time their own heaps ("arenas", up to 8 per
# core). Every rerun runs on a new thread, so the short-lived buffers of reruns (figure
# copies, JSON, pictures) spread over many arenas and the long-lived cache entries pin their
# free space: under a simulated lecture hall one process kept 341 MB free in its arenas, which
# malloc_trim cannot return. Two arenas kept 81 MB free for the same live data (RSS 812 →
# 677 MB). MALLOC_ARENA_MAX in the environment, when set, decides instead.
M_ARENA_MAX = -8
if _libc is not None and "MALLOC_ARENA_MAX" not in os.environ:
    _libc.mallopt(M_ARENA_MAX, 2)
# glibc serves a large block from its own mapping, returned to the system when freed, but it
# raises that size limit to the largest block freed so far (up to 32 MB): after a few big
# tensors, every block up to 32 MB comes from the heaps, whose free space the long-lived cache
# entries pin. A fixed limit keeps the largest blocks (the histogram's chunks, big tensors)
# mapped. Two processes, simulated lecture hall, RSS after 25, 50 and 100 students: moving
# limit +205, +68, −42 MB, p95 at 100 students 3.7–4.7 s; 128 KiB +91, +31, +29 MB but p95
# 4.9–5.8 s (every picture a new mapping); 16 MiB +108, +45, −36 MB and p95 4.3 s.
# MALLOC_MMAP_THRESHOLD_ in the environment, when set, decides instead.
M_MMAP_THRESHOLD = -3
if _libc is not None and "MALLOC_MMAP_THRESHOLD_" not in os.environ:
    _libc.mallopt(M_MMAP_THRESHOLD, 16 << 20)


@contextlib.contextmanager
def heavy_work() -> Iterator[None]:
    """Run a heavy computation in one of HEAVY_SLOTS, then hand freed memory back.

    glibc keeps the memory a computation freed for later use; ``malloc_trim`` returns it to
    the system, so the server's memory goes back down after a burst.
    """
    with _heavy:
        try:
            yield
        finally:
            if _malloc_trim is not None:
                _malloc_trim(0)


def release_memory() -> None:
    """Empty every Streamlit cache of this process and hand the freed memory to the system.

    The caches are bounded, but full they hold tens of MB per process (pictures, scrubber
    documents, figure specs) that nobody needs once the students have gone. The next run
    computes what it needs again.
    """
    st.cache_data.clear()
    st.cache_resource.clear()
    gc.collect()
    if _malloc_trim is not None:
        _malloc_trim(0)


class IdleRelease:
    """Calls ``release`` once the process has run no script for ``after_s`` seconds.

    Each script run is wrapped in :meth:`running`. A background thread looks every
    ``interval_s`` seconds and releases once per quiet spell: not while a run is in flight, not
    again until a new run has ended. ``after_s`` <= 0 turns it off.
    """

    def __init__(
        self,
        after_s: float,
        release: Callable[[], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        interval_s: float | None = None,
    ) -> None:
        self.after_s = after_s
        self.interval_s = interval_s or min(30.0, max(0.5, after_s / 6))
        self._release = release
        self._clock = clock
        self._lock = threading.Lock()
        self._in_flight = 0
        self._last_end = clock()
        self._pending = False
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Mark one script run (its end starts the quiet spell)."""
        with self._lock:
            self._in_flight += 1
            if self._thread is None and self.after_s > 0:
                self._thread = threading.Thread(
                    target=self._watch, name="idle-release", daemon=True
                )
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1
                self._last_end = self._clock()
                self._pending = True

    def check(self) -> bool:
        """Release now if the process has been quiet long enough; True if it did."""
        with self._lock:
            quiet = self._clock() - self._last_end
            if not self._pending or self._in_flight or self.after_s <= 0 or quiet < self.after_s:
                return False
            self._pending = False
        self._release()
        return True

    def _watch(self) -> None:
        while True:
            time.sleep(self.interval_s)
            try:
                self.check()
            except Exception:  # logged; a failed release must not end the watch
                logging.getLogger(__name__).exception("releasing idle memory failed")


def fragment(body: Callable[..., None]) -> Callable[..., None]:
    """``st.fragment`` whose reruns count as script runs for :data:`idle_release`.

    A fragment's rerun calls only its function, not app.py, so app.py's ``running()`` does
    not see it: a lecture hall that only moves a fragment's slider would look idle, and the
    release would empty every cache under it.
    """

    @functools.wraps(body)
    def counted(*args: Any, **kwargs: Any) -> None:
        with idle_release.running():
            body(*args, **kwargs)

    return st.fragment(counted)


def _idle_seconds() -> float:
    text = os.environ.get("DIFFUSION_IDLE_RELEASE_S", "").strip()
    try:
        value = float(text)
    except ValueError:
        return IDLE_RELEASE_DEFAULT_S
    return value if math.isfinite(value) else IDLE_RELEASE_DEFAULT_S


# Three minutes: longer than Streamlit keeps a disconnected session (server.disconnectedSessionTTL,
# 120 s), so the sessions' own memory is free too when the release hands memory back.
# DIFFUSION_IDLE_RELEASE_S overrides it; 0 turns it off.
IDLE_RELEASE_DEFAULT_S = 180.0
idle_release = IdleRelease(_idle_seconds(), release_memory)


@st.cache_resource(max_entries=1)
def compute_device() -> tuple[torch.device, str | None]:
    """The device pages compute on, and the reason when the requested one was unusable."""
    torch.set_num_threads(torch_threads())
    try:
        return pick_device(), None
    except DeviceError as error:
        return torch.device("cpu"), str(error)


@st.cache_resource(max_entries=32)
def forward_process(
    timesteps: int, schedule: str, params: tuple[tuple[str, float], ...], zero_snr: bool
) -> ForwardDiffusion:
    """The (immutable, shared) forward process for plain settings."""
    return ForwardDiffusion(
        timesteps,
        schedule,
        device=compute_device()[0],
        zero_terminal_snr=zero_snr,
        **dict(params),
    )


# ᾱ at the last step above this (√ᾱ = 0.1: a tenth of the data's scale left) is not "pure noise",
# which a lecturer should hear: DDPM's β range at T = 10 ends at ᾱ = 0.90.
SIGNAL_LEFT = 0.01


@dataclass(frozen=True)
class Settings:
    """The shared sidebar settings of the current run."""

    timesteps: int
    schedule: str
    params: tuple[tuple[str, float], ...]
    zero_snr: bool
    seed: int

    def process(self) -> ForwardDiffusion | None:
        """The forward process, or None after showing why the settings are unusable."""
        try:
            fd = forward_process(self.timesteps, self.schedule, self.params, self.zero_snr)
        except ValueError as error:
            st.error(tr("error.schedule", reason=error), icon="⚠️")
            return None
        last = float(fd.alphas_cumprod[-1])
        if last > SIGNAL_LEFT:
            st.info(
                tr("notice.signal_left", T=self.timesteps, alpha=f"{last:.3g}",
                   signal=f"{math.sqrt(last):.2f}"),
                icon="ℹ️",
            )  # fmt: skip
        reversed_betas_notice(self.params)
        return fd


def reversed_betas_notice(params: tuple[tuple[str, float], ...], schedule: str = "") -> None:
    """Say so when ``params`` has β_start above β_end (drawn as asked: the β run backwards);
    ``schedule`` names the schedule where a page shows several."""
    values = dict(params)
    start, end = values.get("beta_start"), values.get("beta_end")
    if start is not None and end is not None and start > end:
        text = tr("notice.beta_reversed", start=f"{start:g}", end=f"{end:g}")
        st.info(f"{schedule}: {text}" if schedule else text, icon="ℹ️")


def schedule_labeller(lang: str) -> Callable[[str], str]:
    """A ``format_func`` naming schedules in ``lang``, fixed when the widget is made."""
    return lambda name: translate(f"schedule.{name}", lang)


def _on_schedule_change() -> None:
    # A schedule starts from its own published defaults.
    reset(schedule_param_specs(st.session_state[SCHEDULE.key]))


def _on_language_change() -> None:
    # The browser keeps a choice's value as the label it shows and sends that label back with
    # the next interaction; after a change of language no option has it any more. Setting each
    # bound setting to its own value makes the next run send its label in the new language.
    state = st.session_state
    for key in state.get(_DRAWN, ()):
        if key != LANG.key and key in state:
            state[key] = state[key]


def language_selector() -> None:
    bind(LANG)
    st.sidebar.selectbox(
        tr("sidebar.language"),
        tuple(LANGUAGES),
        format_func=LANGUAGES.get,
        key=LANG.key,
        on_change=_on_language_change,
    )


def sidebar() -> Settings:
    """Draw the shared controls (once per run, from app.py) and return their values."""
    for param in (TIMESTEPS, SCHEDULE, ZERO_SNR, SEED, HIDE):
        bind(param)
    side = st.sidebar
    side.subheader(tr("sidebar.process"))
    side.number_input(
        tr("sidebar.timesteps"), MIN_T, MAX_T, step=10, key=TIMESTEPS.key,
        help=tr("sidebar.timesteps.help"),
    )  # fmt: skip
    schedule = side.selectbox(
        tr("sidebar.schedule"),
        tuple(SCHEDULES),
        format_func=schedule_labeller(st.session_state[LANG.key]),
        key=SCHEDULE.key,
        on_change=_on_schedule_change,
    )
    specs = schedule_param_specs(schedule)
    with side.expander(tr("sidebar.params")):
        for spec in specs:
            schedule_param_input(spec)
        st.button(tr("sidebar.reset"), on_click=reset, args=(specs,), key="reset_params")
    side.toggle(tr("sidebar.zero_snr"), key=ZERO_SNR.key, help=tr("sidebar.zero_snr.help"))
    side.number_input(
        tr("sidebar.seed"), 0, MAX_SEED, step=1, key=SEED.key, help=tr("sidebar.seed.help")
    )
    device, problem = compute_device()
    if problem:
        side.error(tr("error.device", reason=problem))
    side.badge(tr("sidebar.device", device=describe_device(device)), icon="⚡", color="blue")
    side.caption(tr("sidebar.share"))
    state = st.session_state
    return Settings(
        timesteps=int(state[TIMESTEPS.key]),
        schedule=schedule,
        params=tuple((spec.key.split(".", 1)[1], float(state[spec.key])) for spec in specs),
        zero_snr=bool(state[ZERO_SNR.key]),
        seed=int(state[SEED.key]),
    )


def settings() -> Settings:
    """The shared settings, for page scripts (set by app.py before the page runs)."""
    if "_settings" not in st.session_state:
        # A page file run without app.py: Streamlit's pages-folder mode, in a session that
        # began before another one's first import of this package left it
        pages.leave_pages_folder_mode()
    return st.session_state["_settings"]


def controls_hidden() -> bool:
    """True in presentation mode (``?hide=controls``)."""
    return st.session_state.get(HIDE.key) == "controls"


def hide_sidebar() -> None:
    """Hide the sidebar for a clean projector view (the widgets stay alive, so state is kept),
    and the header bar with it, whose room above the title would push the page's main control
    below the fold of a 720-px projector."""
    st.html(
        "<style>[data-testid='stSidebar'], [data-testid='stSidebarCollapsedControl'],"
        " [data-testid='stExpandSidebarButton'], [data-testid='stHeader']"
        " {display: none !important;}"
        " [data-testid='stMainBlockContainer'] {padding-top: 1.5rem !important;}</style>"
    )


def grid_columns(
    key: str, count: int, min_width: int, gap: str = "small", most: int | None = None
) -> list[Any]:
    """``st.columns(count)`` in a container keyed ``key`` whose columns are at least
    ``min_width`` px wide: as many to a row as fit (at most ``most``), the rest on further rows
    of columns as wide.

    Plain columns keep one row down to 640 px of screen, however narrow each gets, then stack
    one to a row. These wrap instead: a strip of pictures four to a row on a phone, three plots
    side by side on a laptop and two on a tablet. A CSS grid on the keyed container (Streamlit
    gives it the class ``st-key-<key>``).
    """
    least = f"min({min_width}px, 100%)"
    if most is not None:  # a column's share of a row of ``most``, less its part of the gaps
        least = f"max({least}, calc(100% / {most} - 1rem))"
    st.html(
        f"<style>.st-key-{key} [data-testid='stHorizontalBlock'] {{display: grid;"
        f" grid-template-columns: repeat(auto-fit, minmax({least}, 1fr));}}"
        f" .st-key-{key} [data-testid='stColumn'] {{width: auto; min-width: 0;}}</style>"
    )
    return st.container(key=key).columns(count, gap=gap)


# -- figures -------------------------------------------------------------------------------------


class SpecFigure(go.Figure):
    """A finished figure spec (:data:`core.figures.Spec`) handed to st.plotly_chart as it is.

    st.plotly_chart takes a plotly Figure or a dict. A dict it validates by building a plotly
    Figure of it (every trace and frame checked again: tens of ms for the histogram animation);
    of a Figure it only calls ``to_dict()`` (``plotly.tools.return_figure_from_figure_or_data``),
    whose deep copy of the whole figure is still most of the work. This Figure skips plotly's
    constructor and its ``to_dict()`` returns the spec itself: the JSON sent is the same (a spec
    is what plotly writes for it), and the cached spec, shared by every session, is neither
    copied nor changed. Everything else a plotly Figure has is missing, so a Streamlit that
    asks for more than ``to_dict()`` fails loudly (tests check the JSON it sends).
    """

    def __init__(self, spec: Spec) -> None:
        # plotly's constructor is left out on purpose: it would rebuild the whole figure
        self._spec = spec

    def to_dict(self) -> dict[str, Any]:
        return self._spec


def plotly_chart(spec: Spec, **kwargs: Any) -> Any:
    """``st.plotly_chart`` of a figure spec (in the current container), without plotly
    rebuilding or copying it; ``kwargs`` go to st.plotly_chart."""
    return st.plotly_chart(SpecFigure(spec), **kwargs)


# A key's marks: a filled square for bars, a line (solid or dashed) as thick as it is drawn up
# to KEY_LINE_MAX px (a thicker line's dashes would be longer than the mark).
KEY_LINE_MAX = 6.0
_KEY_MARKS = {
    "bar": "width: 0.9em; height: 0.9em; background: {color};",
    "line": "width: 1.8em; height: {width:g}px; background: {color};",
    "dash": "width: 1.8em; height: {width:g}px;"
    " background: repeating-linear-gradient(90deg, {color} 0 8px, transparent 8px 13px);",
}


def _key_name(name: str) -> str:
    """A trace's name as HTML: escaped, with the sub- and superscripts plotly draws in it."""
    return re.sub(r"&lt;(/?su[bp])&gt;", r"<\1>", html.escape(name))


def chart_key(spec: Spec) -> None:
    """The key of a figure drawn without a legend (:func:`core.figures.figure_key`): its
    marks and names in a row that wraps like text, so a phone takes more lines and a projector
    one, where plotly's legend would need a margin of its most rows on every screen."""
    entries = "".join(
        "<span style='display: inline-flex; align-items: center; gap: 0.5em;'>"
        f"<span style='display: inline-block; opacity: {entry.opacity:g}; "
        + _KEY_MARKS[entry.mark].format(
            color=html.escape(entry.color, quote=True), width=min(entry.width, KEY_LINE_MAX)
        )
        + f"'></span><span>{_key_name(entry.name)}</span></span>"
        for entry in figure_key(spec)
    )
    st.html(
        "<div class='chart-key' style='display: flex; flex-wrap: wrap; gap: 0.25em 1.5em;"
        f" padding-left: 1em;'>{entries}</div>"
    )
