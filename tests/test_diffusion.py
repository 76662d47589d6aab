"""The forward process: q(x_t | x_0), the Markov chain, the posterior, frames, diffusers parity.

Statistical checks use fixed seeds and tolerances derived from the sample size: means within
5 standard errors, two-sample KS statistics below the 99.9 % critical value.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import types
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

import core.diffusion as diffusion
from core import ForwardDiffusion, schedule_params
from tests.conftest import ROOT

Z = 5.0  # standard errors allowed for a moment
KS_C = math.sqrt(-math.log(0.001 / 2) / 2)  # c(α) of the two-sample KS test at α = 0.001

# T = 10 with large betas: ᾱ_t and ᾱ_{t±1} differ by 5-60 %, so an off-by-one in the index
# convention moves the mean by hundreds of standard errors.
BIG_BETAS = np.linspace(0.05, 0.6, 10)


def _ks_critical(n: int, m: int) -> float:
    return KS_C * math.sqrt((n + m) / (n * m))


def _alpha_bar(betas: np.ndarray, t: int) -> float:
    return math.prod(1.0 - float(b) for b in betas[: t + 1])


@pytest.fixture
def fd() -> ForwardDiffusion:
    return ForwardDiffusion(1000, "linear", device="cpu")


# -- q(x_t | x_0) ------------------------------------------------------------------------------


@pytest.mark.parametrize("t", [0, 1, 499, 999])
def test_q_sample_is_the_closed_form(fd: ForwardDiffusion, t: int) -> None:
    rng = np.random.default_rng(t)
    x0 = rng.uniform(-1, 1, (2, 3, 4, 5))
    noise = rng.standard_normal(x0.shape)
    x_t, eps = fd.q_sample(x0, t, noise)
    abar = _alpha_bar(np.linspace(1e-4, 0.02, 1000), t)
    np.testing.assert_allclose(
        x_t, math.sqrt(abar) * x0 + math.sqrt(1 - abar) * noise, rtol=1e-12, atol=1e-14
    )
    np.testing.assert_array_equal(eps, noise)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_for_numpy_and_torch(fd: ForwardDiffusion, dtype: type) -> None:
    x0 = np.linspace(-1, 1, 24, dtype=dtype).reshape(2, 3, 4)
    noise = np.cos(np.arange(24, dtype=dtype)).reshape(2, 3, 4)
    x_np, eps_np = fd.q_sample(x0, 10, noise)
    assert isinstance(x_np, np.ndarray) and x_np.dtype == dtype and eps_np.dtype == dtype
    x_th, eps_th = fd.q_sample(torch.from_numpy(x0), 10, torch.from_numpy(noise))
    assert isinstance(x_th, torch.Tensor) and x_th.dtype == torch.from_numpy(x0).dtype
    np.testing.assert_array_equal(x_np, x_th.numpy())  # same noise, same numbers
    # drawn noise too
    x_gen, eps_gen = fd.q_sample(torch.from_numpy(x0), 10)
    assert x_gen.dtype == eps_gen.dtype == torch.from_numpy(x0).dtype
    mean, var, _ = fd.q_mean_variance(x0, 10)
    assert mean.dtype == dtype and var.dtype == dtype


def test_numpy_noise_with_torch_x0(fd: ForwardDiffusion) -> None:
    x0 = torch.linspace(-1, 1, 12)
    noise = np.sin(np.arange(12.0))  # float64 noise is cast to x0's float32
    x_t, eps = fd.q_sample(x0, 3, noise)
    assert x_t.dtype == eps.dtype == torch.float32
    expected, _ = fd.q_sample(x0, 3, torch.from_numpy(noise).float())
    torch.testing.assert_close(x_t, expected, rtol=0, atol=0)


def test_same_seed_same_result(fd: ForwardDiffusion) -> None:
    x0 = torch.zeros(4, 3, 8, 8)

    def run(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        return fd.q_sample(x0, 100, generator=torch.Generator().manual_seed(seed))

    a, b, c = run(7), run(7), run(8)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])
    chain_a = fd.q_sample_chain(x0, 20, generator=torch.Generator().manual_seed(3))
    chain_b = fd.q_sample_chain(x0, 20, generator=torch.Generator().manual_seed(3))
    assert torch.equal(chain_a, chain_b)


@pytest.mark.parametrize("make_t", [torch.tensor, np.array, list])
def test_batch_of_t_equals_per_sample_ints(fd: ForwardDiffusion, make_t: type) -> None:
    g = torch.Generator().manual_seed(0)
    x0 = torch.rand(5, 3, 7, 6, generator=g) * 2 - 1
    noise = torch.randn(x0.shape, generator=g)
    ts = [0, 999, 17, 500, 17]
    batch, _ = fd.q_sample(x0, make_t(ts), noise)
    for i, t in enumerate(ts):
        single, _ = fd.q_sample(x0[i], t, noise[i])
        assert torch.equal(batch[i], single), t
    mean, var, log_var = fd.q_mean_variance(x0, torch.tensor(ts))
    assert var.shape == log_var.shape == (5, 1, 1, 1)
    for i, t in enumerate(ts):
        torch.testing.assert_close(mean[i], x0[i] * float(fd.sqrt_alphas_cumprod[t]))
        assert float(var[i]) == pytest.approx(1 - fd.alphas_cumprod[t], rel=1e-6)


def test_q_sample_large_odd_sizes() -> None:
    # A large odd size (several pages, threads and SIMD tails), one t and a batch of t.
    fd = ForwardDiffusion(1000, "cosine", device="cpu")
    n = 2 * (1 << 19) + 12345
    g = torch.Generator().manual_seed(1)
    x0 = torch.rand(3, n, generator=g) * 2 - 1
    noise = torch.randn(x0.shape, generator=g)
    a, b = fd.sqrt_alphas_cumprod, fd.sqrt_one_minus_alphas_cumprod
    x_t, _ = fd.q_sample(x0, 600, noise)
    expected = a[600] * x0.double() + b[600] * noise.double()
    torch.testing.assert_close(x_t.double(), expected, rtol=0, atol=1e-6)
    ts = torch.tensor([5, 600, 999])
    x_t, _ = fd.q_sample(x0, ts, noise)
    expected = torch.from_numpy(a[ts.numpy()])[:, None] * x0.double()
    expected += torch.from_numpy(b[ts.numpy()])[:, None] * noise.double()
    torch.testing.assert_close(x_t.double(), expected, rtol=0, atol=1e-6)
    # non-contiguous inputs take the plain path and give the same numbers
    x_nc, _ = fd.q_sample(x0.t(), 600, noise.t())
    x_c, _ = fd.q_sample(x0.t().contiguous(), 600, noise.t().contiguous())
    torch.testing.assert_close(x_nc, x_c, rtol=1e-6, atol=1e-6)


def test_q_sample_keeps_gradients(fd: ForwardDiffusion) -> None:
    x0 = torch.linspace(-1, 1, 10, requires_grad=True)
    x_t, _ = fd.q_sample(x0, 250, torch.zeros(10))
    x_t.sum().backward()
    torch.testing.assert_close(
        x0.grad, torch.full((10,), float(fd.sqrt_alphas_cumprod[250])), rtol=1e-6, atol=0
    )


@pytest.mark.parametrize(
    ("t", "message"),
    [
        (1000, "out of range"),
        (-1, "out of range"),
        (torch.tensor([0, 1000]), "0..999"),
        (torch.tensor([-1, 3]), "0..999"),
        (torch.tensor([0.0, 1.0]), "integers"),
        (torch.tensor([True, False]), "integers"),
        ([1, 2, 3], "3 timesteps for a batch of 2"),
        ([], "0 timesteps for a batch of 2"),
        ([1.0, 2.0], "integers"),
        ([True, False], "integers"),
        ([[1], [2, 3]], "flat sequence"),
        (torch.tensor(2.7), "integers"),  # a 0-d float is not truncated to 2
        (np.array(2.7), "integers"),
        (np.float64(2.0), "an integer"),
        (2.0, "an integer"),
        (True, "an integer"),
        (torch.tensor(True), "integers"),
        (np.array(True), "integers"),
        ("3", "an integer"),
        (None, "an integer"),
    ],
)
def test_bad_timesteps(fd: ForwardDiffusion, t: object, message: str) -> None:
    """Every method that takes timesteps refuses what is not an integer, with one message."""
    with pytest.raises(ValueError, match=message):
        fd.q_sample(torch.zeros(2, 3), t)
    with pytest.raises(ValueError, match=message):
        fd.q_mean_variance(torch.zeros(2, 3), t)
    with pytest.raises(ValueError, match=message):
        fd.q_posterior_mean_variance(torch.zeros(2, 3), torch.zeros(2, 3), t)


@pytest.mark.parametrize(
    ("t", "message"),
    [
        (2.7, "an integer"),
        ([1.5, 2.9], "integers"),  # not truncated to [1, 2]
        (torch.tensor([1.5]), "integers"),
        (torch.tensor(2.7), "integers"),
        (True, "an integer"),
        ("3", "an integer"),
        ([[1], [2, 3]], "flat sequence"),
        ([4, 1000], "out of range"),
    ],
)
def test_bad_chain_and_frame_timesteps(fd: ForwardDiffusion, t: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fd.q_sample_chain(torch.zeros(2, 3), t)
    with pytest.raises(ValueError, match=message):
        fd.frames_uint8(torch.zeros(4, 4, 3), timesteps=t)


@pytest.mark.parametrize(
    "t", [7, np.int32(7), np.uint8(7), torch.tensor(7), np.array(7), torch.tensor(7).to(torch.int8)]
)
def test_integer_timesteps_of_every_kind(fd: ForwardDiffusion, t: object) -> None:
    x0, noise = torch.ones(2, 3), torch.zeros(2, 3)
    torch.testing.assert_close(fd.q_sample(x0, t, noise)[0], fd.q_sample(x0, 7, noise)[0])
    generator = torch.Generator().manual_seed(0)
    chain = fd.q_sample_chain(x0, t, generator=generator)
    assert chain.shape == x0.shape
    lists = [[7, 3], np.array([7, 3], dtype=np.uint16), torch.tensor([7, 3], dtype=torch.int16)]
    for steps in lists:
        torch.testing.assert_close(
            fd.q_sample(x0, steps, noise)[0], fd.q_sample(x0, torch.tensor([7, 3]), noise)[0]
        )


def test_numpy_scalars_are_data_too(fd: ForwardDiffusion) -> None:
    x_t, eps = fd.q_sample(np.float32(0.5), 10, np.float32(0.25))
    expected = fd.sqrt_alphas_cumprod[10] * 0.5 + fd.sqrt_one_minus_alphas_cumprod[10] * 0.25
    assert isinstance(x_t, np.ndarray) and x_t.shape == () and x_t.dtype == np.float32
    assert float(x_t) == pytest.approx(expected, rel=1e-6)


def test_bad_inputs(fd: ForwardDiffusion) -> None:
    with pytest.raises(ValueError, match="noise shape"):
        fd.q_sample(torch.zeros(2, 3), 0, torch.zeros(3, 2))
    with pytest.raises(ValueError, match="x_t shape"):
        fd.q_posterior_mean_variance(torch.zeros(2, 3), torch.zeros(2, 2), 1)
    with pytest.raises(TypeError, match="torch tensor or numpy array"):
        fd.q_sample("image", 0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown table 'beta'"):
        fd.table("beta", "cpu", torch.float32)
    with pytest.raises(ValueError, match="at least one"):
        fd.q_sample_chain(torch.zeros(3), [])
    with pytest.raises(ValueError, match="out of range"):
        fd.q_sample_chain(torch.zeros(3), [3, 1000])
    for image in (torch.zeros(0, 5, 5), torch.zeros(3, 0, 5)):
        with pytest.raises(ValueError, match="not empty"):
            fd.frames_uint8(image, layout="chw")
    with pytest.raises(ValueError, match="cannot be rescaled to zero terminal SNR"):
        ForwardDiffusion(betas=[1.2e-16, 1e-16, 0.5], zero_terminal_snr=True, device="cpu")


@pytest.mark.parametrize("dtype", [torch.int64, torch.uint8, torch.bool])
def test_integer_data_is_computed_in_float32(fd: ForwardDiffusion, dtype: torch.dtype) -> None:
    """Integer or bool x0 (a tensor or an array) is data in float32: tables and noise are not
    truncated to integers (they were: x_t all 0 for uint8, the noise rounded to ints)."""
    x_int = torch.tensor([[1, 0, 1], [0, 1, 1]], dtype=dtype)
    x = x_int.to(torch.float32)
    noise = torch.randn(2, 3, generator=torch.Generator().manual_seed(0))
    for t in (500, [500, 999]):
        x_t, eps = fd.q_sample(x_int, t, noise)
        assert x_t.dtype == eps.dtype == torch.float32
        torch.testing.assert_close(eps, noise, rtol=0, atol=0)
        torch.testing.assert_close(x_t, fd.q_sample(x, t, noise)[0], rtol=0, atol=0)
        for got, want in zip(fd.q_mean_variance(x_int, t), fd.q_mean_variance(x, t), strict=True):
            torch.testing.assert_close(got, want, rtol=0, atol=0)
        posterior = fd.q_posterior_mean_variance(x_int, x_int, t)
        for got, want in zip(posterior, fd.q_posterior_mean_variance(x, x, t), strict=True):
            torch.testing.assert_close(got, want, rtol=0, atol=0)
    drawn = fd.q_sample(x_int, 5, generator=torch.Generator().manual_seed(1))[0]
    assert drawn.dtype == torch.float32
    chain = fd.q_sample_chain(x_int, [1, 5], generator=torch.Generator().manual_seed(1))
    assert chain.dtype == torch.float32 and chain.shape == (2, 2, 3)
    as_array, _ = fd.q_sample(x_int.numpy(), 500, noise.numpy())
    np.testing.assert_allclose(as_array, fd.q_sample(x, 500, noise)[0].numpy(), rtol=1e-7)


def test_complex_data_and_misshapen_timesteps_are_refused(fd: ForwardDiffusion) -> None:
    for x in (torch.zeros(2, dtype=torch.complex64), np.zeros(2, dtype=np.complex128)):
        with pytest.raises(TypeError, match="real numbers"):
            fd.q_sample(x, 5)
    x = torch.zeros(4, 3)
    for t in (torch.tensor([[0, 1], [2, 3]]), np.array([[0, 1, 2, 3]]), [[1, 2], [3, 4]]):
        with pytest.raises(ValueError, match=r"1-D\), got shape"):
            fd.q_sample(x, t)
    with pytest.raises(ValueError, match=r"1-D\), got shape \(2, 2\)"):
        fd.q_sample_chain(torch.zeros(3), [[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="a bool among them"):
        fd.q_sample(x, [True, 2, 3, 4])
    with pytest.raises(ValueError, match=r"timesteps must be in 0\.\.999, got 1000"):
        fd.q_sample(x, [0, 1000, 5, -1])  # the first one outside
    x_t, _ = fd.q_sample(np.zeros(2, dtype=np.longdouble), 5, np.ones(2))
    assert x_t.dtype == np.float64


def test_betas_and_schedule_parameters_together_raise() -> None:
    with pytest.raises(ValueError, match="either betas or schedule parameters"):
        ForwardDiffusion(betas=BIG_BETAS, beta_start=0.1, device="cpu")


def test_table_is_converted_and_a_copy_of_the_cached_one(fd: ForwardDiffusion) -> None:
    table = fd.table("alphas_cumprod", "cpu", torch.float32)
    assert table.dtype == torch.float32 and table.shape == (1000,)
    cached = fd._table("alphas_cumprod", "cpu", torch.float32)
    assert fd._table("alphas_cumprod", "cpu", torch.float32) is cached
    assert table is not cached and torch.equal(table, cached)
    torch.testing.assert_close(
        table.double(), torch.from_numpy(np.array(fd.alphas_cumprod)), rtol=1e-7, atol=0
    )


def test_q_mean_variance(fd: ForwardDiffusion) -> None:
    x0 = np.linspace(-1, 1, 6)
    mean, var, log_var = fd.q_mean_variance(x0, 300)
    abar = _alpha_bar(np.linspace(1e-4, 0.02, 1000), 300)
    np.testing.assert_allclose(mean, math.sqrt(abar) * x0, rtol=1e-12)
    assert float(var) == pytest.approx(1 - abar, rel=1e-12)
    assert float(log_var) == pytest.approx(math.log(1 - abar), rel=1e-12)


# -- the Markov chain and the closed form agree in distribution ----------------------------------


def _check_same_distribution(chain: torch.Tensor, closed: torch.Tensor, abar: float, x0: float):
    """Both samples against N(√ᾱ·x0, 1-ᾱ) (moments) and against each other (KS)."""
    scipy_stats = pytest.importorskip("scipy.stats")
    n = chain.numel()
    mean, var = math.sqrt(abar) * x0, 1.0 - abar
    for sample in (chain.double(), closed.double()):
        assert abs(float(sample.mean()) - mean) < Z * math.sqrt(var / n)
        assert abs(float(sample.var()) - var) < Z * var * math.sqrt(2 / (n - 1))
    result = scipy_stats.ks_2samp(chain.numpy(), closed.numpy())
    assert result.statistic < _ks_critical(n, closed.numel())
    return result.statistic


@pytest.mark.parametrize("t", [0, 1, 4, 8, 9])
def test_chain_matches_closed_form_big_steps(t: int) -> None:
    fd = ForwardDiffusion(betas=BIG_BETAS, device="cpu")
    n, x0 = 200_000, 1.5
    x = torch.full((n,), x0)
    chain = fd.q_sample_chain(x, t, generator=torch.Generator().manual_seed(10 + t))
    closed, _ = fd.q_sample(x, t, generator=torch.Generator().manual_seed(100 + t))
    _check_same_distribution(chain, closed, _alpha_bar(BIG_BETAS, t), x0)
    # The same test rejects the neighbouring timestep: an off-by-one could not pass.
    scipy_stats = pytest.importorskip("scipy.stats")
    neighbour = t + 1 if t + 1 < fd.timesteps else t - 1
    wrong, _ = fd.q_sample(x, neighbour, generator=torch.Generator().manual_seed(7))
    assert scipy_stats.ks_2samp(chain.numpy(), wrong.numpy()).statistic > _ks_critical(n, n)
    assert t > 0 or not torch.equal(chain, x)  # t = 0 already carries β_0 of noise


def test_chunked_cpu_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past CHAIN_CHUNK samples the CPU chain runs chunks with generators of their own."""
    monkeypatch.setattr(diffusion, "CHAIN_CHUNK", 1000)
    fd = ForwardDiffusion(betas=BIG_BETAS, device="cpu")
    n, x0, t = 200_000, 1.5, 4
    x = torch.full((n,), x0)
    chain = fd.q_sample_chain(x, [t, 9], generator=torch.Generator().manual_seed(3))
    closed, _ = fd.q_sample(x, t, generator=torch.Generator().manual_seed(4))
    _check_same_distribution(chain[0], closed, _alpha_bar(BIG_BETAS, t), x0)
    # chunks draw independent noise: no repeated chunk, no correlation between neighbours
    chunks = chain[1].reshape(-1, 1000)
    assert torch.unique(chunks[:, :4], dim=0).shape[0] == chunks.shape[0]
    neighbours = torch.corrcoef(torch.stack([chunks[:-1].reshape(-1), chunks[1:].reshape(-1)]))
    assert abs(float(neighbours[0, 1])) < Z / math.sqrt(chunks[1:].numel())
    # the same seed gives the same result whatever the thread count, also for numpy and 2-D
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        alone = fd.q_sample_chain(
            x.reshape(400, 500), t, generator=torch.Generator().manual_seed(3)
        )
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(alone.reshape(-1), chain[0])
    as_numpy = fd.q_sample_chain(x.numpy(), t, generator=torch.Generator().manual_seed(3))
    np.testing.assert_array_equal(as_numpy, chain[0].numpy())


@pytest.mark.slow
@pytest.mark.parametrize("name", ["linear", "cosine"])
def test_chain_matches_closed_form_1000_steps(name: str) -> None:
    fd = ForwardDiffusion(1000, name, device="cpu")
    n, x0 = 100_000, -0.8
    x = torch.full((n,), x0)
    ts = [0, 250, 999]
    chains = fd.q_sample_chain(x, ts, generator=torch.Generator().manual_seed(1))
    assert chains.shape == (3, n)
    for i, t in enumerate(ts):
        closed, _ = fd.q_sample(x, t, generator=torch.Generator().manual_seed(50 + t))
        _check_same_distribution(chains[i], closed, float(fd.alphas_cumprod[t]), x0)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_chain_has_the_marginal_of_the_closed_form(dtype) -> None:
    """A bfloat16 or float16 chain runs in float32 and stores its states in its dtype: its
    states then have the moments of q_sample's in that dtype (one rounding each). Rounding
    the state at every step instead shifted a bfloat16 mean by 19 standard errors at t = 20."""
    fd = ForwardDiffusion(1000, "linear", device="cpu")
    n, ts = 1_000_000, [20, 100]
    x = torch.full((n,), 2.0, dtype=dtype)
    chain = fd.q_sample_chain(x, ts, generator=torch.Generator().manual_seed(1))
    assert chain.dtype == dtype
    for state, t in zip(chain.double(), ts, strict=True):
        closed = fd.q_sample(x, t, generator=torch.Generator().manual_seed(2))[0].double()
        var = float(closed.var())
        # two samples of the same law: differences within Z standard errors of a difference
        assert abs(float(state.mean() - closed.mean())) < Z * math.sqrt(2 * var / n)
        assert abs(float(state.var()) - var) < Z * var * math.sqrt(4 / (n - 1))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_noise_is_a_float32_draw_rounded_once(dtype) -> None:
    """q_sample's own float16/bfloat16 noise is N(0, 1) drawn in float32 and rounded: mean 0
    and variance 1 within sampling error on any torch build (torch 2.11 draws bfloat16
    directly on the CPU with a variance of 0.987)."""
    n = 1_000_000
    x = torch.zeros(n, dtype=dtype)
    fd = ForwardDiffusion(1000, "linear", device="cpu")
    _, eps = fd.q_sample(x, 10, generator=torch.Generator().manual_seed(2))
    assert eps.dtype == dtype
    drawn = torch.randn(n, generator=torch.Generator().manual_seed(2))
    assert torch.equal(eps, drawn.to(dtype))
    values = eps.double()
    assert abs(float(values.mean())) < Z * math.sqrt(1 / n)
    assert abs(float(values.var()) - 1) < Z * math.sqrt(2 / (n - 1))


def test_chain_blocks_are_the_step_by_step_recursion(monkeypatch) -> None:
    """Blocks of steps (two ops per block) give the states of x_s = √α_s·x_(s-1) + √β_s·ε_s
    applied one step at a time with the same noise."""
    fd = ForwardDiffusion(300, "cosine", device="cpu")
    x0 = torch.linspace(-1, 1, 64)
    ts = [0, 5, 77, 299]
    blocked = fd.q_sample_chain(x0, ts, generator=torch.Generator().manual_seed(8))
    monkeypatch.setattr(diffusion, "CHAIN_BLOCK_STEPS", 1)
    stepwise = fd.q_sample_chain(x0, ts, generator=torch.Generator().manual_seed(8))
    torch.testing.assert_close(blocked, stepwise, rtol=1e-5, atol=1e-6)
    generator, state = torch.Generator().manual_seed(8), x0.double()
    for s in range(300):  # the recursion itself, in float64, with the same draws
        eps = torch.empty(1, 64).normal_(generator=generator)[0].double()
        state = math.sqrt(fd.alphas[s]) * state + math.sqrt(fd.betas[s]) * eps
        if s in ts:
            torch.testing.assert_close(stepwise[ts.index(s)].double(), state, rtol=1e-5, atol=1e-5)


def test_chain_of_several_t_is_one_trajectory() -> None:
    fd = ForwardDiffusion(betas=BIG_BETAS, device="cpu")
    x0 = torch.linspace(-1, 1, 64)
    states = fd.q_sample_chain(x0, [7, 2, 7, 0], generator=torch.Generator().manual_seed(5))
    assert states.shape == (4, 64)
    assert torch.equal(states[0], states[2])
    for position, t in enumerate([7, 2, 7, 0]):
        alone = fd.q_sample_chain(x0, t, generator=torch.Generator().manual_seed(5))
        # the same noise; blocks of steps end at other places, so float rounding may differ
        torch.testing.assert_close(states[position], alone, rtol=1e-5, atol=1e-6, msg=str(t))
    # numpy in, numpy out
    out = fd.q_sample_chain(x0.numpy(), np.int64(3), generator=torch.Generator().manual_seed(5))
    assert isinstance(out, np.ndarray) and out.shape == (64,)


# -- the posterior q(x_{t-1} | x_t, x_0) ----------------------------------------------------------


@pytest.mark.parametrize("t", [1, 5, 9])
def test_posterior_formula(t: int) -> None:
    fd = ForwardDiffusion(betas=BIG_BETAS, device="cpu")
    beta = float(BIG_BETAS[t])
    abar, abar_prev = _alpha_bar(BIG_BETAS, t), _alpha_bar(BIG_BETAS, t - 1)
    x0, x_t = np.array([0.3, -1.0]), np.array([1.2, 0.4])
    mean, var, log_var = fd.q_posterior_mean_variance(x0, x_t, t)
    expected = (
        beta * math.sqrt(abar_prev) / (1 - abar) * x0
        + (1 - abar_prev) * math.sqrt(1 - beta) / (1 - abar) * x_t
    )
    np.testing.assert_allclose(mean, expected, rtol=1e-12)
    assert float(var) == pytest.approx(beta * (1 - abar_prev) / (1 - abar), rel=1e-12)
    assert float(log_var) == pytest.approx(math.log(float(var)), rel=1e-12)


def test_posterior_at_t0_is_x0() -> None:
    fd = ForwardDiffusion(betas=BIG_BETAS, device="cpu")
    x0, x_t = torch.tensor([0.3, -1.0]), torch.tensor([5.0, 7.0])
    mean, var, log_var = fd.q_posterior_mean_variance(x0, x_t, 0)
    torch.testing.assert_close(mean, x0)
    assert float(var) == 0.0
    assert float(log_var) == pytest.approx(math.log(fd.posterior_variance[1]))  # clipped


def test_posterior_batch_of_t_equals_per_sample_ints() -> None:
    fd = ForwardDiffusion(1000, "cosine", device="cpu")
    g = torch.Generator().manual_seed(2)
    x0, x_t = torch.randn(4, 3, 2, generator=g), torch.randn(4, 3, 2, generator=g)
    ts = torch.tensor([1, 999, 400, 0])
    mean, var, log_var = fd.q_posterior_mean_variance(x0, x_t, ts)
    assert var.shape == (4, 1, 1)
    for i, t in enumerate(ts.tolist()):
        m, v, lv = fd.q_posterior_mean_variance(x0[i], x_t[i], t)
        torch.testing.assert_close(mean[i], m)
        torch.testing.assert_close(var[i].reshape(()), v)
        torch.testing.assert_close(log_var[i].reshape(()), lv)


@pytest.mark.parametrize("t", [1, 5, 9])
def test_posterior_monte_carlo(t: int) -> None:
    """x_{t-1} ~ q(x_{t-1} | x0), one step to x_t; then x_{t-1} - μ̃(x0, x_t) must have mean 0,
    variance β̃_t, and no correlation with x_t or x0 (the conditional moments of the posterior)."""
    fd = ForwardDiffusion(betas=BIG_BETAS, device="cpu")
    n = 200_000
    g = torch.Generator().manual_seed(20 + t)
    x0 = (torch.rand(n, generator=g, dtype=torch.float64) * 2 - 1) * 1.5
    x_prev, _ = fd.q_sample(x0, t - 1, generator=g)
    beta = float(BIG_BETAS[t])
    x_t = math.sqrt(1 - beta) * x_prev + math.sqrt(beta) * torch.randn(
        n, generator=g, dtype=torch.float64
    )
    mean, var, _ = fd.q_posterior_mean_variance(x0, x_t, t)
    residual = x_prev - mean
    var = float(var)
    assert abs(float(residual.mean())) < Z * math.sqrt(var / n)
    assert abs(float(residual.var()) - var) < Z * var * math.sqrt(2 / (n - 1))
    for regressor in (x_t, x0):
        corr = float(torch.corrcoef(torch.stack([residual, regressor]))[0, 1])
        assert abs(corr) < Z / math.sqrt(n)
    # With the neighbouring step's coefficients the residual is visibly correlated with x_t.
    wrong, _, _ = fd.q_posterior_mean_variance(x0, x_t, t - 1 if t > 1 else t + 1)
    corr = float(torch.corrcoef(torch.stack([x_prev - wrong, x_t]))[0, 1])
    assert abs(corr) > Z / math.sqrt(n)


# -- frames for animations -----------------------------------------------------------------------


def _reference_frames(fd: ForwardDiffusion, x0_hwc: np.ndarray, eps_hwc: np.ndarray, ts):
    frames = []
    for t in ts:
        abar = float(fd.alphas_cumprod[t])
        x_t = math.sqrt(abar) * x0_hwc.astype(np.float64)
        x_t = x_t + math.sqrt(1 - abar) * eps_hwc.astype(np.float64)
        frames.append(np.rint((np.clip(x_t, -1, 1) + 1) * 127.5).astype(np.uint8))
    return np.stack(frames)


def _image(h: int = 24, w: int = 20, c: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x0 = rng.integers(0, 256, (h, w, c)).astype(np.float32) / np.float32(127.5) - 1
    return x0, rng.standard_normal((h, w, c)).astype(np.float32)


def test_frames_match_q_sample_mapped_to_pixels(fd: ForwardDiffusion) -> None:
    x0, eps = _image()
    ts = [0, 1, 10, 500, 998, 999, 10]
    frames = fd.frames_uint8(x0, eps, ts)
    assert frames.dtype == np.uint8 and frames.shape == (len(ts), 24, 20, 3)
    expected = _reference_frames(fd, x0, eps, ts)
    diff = np.abs(frames.astype(int) - expected)
    # float32 arithmetic: only values within ~1e-4 of a rounding boundary may differ, by one level
    assert diff.max() <= 1
    assert (diff > 0).mean() < 1e-3
    # t = 0 is the image plus √β_0·ε = 0.01·ε of noise: 1.275·|ε| levels, plus one for rounding
    bound = math.ceil(127.5 * 0.01 * float(np.abs(eps).max())) + 1
    assert np.abs(frames[0].astype(int) - np.rint((x0 + 1) * 127.5)).max() <= bound


def test_frames_layouts_chunks_and_streaming_agree(fd: ForwardDiffusion) -> None:
    x0, eps = _image(h=16, w=12)
    hwc = fd.frames_uint8(x0, eps)
    assert hwc.shape == (1000, 16, 12, 3)
    chw = fd.frames_uint8(x0.transpose(2, 0, 1), eps.transpose(2, 0, 1))
    np.testing.assert_array_equal(hwc, chw)
    explicit = fd.frames_uint8(
        torch.from_numpy(x0.transpose(2, 0, 1)), eps.transpose(2, 0, 1), layout="chw"
    )
    assert isinstance(explicit, torch.Tensor) and explicit.dtype == torch.uint8
    np.testing.assert_array_equal(hwc, explicit.numpy())
    small = fd.frames_uint8(x0, eps, chunk_bytes=3 * 16 * 12 * 4 * 7)  # 7 frames per chunk
    np.testing.assert_array_equal(hwc, small)
    pieces = list(fd.iter_frames_uint8(x0, eps, range(1000), chunk_bytes=3 * 16 * 12 * 4 * 64))
    assert [start for start, _ in pieces] == list(range(0, 1000, 64))
    np.testing.assert_array_equal(hwc, np.concatenate([piece for _, piece in pieces]))
    grey = fd.frames_uint8(x0[..., :1], eps[..., :1], [3, 4])
    np.testing.assert_array_equal(grey, hwc[3:5, ..., :1])


def test_frames_drawn_noise_is_reproducible(fd: ForwardDiffusion) -> None:
    x0 = torch.zeros(3, 8, 8)
    a = fd.frames_uint8(x0, timesteps=[5, 999], generator=torch.Generator().manual_seed(1))
    b = fd.frames_uint8(x0, timesteps=[5, 999], generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    assert a.shape == (2, 8, 8, 3)


def test_frames_bad_input(fd: ForwardDiffusion) -> None:
    x0, eps = _image(h=5, w=6)
    with pytest.raises(ValueError, match="cannot tell the channel axis"):
        fd.frames_uint8(np.zeros((5, 6, 7), np.float32), np.zeros((5, 6, 7), np.float32))
    with pytest.raises(ValueError, match=r"\[C, H, W\] or \[H, W, C\]"):
        fd.frames_uint8(x0[..., 0], eps[..., 0])
    with pytest.raises(ValueError, match="noise shape"):
        fd.frames_uint8(x0, eps[:4])
    with pytest.raises(ValueError, match="unknown layout"):
        fd.frames_uint8(x0, eps, layout="nhwc")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="out of range"):
        fd.frames_uint8(x0, eps, [0, 1000])
    with pytest.raises(ValueError, match="chunk_bytes"):
        fd.frames_uint8(x0, eps, chunk_bytes=0)


# -- parity with diffusers' DDPMScheduler.add_noise ----------------------------------------------


@pytest.mark.parametrize(
    ("name", "zero_snr"),
    [("linear", False), ("scaled_linear", False), ("sigmoid", False), ("linear", True)],
)
def test_q_sample_equals_diffusers_add_noise(name: str, zero_snr: bool) -> None:
    diffusers = pytest.importorskip("diffusers")
    scheduler = diffusers.DDPMScheduler(
        num_train_timesteps=1000,
        beta_schedule=name,
        rescale_betas_zero_snr=zero_snr,
        **schedule_params(name),
    )
    fd = ForwardDiffusion(1000, name, device="cpu", zero_terminal_snr=zero_snr)
    g = torch.Generator().manual_seed(0)
    x0 = torch.rand(6, 3, 16, 16, generator=g) * 2 - 1
    noise = torch.randn(x0.shape, generator=g)
    ts = torch.tensor([0, 1, 250, 500, 998, 999])
    theirs = scheduler.add_noise(x0, noise, ts)
    ours, _ = fd.q_sample(x0, ts, noise)
    # diffusers' ᾱ are float32 products (and its zero-SNR rescaling float32): ~1e-4 relative
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=5e-5)


# -- the fused paths' guard (on the CPU here; tests/test_gpu.py runs the CUDA path) -----------


@pytest.fixture
def fused_state():
    saved = {device: dict(state) for device, state in diffusion._fused_state.items()}
    for state in diffusion._fused_state.values():
        state.update(fn=None, failed=None)
    yield diffusion._fused_state
    for device, state in diffusion._fused_state.items():
        state.update(saved[device])


def test_fused_path_can_be_turned_off(monkeypatch, fused_state) -> None:
    monkeypatch.setenv("DIFFUSION_FUSED", "0")
    x = torch.ones(4)
    assert diffusion._fused_scaled_sum(x, 0.5, x, 0.25) is None
    assert fused_state["cpu"]["fn"] is None  # nothing imported
    fd = ForwardDiffusion(10, device="cpu")
    assert torch.equal(
        fd.q_sample(x, 3, x)[0],
        torch.mul(x, fd.sqrt_alphas_cumprod[3]).add_(x, alpha=fd.sqrt_one_minus_alphas_cumprod[3]),
    )


def test_fused_path_falls_back_when_the_kernel_is_unavailable(monkeypatch, fused_state) -> None:
    monkeypatch.delenv("DIFFUSION_FUSED", raising=False)
    monkeypatch.setitem(sys.modules, "core.cpu_kernels", None)  # as if Numba were missing
    x = torch.ones(diffusion.CPU_FUSED_MIN_ELEMENTS)
    assert diffusion._fused_scaled_sum(x, 0.5, x, 0.25) is None
    assert "core.cpu_kernels" in fused_state["cpu"]["failed"]
    assert fused_state["cuda"]["failed"] is None  # each device keeps its own state
    calls = []
    stand_in = types.SimpleNamespace(scaled_sum=lambda *a: calls.append(a))
    monkeypatch.setitem(sys.modules, "core.cpu_kernels", stand_in)
    assert diffusion._fused_scaled_sum(x, 0.5, x, 0.25) is None  # remembered: no retry
    assert calls == []
    fd = ForwardDiffusion(10, device="cpu")
    torch.testing.assert_close(
        fd.q_sample(x, 3, x)[0],
        x * (fd.sqrt_alphas_cumprod[3] + fd.sqrt_one_minus_alphas_cumprod[3]),
    )


def test_q_sample_takes_the_fused_cpu_kernel(monkeypatch, fused_state) -> None:
    pytest.importorskip("numba")
    monkeypatch.delenv("DIFFUSION_FUSED", raising=False)
    fd = ForwardDiffusion(1000, device="cpu")
    g = torch.Generator().manual_seed(0)
    small = torch.ones(2, 3, 64, 64)  # below the size worth compiling for: eager, nothing imported
    fd.q_sample(small, 3, small)
    view = torch.ones(3, 64, 64).expand(300, 3, 64, 64)  # large, but a view: eager, no import
    fd.q_sample(view, 3, view)
    assert fused_state["cpu"]["fn"] is None
    x0 = torch.rand(3, 3, 600, 601, generator=g) * 2 - 1
    noise = torch.randn(x0.shape, generator=g)
    for t in (0, 500, 999, torch.tensor([5, 500, 999])):
        x_t, _ = fd.q_sample(x0, t, noise)
        steps = t.numpy() if isinstance(t, torch.Tensor) else np.array([t] * 3)
        a = torch.from_numpy(fd.sqrt_alphas_cumprod[steps]).view(-1, 1, 1, 1)
        b = torch.from_numpy(fd.sqrt_one_minus_alphas_cumprod[steps]).view(-1, 1, 1, 1)
        assert x_t.dtype == torch.float32
        torch.testing.assert_close(x_t, (a * x0 + b * noise).float())
    assert fused_state["cpu"]["failed"] is None, fused_state["cpu"]["failed"]
    assert fused_state["cpu"]["fn"] is not None


def test_fused_cpu_kernel_values_and_refusals() -> None:
    """core.cpu_kernels against float64, in float32 and float64, and where it steps aside."""
    cpu_kernels = pytest.importorskip("core.cpu_kernels")
    g = torch.Generator().manual_seed(1)
    n = 3 * cpu_kernels.CHUNK + 17  # several pieces per sample and a short last one
    x, eps = torch.randn(2, n, generator=g, dtype=torch.float64).unbind(0)
    a, b = 0.3, 0.7
    exact = a * x + b * eps
    torch.testing.assert_close(cpu_kernels.scaled_sum(x, a, eps, b), exact, rtol=1e-15, atol=1e-15)
    single = cpu_kernels.scaled_sum(x.float(), a, eps.float(), b)
    assert single.dtype == torch.float32
    torch.testing.assert_close(single, exact.float())
    batch = torch.randn(5, 2, n // 10, generator=g)
    noise = torch.randn(batch.shape, generator=g)
    per_a = torch.rand(5, 1, 1, generator=g, dtype=torch.float64)
    per_b = (1 - per_a**2).sqrt()
    torch.testing.assert_close(
        cpu_kernels.scaled_sum(batch, per_a, noise, per_b), (per_a * batch + per_b * noise).float()
    )
    for args in [
        (x.half(), a, eps.half(), b),  # float16: eager
        (batch.transpose(0, 1), a, noise.transpose(0, 1), b),  # not contiguous
        (batch, per_a[:2], noise, per_b[:2]),  # coefficients for another batch
        (batch, per_a, noise, b),  # one per-sample coefficient, one float
        (x, a, eps.float(), b),  # mixed dtypes
        (torch.ones(0), a, torch.ones(0), b),  # empty
    ]:
        assert cpu_kernels.scaled_sum(*args) is None


def test_fused_cpu_kernel_from_many_threads_at_once() -> None:
    """Streamlit runs sessions on threads: concurrent launches give each its own right answer."""
    cpu_kernels = pytest.importorskip("core.cpu_kernels")
    x = torch.randn(1 << 18, generator=torch.Generator().manual_seed(2))
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda k: cpu_kernels.scaled_sum(x, k, x, 1.0), range(32)))
    for k, result in enumerate(results):
        torch.testing.assert_close(result, x * (k + 1))


_INTERPRETED_KERNEL = """
import torch
from core import kernels

g = torch.Generator().manual_seed(0)
x, eps = torch.randn(3, 5, 7, 11, generator=g), torch.randn(3, 5, 7, 11, generator=g)
a = torch.rand(3, 1, 1, 1, generator=g, dtype=torch.float64)
b = (1 - a**2).sqrt()
torch.testing.assert_close(kernels.scaled_sum(x, 0.6, eps, 0.8), 0.6 * x + 0.8 * eps)
torch.testing.assert_close(kernels.scaled_sum(x, a, eps, b), (a * x + b * eps).float())
half = kernels.scaled_sum(x.half(), 0.6, eps.half(), 0.8)
assert half.dtype == torch.float16
torch.testing.assert_close(half, (0.6 * x.half().float() + 0.8 * eps.half().float()).half())
odd = torch.randn(5000, generator=g)  # not a multiple of the block: the masked tail
torch.testing.assert_close(kernels.scaled_sum(odd, 0.3, odd.flip(0), 0.7), 0.3 * odd + 0.7 * odd.flip(0))
for args in [
    (x.double(), 0.6, eps.double(), 0.8),  # float64: eager
    (x.transpose(0, 1), 0.6, eps.transpose(0, 1), 0.8),  # not contiguous
    (x, a[:2], eps, b[:2]),  # coefficients for another batch
    (x, 0.6, eps.half(), 0.8),  # mixed dtypes
    (torch.ones(0), 0.6, torch.ones(0), 0.8),  # empty
]:
    assert kernels.scaled_sum(*args) is None
print("ok")
"""


# q_sample with one t per sample through the kernel that gathers the coefficients itself: on
# CUDA only, so here the CPU is made to take that path with the Triton kernel, which the
# interpreter runs on CPU tensors (the glue in ForwardDiffusion and the kernel, not the copy of t
# to a GPU).
_INTERPRETED_GATHER = """
import os

import numpy as np
import torch

import core.diffusion as diffusion
from core import ForwardDiffusion, kernels

calls = []


def spy(*args, **kwargs):
    calls.append("index" in kwargs)  # True: the kernel was handed the tables and the timesteps
    return kernels.scaled_sum(*args, **kwargs)


diffusion._fused_state["cpu"].update(fn=spy, failed=None)
diffusion._FUSED_GATHER.add("cpu")
diffusion.CPU_FUSED_MIN_ELEMENTS = 1


def eager(fd, x, t, eps):
    os.environ["DIFFUSION_FUSED"] = "0"
    try:
        return fd.q_sample(x, t, eps)[0]
    finally:
        del os.environ["DIFFUSION_FUSED"]


def reference(fd, x, t, eps):
    # the kernel's arithmetic: coefficients rounded to x's dtype as eager rounds them, then float32
    a = torch.from_numpy(fd.sqrt_alphas_cumprod[t]).to(x.dtype).float().view(-1, 1, 1, 1)
    b = torch.from_numpy(fd.sqrt_one_minus_alphas_cumprod[t]).to(x.dtype).float().view(-1, 1, 1, 1)
    return a * x.float() + b * eps.float()


g = torch.Generator().manual_seed(0)
schedules = [  # large betas: neighbouring timesteps' coefficients differ by 5-60 %
    ForwardDiffusion(betas=np.linspace(0.05, 0.6, 10), device="cpu"),
    ForwardDiffusion(1000, "cosine", device="cpu"),
]
# tolerances against eager, which rounds a·x0 to the dtype before adding b·ε
loose = {torch.float32: 1e-6, torch.float16: 4e-3, torch.bfloat16: 3e-2}
for fd in schedules:
    last = fd.timesteps - 1
    # 5 samples of 969 elements: blocks of 1024 straddle samples, the last block is partial
    x = torch.rand(5, 3, 17, 19, generator=g) * 2 - 1
    eps = torch.randn(x.shape, generator=g)
    for t in ([0, last, 3, last, 0], np.array([last, 1, 2, 0, last // 2])):
        for dtype in loose:
            calls.clear()
            x_d, eps_d = x.to(dtype), eps.to(dtype)
            fused, _ = fd.q_sample(x_d, torch.as_tensor(t) if isinstance(t, list) else t, eps_d)
            assert calls == [True], calls
            assert fused.dtype == dtype and fused.shape == x.shape
            expected = reference(fd, x_d, np.asarray(t), eps_d)
            if dtype == torch.bfloat16:
                # the interpreter rounds float32 to bfloat16 toward zero (numpy has no
                # bfloat16), compiled Triton to nearest: within one bfloat16 step
                torch.testing.assert_close(fused.float(), expected, rtol=2**-7, atol=1e-6)
            else:
                torch.testing.assert_close(fused, expected.to(dtype), rtol=0, atol=0)
            tol = loose[dtype]
            torch.testing.assert_close(fused, eager(fd, x_d, t, eps_d), rtol=tol, atol=tol)
    assert diffusion._fused_state["cpu"]["failed"] is None, diffusion._fused_state["cpu"]["failed"]

fd = schedules[0]
t = torch.tensor([0, 9, 4, 9, 0])
# where the gathering kernel declines, q_sample gives eager's result
calls.clear()
wide = torch.rand(3, 5, 17, 19, generator=g).transpose(0, 1)  # not contiguous: no launch
assert torch.equal(fd.q_sample(wide, t, wide)[0], eager(fd, wide, t, wide))
assert calls == []
double = x.double()  # float64: the kernel declines, with the tables and without
assert torch.equal(fd.q_sample(double, t, eps.double())[0], eager(fd, double, t, eps.double()))
assert calls == [True, False], calls
calls.clear()
grad = x.clone().requires_grad_()  # autograd: eager, no launch
out = fd.q_sample(grad, t, eps)[0]
assert out.grad_fn is not None and calls == []
torch.testing.assert_close(out.detach(), eager(fd, x, t, eps))
for bad in ([0, 10, 1, 2, 3], [-1, 0, 1, 2, 3]):  # the check finishes after the launch
    try:
        fd.q_sample(x, torch.tensor(bad), eps)
    except ValueError:
        pass
    else:
        raise AssertionError(f"no ValueError for {bad}")
assert calls == [True, True], calls
a = fd.table("sqrt_alphas_cumprod", "cpu", torch.float32)
b = fd.table("sqrt_one_minus_alphas_cumprod", "cpu", torch.float32)
# a timestep outside the tables reads nothing: its sample is 0, the others are right
outside = torch.tensor([0, 10, 4, -1, 9])
out = kernels.scaled_sum(x, a, eps, b, index=outside)
assert torch.equal(out[[1, 3]], torch.zeros_like(x[[1, 3]]))
rows = [0, 2, 4]
torch.testing.assert_close(
    out[rows], reference(fd, x[rows], outside.numpy()[rows], eps[rows]), rtol=0, atol=0
)
# the kernel's own refusals
for args, index in [
    ((x, a, eps, b), t.int()),  # timesteps not int64
    ((x, a, eps, b), t[:4]),  # timesteps for another batch
    ((x, a, eps, b), t.view(5, 1)),  # timesteps not 1-D
    ((x, a.view(2, 5), eps, b.view(2, 5)), t),  # tables not 1-D
    ((x, a[::2], eps, b[::2]), t),  # tables not contiguous
    ((x, 0.5, eps, 0.5), t),  # no tables
    ((x, a.long(), eps, b.long()), t),  # integer tables
    ((x, a, eps.half(), b), t),  # mixed dtypes
]:
    assert kernels.scaled_sum(*args, index=index) is None, index
print("ok")
"""


def _run_interpreted(script: str) -> None:
    env = {**os.environ, "TRITON_INTERPRET": "1"}
    env.pop("DIFFUSION_FUSED", None)
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-3000:]


@pytest.mark.slow
def test_fused_kernel_under_the_triton_interpreter() -> None:
    """The Triton kernel's own logic on the CPU (tests/test_gpu.py runs it compiled on CUDA)."""
    pytest.importorskip("triton")
    _run_interpreted(_INTERPRETED_KERNEL)


@pytest.mark.slow
def test_fused_kernel_gathers_the_coefficients_under_the_triton_interpreter() -> None:
    """q_sample with one t per sample, the kernel gathering a and b, against eager torch."""
    pytest.importorskip("triton")
    _run_interpreted(_INTERPRETED_GATHER)


def test_only_the_triton_kernel_is_handed_timesteps(monkeypatch, fused_state) -> None:
    """The CPU kernel takes gathered coefficients: an index never reaches it, nor imports it."""
    monkeypatch.delenv("DIFFUSION_FUSED", raising=False)
    x = torch.ones(2, diffusion.CPU_FUSED_MIN_ELEMENTS // 2)
    table = torch.ones(10)
    assert diffusion._fused_scaled_sum(x, table, x, table, index=torch.tensor([0, 1])) is None
    assert fused_state["cpu"]["fn"] is None and fused_state["cpu"]["failed"] is None
