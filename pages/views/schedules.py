"""Schedules: overlay β_t, ᾱ_t and log-SNR of several noise schedules against (t + 1)/T, with the
tutorial's key-timestep table, CSV downloads, a custom schedule from an uploaded file and the
tutorial's comparison table (§2.3)."""

from __future__ import annotations

import functools
import hashlib
import io
import math
import re
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st
from numpy.lib import format as npy_format

from core import SCHEDULES, ForwardDiffusion
from core.diffusion import TABLES
from core.figures import (
    Quantity,
    ScheduleCurve,
    Spec,
    log_snr_limits,
    schedule_comparison_figure,
    shown_number,
)
from core.schedules import schedule_params
from pages.common import (
    MAX_T,
    MIN_T,
    UrlParam,
    bind,
    compute_device,
    forward_process,
    grid_columns,
    plotly_chart,
    quoted,
    reset,
    reversed_betas_notice,
    schedule_param_input,
    schedule_param_specs,
    settings,
    tr,
)

MAX_UPLOAD_MB = 1
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
MAX_TEXT = 200  # of a file's text kept for a message (which shows its first 40 characters)
MAX_CUSTOM_STEPS = 10_000  # core allows more; 10k points per trace keeps the browser responsive
CUSTOM = "custom"
# Columns of the full-table CSV: the names of ForwardDiffusion's tables, so the file reads like
# the code.
TABLE_COLUMNS = TABLES
# Columns of the tutorial's key-timestep table (§4.2): (CSV name, name shown).
KEY_COLUMNS = (
    ("alphas_cumprod", "ᾱ_t"),
    ("sqrt_alphas_cumprod", "√ᾱ_t"),
    ("sqrt_one_minus_alphas_cumprod", "√(1−ᾱ_t)"),
    ("snr", "SNR"),
)

OWN_T = UrlParam("sch.own_t", False, "bool")
PAIR = UrlParam("sch.pair", False, "bool")
LOG_BETA = UrlParam("sch.log_beta", True, "bool")
# The figure tabs: name in the URL -> label. Only the open tab's figure is built and sent, so a
# change of T or of a schedule redraws one chart in the browser, not three.
TAB_LABELS = {"beta": r"$\beta_t$", "alpha": r"$\bar\alpha_t$", "logsnr": "log-SNR"}


class _TabParam(UrlParam):
    """The open figure tab: its name in the URL, its label in the tabs' session state."""

    def parse(self, text: str) -> Any:
        return TAB_LABELS[super().parse(text)]

    def format(self, value: Any) -> str:
        return next(name for name, label in TAB_LABELS.items() if label == value)


TAB = _TabParam("sch.tab", TAB_LABELS["beta"], "choice", choices=tuple(TAB_LABELS))


def selection_spec(schedule: str) -> UrlParam:
    """The schedules shown: by default the sidebar's ``schedule`` and cosine (or linear)."""
    default = [schedule, "cosine"] if schedule != "cosine" else ["cosine", "linear"]
    return UrlParam("sch.schedules", default, "choices", choices=tuple(SCHEDULES))


def timesteps_spec(name: str, timesteps: int) -> UrlParam:
    """This page's own T of schedule ``name``, starting at the sidebar's ``timesteps``."""
    return UrlParam(f"sch.{name}.T", timesteps, "int", MIN_T, MAX_T)


def comparison_cards(names: tuple[str, ...]) -> None:
    """The strengths, weaknesses and typical use of each schedule, a card each, two to a row.

    Cards rather than a table of four columns of prose: a phone stacks them at full width,
    where the table was wider than the screen.
    """
    for start in range(0, len(names), 2):
        for column, name in zip(st.columns(2), names[start : start + 2], strict=False):
            text = "\n\n".join(
                f"**{tr(f'sch.compare.{aspect}')}**: {tr(f'sch.compare.{name}.{aspect}')}"
                for aspect in ("pros", "cons", "use")
            )
            column.container(border=True).markdown(f"#### {label(name)}\n\n{text}")


def label(name: str) -> str:
    return tr(f"schedule.{name}")


# -- custom schedule from a file -----------------------------------------------------------------

Problem = tuple[str, dict[str, Any]]


def _csv_betas(data: bytes) -> tuple[np.ndarray, tuple[int, ...]] | Problem:
    """Betas from CSV text (one column, optional header) and the file row of each value.

    The text is UTF-8, or UTF-16 with its byte-order mark (Excel's "Unicode text")."""
    utf16 = data[:2] in (b"\xff\xfe", b"\xfe\xff")
    try:
        text = data.decode("utf-16" if utf16 else "utf-8-sig")
    except UnicodeDecodeError:
        return ("sch.upload.not_text", {})
    if "\x00" in text:
        return ("sch.upload.not_text", {})
    values: list[float] = []
    rows: list[int] = []
    header_seen = False
    for row, line in enumerate(text.splitlines(), start=1):
        cells = [cell.strip().strip("\"'").strip() for cell in re.split(r"[,;\t]", line)]
        while cells and not cells[-1]:  # a trailing separator is harmless
            cells.pop()
        if not cells:
            continue
        if (
            len(cells) == 2
            and re.fullmatch(r"[+-]?\d+", cells[0])
            and re.fullmatch(r"\d+([eE][+-]?\d+)?", cells[1])  # 0,01 or 1,0e-04
        ):
            return ("sch.upload.decimal_comma", {"row": row, "text": line.strip()[:MAX_TEXT]})
        if len(cells) > 1:
            return ("sch.upload.columns", {"row": row, "count": len(cells)})
        try:
            value = float(cells[0])
        except ValueError:
            if not values and not header_seen:  # the first line may be a header
                header_seen = True
                continue
            return ("sch.upload.not_number", {"row": row, "text": cells[0][:MAX_TEXT]})
        values.append(value)
        rows.append(row)
    if len(values) > MAX_CUSTOM_STEPS:  # counted to the end (the uploader caps the file's size)
        return ("sch.upload.too_many", {"count": len(values), "limit": MAX_CUSTOM_STEPS})
    if not values:
        return ("sch.upload.empty", {})
    return np.array(values, dtype=np.float64), tuple(rows)


def _npy_betas(data: bytes) -> np.ndarray | Problem:
    """Betas from a .npy file; the header is checked before any array is allocated."""
    buffer = io.BytesIO(data)
    try:
        version = npy_format.read_magic(buffer)
        if version == (1, 0):
            shape, _, dtype = npy_format.read_array_header_1_0(buffer)
        elif version == (2, 0):
            shape, _, dtype = npy_format.read_array_header_2_0(buffer)
        else:
            return ("sch.upload.bad_npy", {})
    except Exception:  # any malformed header: numpy raises ValueError, EOFError, SyntaxError...
        return ("sch.upload.bad_npy", {})
    if dtype.hasobject or dtype.kind not in "iuf":
        return ("sch.upload.npy_dtype", {"dtype": str(dtype)[:40]})
    if len(shape) != 1:
        return ("sch.upload.shape", {"shape": str(tuple(shape))[:40]})
    if math.prod(shape) > MAX_CUSTOM_STEPS:
        return ("sch.upload.too_many", {"count": math.prod(shape), "limit": MAX_CUSTOM_STEPS})
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception:  # truncated or corrupt data after a valid header
        return ("sch.upload.bad_npy", {})
    return np.asarray(array, dtype=np.float64)


@st.cache_data(max_entries=16, ttl=3600, show_spinner=False)
def parse_upload(
    digest: str, is_npy: bool, _data: bytes
) -> tuple[np.ndarray | None, tuple[int, ...] | None, Problem | None]:
    """(betas, CSV row of each beta or None for .npy, problem); keyed on the sha256 ``digest``."""
    parsed = _npy_betas(_data) if is_npy else _csv_betas(_data)
    if isinstance(parsed, tuple) and isinstance(parsed[0], str):
        return None, None, parsed
    if isinstance(parsed, tuple):
        return parsed[0], parsed[1], None
    return parsed, None, None


@st.cache_resource(max_entries=8, ttl=3600, show_spinner=False)
def custom_process(digest: str, zero_snr: bool, _betas: np.ndarray) -> ForwardDiffusion:
    """The forward process of uploaded betas (keyed on the file's sha256)."""
    return ForwardDiffusion(betas=_betas, device=compute_device()[0], zero_terminal_snr=zero_snr)


def explain(error: ValueError, betas: np.ndarray, rows: tuple[int, ...] | None) -> Problem:
    """Turn core's validation error into a translated problem naming the CSV row or index."""
    match = re.search(r"index (\d+)", str(error))
    if match and int(match.group(1)) < betas.shape[0]:
        index = int(match.group(1))
        value = float(betas[index])
        where = {"row": rows[index]} if rows else {"index": index}
        if not math.isfinite(value):
            key = "sch.upload.not_finite"
        elif not 0 < value <= 1:
            key = "sch.upload.out_of_range"
        else:
            key = "sch.upload.too_small"
        return key, {**where, "value": f"{value:.6g}"}
    if betas.shape[0] < 2:
        return ("sch.upload.too_few", {"count": betas.shape[0]})
    return ("sch.upload.invalid", {"reason": str(error)[:200]})


def show_problem(problem: Problem) -> None:
    key, fields = problem
    if "text" in fields:  # from the file: shown as typed
        fields = {**fields, "text": quoted(fields["text"])}
    if "row" in fields:
        fields = {**fields, "where": tr("sch.upload.at_row", row=fields["row"])}
    elif "index" in fields:
        fields = {**fields, "where": tr("sch.upload.at_index", index=fields["index"])}
    st.error(tr(key, **fields), icon="⚠️")


def custom_curve(zero_snr: bool) -> tuple[ForwardDiffusion, str] | None:
    """The uploader, and the uploaded schedule's process and digest when the file is valid."""
    upload = st.file_uploader(
        tr("sch.upload.label"),
        type=["csv", "txt", "npy"],
        key="sch.upload",
        help=tr("sch.upload.help", limit=MAX_CUSTOM_STEPS, size=MAX_UPLOAD_MB),
    )  # no max_upload_size: the browser's refusal would be a bare mark, not the message below
    if upload is None:
        return None
    if upload.size > MAX_UPLOAD_BYTES:
        show_problem(("sch.upload.too_big", {"size": MAX_UPLOAD_MB}))
        return None
    data = upload.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    is_npy = upload.name.lower().endswith(".npy") or data[:6] == b"\x93NUMPY"
    betas, rows, problem = parse_upload(digest, is_npy, data)
    if problem is not None:
        show_problem(problem)
        return None
    assert betas is not None
    # core accepts a first β so small that 1 - β rounds to 1 (then ᾱ_0 = 1 and the posterior
    # variance is 0/0): refuse it here with the same message as a later one.
    tiny = np.flatnonzero((1.0 - betas == 1.0) & np.isfinite(betas) & (betas > 0))
    if tiny.size:
        index = int(tiny[0])
        where = {"row": rows[index]} if rows else {"index": index}
        show_problem(("sch.upload.too_small", {**where, "value": f"{betas[index]:.6g}"}))
        return None
    try:
        process = custom_process(digest, zero_snr, betas)
    except ValueError as error:
        show_problem(explain(error, betas, rows))
        return None
    # with zero terminal SNR the file's betas are not the ones drawn: said where they load
    loaded = "sch.upload.ok.rescaled" if zero_snr else "sch.upload.ok"
    st.success(tr(loaded, name=quoted(upload.name, 60), count=process.timesteps), icon="✅")
    return process, digest


# -- tables and CSV ------------------------------------------------------------------------------


def key_timesteps(timesteps: int) -> list[int]:
    """The tutorial's key timesteps: 0, T/4, T/2, 3T/4, T-1 (without repeats for tiny T)."""
    return sorted({0, timesteps // 4, timesteps // 2, 3 * timesteps // 4, timesteps - 1})


def table_csv(process: ForwardDiffusion) -> bytes:
    """The full table of one schedule as CSV (full float64 precision).

    Written when its download button is pressed (tens of ms at T = 1000, more than the rest of
    a rerun): the page hands the button this function, not the bytes.
    """
    columns = {"t": np.arange(process.timesteps)}
    columns.update({name: getattr(process, name) for name in TABLE_COLUMNS})
    return pd.DataFrame(columns).to_csv(index=False, float_format="%.17g").encode()


@st.cache_data(max_entries=32, ttl=3600, show_spinner=False)
def key_tables(
    curves_key: tuple[tuple[Any, ...], ...],
    schedule_header: str,
    _processes: list[ForwardDiffusion],
) -> tuple[pd.DataFrame, str]:
    """The key-timestep table as shown (column ``schedule_header`` holds the labels) and as CSV.

    ``curves_key`` holds (curve id, label, dash, colour) of every curve, in the order of
    ``_processes``; the curve id names the process (see :func:`comparison_figure`).
    """
    shown_rows, csv_rows = [], []
    for (curve_id, text, _, _), process in zip(curves_key, _processes, strict=True):
        for t in key_timesteps(process.timesteps):
            values = {column: float(getattr(process, column)[t]) for column, _ in KEY_COLUMNS}
            shown_rows.append(
                {schedule_header: text, "T": process.timesteps, "t": t}
                | {shown: values[column] for column, shown in KEY_COLUMNS}
            )
            csv_rows.append(
                {
                    "schedule": curve_id[0],
                    "T": process.timesteps,
                    "zero_terminal_snr": curve_id[2],
                    # the parameters that differ from the schedule's defaults, e.g. beta_end=0.03
                    "params": ";".join(f"{k}={v:g}" for k, v in changed_params(curve_id)),
                    "t": t,
                }
                | values
            )
    csv = pd.DataFrame(csv_rows).to_csv(index=False, float_format="%.17g")
    return pd.DataFrame(shown_rows), csv


# A figure holds its arrays once (~0.1 MB at T = 1000, ~0.5 MB with a 10k-step upload): 12 stay
# under 6 MB (four settings of the three tabs).
@st.cache_resource(max_entries=12, ttl=3600, show_spinner=False)
def comparison_figure(
    quantity: Quantity,
    curves_key: tuple[tuple[Any, ...], ...],
    texts: tuple[str, str, str, str],
    log_y: bool,
    _curves: list[ScheduleCurve],
) -> Spec:
    """:func:`core.figures.schedule_comparison_figure` of ``_curves``, keyed on plain values.

    ``curves_key`` holds (curve id, label, dash, colour) of every curve (the id names the
    schedule, T, zero-SNR flag and parameters, or an upload's sha256), ``texts`` the title,
    axis titles and clipped note. The spec is shared by every session and never changed
    after it is built: :func:`pages.common.plotly_chart` only reads it.
    """
    title, x_title, y_title, clipped_note = texts
    return schedule_comparison_figure(
        _curves,
        quantity,
        title=title,
        x_title=x_title,
        y_title=y_title,
        log_y=log_y,
        clipped_note=clipped_note,
    )


def changed_params(curve_id: tuple[Any, ...]) -> list[tuple[str, float]]:
    """The parameters of a curve that differ from its schedule's defaults (none for an upload)."""
    name, params = curve_id[0], curve_id[3]
    if name == CUSTOM:
        return []
    defaults = schedule_params(name)
    return [(key, value) for key, value in params if value != defaults.get(key)]


def file_stem(curve_id: tuple[Any, ...]) -> str:
    """e.g. schedule_sigmoid_T200_beta_end0.03_zsnr: two downloads of other settings differ."""
    name, timesteps, zero_snr = curve_id[0], curve_id[1], curve_id[2]
    changed = "".join(f"_{key}{value:g}" for key, value in changed_params(curve_id))
    return f"schedule_{name}_T{timesteps}{changed}{'_zsnr' if zero_snr else ''}"


# -- the page ------------------------------------------------------------------------------------


def main() -> None:
    """The page."""
    s = settings()
    selection = selection_spec(s.schedule)
    st.title(tr("sch.title"))
    st.markdown(tr("sch.lead"))

    for param in (selection, OWN_T, PAIR, LOG_BETA, TAB):
        bind(param)
    selected: list[str] = st.multiselect(
        tr("sch.select"),
        tuple(SCHEDULES),
        format_func=label,
        key=selection.key,
        placeholder=tr("sch.select.placeholder"),
    )
    with st.container(horizontal=True, gap="medium"):
        own_t = st.toggle(tr("sch.own_t"), key=OWN_T.key, help=tr("sch.own_t.help"))
        pair = st.toggle(tr("sch.pair"), key=PAIR.key, help=tr("sch.pair.help"))
        log_beta = st.toggle(tr("sch.log_beta"), key=LOG_BETA.key)
    zsnr = tr("sch.on") if s.zero_snr else tr("sch.off")
    st.caption(
        tr("sch.shared.own_t", zsnr=zsnr) if own_t else tr("sch.shared", T=s.timesteps, zsnr=zsnr)
    )

    # (schedule name, T, params) of every selected schedule
    chosen: list[tuple[str, int, tuple[tuple[str, float], ...]]] = []
    if selected:
        # as many to a row as fit: five in one row left each a hundred px, words broken
        columns = grid_columns("sch-params", len(selected), min_width=220)
        for name, column in zip(selected, columns, strict=True):
            specs = schedule_param_specs(name, prefix="sch.")
            with column.expander(tr("sch.params", schedule=label(name))):
                for spec in specs:
                    schedule_param_input(spec)
                timesteps = s.timesteps
                if own_t:
                    t_spec = timesteps_spec(name, s.timesteps)
                    bind(t_spec)
                    timesteps = int(
                        st.number_input(
                            tr("sidebar.timesteps"), MIN_T, MAX_T, step=10, key=t_spec.key
                        )
                    )
                st.button(
                    tr("sidebar.reset"), on_click=reset, args=(specs,), key=f"sch.{name}.reset"
                )
            params = tuple(
                (spec.key.rsplit(".", 1)[1], float(st.session_state[spec.key])) for spec in specs
            )
            chosen.append((name, timesteps, params))
        for name, _, params in chosen:
            reversed_betas_notice(params, label(name))

    with st.expander(tr("sch.upload.title"), expanded=bool(st.session_state.get("sch.upload"))):
        st.markdown(tr("sch.upload.text", limit=MAX_CUSTOM_STEPS))
        custom = custom_curve(s.zero_snr)

    # Every curve: (id for cache and file name, label, process, dash)
    curves: list[tuple[tuple[Any, ...], str, ForwardDiffusion, str]] = []
    variants = [(s.zero_snr, "solid")] + ([(not s.zero_snr, "dash")] if pair else [])
    for name, timesteps, params in chosen:
        for zero_snr, dash in variants:
            try:
                process = forward_process(timesteps, name, params, zero_snr)
            except ValueError as error:
                if zero_snr == s.zero_snr:
                    st.error(tr("sch.error.params", schedule=label(name), reason=error), icon="⚠️")
                break
            text = label(name) + (f" (T={timesteps})" if own_t else "")
            if pair:
                text += " · " + tr("sch.variant.zsnr" if zero_snr else "sch.variant.plain")
            curves.append(((name, timesteps, zero_snr, params), text, process, dash))
    if custom is not None:
        custom_process_, digest = custom
        text = f"{label(CUSTOM)} · T = {custom_process_.timesteps}"
        if pair:  # one curve, the sidebar's variant: named as the pairs' curves are
            text += " · " + tr("sch.variant.zsnr" if s.zero_snr else "sch.variant.plain")
        curves.append(
            (
                (CUSTOM, custom_process_.timesteps, s.zero_snr, digest),
                text,
                custom_process_,
                "solid",
            )
        )

    if not curves:
        st.info(tr("sch.empty"), icon="ℹ️")
    else:
        # one colour per schedule; its zero-SNR twin differs by dash only
        colors = {name: index for index, name in enumerate(dict.fromkeys(c[0][0] for c in curves))}
        shapes = [
            ScheduleCurve(
                text, process.betas, process.alphas_cumprod, process.log_snr, dash, colors[key[0]]
            )
            for key, text, process, dash in curves
        ]
        x_title = tr("sch.axis.progress")
        clipped = any(np.isneginf(process.log_snr).any() for _, _, process, _ in curves)
        floor, _ = log_snr_limits([process.log_snr for _, _, process, _ in curves])
        curves_key = tuple((key, text, dash, colors[key[0]]) for key, text, _, dash in curves)
        # (formula, quantity, figure and tab key, y title, log axis, note drawn on the figure)
        tabs = [
            (
                r"q(x_t \mid x_{t-1}) = \mathcal{N}\!\left(\sqrt{1-\beta_t}\,x_{t-1},\ \beta_t\mathbf{I}\right)",
                "betas", "beta", "β<sub>t</sub>", log_beta, "",
            ),
            (
                r"\bar\alpha_t = \prod_{s=0}^{t} (1-\beta_s)",
                "alphas_cumprod", "alpha", "ᾱ<sub>t</sub>", False, "",
            ),
            (
                r"\log \mathrm{SNR}(t) = \log \frac{\overline{\alpha}_t}{1-\bar\alpha_t}",
                "log_snr", "logsnr", "log-SNR", False, tr("sch.fig.clipped"),
            ),
        ]  # fmt: skip
        for tab, (formula, quantity, key, y_title, log_y, note) in zip(
            st.tabs([TAB_LABELS[key] for _, _, key, *_ in tabs], key=TAB.key, on_change="rerun"),
            tabs,
            strict=True,
        ):
            if not tab.open:
                continue
            with tab:
                st.latex(formula)
                texts = (tr(f"sch.fig.{key}"), x_title, y_title, note)
                plotly_chart(
                    comparison_figure(quantity, curves_key, texts, log_y, shapes),
                    theme="streamlit",
                    key=f"sch.fig.{key}",
                )
                if quantity == "log_snr" and clipped:
                    st.caption(tr("sch.clipped", floor=shown_number(floor)))
        st.caption(tr("sch.axis.note"))

        st.subheader(tr("sch.key.title"))
        st.markdown(tr("sch.key.text"))
        shown_table, key_csv = key_tables(
            curves_key, tr("sch.col.schedule"), [process for _, _, process, _ in curves]
        )
        st.dataframe(
            shown_table,
            hide_index=True,
            height="content",  # every row in view, a custom schedule's too
            key="sch.key.table",
            column_config={
                shown: st.column_config.NumberColumn(format="%.6g") for _, shown in KEY_COLUMNS
            },
        )
        st.download_button(
            tr("sch.key.download"),
            key_csv,
            file_name="key_timesteps.csv",
            mime="text/csv",
            key="sch.dl.key",
            on_click="ignore",
            icon="⬇️",
        )

        st.subheader(tr("sch.full.title"))
        st.markdown(tr("sch.full.text"))
        # one button to a column, as many to a row as fit (in order when they wrap), each
        # wide enough for its schedule's name and T
        buttons = grid_columns("sch-downloads", len(curves), min_width=300)
        # a name longer than a phone's row wraps (Streamlit cuts a button's label at one line,
        # and "· original" / "· zero SNR", which tell a pair apart, come last)
        st.html(
            "<style>.st-key-sch-downloads [data-testid='stMarkdownContainer'],"
            " .st-key-sch-downloads button p {white-space: normal; overflow: visible;}</style>"
        )
        for button, (curve_id, text, process, _) in zip(buttons, curves, strict=True):
            button.download_button(
                text,
                functools.partial(table_csv, process),
                file_name=file_stem(curve_id) + ".csv",
                mime="text/csv",
                key="sch.dl." + file_stem(curve_id),
                on_click="ignore",
                icon="⬇️",
            )

    st.subheader(tr("sch.compare.title"))
    comparison_cards(("linear", "cosine", "quadratic", "sigmoid"))
    st.caption(tr("sch.compare.note"))
