"""Tests of core.histogram: data choices, the exact q(x_t), frames, histograms and statistics.

Statistical checks use fixed seeds and bounds derived from the sample size.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from core import SCHEDULES, ForwardDiffusion
from core import histogram as H

ALL_DATA = sorted(H.DATA)


@pytest.fixture(scope="module")
def fd() -> ForwardDiffusion:
    return ForwardDiffusion(1000, "linear", device="cpu")


def _scipy_density(data: H.DataDistribution, a: float, s: float, x: np.ndarray) -> np.ndarray:
    """q(x_t) from scipy's closed forms, independent of core: √ᾱ·X0 + N(0, s²) with a = √ᾱ."""
    if isinstance(data, H.GaussianMixture):
        return sum(
            w * stats.norm.pdf(x, a * m, math.sqrt(a * a * sd * sd + s * s))
            for w, m, sd in zip(data.weights, data.means, data.stds, strict=True)
        )
    if isinstance(data, H.Uniform):
        lo, hi = a * data.low, a * data.high
        return (stats.norm.cdf((x - lo) / s) - stats.norm.cdf((x - hi) / s)) / (hi - lo)
    if isinstance(data, H.Exponential):
        return stats.exponnorm.pdf(x, a * data.scale / s, loc=a * data.loc, scale=s)
    raise AssertionError(type(data))


class CdfOnly:
    """Data known only by its CDF (the logistic distribution): q(x_t) must be numeric."""

    mean, var = 0.0, math.pi**2 / 3

    def cdf(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(x)

    def plot_range(self) -> tuple[float, float]:
        return -10.0, 10.0

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        u = torch.rand(n, generator=generator, dtype=torch.float64)
        return torch.logit(u).float()


# -- data choices and validation ----------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_DATA)
def test_registry_defaults_and_moments_match_samples(name):
    data = H.data_distribution(name)
    assert H.data_params(name)  # every choice has named defaults
    n = 200_000
    x = H.sample_data(data, n, seed=3).double().numpy()
    assert x.dtype == np.float64 and x.shape == (n,)
    # 5 standard errors; the SE of the variance from the sample's 4th central moment
    se_mean = math.sqrt(data.var / n)
    mu4 = np.mean((x - x.mean()) ** 4)
    se_var = math.sqrt((mu4 - data.var**2) / n)
    assert abs(x.mean() - data.mean) < 5 * se_mean
    assert abs(x.var(ddof=1) - data.var) < 5 * se_var
    lo, hi = data.plot_range()
    inside = np.mean((x >= lo) & (x <= hi))
    assert inside > 1 - 2 * H.TAIL_MASS * (len(getattr(data, "weights", (1,)))) - 5 / math.sqrt(n)


def test_default_is_the_tutorials_gaussian():
    data = H.data_distribution("gaussian")
    assert (data.weights, data.means, data.stds) == ((1.0,), (3.0,), (1.0,))
    assert all(H.is_analytic(H.data_distribution(name)) for name in ALL_DATA)
    assert not H.is_analytic(CdfOnly())


def test_same_seed_same_samples_other_seed_other_samples():
    data = H.data_distribution("mixture")
    a = H.sample_data(data, 1000, seed=7)
    assert torch.equal(a, H.sample_data(data, 1000, seed=7))
    assert not torch.equal(a, H.sample_data(data, 1000, seed=8))
    assert a.dtype == torch.float32


def test_mixture_weights_are_normalised():
    data = H.mixture(weights=[2, 6, 0], means=[0, 1, 2], stds=[1, 1, 1])
    assert data.weights == (0.25, 0.75, 0.0)
    assert data.mean == pytest.approx(0.75)


def test_unknown_data_name_and_parameter():
    with pytest.raises(ValueError, match="valid: .*'bimodal'.*'uniform'"):
        H.data_distribution("cauchy")
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['sigma'\].*valid"):
        H.data_distribution("gaussian", sigma=2.0)


@pytest.mark.parametrize(
    ("weights", "means", "stds", "message"),
    [
        ([1, 1], [0], [1, 1], "same length"),
        ([], [], [], "1 to 10 components"),
        ([1] * 11, [0] * 11, [1] * 11, "1 to 10 components"),
        ([1, -1], [0, 1], [1, 1], r"weights\[1\] must be >= 0"),
        ([0, 0], [0, 1], [1, 1], "sum to more than 0"),
        ([1], [0], [0], r"stds\[0\] must be > 0"),
        ([1], [0], [-1], r"stds\[0\] must be > 0"),
        ([1], [math.nan], [1], r"means\[0\] must be finite"),
        ([math.inf], [0], [1], r"weights\[0\] must be finite"),
        ([1], [1001], [1], r"\|means\[0\]\| must be at most 1000"),
        ([1], ["a"], [1], r"means\[0\] must be a number"),
        ([1], [True], [1], r"means\[0\] must be a number"),
        (1.0, [0], [1], "weights must be a sequence"),
    ],
)
def test_bad_mixtures_raise(weights, means, stds, message):
    with pytest.raises(ValueError, match=message):
        H.GaussianMixture(weights, means, stds)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("uniform", {"low": 2.0, "high": 1.0}, "low < high"),
        ("uniform", {"low": -math.inf}, "finite"),
        ("exponential", {"scale": 0.0}, "scale must be > 0"),
        ("exponential", {"loc": 2e3}, "at most 1000"),
        ("bimodal", {"weight": 1.5}, r"weight must be a number in \[0, 1\]"),
        ("gaussian", {"std": -1.0}, "must be > 0"),
    ],
)
def test_bad_parameters_raise(name, params, message):
    with pytest.raises(ValueError, match=message):
        H.data_distribution(name, **params)


@pytest.mark.parametrize("n", [99, 1_000_001, 0, -5, 1000.0, True, "1000", None])
def test_sample_count_is_validated(n):
    with pytest.raises(ValueError, match="number of samples"):
        H.sample_data(H.gaussian(), n)


def test_sample_count_bounds_are_inclusive():
    assert H.sample_data(H.gaussian(), 100).shape == (100,)
    assert H.sample_data(H.Uniform(), 1_000_000).shape == (1_000_000,)


@pytest.mark.parametrize("seed", [-1, 1.5, True, "0"])
def test_bad_seed_raises(seed):
    with pytest.raises(ValueError, match="seed must be"):
        H.sample_data(H.gaussian(), 100, seed=seed)


# -- the exact density ----------------------------------------------------------------------


ALPHAS = np.array([1.0, 0.9999, 0.99, 0.7, 0.3, 1e-3, 1e-9, 0.0])


@pytest.mark.parametrize("name", ["gaussian", "bimodal", "mixture"])
def test_analytic_density_integrates_to_one_per_frame(name):
    data = H.data_distribution(name)
    x = np.linspace(-15, 15, 60_001)
    density = H.q_density(data, ALPHAS, x)
    assert density.shape == (len(ALPHAS), len(x))
    np.testing.assert_allclose(np.trapezoid(density, x, axis=1), 1.0, atol=1e-9)
    # ᾱ = 0 is N(0, 1) exactly
    np.testing.assert_allclose(density[-1], stats.norm.pdf(x), atol=1e-15)


@pytest.mark.parametrize("name", ALL_DATA)
def test_density_matches_scipy_closed_forms(name):
    """The closed forms against scipy's, in float64 (the t = 0 frame of the linear schedule,
    ᾱ_0 = 0.9999, has the sharpest edges; scipy's exponnorm loses digits below ᾱ ≈ 0.01)."""
    data = H.data_distribution(name)
    ac = np.array([0.9999, 0.99, 0.9, 0.5, 0.1, 0.01])
    x = np.linspace(*H.axis_range(data, ac), 4001)
    density = H.q_density(data, ac, x)
    for row, a2 in zip(density, ac, strict=True):
        expected = _scipy_density(data, math.sqrt(a2), math.sqrt(1 - a2), x)
        np.testing.assert_allclose(row, expected, rtol=1e-9, atol=1e-13 * expected.max())


@pytest.mark.parametrize("name", ["uniform", "exponential"])
@pytest.mark.parametrize("a2", [1e-10, 1e-14, 1e-20])
def test_closed_forms_keep_their_digits_as_the_signal_vanishes(name, a2):
    """At tiny ᾱ, q(x_t) is the normal of the same mean and variance but for the skewness
    term, κ3/6·He3(z) relative with κ3 ≤ 2a³ here: under 2e-13 on |z| ≤ 8 for a² ≤ 1e-10.
    The closed forms must not lose digits to cancellation on the way to N(0, 1)."""
    data = H.data_distribution(name)
    x = np.linspace(-8, 8, 321)
    mean, var = H.theoretical_moments(data, [a2])
    normal = stats.norm.pdf(x, mean[0], math.sqrt(var[0]))
    np.testing.assert_allclose(H.q_density(data, [a2], x)[0], normal, rtol=1e-11, atol=0)


@pytest.mark.parametrize("name", ["uniform", "exponential"])
def test_closed_forms_at_the_ends_of_the_process(name):
    """ᾱ = 1: the data density itself, half of each jump at the jump; ᾱ = 0: N(0, 1)."""
    data = H.data_distribution(name)
    x = np.array([-2.0, -1.0, -0.5, 0.0, 1.0, 2.5, 3.0, 4.0])
    clean, noise = H.q_density(data, [1.0, 0.0], x)
    if name == "uniform":  # U(-1, 3): 1/4 inside
        expected = [0.0, 0.125, 0.25, 0.25, 0.25, 0.25, 0.125, 0.0]
    else:  # Exp(1) from 0
        expected = np.where(x > 0, np.exp(-np.maximum(x, 0.0)), np.where(x == 0, 0.5, 0.0))
    np.testing.assert_allclose(clean, expected, rtol=1e-15, atol=0)
    np.testing.assert_allclose(noise, stats.norm.pdf(x), rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", ["gaussian", "bimodal", "mixture"])
def test_numeric_path_matches_analytic_on_mixtures(name):
    data = H.data_distribution(name)
    x = np.linspace(*H.axis_range(data, ALPHAS), 500)
    analytic = H.q_density(data, ALPHAS, x, method="analytic")
    numeric = H.q_density(data, ALPHAS, x, method="numeric")
    assert np.all(np.isfinite(numeric))
    # The FFT grid (8192 cells on the range widened by 25% per side) puts each cell's mass at
    # its centre: a shift of at most h/2, so the error is at most (h/2)·max|q'| + O(h²).
    h = 1.5 * (x[-1] - x[0]) / 8191
    slope = np.abs(np.gradient(analytic, x, axis=1)).max()
    np.testing.assert_allclose(numeric, analytic, atol=h / 2 * slope, rtol=0)


@pytest.mark.parametrize("name", ["uniform", "exponential"])
def test_numeric_density_limits_without_nan(name):
    """The numeric path on data with jumps. ᾱ = 1: the data density itself (jumps kept);
    ᾱ = 0: N(0, 1); mass 1 in between."""
    data = H.data_distribution(name)
    x = np.linspace(-6, 12, 1801)
    density = H.q_density(data, ALPHAS, x, method="numeric")
    assert np.all(np.isfinite(density)) and np.all(density >= 0)
    np.testing.assert_allclose(density[-1], stats.norm.pdf(x), atol=1e-5)
    np.testing.assert_allclose(density[-2], stats.norm.pdf(x), atol=1e-5)
    frozen = stats.uniform(-1, 4) if name == "uniform" else stats.expon(0, 1)
    away_from_jumps = np.all(np.abs(x[:, None] - np.array([-1.0, 0.0, 3.0])) > 0.02, axis=1)
    np.testing.assert_allclose(
        density[0][away_from_jumps], frozen.pdf(x)[away_from_jumps], atol=2e-3
    )
    np.testing.assert_allclose(np.trapezoid(density[1:], x, axis=1), 1.0, atol=2e-3)


@pytest.mark.parametrize(
    ("data", "a2", "grid"),
    [
        (H.Uniform(-1, 3), 0.9, np.linspace(-1, 0, 101)),
        (H.Exponential(0, 1), 0.5, np.linspace(5, 6, 101)),
        (H.Exponential(0, 1), 0.0, np.linspace(3, 4, 11)),
        (H.gaussian(), 0.3, np.linspace(-0.5, 0.5, 21)),
    ],
)
def test_numeric_density_on_a_grid_that_misses_most_of_the_mass(data, a2, grid):
    """The numeric path works on the data's whole range whatever the grid covers: a grid on
    part of it gets the density there, not the mass beyond it piled into its ends."""
    numeric = H.q_density(data, [a2], grid, method="numeric")[0]
    exact = H.q_density(data, [a2], grid, method="analytic")[0]
    np.testing.assert_allclose(numeric, exact, rtol=1e-3, atol=1e-6)


def test_numeric_density_of_data_known_by_its_cdf():
    """The logistic distribution: q(x_t) by the numeric path against scipy's quadrature of
    logistic ⊛ normal, and its mass."""
    data = CdfOnly()
    x = np.linspace(-6, 6, 13)
    for a2 in (0.9, 0.2):
        a, s = math.sqrt(a2), math.sqrt(1 - a2)
        got = H.q_density(data, [a2], x)[0]
        expected = [
            integrate.quad(
                lambda y, v=v, a=a, s=s: stats.logistic.pdf(y) * stats.norm.pdf(v, a * y, s),
                -60,
                60,
            )[0]
            for v in x
        ]
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-7)


def test_density_bad_inputs():
    with pytest.raises(ValueError, match="no analytic density for CdfOnly"):
        H.q_density(CdfOnly(), [0.5], [0.0, 1.0], method="analytic")
    with pytest.raises(ValueError, match="unknown method"):
        H.q_density(H.gaussian(), [0.5], [0.0, 1.0], method="exact")
    with pytest.raises(ValueError, match="strictly increasing"):
        H.q_density(H.gaussian(), [0.5], [1.0, 0.0])
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        H.q_density(H.gaussian(), [1.5], [0.0, 1.0])


# -- frames ---------------------------------------------------------------------------------


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
@pytest.mark.parametrize("T", [2, 10, 59, 60, 61, 1000])
@pytest.mark.parametrize("zero_terminal_snr", [False, True])
def test_frame_timesteps_properties(schedule, T, zero_terminal_snr):
    fd = ForwardDiffusion(T, schedule, device="cpu", zero_terminal_snr=zero_terminal_snr)
    ts = H.frame_timesteps(fd.alphas_cumprod, 60)
    assert ts.dtype == np.int64
    assert ts[0] == 0 and ts[-1] == T - 1
    assert np.all(np.diff(ts) > 0)
    assert len(ts) == min(60, T)
    if T <= 60:
        np.testing.assert_array_equal(ts, np.arange(T))


def test_frame_timesteps_are_denser_where_alphas_cumprod_moves(fd):
    """Linear schedule: √ᾱ falls mostly in the first half, so it gets more frames."""
    ts = H.frame_timesteps(fd.alphas_cumprod, 60, time_weight=0.2)
    assert np.sum(ts < 500) > 1.5 * np.sum(ts >= 500)
    uniform = H.frame_timesteps(fd.alphas_cumprod, 60, time_weight=1e3)
    assert abs(np.sum(uniform < 500) - 30) <= 1


@pytest.mark.parametrize("n_frames", [1, 0, 2.5, True])
def test_frame_timesteps_bad_count(fd, n_frames):
    with pytest.raises(ValueError, match="n_frames"):
        H.frame_timesteps(fd.alphas_cumprod, n_frames)


def test_axis_range_holds_data_and_standard_normal(fd):
    for name in ALL_DATA:
        data = H.data_distribution(name)
        low, high = H.axis_range(data, fd.alphas_cumprod)
        lo, hi = data.plot_range()
        assert low <= min(lo, -4) and high >= max(hi, 4)


# -- histograms -----------------------------------------------------------------------------


def test_histograms_match_numpy(fd):
    rng = np.random.default_rng(0)
    x = rng.normal(0, 2, (7, 50_000)).astype(np.float32)
    low, high, bins = -5.0, 4.0, 37
    counts = H.frame_histograms(torch.from_numpy(x), low, high, bins)
    edges = np.linspace(low, high, bins + 1)
    width = edges[1] - edges[0]
    for frame in range(7):
        expected = np.histogram(x[frame][x[frame] < high], edges)[0]
        # float32 rounding may move a sample within 1e-5 of an edge to the neighbouring bin
        near = np.sum(np.min(np.abs(x[frame][:, None] - edges[None, :]), axis=1) < 1e-5 * width)
        assert np.abs(counts[frame] - expected).sum() <= 2 * near
    np.testing.assert_array_equal(H.frame_histograms(x, low, high, bins), counts)
    density = H.frame_histograms(x, low, high, bins, density=True)
    assert density.dtype == np.float32
    inside = np.mean((x >= low) & (x < high), axis=1)
    np.testing.assert_allclose(density.sum(axis=1) * width, inside, rtol=1e-5)


def test_histogram_bad_inputs():
    x = np.zeros((2, 10), np.float32)
    with pytest.raises(ValueError, match=r"\[frames, n\]"):
        H.frame_histograms(np.zeros(10, np.float32), 0, 1)
    with pytest.raises(ValueError, match="low < high"):
        H.frame_histograms(x, 1, 1)
    with pytest.raises(ValueError, match="n_bins"):
        H.frame_histograms(x, 0, 1, 0)


@pytest.mark.parametrize("name", ALL_DATA)
def test_sampled_histograms_match_exact_density(fd, name):
    """Chi-square of the bin counts of both samplers against n·∫_bin q(x_t), at each frame.

    Bin probabilities come from integrating scipy's closed form over each bin; bins expecting
    fewer than 5 samples are pooled into one. The bound is chi2's 0.999/frames quantile.
    """
    data = H.data_distribution(name)
    n = 20_000
    ts = np.array([0, 20, 100, 300, 999])
    low, high = H.axis_range(data, fd.alphas_cumprod)
    bins = 60
    x0 = H.sample_data(data, n, seed=11)
    samplers = {
        "closed": H.closed_form_frames(fd, x0, ts, seed=12),
        "chain": H.chain_frames(fd, x0, ts, seed=13),
    }
    fine = np.linspace(low, high, bins * 40 + 1)
    for t_index, t in enumerate(ts):
        a2 = fd.alphas_cumprod[t]
        q = _scipy_density(data, math.sqrt(a2), math.sqrt(1 - a2), fine)
        cum = np.concatenate([[0.0], integrate.cumulative_trapezoid(q, fine)])
        p = np.diff(cum[::40])
        p = np.append(p, max(0.0, 1.0 - p.sum()))  # outside the axis range
        for sampler, frames in samplers.items():
            counts = H.frame_histograms(frames[t_index : t_index + 1], low, high, bins)[0]
            counts = np.append(counts, n - counts.sum())
            expected = n * p
            small = expected < 5
            observed = np.append(counts[~small], counts[small].sum())
            expected = np.append(expected[~small], expected[small].sum())
            chi2 = np.sum((observed - expected) ** 2 / np.maximum(expected, 1e-12))
            bound = stats.chi2.ppf(1 - 0.001 / (2 * len(ts)), len(observed) - 1)
            assert chi2 < bound, (sampler, t, chi2, bound)


def test_closed_form_frames_are_q_sample_of_each_frame(fd):
    """The frames are q_sample of x0 at each frame's t with the "closed" stream's noise (the
    sum is formed in the noise's memory: at most one float32 rounding apart)."""
    x0 = H.sample_data(H.data_distribution("bimodal"), 5000, seed=41)
    ts = np.array([0, 7, 500, 999])
    frames = H.closed_form_frames(fd, x0, ts, seed=42)
    generator = H.make_generator(42, fd.device, "closed")
    x = torch.from_numpy(np.asarray(x0, dtype=np.float32))
    expected, _ = fd.q_sample(x.expand(len(ts), -1), torch.from_numpy(ts), generator=generator)
    torch.testing.assert_close(frames, expected, rtol=1e-6, atol=1e-6)
    for bad in ([0, 1000], [-1, 3], []):
        with pytest.raises(ValueError):
            H.closed_form_frames(fd, x0, np.array(bad, dtype=np.int64), seed=42)


@pytest.mark.parametrize("name", ["bimodal", "exponential"])
def test_frame_moments_match_theory(fd, name):
    data = H.data_distribution(name)
    n = 30_000
    ts = H.frame_timesteps(fd.alphas_cumprod, 12)
    ac = fd.alphas_cumprod[ts]
    mean, var = H.theoretical_moments(data, ac)
    x0 = H.sample_data(data, n, seed=21)
    for frames in (H.closed_form_frames(fd, x0, ts, 22), H.chain_frames(fd, x0, ts, 23)):
        assert frames.shape == (len(ts), n) and frames.dtype == torch.float32
        got_mean, got_std = H.frame_moments(frames)
        x = frames.double().numpy()
        mu4 = np.mean((x - x.mean(1, keepdims=True)) ** 4, axis=1)
        # 5 standard errors; the x0 sample itself adds its own error on top of the noise's
        se_mean = np.sqrt(var / n)
        se_std = np.sqrt(np.maximum(mu4 - var**2, 0) / n) / (2 * np.sqrt(var))
        assert np.all(np.abs(got_mean - mean) < 5 * se_mean)
        assert np.all(np.abs(got_std - np.sqrt(var)) < 5 * se_std)


# -- Kolmogorov–Smirnov ---------------------------------------------------------------------


def _scipy_ks(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # Only the statistic is compared: scipy's p-value may warn (an error in this suite) for
    # tiny or tied samples, which says nothing about the statistic.
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        # float64 samples (the same values): newer scipy returns a float32 statistic for float32
        return np.array(
            [
                stats.ks_2samp(x.astype(np.float64), y.astype(np.float64)).statistic
                for x, y in zip(a, b, strict=True)
            ]
        )


def test_ks_matches_scipy_with_ties_signed_zero_and_unequal_sizes():
    rng = np.random.default_rng(5)
    a = rng.normal(0, 1, (6, 700)).astype(np.float32)
    b = np.round(rng.normal(0.1, 1.2, (6, 451)), 1).astype(np.float32)  # many ties
    a[0, :50], b[0, :50] = -0.0, 0.0
    b[1] = a[1, :451]  # b inside a
    expected = _scipy_ks(a, b)
    np.testing.assert_allclose(H.ks_2samp_frames(a, b), expected, atol=1e-15)
    np.testing.assert_allclose(H.ks_2samp_frames(a, b, block_elements=1000), expected, atol=1e-15)
    torch_path = H._ks_torch(torch.from_numpy(a), torch.from_numpy(b))
    np.testing.assert_allclose(torch_path, expected, atol=1e-15)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 40),
    st.integers(1, 40),
    st.integers(1, 3),
    st.integers(0, 2**32 - 1),
    st.sampled_from([0, 1, 3]),
)
def test_ks_matches_scipy_property(n, m, frames, seed, decimals):
    rng = np.random.default_rng(seed)
    a = np.round(rng.normal(0, 1, (frames, n)), decimals).astype(np.float32)
    b = np.round(rng.normal(0, 1, (frames, m)), decimals).astype(np.float32)
    np.testing.assert_allclose(H.ks_2samp_frames(a, b), _scipy_ks(a, b), atol=1e-12)


def test_ks_bad_inputs():
    with pytest.raises(ValueError, match="finite"):
        H.ks_2samp_frames(np.array([[0.0, np.nan]]), np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"\[frames, n\]"):
        H.ks_2samp_frames(np.zeros((2, 3)), np.zeros((3, 3)))


def test_chain_and_closed_form_agree_by_ks(fd):
    """All 60 frames: KS below the 99.9% critical value (Bonferroni over the frames)."""
    data = H.data_distribution("bimodal")
    n = 20_000
    ts = H.frame_timesteps(fd.alphas_cumprod, 60)
    closed = H.closed_form_frames(fd, H.sample_data(data, n, seed=31), ts, seed=32)
    chain = H.chain_frames(fd, H.sample_data(data, n, seed=33), ts, seed=34)
    ks = H.ks_2samp_frames(closed, chain)
    assert np.all(ks < H.ks_critical(n, n, 0.001 / len(ts)))
    # and the test has power: the chain five frames behind is told apart where ᾱ moves
    shifted = H.ks_2samp_frames(closed[5:30], chain[:25])
    assert np.all(shifted > H.ks_critical(n, n, 0.001))


# -- KL to N(0, 1) --------------------------------------------------------------------------


def test_kl_of_gaussian_data_matches_closed_form(fd):
    data = H.gaussian(3.0, 0.5)
    ac = np.append(fd.alphas_cumprod[[0, 50, 300, 999]], [1.0, 0.0])
    mean, var = H.theoretical_moments(data, ac)
    expected = 0.5 * (var + mean**2 - 1 - np.log(var))
    np.testing.assert_allclose(H.kl_to_standard_normal(data, ac), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["bimodal", "uniform", "exponential"])
def test_kl_matches_scipy_quadrature(name):
    data = H.data_distribution(name)
    ac = np.array([0.9, 0.5, 0.05])
    got = H.kl_to_standard_normal(data, ac)
    for value, a2 in zip(got, ac, strict=True):
        a, s = math.sqrt(a2), math.sqrt(1 - a2)

        def integrand(x, a=a, s=s):
            q = _scipy_density(data, a, s, np.array([x]))[0]
            return q * (math.log(q) - stats.norm.logpdf(x)) if q > 0 else 0.0

        expected = integrate.quad(integrand, -30, 30, limit=400, points=[0.0])[0]
        assert value == pytest.approx(expected, rel=1e-4, abs=1e-7)


# -- zero terminal SNR and the whole page ---------------------------------------------------


@pytest.mark.parametrize("name", ALL_DATA)
def test_zero_terminal_snr_is_finite_and_ends_at_standard_normal(name):
    fd = ForwardDiffusion(1000, "linear", device="cpu", zero_terminal_snr=True)
    assert fd.alphas_cumprod[-1] == 0.0
    data = H.data_distribution(name)
    frames = H.histogram_frames(fd, data, 2000, n_frames=20, seed=1)
    for field in ("hist_closed", "hist_chain", "density", "kl", "ks", "mean_chain", "std_chain"):
        assert np.all(np.isfinite(getattr(frames, field))), field
    np.testing.assert_allclose(frames.density[-1], stats.norm.pdf(frames.grid), atol=1e-5)
    assert frames.kl[-1] == pytest.approx(0.0, abs=1e-6)
    assert frames.std_theory[-1] == 1.0 and frames.mean_theory[-1] == 0.0


def test_histogram_frames_end_to_end(fd):
    data = H.data_distribution("gaussian")
    frames = H.histogram_frames(fd, data, 20_000, n_frames=60, n_bins=50, n_grid=300, seed=4)
    assert frames.analytic
    assert frames.timesteps[0] == 0 and frames.timesteps[-1] == 999 and len(frames.timesteps) == 60
    assert frames.hist_closed.shape == frames.hist_chain.shape == (60, 50)
    assert frames.density.shape == (60, 300) and frames.density.dtype == np.float32
    assert frames.browser_bytes() == 4 * (2 * 60 * 50 + 60 * 300)
    assert np.all(frames.ks < H.ks_critical(20_000, 20_000, 0.001 / 60))
    assert np.all(np.diff(frames.kl) <= 1e-12)  # the data forgets itself monotonically here
    again = H.histogram_frames(fd, data, 20_000, n_frames=60, n_bins=50, n_grid=300, seed=4)
    np.testing.assert_array_equal(again.hist_chain, frames.hist_chain)


def test_histogram_frames_take_extra_timesteps(fd):
    extra = [0, 111, 222, 333, 444, 555, 666, 777, 888, 999]  # the tutorial's snapshots
    frames = H.histogram_frames(fd, H.gaussian(), 1000, n_frames=50, extra_timesteps=extra)
    plain = H.frame_timesteps(fd.alphas_cumprod, 50)
    np.testing.assert_array_equal(frames.timesteps, np.union1d(plain, extra))
    assert 50 < len(frames.timesteps) <= 58
    np.testing.assert_array_equal(frames.alphas_cumprod, fd.alphas_cumprod[frames.timesteps])
    i = list(frames.timesteps).index(111)
    assert frames.mean_theory[i] == pytest.approx(3 * fd.sqrt_alphas_cumprod[111])
    for bad in ([1000], [-1], [1.5]):
        with pytest.raises(ValueError, match="extra timesteps must be integers in 0..999"):
            H.histogram_frames(fd, H.gaussian(), 1000, extra_timesteps=bad)


def _closed_frames(fd, data, n, ts, seed, chunk_rows=None):
    """The pipeline's closed-form frames, rebuilt: x0 from the "data_closed" stream, then all
    frames from the "closed" stream, or chunks of chunk_rows frames, each with a generator
    seeded in order from that stream."""
    x0 = data.sample(n, H.make_generator(seed, fd.device, "data_closed"))
    if chunk_rows is None:
        return H.closed_form_frames(fd, x0, ts, seed)
    starts = range(0, len(ts), chunk_rows)
    base = H.make_generator(seed, fd.device, "closed")
    seeds = torch.randint(0, 2**62, (len(starts),), generator=base).tolist()
    chunks = [
        H.closed_form_frames(fd, x0, ts[i : i + chunk_rows], torch.Generator().manual_seed(s))
        for i, s in zip(starts, seeds, strict=True)
    ]
    return torch.cat(chunks)


def test_histogram_frames_chain_n_and_samplers(fd):
    """chain_n trajectories for the chain, the KS on the first chain_n closed-form samples, and
    each sampler alone gives the same arrays as with both."""
    data = H.data_distribution("bimodal")
    n, m = 2000, 300
    both = H.histogram_frames(fd, data, n, n_frames=12, n_bins=30, seed=6, chain_n=m)
    ts = both.timesteps
    low, high = both.edges[0], both.edges[-1]
    closed = _closed_frames(fd, data, n, ts, 6)
    chain = H.chain_frames(fd, data.sample(m, H.make_generator(6, fd.device, "data_chain")), ts, 6)
    np.testing.assert_array_equal(both.hist_closed, H.frame_histograms(closed, low, high, 30, True))
    np.testing.assert_array_equal(both.hist_chain, H.frame_histograms(chain, low, high, 30, True))
    np.testing.assert_array_equal(both.ks, H.ks_2samp_frames(closed[:, :m], chain))
    assert (both.n_closed, both.n_chain, both.ks_critical) == (n, m, H.ks_critical(m, m))
    assert np.all(both.ks < H.ks_critical(m, m, 0.001 / len(ts)))
    only_closed = H.histogram_frames(
        fd, data, n, n_frames=12, n_bins=30, seed=6, chain_n=m, samplers="closed"
    )
    only_chain = H.histogram_frames(
        fd, data, n, n_frames=12, n_bins=30, seed=6, chain_n=m, samplers="chain"
    )
    for frames, ran, count, other in (
        (only_closed, "closed", n, "chain"),
        (only_chain, "chain", m, "closed"),
    ):
        for field in (f"hist_{ran}", f"mean_{ran}", f"std_{ran}", "density", "kl"):
            np.testing.assert_array_equal(getattr(frames, field), getattr(both, field))
        assert getattr(frames, f"hist_{other}") is None and getattr(frames, f"mean_{other}") is None
        assert getattr(frames, f"n_{ran}") == count and getattr(frames, f"n_{other}") == 0
        assert frames.ks is None and frames.ks_critical is None
        heights = getattr(frames, f"hist_{ran}")
        assert frames.browser_bytes() == heights.nbytes + frames.density.nbytes


def test_histogram_frames_chunks_have_own_streams_and_ignore_workers(fd):
    """Chunks of chunk_values samples, each from a generator seeded in order from the "closed"
    stream; the same arrays whatever the number of workers."""
    data = H.data_distribution("exponential")
    n, seed = 1000, 9
    kwargs = dict(n_frames=10, n_bins=25, seed=seed, chain_n=200, chunk_values=3 * n)
    one = H.histogram_frames(fd, data, n, workers=1, **kwargs)
    closed = _closed_frames(fd, data, n, one.timesteps, seed, chunk_rows=3)
    low, high = one.edges[0], one.edges[-1]
    np.testing.assert_array_equal(one.hist_closed, H.frame_histograms(closed, low, high, 25, True))
    np.testing.assert_array_equal(one.mean_closed, H.frame_moments(closed)[0])
    three = H.histogram_frames(fd, data, n, workers=3, **kwargs)
    for field in ("hist_closed", "hist_chain", "mean_closed", "std_chain", "ks"):
        np.testing.assert_array_equal(getattr(three, field), getattr(one, field))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"samplers": "closed form"}, r"unknown samplers 'closed form'; valid: \['both', 'chain'"),
        ({"chain_n": 99}, "chain_n must be an integer between 100 and 1,000, got 99"),
        ({"chain_n": 1001}, "chain_n must be an integer between 100 and 1,000, got 1001"),
        ({"chain_n": 500.0}, "chain_n must be an integer between 100 and 1,000"),
        ({"chain_n": True}, "chain_n must be an integer between 100 and 1,000"),
        ({"chunk_values": 0}, "chunk_values must be an integer >= 1, got 0"),
        ({"workers": 0}, "workers must be an integer >= 1, got 0"),
        ({"n_grid": 1}, "n_grid must be an integer >= 2, got 1"),
    ],
)
def test_histogram_frames_bad_settings_raise(fd, kwargs, message):
    with pytest.raises(ValueError, match=message):
        H.histogram_frames(fd, H.gaussian(), 1000, **kwargs)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_paths_match_cpu():
    fd = ForwardDiffusion(200, device="cuda")
    data = H.data_distribution("bimodal")
    ts = H.frame_timesteps(fd.alphas_cumprod, 20)
    x0 = H.sample_data(data, 20_000, seed=1, device="cuda")
    closed = H.closed_form_frames(fd, x0, ts, 2)
    chain = H.chain_frames(fd, x0, ts, 3)
    assert closed.device.type == chain.device.type == "cuda"
    np.testing.assert_allclose(
        H.ks_2samp_frames(closed, chain), _scipy_ks(closed.cpu().numpy(), chain.cpu().numpy())
    )
    np.testing.assert_array_equal(
        H.frame_histograms(closed, -5, 5, 40), H.frame_histograms(closed.cpu(), -5, 5, 40)
    )


def test_a_narrow_peak_of_q_is_drawn_at_its_height():
    """Components of σ = 0.01 at ±100 are far narrower than the even grid's step (~0.7): the
    grid takes points across each peak while it is narrow, so the drawn density reaches the
    true peak height, w / (√(2π)·width), where even points alone drew a flat line near 0."""
    fd = ForwardDiffusion(1000, "linear", device="cpu")
    data = H.GaussianMixture((1, 1), (-100, 100), (0.01, 0.01))
    frames = H.histogram_frames(fd, data, 1000, n_frames=20, n_bins=50, n_grid=300, seed=1)
    ac = frames.alphas_cumprod
    widths = np.sqrt(ac * 0.01**2 + 1 - ac)
    peaks = 0.5 / (np.sqrt(2 * np.pi) * widths)
    apart = np.sqrt(ac) * 200 > 10 * widths  # until the two peaks merge near the end
    assert apart.sum() >= 15
    np.testing.assert_allclose(frames.density.max(axis=1)[apart], peaks[apart], rtol=0.01)
    assert np.all(np.diff(frames.grid) > 0)
    wide = H.histogram_frames(fd, H.gaussian(), 1000, n_frames=20, n_bins=50, n_grid=300)
    assert len(wide.grid) == 300  # broad data keeps the even grid
