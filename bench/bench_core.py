"""Benchmark of the core forward process; prints a table (not part of the test suite).

    python bench/bench_core.py [--repeats 15] [--device cpu|cuda] [--skip-chain] [--skip-frames]

Every kernel runs on the same tensors in one process, interleaved round by round, and the
table shows medians and the ratio to a plain copy of x0 (``x0.clone()``, the memory-bound
floor) measured in the same rounds. Other processes may share the CPU: the median of
interleaved rounds is robust to that, the minimum is printed too.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import core.diffusion as diffusion  # noqa: E402
from core import ForwardDiffusion  # noqa: E402


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time_interleaved(
    kernels: dict[str, Callable[[], object]], repeats: int, device: torch.device, calls: int = 1
) -> dict[str, list[float]]:
    """Seconds per call of each kernel, round by round.

    CPU: the host clock around each call. CUDA: device events around ``calls`` calls back to
    back, with no synchronisation inside a round, so the host queues the round's kernels ahead
    of the GPU and the events time the GPU's work (METHOD: time with device events); what a
    single call costs when the host waits for it is :func:`_time_synced`. With one call per
    timing, a call's host work before its launch counts whenever the GPU has run out of queued
    work; with more, the GPU runs one call while the host prepares the next, as in a loop.
    """
    for kernel in kernels.values():  # warm-up (and compile)
        kernel()
    _sync(device)
    times: dict[str, list[float]] = {name: [] for name in kernels}
    for _ in range(repeats):
        if device.type == "cuda":
            events = {}
            for name, kernel in kernels.items():
                start = torch.cuda.Event(enable_timing=True)
                end = torch.cuda.Event(enable_timing=True)
                start.record()
                for _ in range(calls):
                    kernel()
                end.record()
                events[name] = (start, end)
            _sync(device)
            for name, (start, end) in events.items():
                times[name].append(start.elapsed_time(end) / 1e3 / calls)
        else:
            for name, kernel in kernels.items():
                start_s = time.perf_counter()
                kernel()
                times[name].append(time.perf_counter() - start_s)
    return times


def _time_synced(
    kernels: dict[str, Callable[[], object]], repeats: int, device: torch.device
) -> dict[str, list[float]]:
    """Host seconds per call, waiting for the device before and after each call."""
    times: dict[str, list[float]] = {name: [] for name in kernels}
    for _ in range(repeats):
        for name, kernel in kernels.items():
            _sync(device)
            start = time.perf_counter()
            kernel()
            _sync(device)
            times[name].append(time.perf_counter() - start)
    return times


def _chunked_two_pass(chunk: int) -> Callable[..., torch.Tensor]:
    def kernel(x: torch.Tensor, a: float, eps: torch.Tensor, b: float) -> torch.Tensor:
        out = torch.empty_like(x)
        for x_c, e_c, o_c in zip(
            x.view(-1).split(chunk),
            eps.view(-1).split(chunk),
            out.view(-1).split(chunk),
            strict=True,
        ):
            torch.mul(x_c, a, out=o_c)
            o_c.add_(e_c, alpha=b)
        return out

    return kernel


Row = tuple[str, float, float, float, float]


def bench_q_sample(device: torch.device, repeats: int, calls: int = 1) -> list[Row]:
    batch = 64 if device.type == "cuda" else 16
    shape = (batch, 3, 512, 512)
    g = torch.Generator(device=device).manual_seed(0)
    x0 = torch.rand(shape, generator=g, device=device) * 2 - 1
    noise = torch.randn(shape, generator=g, device=device)
    fd = ForwardDiffusion(1000, "linear", device=device)
    t_int = 500
    t_batch = torch.randint(0, 1000, (batch,), generator=g, device=device)
    a = float(fd.sqrt_alphas_cumprod[t_int])
    b = float(fd.sqrt_one_minus_alphas_cumprod[t_int])
    kernels: dict[str, Callable[[], object]] = {
        "copy x0.clone() (floor)": lambda: x0.clone(),
        "q_sample, one t": lambda: fd.q_sample(x0, t_int, noise),
        "q_sample, t per sample": lambda: fd.q_sample(x0, t_batch, noise),
    }
    if device.type == "cuda":
        t_host = t_batch.cpu()
        kernels["q_sample, t per sample from the host"] = lambda: fd.q_sample(x0, t_host, noise)
    kernels |= {}
    try:
        import diffusers

        scheduler = diffusers.DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear")
        kernels["diffusers add_noise, t per sample"] = lambda: scheduler.add_noise(
            x0, noise, t_batch
        )
    except ImportError:
        print("diffusers not installed: add_noise skipped")
    kernels["eager a*x0 + b*eps"] = lambda: a * x0 + b * noise
    kernels["two-pass mul, add_"] = lambda: torch.mul(x0, a).add_(noise, alpha=b)
    if device.type == "cpu":
        for chunk in (1 << 16, 1 << 19):
            kernel = _chunked_two_pass(chunk)
            kernels[f"chunked two-pass, 2^{chunk.bit_length() - 1}"] = partial(
                kernel, x0, a, noise, b
            )
    if diffusion._fused_scaled_sum(x0, a, noise, b) is not None:  # imports and compiles it
        a_table = fd.table("sqrt_alphas_cumprod", device, x0.dtype)
        b_table = fd.table("sqrt_one_minus_alphas_cumprod", device, x0.dtype)
        kernels["fused kernel alone, one t"] = lambda: diffusion._fused_scaled_sum(x0, a, noise, b)
        if device.type in diffusion._FUSED_GATHER:  # the launch q_sample makes: it gathers a, b
            kernels["fused kernel alone, t per sample"] = lambda: diffusion._fused_scaled_sum(
                x0, a_table, noise, b_table, index=t_batch
            )
        else:  # the CPU kernel takes the coefficients gathered
            per_sample = (-1, 1, 1, 1)
            a_batch, b_batch = a_table[t_batch].view(per_sample), b_table[t_batch].view(per_sample)
            kernels["fused kernel alone, t per sample"] = lambda: diffusion._fused_scaled_sum(
                x0, a_batch, noise, b_batch
            )
    times = _time_interleaved(kernels, repeats, device, calls)
    synced = _time_synced(kernels, repeats, device) if device.type == "cuda" else times
    floor = statistics.median(times["copy x0.clone() (floor)"])
    rows = []
    for name, values in times.items():
        median = statistics.median(values)
        label = f"{name} [{'x'.join(map(str, shape))}]"
        rows.append((label, median, min(values), median / floor, statistics.median(synced[name])))
    if diffusion._fused_state[device.type]["failed"]:
        print("fused path unavailable:", diffusion._fused_state[device.type]["failed"])
    return rows


def _reference_chain(fd: ForwardDiffusion, x0: torch.Tensor, t: int, g: torch.Generator):
    """The chain the usual way: randn, then mul_ and add_, three ops a step."""
    state, eps = x0.clone(), torch.empty_like(x0)
    for step in range(t + 1):
        torch.randn(x0.shape, generator=g, out=eps, device=x0.device)
        state.mul_(float(fd.alphas[step]) ** 0.5).add_(eps, alpha=float(fd.betas[step]) ** 0.5)
    return state


def bench_chain(device: torch.device, repeats: int) -> list[Row]:
    fd = ForwardDiffusion(1000, "linear", device=device)
    x0 = torch.zeros(1_000_000, device=device)
    g = torch.Generator(device=device).manual_seed(0)
    kernels = {
        "reference": lambda: _reference_chain(fd, x0, 999, g),
        "q_sample_chain": lambda: fd.q_sample_chain(x0, 999, generator=g),
    }
    times = _time_interleaved(kernels, repeats, device)
    floor = statistics.median(times["reference"])
    return [
        (
            f"Markov chain, 1e6 samples x 1000 steps: {name}",
            statistics.median(values),
            min(values),
            statistics.median(values) / floor,
            statistics.median(values),
        )
        for name, values in times.items()
    ]


def bench_frames(device: torch.device, repeats: int) -> Row:
    fd = ForwardDiffusion(1000, "linear", device=device)
    g = torch.Generator(device=device).manual_seed(0)
    x0 = torch.rand(3, 512, 512, generator=g, device=device) * 2 - 1
    noise = torch.randn(x0.shape, generator=g, device=device)
    times = _time_interleaved({"frames": lambda: fd.frames_uint8(x0, noise)}, repeats, device)
    name = "1000 frames 512x512 RGB -> uint8 [1000,512,512,3]"
    median = statistics.median(times["frames"])
    return (name, median, min(times["frames"]), 0.0, median)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument(
        "--calls", type=int, default=1, help="CUDA: q_sample calls back to back per timing"
    )
    parser.add_argument("--skip-chain", action="store_true")
    parser.add_argument("--skip-frames", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda":
        machine = torch.cuda.get_device_name(device)
    else:
        machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    print(f"# {machine}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"# medians of {args.repeats} interleaved rounds")
    rows = bench_q_sample(device, args.repeats, args.calls)
    if not args.skip_chain:
        rows += bench_chain(device, max(3, args.repeats // 5))
    if not args.skip_frames:
        rows.append(bench_frames(device, max(3, args.repeats // 3)))
    width = max(len(row[0]) for row in rows)
    print("# x copy: median over the copy's median (chain rows: over the reference loop's)")
    if device.type == "cuda":
        print(
            f"# CUDA: device events around {args.calls} call(s) back to back, no waiting inside"
            " a round; 'synced ms': host waits per call"
        )
    print(f"| {'kernel':<{width}} | median ms | min ms | x copy | synced ms |")
    print(f"|{'-' * (width + 2)}|----------:|-------:|-------:|----------:|")
    for name, median, minimum, ratio, synced in rows:
        ratio_text = f"{ratio:6.2f}" if ratio else "     -"
        print(
            f"| {name:<{width}} | {median * 1e3:9.2f} | {minimum * 1e3:6.2f} | {ratio_text} "
            f"| {synced * 1e3:9.2f} |"
        )


if __name__ == "__main__":
    main()
