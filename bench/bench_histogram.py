"""Time the histogram animation page's work: 1,000,000 samples × T = 1000 by default.

    python bench/bench_histogram.py                     # CPU (and CUDA when present)
    python bench/bench_histogram.py --full-chain        # also the uncapped chain on the CPU
    python bench/bench_histogram.py --apptest           # also the page end to end (AppTest)
    python bench/bench_histogram.py --n 100000 --data bimodal --devices cpu

For every device it prints:

* the page's own pipeline (``compute_frames`` of pages/views/histogram.py, uncached: core's
  ``histogram_frames`` with the page's settings) for each sampler choice: closed form, Markov
  chain, both (+ KS) — histograms, moments, q(x_t) and KL included;
* a breakdown of that work by step (the core calls ``histogram_frames`` makes), one step after
  the other (the pipeline runs the chain beside the closed form and splits the KS between its
  workers), with the uncapped Markov chain when asked (on a GPU the page never caps it);
* building the two figure specs, the size of the animation's JSON sent to the browser, and
  encoding the GIF;
* "choose n → animation ready": pipeline + figures + JSON, what the server does between the
  click and sending the chart.

Wall-clock and process CPU seconds are both printed, with the load average: on a shared
machine the wall clock includes waiting for other processes.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import plotly.io
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core import ForwardDiffusion, describe_device  # noqa: E402
from core import histogram as h  # noqa: E402
from core.device import ENV_VAR  # noqa: E402
from core.figures import (  # noqa: E402
    HistogramPanel,
    SampleStats,
    histogram_animation_figure,
    histogram_gif,
    histogram_stats_figures,
)

Row = tuple[str, float, float, str]


@contextlib.contextmanager
def timed(rows: list[Row], label: str, note: str = "", device: torch.device | None = None):
    """Append (label, wall s, CPU s, note) for the block; waits for the GPU when used."""
    if device is not None and device.type == "cuda":
        torch.cuda.synchronize(device)
    wall, cpu = time.perf_counter(), time.process_time()
    extra: dict[str, str] = {}
    yield extra
    if device is not None and device.type == "cuda":
        torch.cuda.synchronize(device)
    rows.append(
        (label, time.perf_counter() - wall, time.process_time() - cpu, extra.get("note", note))
    )


def print_rows(title: str, rows: list[Row]) -> None:
    print(f"\n{title}")
    print(f"  {'step':<52} {'wall s':>8} {'CPU s':>8}  note")
    for label, wall, cpu, note in rows:
        print(f"  {label:<52} {wall:8.3f} {cpu:8.3f}  {note}")


def quiet_streamlit() -> None:
    """Silence Streamlit's "no runtime / no ScriptRunContext" warnings outside a server."""
    logging.disable(logging.WARNING)


def load_page() -> Any:
    """The histogram page's module (pages/views/histogram.py), outside Streamlit."""
    from pages.views import histogram as page

    quiet_streamlit()
    return page


def use_device(name: str, threads: int) -> None:
    """Make the page's cached device and processes follow ``name``; torch threads as the
    server sets them (pages.common.compute_device), or ``threads`` when > 0."""
    from pages import common

    os.environ[ENV_VAR] = name
    common.compute_device.clear()
    common.forward_process.clear()
    common.compute_device()
    if threads:
        torch.set_num_threads(threads)


def page_pipeline(page: Any, args: argparse.Namespace, device: torch.device) -> list[Row]:
    rows: list[Row] = []
    compute = page.compute_frames.__wrapped__  # the uncached function
    for sampler in ("closed", "chain", "both"):
        with timed(rows, f"compute_frames, sampler={sampler}", device=device) as extra:
            frames, _, _ = compute(
                args.T, "linear", (("beta_start", 1e-4), ("beta_end", 0.02)), False,
                args.data, (), args.n, 0, sampler,
            )  # fmt: skip
        extra["note"] = f"chain: {frames.n_chain:,} trajectories" if frames.n_chain else ""
    return rows


def breakdown(
    page: Any, args: argparse.Namespace, device: torch.device, full_chain: bool
) -> tuple[list[Row], int, float, float]:
    """Rows, figure JSON bytes, seconds of the page's computing and of its figure + JSON."""
    rows: list[Row] = []
    fd = ForwardDiffusion(args.T, "linear", device=device)
    data = h.data_distribution(args.data)
    n = args.n
    ts = h.frame_timesteps(fd.alphas_cumprod, page.N_FRAMES)
    ac = np.asarray(fd.alphas_cumprod)[ts]
    low, high = h.axis_range(data, fd.alphas_cumprod)
    bins = page.bin_count(n)
    edges = np.linspace(low, high, bins + 1)
    m = page.chain_count(n, args.T, device)
    label = f"closed form, {len(ts)} frames × {n:,} (+hist, moments)"
    with (
        timed(rows, label, f"chunks on {page.WORKERS} threads", device=device),
        ThreadPoolExecutor(page.WORKERS) as pool,
    ):
        (closed_heights, closed_mean, closed_std), kept = h._closed_form(
            pool, fd, data, n, ts, (low, high, bins), 0, page.CHUNK_VALUES, m
        )
    with timed(rows, f"Markov chain, {m:,} trajectories × {args.T} steps", device=device):
        x0 = data.sample(m, h.make_generator(0, fd.device, "data_chain"))
        chain = h.chain_frames(fd, x0, ts, 0)
    with timed(rows, "  chain histograms + moments", device=device):
        chain_heights = h.frame_histograms(chain, low, high, bins, density=True)
        chain_mean, chain_std = h.frame_moments(chain)
    with timed(rows, f"KS, {len(ts)} frames, {m:,} vs {m:,}", device=device):
        ks = h.ks_2samp_frames(kept, chain)
    del kept
    if full_chain and m < n:
        with timed(rows, f"Markov chain UNCAPPED, {n:,} × {args.T} steps", device=device):
            x0 = data.sample(n, h.make_generator(0, fd.device, "data_chain"))
            h.chain_frames(fd, x0, ts, 0)
    compute_rows = [row for row in rows if "UNCAPPED" not in row[0]]
    grid = np.linspace(low, high, page.GRID_POINTS)
    with timed(rows, f"q(x_t) on {page.GRID_POINTS} points × {len(ts)} frames"):
        density = h.q_density(data, ac, grid).astype(np.float32)
    with timed(rows, "KL(q(x_t) ‖ N(0, 1)) × frames"):
        kl = h.kl_to_standard_normal(data, ac)
    compute_s = sum(row[1] for row in compute_rows) + rows[-2][1] + rows[-1][1]
    mean_theory, var_theory = h.theoretical_moments(data, ac)
    panels = [
        HistogramPanel("closed", f"closed form, {n:,} samples", closed_heights, 0),
        HistogramPanel("chain", f"Markov chain, {m:,} trajectories", chain_heights, 2),
    ]
    labels = [f"t = {t}  ·  KS D = {d:.4f}" for t, d in zip(ts, ks, strict=True)]
    with timed(rows, f"animation figure spec ({len(ts)} frames × 2 panels)"):
        figure = histogram_animation_figure(
            edges, ts, panels, grid, density, frame_labels=labels,
            density_label="q", normal_label="N(0, 1)", x_title="x_t", y_title="density",
            play_label="▶", pause_label="⏸",
        )  # fmt: skip
    with timed(rows, "animation figure → JSON") as extra:
        size = len(plotly.io.to_json(figure, validate=False))
        extra["note"] = f"{size:,} bytes sent to the browser"
    figure_s = rows[-2][1] + rows[-1][1]
    samples = [
        SampleStats("closed", closed_mean, closed_std, closed_heights, 0),
        SampleStats("chain", chain_mean, chain_std, chain_heights, 2, "diamond"),
    ]
    with timed(rows, "stats figure + JSON") as extra:
        stats = histogram_stats_figures(
            ts, samples, edges, mean_theory, np.sqrt(var_theory), kl,
            y_titles=("mean", "std", "KL"), theory_label="exact",
            x_title="t", kl_sample_suffix=" (binned)", marker_t=int(ts[10]),
        )  # fmt: skip
        stats_bytes = sum(len(plotly.io.to_json(spec, validate=False)) for spec in stats)
        extra["note"] = f"{stats_bytes:,} bytes"
    with timed(rows, "GIF (Pillow, 800 px, all frames)") as extra:
        gif = histogram_gif(
            edges, ts, ac, panels, grid, density, legend=("x_t", "q(x_t)", "N(0, 1)"),
            title="x_0 ~ N(3, 1²)",
        )  # fmt: skip
        extra["note"] = f"{len(gif):,} bytes"
    return rows, size, compute_s, figure_s


def apptest_end_to_end(n: int) -> list[Row]:
    """The page under AppTest: open it at 100,000 samples, then choose ``n`` (cold cache)."""
    from streamlit.testing.v1 import AppTest

    sys.path.insert(0, str(ROOT / "tests"))
    from streamlit.runtime.pages_manager import PagesManager

    from tests.conftest import _navigation_pages_manager_init

    PagesManager.__init__ = _navigation_pages_manager_init  # as tests/conftest.py does
    quiet_streamlit()
    rows: list[Row] = []
    for sampler in ("closed", "both"):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=900)
        at.query_params["hist.sampler"] = sampler
        at.query_params["hist.n"] = "1000"
        at.switch_page("pages/histogram.py").run()
        with timed(rows, f"AppTest: choose {n:,} samples, sampler={sampler}") as extra:
            at.select_slider(key="hist.n").set_value(n).run()
            extra["note"] = "exception!" if at.exception else ""
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="samples (100 to 1,000,000)")
    parser.add_argument("--T", type=int, default=1000, help="timesteps")
    parser.add_argument("--data", default="gaussian", choices=sorted(h.DATA))
    parser.add_argument("--devices", default="", help="comma list (default: cpu, cuda if any)")
    parser.add_argument(
        "--threads", type=int, default=0, help="torch CPU threads (0: as the server sets them)"
    )
    parser.add_argument("--full-chain", action="store_true", help="also the uncapped CPU chain")
    parser.add_argument("--apptest", action="store_true", help="also the page via AppTest")
    parser.add_argument("--skip-pipeline", action="store_true", help="only the breakdown")
    args = parser.parse_args(argv)
    h.check_sample_count(args.n)
    devices = [d for d in args.devices.split(",") if d] or (
        ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]
    )
    page = load_page()
    print(
        f"n = {args.n:,}, T = {args.T}, data = {args.data}; torch {torch.__version__}; "
        f"{os.cpu_count()} CPUs, load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    for name in devices:
        device = torch.device(name)
        use_device(name, args.threads)
        label = describe_device(device)
        print(f"\n[{label}] torch CPU threads: {torch.get_num_threads()}")
        if device.type == "cuda":  # warm up the context and kernels off the clock
            ForwardDiffusion(10, "linear", device=device).q_sample_chain(
                torch.zeros(1000, device=device), 9
            )
        if not args.skip_pipeline:
            rows = page_pipeline(page, args, device)
            print_rows(f"[{label}] the page's compute_frames (uncached)", rows)
        rows, size, compute, figures = breakdown(page, args, device, args.full_chain)
        print_rows(f"[{label}] breakdown", rows)
        print(
            f"  choose {args.n:,} → animation ready (server side, both samplers): "
            f"{compute + figures:.2f} s wall (compute {compute:.2f} s + figure & JSON "
            f"{figures:.2f} s); figure JSON {size:,} bytes"
        )
    if args.apptest:
        use_device(devices[0], args.threads)
        print_rows("page end to end (AppTest, first device)", apptest_end_to_end(args.n))
    print(f"\nload average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
