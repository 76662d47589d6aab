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
    kernels: dict[str, Callable[[], object]], repeats: int, device: torch.device
) -> dict[str, list[float]]:
    for kernel in kernels.values():  # warm-up (and compile)
        kernel()
    _sync(device)
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


def bench_q_sample(device: torch.device, repeats: int) -> list[tuple[str, float, float, float]]:
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
    if device.type == "cuda":
        kernels["fused (torch.compile), one t"] = lambda: diffusion._fused_scaled_sum(
            x0, a, noise, b
        )
    times = _time_interleaved(kernels, repeats, device)
    floor = statistics.median(times["copy x0.clone() (floor)"])
    rows = []
    for name, values in times.items():
        median = statistics.median(values)
        rows.append((f"{name} [{'x'.join(map(str, shape))}]", median, min(values), median / floor))
    if device.type == "cuda" and diffusion._fused_state["failed"]:
        print("fused path unavailable:", diffusion._fused_state["failed"])
    return rows


def bench_chain(device: torch.device, repeats: int) -> tuple[str, float, float, float]:
    fd = ForwardDiffusion(1000, "linear", device=device)
    x0 = torch.zeros(1_000_000, device=device)
    g = torch.Generator(device=device).manual_seed(0)
    times = _time_interleaved(
        {"chain": lambda: fd.q_sample_chain(x0, 999, generator=g)}, repeats, device
    )["chain"]
    return ("Markov chain, 1e6 samples x 1000 steps", statistics.median(times), min(times), 0.0)


def bench_frames(device: torch.device, repeats: int) -> tuple[str, float, float, float]:
    fd = ForwardDiffusion(1000, "linear", device=device)
    g = torch.Generator(device=device).manual_seed(0)
    x0 = torch.rand(3, 512, 512, generator=g, device=device) * 2 - 1
    noise = torch.randn(x0.shape, generator=g, device=device)
    times = _time_interleaved({"frames": lambda: fd.frames_uint8(x0, noise)}, repeats, device)
    name = "1000 frames 512x512 RGB -> uint8 [1000,512,512,3]"
    return (name, statistics.median(times["frames"]), min(times["frames"]), 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
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
    rows = bench_q_sample(device, args.repeats)
    if not args.skip_chain:
        rows.append(bench_chain(device, max(3, args.repeats // 5)))
    if not args.skip_frames:
        rows.append(bench_frames(device, max(3, args.repeats // 3)))
    width = max(len(row[0]) for row in rows)
    print(f"| {'kernel':<{width}} | median ms | min ms | x copy |")
    print(f"|{'-' * (width + 2)}|----------:|-------:|-------:|")
    for name, median, minimum, ratio in rows:
        ratio_text = f"{ratio:6.2f}" if ratio else "     -"
        print(f"| {name:<{width}} | {median * 1e3:9.2f} | {minimum * 1e3:6.2f} | {ratio_text} |")


if __name__ == "__main__":
    main()
