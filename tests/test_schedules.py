"""Noise schedules: each against its formula, their properties, bad input, and diffusers parity.

References are computed independently here, with ``math`` and explicit loops, not with the
numpy code under test.
"""

from __future__ import annotations

import copy
import math
import pickle

import numpy as np
import pytest
import torch

from core import (
    SCHEDULES,
    ForwardDiffusion,
    beta_schedule,
    rescale_zero_terminal_snr,
    schedule_params,
    validate_betas,
)
from core.diffusion import TABLES
from core.schedules import MAX_TIMESTEPS

TIMESTEPS = (2, 3, 10, 250, 1000)
CHOSEN = (0, 1, 2, 123, 500, 998, 999)


def _linear(t: int, T: int, start: float, end: float) -> float:
    return start + (end - start) * t / (T - 1)


def _reference(name: str, T: int, t: int) -> float:
    """β_t of schedule ``name`` at index t, written out from the papers' formulas."""
    if name == "linear":
        return _linear(t, T, 1e-4, 0.02)
    if name in ("quadratic", "scaled_linear"):
        start, end = (1e-4, 0.02) if name == "quadratic" else (0.00085, 0.012)
        return _linear(t, T, math.sqrt(start), math.sqrt(end)) ** 2
    if name == "sigmoid":
        x = -6.0 + 12.0 * t / (T - 1)
        return 1.0 / (1.0 + math.exp(-x)) * (0.02 - 1e-4) + 1e-4
    if name == "cosine":

        def f(u: float) -> float:
            return math.cos((u / T + 0.008) / 1.008 * math.pi / 2) ** 2

        return min(max(1.0 - f(t + 1) / f(t), 1e-4), 0.9999)
    raise AssertionError(name)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
@pytest.mark.parametrize("T", [10, 1000])
def test_schedule_matches_its_formula(name: str, T: int) -> None:
    betas = beta_schedule(name, T)
    assert betas.dtype == np.float64
    assert betas.shape == (T,)
    for t in {c for c in CHOSEN if c < T} | {T - 1}:
        assert betas[t] == pytest.approx(_reference(name, T, t), rel=1e-12, abs=1e-15), t


def test_published_numbers() -> None:
    linear = beta_schedule("linear", 1000)
    assert linear[0] == 1e-4
    assert linear[-1] == pytest.approx(0.02, rel=1e-15)
    # DDPM's linear schedule ends at ᾱ_T ≈ 4.04e-5 (signal ~0.6 % of the noise std).
    alpha_bar = math.prod(1.0 - _linear(t, 1000, 1e-4, 0.02) for t in range(1000))
    assert alpha_bar == pytest.approx(4.0358e-5, rel=1e-3)
    assert np.cumprod(1 - linear)[-1] == pytest.approx(alpha_bar, rel=1e-10)
    scaled = beta_schedule("scaled_linear", 1000)
    assert scaled[0] == pytest.approx(0.00085, rel=1e-14)
    assert scaled[-1] == pytest.approx(0.012, rel=1e-14)
    sigmoid = beta_schedule("sigmoid", 1000)
    # symmetric about the middle: β_t + β_{T-1-t} = start + end
    np.testing.assert_allclose(sigmoid + sigmoid[::-1], 1e-4 + 0.02, rtol=1e-12)


def _tutorial_cosine(timesteps: int, s: float = 0.008) -> np.ndarray:
    """Verbatim from the tutorial (section 2.2)."""
    steps = timesteps + 1
    x = np.linspace(0, timesteps, steps)
    alphas_cumprod = np.cos(((x / timesteps) + s) / (1 + s) * np.pi / 2) ** 2
    alphas_cumprod = alphas_cumprod / alphas_cumprod[0]
    betas = 1 - (alphas_cumprod[1:] / alphas_cumprod[:-1])
    return np.clip(betas, 0.0001, 0.9999)


@pytest.mark.parametrize("T", TIMESTEPS)
def test_cosine_is_the_tutorials(T: int) -> None:
    np.testing.assert_array_equal(beta_schedule("cosine", T), _tutorial_cosine(T))
    np.testing.assert_array_equal(beta_schedule("linear", T), np.linspace(0.0001, 0.02, T))


def test_cosine_clipping_is_visible_at_both_ends() -> None:
    betas = beta_schedule("cosine", 1000)
    # The unclipped first beta (~4e-5) is raised to min_beta; the last one is capped.
    assert betas[0] == 1e-4
    assert betas[-1] == 0.9999
    assert beta_schedule("cosine", 1000, max_beta=0.999)[-1] == 0.999
    assert beta_schedule("cosine", 1000, min_beta=1e-6)[0] < 1e-4


def test_parameters_override_defaults() -> None:
    assert schedule_params("linear") == {"beta_start": 1e-4, "beta_end": 0.02}
    assert schedule_params("cosine") == {"s": 0.008, "min_beta": 1e-4, "max_beta": 0.9999}
    assert schedule_params("scaled_linear") == {"beta_start": 0.00085, "beta_end": 0.012}
    betas = beta_schedule("linear", 5, beta_start=0.1, beta_end=0.5)
    np.testing.assert_allclose(betas, [0.1, 0.2, 0.3, 0.4, 0.5], rtol=1e-15)
    betas = beta_schedule("quadratic", 3, beta_start=0.01, beta_end=0.09)
    np.testing.assert_allclose(betas, [0.01, 0.04, 0.09], rtol=1e-14)


# -- properties of every schedule --------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SCHEDULES))
@pytest.mark.parametrize("T", TIMESTEPS)
@pytest.mark.parametrize("zero_snr", [False, True])
def test_schedule_properties(name: str, T: int, zero_snr: bool) -> None:
    fd = ForwardDiffusion(T, name, device="cpu", zero_terminal_snr=zero_snr)
    betas, abar = fd.betas, fd.alphas_cumprod
    assert np.all((betas > 0) & (betas <= 1))
    assert np.all(np.diff(abar) < 0), "ᾱ must be strictly decreasing"
    assert abar[0] <= 1
    if zero_snr:
        assert abar[-1] == 0.0
        assert betas[-1] == 1.0
        assert fd.snr[-1] == 0.0
        assert fd.log_snr[-1] == -np.inf
        assert np.all(abar[:-1] > 0)
    else:
        assert np.all(abar > 0)
        assert np.all(np.isfinite(fd.log_snr))
    assert np.all(np.diff(fd.snr) < 0)
    assert np.all(np.diff(fd.log_snr) < 0)
    # β̃_t = β_t (1-ᾱ_{t-1})/(1-ᾱ_t) ≤ β_t since ᾱ_{t-1} ≥ ᾱ_t; β̃_0 = 0 (x_{-1} = x0).
    assert np.all(fd.posterior_variance <= betas)
    assert fd.posterior_variance[0] == 0.0
    for table in (
        "betas",
        "alphas",
        "alphas_cumprod",
        "alphas_cumprod_prev",
        "sqrt_alphas_cumprod",
        "sqrt_one_minus_alphas_cumprod",
        "snr",
        "posterior_variance",
        "posterior_log_variance_clipped",
        "posterior_mean_coef1",
        "posterior_mean_coef2",
    ):
        value = getattr(fd, table)
        assert value.dtype == np.float64 and value.shape == (T,), table
        assert not np.any(np.isnan(value)), table
        assert np.all(np.isfinite(value)), table
        assert not value.flags.writeable, table
        with pytest.raises(ValueError, match="read-only"):
            value[0] = 0.5
    assert not np.any(np.isnan(fd.log_snr))


def test_forward_diffusion_is_immutable() -> None:
    fd = ForwardDiffusion(10, device="cpu")
    with pytest.raises(AttributeError, match="immutable"):
        fd.betas = np.ones(10)  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        fd.timesteps = 5  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        del fd.betas
    with pytest.raises(AttributeError):
        fd.new_attribute = 1  # type: ignore[attr-defined]
    for name in TABLES:  # a table's own flag cannot be turned back on
        with pytest.raises(ValueError):
            getattr(fd, name).flags.writeable = True
    # tensors handed out are copies: changing one changes no table and no later result
    x, noise = torch.ones(2, 3), torch.zeros(2, 3)
    before = fd.q_sample(x, [5, 5], noise)[0]
    fd.table("sqrt_alphas_cumprod", "cpu", torch.float32).fill_(7.0)
    torch.testing.assert_close(fd.q_sample(x, [5, 5], noise)[0], before, rtol=0, atol=0)
    torch.testing.assert_close(fd.q_sample(x, 5, noise)[0], before, rtol=1e-7, atol=0)


@pytest.mark.parametrize("zero_terminal_snr", [False, True])
@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_forward_diffusion_copies_and_pickles(name: str, zero_terminal_snr: bool) -> None:
    """Copies are the object itself (immutable); a pickle rebuilds the same tables."""
    fd = ForwardDiffusion(50, name, device="cpu", zero_terminal_snr=zero_terminal_snr)
    assert copy.copy(fd) is fd and copy.deepcopy({"fd": fd})["fd"] is fd
    again = pickle.loads(pickle.dumps(fd))
    assert again.timesteps == fd.timesteps and again.device == fd.device
    for table in TABLES:
        np.testing.assert_array_equal(getattr(again, table), getattr(fd, table))


def test_tables_do_not_alias_the_callers_betas() -> None:
    betas = np.linspace(0.1, 0.2, 5)
    fd = ForwardDiffusion(betas=betas, device="cpu")
    betas[0] = 0.9
    assert fd.betas[0] == 0.1


# -- zero terminal SNR ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_zero_terminal_snr_is_algorithm_1(name: str) -> None:
    original = beta_schedule(name, 1000)
    rescaled = rescale_zero_terminal_snr(original)
    old = np.sqrt(np.cumprod(1 - original))
    new = np.sqrt(np.cumprod(1 - rescaled))
    # √ᾱ is shifted and scaled: first value kept, last exactly 0, affine in between.
    assert new[0] == pytest.approx(old[0], rel=1e-14)
    assert new[-1] == 0.0
    expected = (old - old[-1]) * old[0] / (old[0] - old[-1])
    np.testing.assert_allclose(new, expected, rtol=1e-9, atol=1e-15)
    assert rescaled[-1] == 1.0
    np.testing.assert_array_equal(original, beta_schedule(name, 1000))  # input untouched


def test_zero_terminal_snr_downstream_has_no_nan() -> None:
    fd = ForwardDiffusion(1000, "linear", device="cpu", zero_terminal_snr=True)
    assert fd.sqrt_alphas_cumprod[-1] == 0.0
    assert fd.sqrt_one_minus_alphas_cumprod[-1] == 1.0
    assert fd.posterior_mean_coef2[-1] == 0.0  # √α_T = 0: x_T says nothing about x_{T-1}
    x0 = np.full((4, 3), 0.7, dtype=np.float32)
    noise = np.random.default_rng(0).standard_normal(x0.shape).astype(np.float32)
    x_t, _ = fd.q_sample(x0, 999, noise)
    np.testing.assert_array_equal(x_t, noise)  # pure noise, exactly
    mean, var, log_var = fd.q_mean_variance(x0, 999)
    assert np.all(mean == 0) and float(var) == 1.0 and float(log_var) == 0.0
    mean, var, log_var = fd.q_posterior_mean_variance(x0, x_t, 999)
    assert np.all(np.isfinite(mean)) and np.isfinite(var) and np.isfinite(log_var)


def test_zero_terminal_snr_of_already_zero_terminal_betas_is_identity() -> None:
    betas = np.array([0.1, 0.5, 1.0])
    np.testing.assert_array_equal(rescale_zero_terminal_snr(betas), betas)


def test_zero_terminal_snr_where_root_alpha_bar_reaches_its_last_value_early() -> None:
    """linear from β = 0.5 over 4000 steps: √ᾱ is at its float64 floor from step 1364 on, so the
    shifted √ᾱ is 0 from there; ᾱ stays 0 (β = 1) instead of 0/0 = NaN."""
    original = beta_schedule("linear", 4000, beta_start=0.5, beta_end=0.02)
    old = np.sqrt(np.cumprod(1 - original))
    early = int(np.argmax(old == old[-1]))
    assert early < 3999
    rescaled = rescale_zero_terminal_snr(original)
    assert np.all(np.isfinite(rescaled))
    assert rescaled[0] == pytest.approx(0.5, rel=1e-12)  # √ᾱ_0 kept
    new = np.sqrt(np.cumprod(1 - rescaled))
    expected = (old - old[-1]) * old[0] / (old[0] - old[-1])  # Algorithm 1, 0 from `early` on
    np.testing.assert_allclose(new, expected, rtol=1e-9, atol=1e-15)
    assert np.all(new[early:] == 0)
    np.testing.assert_array_equal(rescaled[early + 1 :], 1.0)
    fd = ForwardDiffusion(4000, "linear", device="cpu", zero_terminal_snr=True,
                          beta_start=0.5, beta_end=0.02)  # fmt: skip
    for name in ("betas", "snr", "posterior_variance", "posterior_mean_coef1"):
        assert np.all(np.isfinite(getattr(fd, name))), name


def test_underflowing_alpha_bar_is_allowed_and_finite() -> None:
    # 0.9**k underflows to 0 well before step 1000: SNR 0, never NaN.
    fd = ForwardDiffusion(betas=np.full(1000, 0.9), device="cpu")
    assert fd.alphas_cumprod[-1] == 0.0
    for name in ("snr", "posterior_variance", "posterior_mean_coef1", "posterior_mean_coef2"):
        assert np.all(np.isfinite(getattr(fd, name))), name


# -- bad input ---------------------------------------------------------------------------------


def test_unknown_schedule_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="unknown schedule 'cosin'") as info:
        beta_schedule("cosin", 10)
    for name in SCHEDULES:
        assert name in str(info.value)
    with pytest.raises(ValueError, match="linear"):
        ForwardDiffusion(10, "squaredcos_cap_v2", device="cpu")
    with pytest.raises(ValueError, match="valid"):
        schedule_params("nope")


def test_unknown_parameter_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown parameter.*'beta_min'.*beta_end.*beta_start"):
        beta_schedule("linear", 10, beta_min=0.1)
    with pytest.raises(ValueError, match=r"max_beta.*min_beta.*'s'"):
        beta_schedule("cosine", 10, beta_start=0.1)
    with pytest.raises(ValueError, match="unknown parameter"):
        ForwardDiffusion(10, "linear", device="cpu", max_beta=0.5)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("linear", {"beta_start": math.nan}, "finite"),
        ("linear", {"beta_end": math.inf}, "finite"),
        ("linear", {"beta_end": -math.inf}, "finite"),
        ("linear", {"beta_start": -0.1}, r"\(0, 1\]"),
        ("linear", {"beta_start": 0.0}, r"\(0, 1\]"),
        ("linear", {"beta_end": 1.5}, r"\(0, 1\]"),
        ("quadratic", {"beta_end": -0.02}, r"\(0, 1\]"),
        ("sigmoid", {"beta_start": np.float64("nan")}, "finite"),
        ("linear", {"beta_start": "0.1"}, "number"),
        ("linear", {"beta_start": True}, "number"),
        ("linear", {"beta_start": None}, "number"),
        ("cosine", {"s": -0.1}, "'s'"),
        ("cosine", {"s": math.nan}, "finite"),
        ("cosine", {"min_beta": 0.0}, "min_beta"),
        ("cosine", {"max_beta": 1.5}, "max_beta"),
        ("cosine", {"min_beta": 0.5, "max_beta": 0.1}, "min_beta <= max_beta"),
    ],
)
def test_bad_parameters_raise(name: str, params: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        beta_schedule(name, 10, **params)


@pytest.mark.parametrize("T", [0, 1, -5, 100_001, 2.0, 10.5, True, False, "10", None])
def test_bad_timesteps_raise(T: object) -> None:
    with pytest.raises(ValueError, match="timesteps"):
        beta_schedule("linear", T)  # type: ignore[arg-type]


def test_numpy_integer_timesteps_are_accepted() -> None:
    np.testing.assert_array_equal(beta_schedule("linear", np.int64(7)), beta_schedule("linear", 7))


@pytest.mark.parametrize(
    ("betas", "message"),
    [
        (np.full((2, 3), 0.1), "1-D"),
        (np.float64(0.1), "1-D"),
        ([0.1], "at least 2"),
        ([], "at least 2"),
        ([0.1, 0.0, 0.2], r"index 1 .*\(0, 1\]"),
        ([0.1, -0.2], r"index 1 .*\(0, 1\]"),
        ([0.1, 1.0000001], r"index 1 .*\(0, 1\]"),
        ([0.1, math.nan, 0.2], "index 1 is not finite"),
        ([0.1, 0.2, math.inf], "index 2 is not finite"),
        (["a", "b"], "numbers"),
        ([1e-17, 0.1], r"index 0\b.*too small"),  # 1 - 1e-17 == 1: ᾱ_0 = 1, 1 - ᾱ_0 = 0
        ([0.1, 0.2, 1e-17], r"index 2\b.*too small"),
        (np.full(100_001, 0.01), "at most"),
    ],
)
def test_bad_betas_raise(betas: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_betas(betas)
    with pytest.raises(ValueError, match=message):
        ForwardDiffusion(betas=betas, device="cpu")


@pytest.mark.parametrize(
    ("name", "betas"),
    [
        ("linear", None),  # ᾱ underflows past T ≈ 73,000
        ("sigmoid", None),
        ("custom", np.full(3000, 0.3)),  # ᾱ underflows after ~2,000 steps of 0.3
    ],
)
def test_schedules_whose_alphas_cumprod_underflow_are_valid(name, betas) -> None:
    """Once ᾱ is subnormal a step can leave it unchanged: valid, and every table stays free of
    NaN, at every T the schedules accept."""
    if betas is None:
        betas = beta_schedule(name, MAX_TIMESTEPS)
    betas = validate_betas(betas)
    fd = ForwardDiffusion(betas=betas, device="cpu")
    alphas_cumprod = fd.alphas_cumprod
    assert alphas_cumprod[-1] < np.finfo(np.float64).tiny
    normal = alphas_cumprod >= np.finfo(np.float64).tiny
    assert np.all(np.diff(alphas_cumprod[normal]) < 0)
    for table in TABLES:
        assert not np.any(np.isnan(getattr(fd, table))), table


def test_custom_betas_are_float64_copies() -> None:
    betas = [0.1, 0.2, 1.0]  # β = 1 at the end is a valid zero-terminal-SNR schedule
    out = validate_betas(np.array(betas, dtype=np.float32))
    assert out.dtype == np.float64
    fd = ForwardDiffusion(betas=betas, device="cpu")
    assert fd.timesteps == 3
    assert fd.alphas_cumprod[-1] == 0.0


# -- parity with diffusers' DDPMScheduler --------------------------------------------------------
#
# diffusers builds betas in float32 (torch.linspace / torch.sigmoid in float32) and then
# alphas_cumprod in float32; ours are float64. So they agree to float32 precision, not exactly.
# Names: our "scaled_linear" is diffusers' "scaled_linear"; "sigmoid" is its GeoDiff "sigmoid"
# (same [-6, 6] grid); our "cosine" corresponds to "squaredcos_cap_v2", which has the same f(t)
# and s = 0.008 but no lower clip and max_beta = 0.999, so it matches ours with
# min_beta → 0 and max_beta = 0.999 (our default clips β_0 ≈ 4e-5 up to 1e-4, as the tutorial does).

# float32 betas of magnitude ≤ 0.02 carry ~1e-9 absolute error; ᾱ is a product of up to 1000
# float32 factors, so its relative error can grow to ~1000·2^-24 ≈ 6e-5.
BETA_ATOL = 2e-9
ALPHA_BAR_RTOL = 2e-4


def _ddpm(**kwargs: object) -> object:
    diffusers = pytest.importorskip("diffusers")
    return diffusers.DDPMScheduler(num_train_timesteps=kwargs.pop("T", 1000), **kwargs)


def _assert_same_tables(ours: ForwardDiffusion, theirs: object) -> None:
    their_betas = theirs.betas.double().numpy()  # type: ignore[attr-defined]
    their_abar = theirs.alphas_cumprod.double().numpy()  # type: ignore[attr-defined]
    np.testing.assert_allclose(ours.betas, their_betas, rtol=1e-6, atol=BETA_ATOL)
    np.testing.assert_allclose(ours.alphas_cumprod, their_abar, rtol=ALPHA_BAR_RTOL, atol=1e-12)


@pytest.mark.parametrize("name", ["linear", "scaled_linear", "sigmoid"])
@pytest.mark.parametrize("T", [10, 1000])
def test_same_tables_as_diffusers(name: str, T: int) -> None:
    params = schedule_params(name)
    theirs = _ddpm(T=T, beta_schedule=name, **params)
    _assert_same_tables(ForwardDiffusion(T, name, device="cpu"), theirs)


@pytest.mark.parametrize("name", ["linear", "scaled_linear", "sigmoid"])
def test_same_zero_terminal_snr_as_diffusers(name: str) -> None:
    torch = pytest.importorskip("torch")
    ddpm = pytest.importorskip("diffusers.schedulers.scheduling_ddpm")
    ours = ForwardDiffusion(1000, name, device="cpu", zero_terminal_snr=True)
    # The algorithm itself, run by diffusers in float64: the same to rounding.
    theirs64 = ddpm.rescale_zero_terminal_snr(torch.from_numpy(beta_schedule(name, 1000)))
    np.testing.assert_allclose(ours.betas, theirs64.numpy(), rtol=1e-12, atol=1e-15)
    # The scheduler runs it in float32: √ᾱ_t - √ᾱ_T and the ratios ᾱ_t/ᾱ_{t-1} ≈ 0.999 cancel
    # digits, so its betas carry ~1e-5 absolute error (measured 7e-6), its ᾱ ~1e-4 relative.
    theirs = _ddpm(beta_schedule=name, rescale_betas_zero_snr=True, **schedule_params(name))
    np.testing.assert_allclose(ours.betas, theirs.betas.double().numpy(), rtol=0, atol=2e-5)
    np.testing.assert_allclose(
        ours.alphas_cumprod, theirs.alphas_cumprod.double().numpy(), rtol=1e-3, atol=1e-9
    )
    assert float(theirs.alphas_cumprod[-1]) == 0.0 == ours.alphas_cumprod[-1]


def test_cosine_matches_squaredcos_cap_v2_with_its_clipping() -> None:
    theirs = _ddpm(beta_schedule="squaredcos_cap_v2")
    ours = ForwardDiffusion(1000, "cosine", device="cpu", min_beta=1e-12, max_beta=0.999)
    _assert_same_tables(ours, theirs)
    # ... and differs with the tutorial's clipping, at both ends.
    default = ForwardDiffusion(1000, "cosine", device="cpu")
    their_betas = theirs.betas.double().numpy()
    assert default.betas[0] > 2 * their_betas[0]
    assert default.betas[-1] == 0.9999 and their_betas[-1] == pytest.approx(0.999)


@pytest.mark.parametrize(
    "betas", [[True, True], ["0.1", "0.2"], np.array([0.1, 0.2], dtype=complex)]
)
def test_betas_that_are_not_real_numbers_are_refused(betas) -> None:
    with pytest.raises(ValueError, match="betas must be real numbers, got dtype"):
        validate_betas(betas)
