"""Time reruns of the pages under AppTest: the server CPU one interaction costs.

    python bench/bench_reruns.py                 # every page, 15 runs each
    python bench/bench_reruns.py --runs 30 --pages signal_noise schedules
    python bench/bench_reruns.py --figures       # also the figure functions alone

For every page it first runs the page once (imports, caches and the sample picture warm up),
then times, for ``--runs`` runs each:

* ``rerun``: the same page again with nothing changed (what a rerun from another widget, a
  browser reconnect or the shared sidebar costs);
* ``<widget>: values seen``: a rerun after the page's main widget moved, among three values it
  had before (signal: the marker slider; schedules: β_end of the linear curve; image: the t
  slider), what a lecturer going back and forth between a few settings costs;
* ``<widget>: new values``: the same widget moved to a value never seen (a student dragging a
  slider), where the caches keyed on that value miss.

AppTest reruns the whole script even for a widget inside an ``st.fragment`` (the real server
reruns only the fragment), so the signal page's marker rows are an upper bound.

Each row prints the median and the 90th percentile of the process CPU time
(``time.process_time``: the script thread, AppTest's own bookkeeping and any torch threads) and
of the wall clock. Home, which draws almost nothing, is the floor AppTest itself costs.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)

import streamlit.logger  # noqa: E402
from streamlit.runtime.pages_manager import PagesManager  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

APP = str(ROOT / "app.py")
PAGES = ("home", "schedules", "image_noising", "signal_noise")


@contextlib.contextmanager
def app_py_on_every_rerun() -> Iterator[None]:
    """As tests/conftest.py: AppTest would otherwise run the page file alone after the first run."""
    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init
    try:
        yield
    finally:
        PagesManager.__init__ = original


# The widget each page's interaction moves: (kind, key, value of the i-th interaction when it
# comes back to a few values, value when every interaction is new).
INTERACTIONS: dict[str, tuple[str, str, Callable[[int], object], Callable[[int], object]]] = {
    "signal_noise": ("slider", "sig.t", lambda i: (100, 400, 700)[i % 3], lambda i: 101 + 7 * i),
    "schedules": (
        "number_input",
        "sch.linear.beta_end",
        lambda i: (0.02, 0.021, 0.022)[i % 3],
        lambda i: 0.0201 + 1e-5 * i,
    ),
    "image_noising": ("slider", "img.t", lambda i: (100, 400, 700)[i % 3], lambda i: 101 + 7 * i),
}


def interaction(page: str, fresh: bool) -> Callable[[AppTest, int], None]:
    """What the i-th interaction on ``page`` does before its rerun (nothing on home)."""
    if page not in INTERACTIONS:
        return lambda at, i: None
    kind, key, revisit, new = INTERACTIONS[page]
    value = new if fresh else revisit

    def move(at: AppTest, i: int) -> None:
        getattr(at, kind)(key=key).set_value(value(i))

    return move


def timed_runs(
    at: AppTest, runs: int, before: Callable[[AppTest, int], None]
) -> tuple[list[float], list[float]]:
    cpu, wall = [], []
    for i in range(runs):
        before(at, i)
        c0, w0 = time.process_time(), time.perf_counter()
        at.run()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
        if at.exception:
            raise RuntimeError(f"exception in run {i}: {[e.value for e in at.exception]}")
    return cpu, wall


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def bench_page(page: str, runs: int) -> list[tuple[str, str, list[float], list[float]]]:
    at = AppTest.from_file(APP, default_timeout=300)
    if page != "home":
        at.switch_page(f"pages/{page}.py")
    at.run()
    if at.exception:
        raise RuntimeError(f"{page}: {[e.value for e in at.exception]}")
    # The first interaction of each value fills the caches; time the steady state.
    timed_runs(at, 3, interaction(page, fresh=False))
    rows = [(page, "rerun", *timed_runs(at, runs, lambda at, i: None))]
    if page in INTERACTIONS:
        kind, key = INTERACTIONS[page][:2]
        rows.append((page, f"{key}: values seen", *timed_runs(at, runs, interaction(page, False))))
        rows.append((page, f"{key}: new values", *timed_runs(at, runs, interaction(page, True))))
    return rows


def bench_figures(runs: int) -> list[tuple[str, str, list[float], list[float]]]:
    """The schedule / signal figure functions alone, T = 1000, and st.plotly_chart's own work on
    a spec handed over as the pages do (pages.common.plotly_chart)."""
    import plotly.io
    import plotly.tools

    from core import ForwardDiffusion
    from core import figures as f
    from pages.common import SpecFigure

    main = ForwardDiffusion(1000, "linear")
    other = ForwardDiffusion(1000, "cosine")
    curves = [
        f.ScheduleCurve("linear", main.betas, main.alphas_cumprod, main.log_snr),
        f.ScheduleCurve("cosine", other.betas, other.alphas_cumprod, other.log_snr),
    ]
    cases: dict[str, Callable[[], object]] = {
        "schedule_comparison_figure": lambda: f.schedule_comparison_figure(
            curves, "betas", title="β", x_title="x", y_title="y", log_y=True
        ),
        "signal_noise_figure": lambda: f.signal_noise_figure(
            main.sqrt_alphas_cumprod,
            main.sqrt_one_minus_alphas_cumprod,
            labels=("s", "n"),
            title="t",
            x_title="x",
            y_title="y",
            marker_t=250,
        ),
    }
    figure = SpecFigure(cases["signal_noise_figure"]())
    cases["plotly_chart's to_dict + to_json"] = lambda: plotly.io.to_json(
        plotly.tools.return_figure_from_figure_or_data(figure, validate_figure=True),
        validate=False,
    )
    rows = []
    for name, call in cases.items():
        call()
        cpu, wall = [], []
        for _ in range(runs):
            c0, w0 = time.process_time(), time.perf_counter()
            call()
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
        rows.append(("figures", name, cpu, wall))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per row (default 15)")
    parser.add_argument("--pages", nargs="+", choices=PAGES, default=list(PAGES))
    parser.add_argument("--figures", action="store_true", help="also time the figure functions")
    args = parser.parse_args()
    if not 1 <= args.runs <= 500:
        parser.error("--runs must be in 1..500")
    # AppTest's "missing ScriptRunContext" notices would drown the table.
    streamlit.logger.set_log_level(logging.ERROR)

    rows = []
    with app_py_on_every_rerun():
        for page in args.pages:
            rows += bench_page(page, args.runs)
    if args.figures:
        rows += bench_figures(args.runs)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\n{args.runs} timed runs per row, load average {load:.2f}")
    header = f"{'page':<15} {'what':<34} {'CPU median':>11} {'CPU p90':>9} {'wall median':>12}"
    print(header + f" {'wall p90':>9}")
    print("-" * (len(header) + 10))
    for page, what, cpu, wall in rows:
        print(
            f"{page:<15} {what:<34} {statistics.median(cpu) * 1000:>9.1f}ms"
            f" {p90(cpu) * 1000:>7.1f}ms {statistics.median(wall) * 1000:>10.1f}ms"
            f" {p90(wall) * 1000:>7.1f}ms"
        )


if __name__ == "__main__":
    main()
