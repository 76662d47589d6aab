"""The key checks of tests/test_diffusion.py on CUDA, including the fused Triton kernel.

Skipped on machines without CUDA; run with ``pytest -m gpu`` on one that has it.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
import torch

import core.diffusion as diffusion
from core import ForwardDiffusion, pick_device

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

KS_C = math.sqrt(-math.log(0.001 / 2) / 2)  # two-sample KS at α = 0.001
BIG_BETAS = np.linspace(0.05, 0.6, 10)


@pytest.fixture
def fd() -> ForwardDiffusion:
    return ForwardDiffusion(1000, "cosine", device="cuda")


def test_auto_picks_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIFFUSION_DEVICE", "auto")
    assert pick_device().type == "cuda"


@pytest.mark.parametrize("t", [0, 500, 999, "batch"])
def test_q_sample_on_cuda_matches_cpu(fd: ForwardDiffusion, t: object) -> None:
    g = torch.Generator().manual_seed(0)
    x0 = torch.rand(8, 3, 64, 64, generator=g) * 2 - 1
    noise = torch.randn(x0.shape, generator=g)
    steps = torch.tensor([0, 1, 10, 100, 500, 900, 998, 999]) if t == "batch" else t
    on_cpu, _ = fd.q_sample(x0, steps, noise)
    on_gpu, eps = fd.q_sample(x0.cuda(), steps.cuda() if t == "batch" else steps, noise.cuda())
    assert on_gpu.device.type == "cuda" and on_gpu.dtype == torch.float32
    torch.testing.assert_close(on_gpu.cpu(), on_cpu, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(eps.cpu(), noise, rtol=0, atol=0)


def test_fused_path_is_used_and_matches_the_plain_one(monkeypatch, fd: ForwardDiffusion) -> None:
    monkeypatch.delenv("DIFFUSION_FUSED", raising=False)
    g = torch.Generator(device="cuda").manual_seed(1)
    x0 = torch.rand(4, 3, 128, 128, device="cuda", generator=g) * 2 - 1
    noise = torch.randn(x0.shape, device="cuda", generator=g)
    for t in (7, torch.tensor([0, 300, 600, 999], device="cuda")):
        fused, _ = fd.q_sample(x0, t, noise)
        assert diffusion._fused_state["cuda"]["failed"] is None, diffusion._fused_state["cuda"][
            "failed"
        ]
        assert diffusion._fused_state["cuda"]["fn"] is not None
        monkeypatch.setenv("DIFFUSION_FUSED", "0")
        plain, _ = fd.q_sample(x0, t, noise)
        monkeypatch.delenv("DIFFUSION_FUSED")
        torch.testing.assert_close(fused, plain, rtol=1e-6, atol=1e-6)
    half, _ = fd.q_sample(x0.half(), 7, noise.half())
    assert half.dtype == torch.float16
    torch.testing.assert_close(half.float(), fd.q_sample(x0, 7, noise)[0], rtol=2e-3, atol=2e-3)


def test_same_seed_same_result_on_cuda(fd: ForwardDiffusion) -> None:
    x0 = torch.zeros(2, 3, 16, 16, device="cuda")

    def run(seed: int) -> torch.Tensor:
        return fd.q_sample(x0, 100, generator=torch.Generator(device="cuda").manual_seed(seed))[0]

    assert torch.equal(run(3), run(3))
    assert not torch.equal(run(3), run(4))


@pytest.mark.parametrize("t", [0, 4, 9])
def test_chain_matches_closed_form_on_cuda(t: int) -> None:
    scipy_stats = pytest.importorskip("scipy.stats")
    fd = ForwardDiffusion(betas=BIG_BETAS, device="cuda")
    n, x0 = 400_000, 1.5
    x = torch.full((n,), x0, device="cuda")
    chain = fd.q_sample_chain(x, t, generator=torch.Generator(device="cuda").manual_seed(t))
    closed, _ = fd.q_sample(x, t, generator=torch.Generator(device="cuda").manual_seed(99))
    abar = math.prod(1 - float(b) for b in BIG_BETAS[: t + 1])
    mean, var = math.sqrt(abar) * x0, 1 - abar
    for sample in (chain.double(), closed.double()):
        assert abs(float(sample.mean()) - mean) < 5 * math.sqrt(var / n)
        assert abs(float(sample.var()) - var) < 5 * var * math.sqrt(2 / (n - 1))
    critical = KS_C * math.sqrt(2 / n)
    assert scipy_stats.ks_2samp(chain.cpu().numpy(), closed.cpu().numpy()).statistic < critical
    wrong, _ = fd.q_sample(
        x, t - 1 if t else t + 1, generator=torch.Generator("cuda").manual_seed(5)
    )
    assert scipy_stats.ks_2samp(chain.cpu().numpy(), wrong.cpu().numpy()).statistic > critical


def test_frames_on_cuda_match_cpu() -> None:
    rng = np.random.default_rng(0)
    x0 = (rng.integers(0, 256, (3, 64, 48)) / 127.5 - 1).astype(np.float32)
    eps = rng.standard_normal(x0.shape).astype(np.float32)
    on_cpu = ForwardDiffusion(1000, device="cpu").frames_uint8(x0, eps)
    gpu = ForwardDiffusion(1000, device="cuda")
    on_gpu = gpu.frames_uint8(torch.from_numpy(x0).cuda(), torch.from_numpy(eps).cuda())
    assert on_gpu.device.type == "cuda" and on_gpu.shape == (1000, 64, 48, 3)
    diff = (on_gpu.cpu().int() - torch.from_numpy(on_cpu).int()).abs()
    assert int(diff.max()) <= 1  # FMA on the GPU may round a boundary value the other way
    assert float((diff > 0).float().mean()) < 1e-3
    np.testing.assert_array_equal(gpu.frames_uint8(x0, eps), on_gpu.cpu().numpy())


def test_fused_kernel_at_every_kind_of_timestep(fd: ForwardDiffusion) -> None:
    """The Triton kernel against float64 for many t, a batch of t, and a size with a tail."""
    g = torch.Generator(device="cuda").manual_seed(2)
    x0 = torch.rand(3, 3, 33, 31, device="cuda", generator=g) * 2 - 1
    noise = torch.randn(x0.shape, device="cuda", generator=g)
    for t in [*range(0, 1000, 37), 999, torch.tensor([5, 500, 999], device="cuda")]:
        fused, _ = fd.q_sample(x0, t, noise)
        steps = t.cpu() if isinstance(t, torch.Tensor) else torch.tensor([t] * 3)
        a = torch.from_numpy(fd.sqrt_alphas_cumprod[steps.numpy()]).cuda().view(-1, 1, 1, 1)
        b = torch.from_numpy(fd.sqrt_one_minus_alphas_cumprod[steps.numpy()]).cuda()
        expected = a * x0.double() + b.view(-1, 1, 1, 1) * noise.double()
        torch.testing.assert_close(fused.double(), expected, rtol=1e-6, atol=1e-6)
    assert diffusion._fused_state["cuda"]["failed"] is None, diffusion._fused_state["cuda"][
        "failed"
    ]
    assert diffusion._fused_state["cuda"]["fn"] is not None


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_per_sample_t_in_one_launch_that_gathers(monkeypatch, fd: ForwardDiffusion, dtype) -> None:
    """A batch of t, from a CUDA tensor or from the host, takes the kernel that gathers the
    coefficients itself: eager's result, and a clear error for a timestep out of range."""
    monkeypatch.delenv("DIFFUSION_FUSED", raising=False)
    g = torch.Generator(device="cuda").manual_seed(3)
    x0 = (torch.rand(6, 3, 33, 31, device="cuda", generator=g) * 2 - 1).to(dtype)
    noise = torch.randn(x0.shape, device="cuda", generator=g).to(dtype)
    steps = [0, 999, 1, 500, 999, 0]
    fd.q_sample(x0, 7, noise)  # imports the kernel
    kernel = diffusion._fused_state["cuda"]["fn"]
    assert kernel is not None, diffusion._fused_state["cuda"]["failed"]
    calls = []

    def spy(*args, **kwargs):
        calls.append("index" in kwargs)
        return kernel(*args, **kwargs)

    monkeypatch.setitem(diffusion._fused_state["cuda"], "fn", spy)
    monkeypatch.setenv("DIFFUSION_FUSED", "0")
    plain, _ = fd.q_sample(x0, torch.tensor(steps), noise)
    monkeypatch.delenv("DIFFUSION_FUSED")
    assert calls == []
    # the kernel's arithmetic: coefficients rounded to the dtype as eager rounds them, float32
    a = torch.from_numpy(fd.sqrt_alphas_cumprod[steps]).to(dtype).float().cuda().view(-1, 1, 1, 1)
    b = torch.from_numpy(fd.sqrt_one_minus_alphas_cumprod[steps]).to(dtype).float().cuda()
    expected = a * x0.float() + b.view(-1, 1, 1, 1) * noise.float()
    # one rounding to the dtype (eager rounds a·x0 first as well)
    step = {torch.float32: 1e-6, torch.float16: 2**-10, torch.bfloat16: 2**-7}[dtype]
    loose = {torch.float32: 1e-6, torch.float16: 4e-3, torch.bfloat16: 3e-2}[dtype]
    pinned = torch.tensor(steps).pin_memory()
    for t in (torch.tensor(steps, device="cuda"), torch.tensor(steps), steps, pinned):
        fused, _ = fd.q_sample(x0, t, noise)
        if t is pinned:  # the call copies host timesteps for itself: changing t after is safe
            pinned.fill_(0)
        assert calls == [True], (t, calls)
        calls.clear()
        assert fused.dtype == dtype and fused.device.type == "cuda"
        torch.testing.assert_close(fused.float(), expected, rtol=step, atol=1e-6)
        torch.testing.assert_close(fused, plain, rtol=loose, atol=loose)
    # the range check finishes after the launch (the GPU runs the kernel while the host waits
    # for the bounds); the kernel reads nothing outside the tables, so CUDA stays usable
    for bad in ([0, 1000, 1, 2, 3, 4], [0, -1, 1, 2, 3, 4]):
        with pytest.raises(ValueError, match="timesteps must be in 0..999"):
            fd.q_sample(x0, torch.tensor(bad, device="cuda"), noise)
        with pytest.raises(ValueError, match="timesteps must be in 0..999"):
            fd.q_sample(x0, torch.tensor(bad), noise)
    assert calls == [True] * 4, calls
    torch.cuda.synchronize()
    fused, _ = fd.q_sample(x0, torch.tensor(steps, device="cuda"), noise)
    torch.testing.assert_close(fused.float(), expected, rtol=step, atol=1e-6)
    outside = torch.tensor([0, 1000, 1, -1, 999, 0], device="cuda")
    a_table = fd.table("sqrt_alphas_cumprod", "cuda", dtype)
    b_table = fd.table("sqrt_one_minus_alphas_cumprod", "cuda", dtype)
    masked = kernel(x0, a_table, noise, b_table, index=outside)
    assert torch.equal(masked[[1, 3]], torch.zeros_like(x0[[1, 3]]))
    rows = [0, 2, 4, 5]
    torch.testing.assert_close(masked[rows].float(), expected[rows], rtol=step, atol=1e-6)
    assert diffusion._fused_state["cuda"]["failed"] is None, diffusion._fused_state["cuda"][
        "failed"
    ]


def test_range_check_waits_for_the_work_that_made_t(fd: ForwardDiffusion) -> None:
    """The copy of t for the range check runs on a side stream, after the work queued before
    the call: a t written by a kernel still waiting behind a long one is read as written."""
    x0 = torch.rand(6, 3, 8, 8, device="cuda")
    noise = torch.randn_like(x0)
    fd.q_sample(x0, torch.zeros(6, dtype=torch.long, device="cuda"), noise)
    for bad in (1000, -1):
        t = torch.zeros(6, dtype=torch.long, device="cuda")
        torch.cuda._sleep(50_000_000)  # tens of milliseconds of GPU time before t is written
        t[3] = bad
        with pytest.raises(ValueError, match="timesteps must be in 0..999"):
            fd.q_sample(x0, t, noise)
    t = torch.full((6,), 1000, dtype=torch.long, device="cuda")
    torch.cuda._sleep(50_000_000)
    t.fill_(999)
    x_t, _ = fd.q_sample(x0, t, noise)
    expected, _ = fd.q_sample(x0, 999, noise)
    torch.testing.assert_close(x_t, expected, rtol=1e-6, atol=1e-6)


def test_range_check_copies_beside_the_kernels_not_between_them(
    tmp_path, fd: ForwardDiffusion
) -> None:
    """In a loop of calls with one t per sample the caller's stream holds the kernels alone:
    the device-to-host copies of the range check run on another stream (from the profiler's
    trace), so the GPU does not stop between two kernels for them."""
    profiler = torch.profiler
    x0 = torch.rand(8, 3, 64, 64, device="cuda")
    noise = torch.randn_like(x0)
    t = torch.randint(0, 1000, (8,), device="cuda")
    fd.q_sample(x0, t, noise)  # compiles the kernel
    torch.cuda.synchronize()
    trace = tmp_path / "trace.json"
    with warnings.catch_warnings():  # the profiler's own notes about its cycles
        warnings.simplefilter("ignore", UserWarning)
        with profiler.profile(activities=[profiler.ProfilerActivity.CUDA]) as prof:
            for _ in range(3):
                fd.q_sample(x0, t, noise)
            torch.cuda.synchronize()
        prof.export_chrome_trace(str(trace))
    events = [e for e in json.loads(trace.read_text())["traceEvents"] if e.get("ph") == "X"]
    seen = sorted({(e.get("cat"), e.get("name")) for e in events})
    kernels = [e for e in events if e.get("cat") == "kernel" and "scaled_sum" in e["name"]]
    copies = [e for e in events if e.get("cat") == "gpu_memcpy" and "DtoH" in e["name"]]
    assert len(kernels) == 3 and len(copies) == 3, seen
    kernel_streams = {e["args"]["stream"] for e in kernels}
    copy_streams = {e["args"]["stream"] for e in copies}
    assert len(kernel_streams) == 1 and not kernel_streams & copy_streams, (kernels, copies)
