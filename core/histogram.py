"""The 1-D histogram animation: samples x_t of simple data, their histograms and the exact q(x_t).

For 1-D data X0 the marginal of the forward process (DDPM eq. 4) is the law of

    x_t = √ᾱ_t·X0 + √(1-ᾱ_t)·ε,   ε ~ N(0, 1) independent of X0,

so its density is the density of √ᾱ_t·X0 convolved with N(0, 1-ᾱ_t):

    q(x_t) = ∫ p_0(y) · N(x_t; √ᾱ_t·y, 1-ᾱ_t) dy.

Every data choice here has it in closed form (``noisy_density``): a Gaussian mixture stays a
mixture, Σ_k w_k·N(√ᾱ_t·μ_k, ᾱ_t·σ_k² + 1-ᾱ_t); uniform data give a difference of two normal
CDFs; exponential data an exponentially modified Gaussian. Other data with a CDF are convolved
numerically on a fine grid (:func:`q_density`). Both samplers of the tutorial are provided:
the closed form (:func:`closed_form_frames`) and the Markov chain (:func:`chain_frames`), and
they are compared frame by frame with the two-sample Kolmogorov–Smirnov statistic.

Index convention as in :mod:`core.diffusion`: timestep index t = 0..T-1 is the state after
steps 0..t, ᾱ_t = Π_{s≤t}(1-β_s).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
import torch

from core.diffusion import ForwardDiffusion

DataName = Literal["gaussian", "bimodal", "uniform", "exponential", "mixture"]
DensityMethod = Literal["auto", "analytic", "numeric"]
Samplers = Literal["both", "closed", "chain"]
Seed = int | torch.Generator

MIN_SAMPLES = 100
MAX_SAMPLES = 1_000_000
MAX_COMPONENTS = 10
MAX_ABS_PARAM = 1e3
SAMPLERS: tuple[Samplers, ...] = ("both", "closed", "chain")
# One-sided tail mass of N(0, 1) beyond 4σ: the plot range of every data choice leaves out at
# most this much on each side.
TAIL_MASS = 0.5 * math.erfc(4.0 / math.sqrt(2.0))
# c(α) of the asymptotic two-sample KS test, D_crit = c(α)·√((n+m)/(n·m)), at α = 0.001.
KS_C_999 = math.sqrt(-0.5 * math.log(0.001 / 2.0))


# -- data distributions for x_0 ---------------------------------------------------------------


class DataDistribution(Protocol):
    """A 1-D distribution for x_0: moments, CDF, a plot range and a seeded sampler."""

    @property
    def mean(self) -> float: ...

    @property
    def var(self) -> float: ...

    def cdf(self, x: torch.Tensor) -> torch.Tensor: ...

    def plot_range(self) -> tuple[float, float]: ...

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor: ...


class AnalyticData(DataDistribution, Protocol):
    """Data whose noised density is known in closed form."""

    def noisy_density(self, x: Any, a: Any, s: Any) -> np.ndarray:
        """The density of a·X0 + s·ε, ε ~ N(0, 1), at x (a, s ≥ 0, not both 0; x, a and s
        broadcast against each other): float64. With a = √ᾱ_t, s = √(1-ᾱ_t) it is q(x_t)."""
        ...


def _broadcast(x: Any, a: Any, s: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """x, a and s as float64 tensors of one broadcast shape."""
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (x, a, s)))
    x, a, s = (torch.from_numpy(np.array(v)) for v in arrays)
    return x, a, s


def _normal_pdf(x: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    return torch.exp(-0.5 * x * x / var) / torch.sqrt(2.0 * math.pi * var)


def _normal_cdf(x: torch.Tensor) -> torch.Tensor:
    """Φ(x) from erfc: accurate to the last digits in the far left tail too, where
    ``torch.special.ndtr`` loses up to 8 of them."""
    return 0.5 * torch.special.erfc(-x / math.sqrt(2.0))


def _finite(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if abs(value) > MAX_ABS_PARAM:
        raise ValueError(f"|{name}| must be at most {MAX_ABS_PARAM:g}, got {value!r}")
    return value


def _check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    bounds = f">= {low}" if high is None else f"between {low:,} and {high:,}"
    is_int = isinstance(value, int | np.integer) and not isinstance(value, bool)
    if not is_int or value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be an integer {bounds}, got {value!r}")
    return int(value)


def _as_tuple(name: str, values: Any) -> tuple[Any, ...]:
    if isinstance(values, str) or not isinstance(values, Sequence | np.ndarray):
        raise ValueError(f"{name} must be a sequence of numbers, got {values!r}")
    if isinstance(values, np.ndarray):
        return tuple(values.reshape(-1).tolist())
    return tuple(values)


@dataclass(frozen=True)
class GaussianMixture:
    """Σ_k w_k·N(μ_k, σ_k²), 1..10 components; the weights are normalised to sum to 1.

    Args:
        weights: w_k ≥ 0 with Σ w_k > 0 (normalised here).
        means: μ_k, |μ_k| ≤ 1000.
        stds: σ_k > 0, σ_k ≤ 1000.
    """

    weights: tuple[float, ...]
    means: tuple[float, ...]
    stds: tuple[float, ...]

    def __post_init__(self) -> None:
        weights = _as_tuple("weights", self.weights)
        means = _as_tuple("means", self.means)
        stds = _as_tuple("stds", self.stds)
        if not len(weights) == len(means) == len(stds):
            raise ValueError(
                "weights, means and stds must have the same length, got "
                f"{len(weights)}, {len(means)} and {len(stds)}"
            )
        if not 1 <= len(weights) <= MAX_COMPONENTS:
            raise ValueError(
                f"a mixture needs 1 to {MAX_COMPONENTS} components, got {len(weights)}"
            )
        weights = tuple(_finite(f"weights[{k}]", w) for k, w in enumerate(weights))
        means = tuple(_finite(f"means[{k}]", m) for k, m in enumerate(means))
        stds = tuple(_finite(f"stds[{k}]", s) for k, s in enumerate(stds))
        for k, w in enumerate(weights):
            if w < 0:
                raise ValueError(f"weights[{k}] must be >= 0, got {w!r}")
        total = math.fsum(weights)
        if total <= 0:
            raise ValueError("the weights must sum to more than 0")
        for k, s in enumerate(stds):
            if s <= 0:
                raise ValueError(f"stds[{k}] must be > 0, got {s!r}")
        object.__setattr__(self, "weights", tuple(w / total for w in weights))
        object.__setattr__(self, "means", means)
        object.__setattr__(self, "stds", stds)

    @property
    def mean(self) -> float:
        """E[x0] = Σ w_k μ_k."""
        return math.fsum(w * m for w, m in zip(self.weights, self.means, strict=True))

    @property
    def var(self) -> float:
        """Var[x0] = Σ w_k (σ_k² + μ_k²) - E[x0]²."""
        second = math.fsum(
            w * (s * s + m * m) for w, m, s in zip(self.weights, self.means, self.stds, strict=True)
        )
        return max(second - self.mean**2, 0.0)

    def cdf(self, x: torch.Tensor) -> torch.Tensor:
        """Σ_k w_k Φ((x - μ_k)/σ_k), in x's dtype."""
        w, m, s = (torch.tensor(v, dtype=x.dtype, device=x.device) for v in self._arrays())
        return (w * torch.special.ndtr((x.unsqueeze(-1) - m) / s)).sum(-1)

    def noisy_density(self, x: Any, a: Any, s: Any) -> np.ndarray:
        """Σ_k w_k·N(x; a·μ_k, a²·σ_k² + s²): a mixture again."""
        x, a, s = (v.unsqueeze(-1) for v in _broadcast(x, a, s))
        w, m, sd = (torch.from_numpy(v) for v in self._arrays())
        return (w * _normal_pdf(x - a * m, a * a * sd * sd + s * s)).sum(-1).numpy()

    def plot_range(self) -> tuple[float, float]:
        """[min_k μ_k - 4σ_k, max_k μ_k + 4σ_k]."""
        return (
            min(m - 4.0 * s for m, s in zip(self.means, self.stds, strict=True)),
            max(m + 4.0 * s for m, s in zip(self.means, self.stds, strict=True)),
        )

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """n float32 draws on the generator's device: a component k ~ w, then μ_k + σ_k·z."""
        device = generator.device
        w, m, s = (torch.tensor(v, dtype=torch.float32, device=device) for v in self._arrays())
        if len(self.weights) == 1:
            component = torch.zeros(n, dtype=torch.long, device=device)
        else:
            component = torch.multinomial(w, n, replacement=True, generator=generator)
        z = torch.randn(n, generator=generator, dtype=torch.float32, device=device)
        return z.mul_(s[component]).add_(m[component])

    def _arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.array(self.weights), np.array(self.means), np.array(self.stds)


@dataclass(frozen=True)
class Uniform:
    """U(low, high), low < high, |low|, |high| ≤ 1000. Its density has jumps at both ends."""

    low: float = -1.0
    high: float = 3.0

    def __post_init__(self) -> None:
        low, high = _finite("low", self.low), _finite("high", self.high)
        if not low < high:
            raise ValueError(f"need low < high, got low={low!r}, high={high!r}")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    @property
    def mean(self) -> float:
        """(low + high)/2."""
        return 0.5 * (self.low + self.high)

    @property
    def var(self) -> float:
        """(high - low)²/12."""
        return (self.high - self.low) ** 2 / 12.0

    def cdf(self, x: torch.Tensor) -> torch.Tensor:
        """clip((x - low)/(high - low), 0, 1)."""
        return ((x - self.low) / (self.high - self.low)).clamp(0.0, 1.0)

    def noisy_density(self, x: Any, a: Any, s: Any) -> np.ndarray:
        """[Φ((x - a·low)/s) - Φ((x - a·high)/s)] / (a·(high - low)).

        The two Φ are taken on the side of their tails (no cancellation far from the middle);
        where the scaled support is under 1e-4·s wide they differ in the 12th digit, and the
        density is the normal with the same variance instead (the error is then below 1e-17
        relative). s = 0: the uniform density of [a·low, a·high], half of it at the ends.
        """
        x, a, s = _broadcast(x, a, s)
        width = a * (self.high - self.low)
        lo, hi = a * self.low, a * self.high
        spread = s > 0
        s1 = torch.where(spread, s, 1.0)
        upper, lower = (x - lo) / s1, (x - hi) / s1  # upper > lower
        right = x > 0.5 * (lo + hi)
        tails = _normal_cdf(-lower) - _normal_cdf(-upper)  # for x right of the middle
        mass = torch.where(right, tails, _normal_cdf(upper) - _normal_cdf(lower))
        step = 0.5 * (torch.sign(x - lo) - torch.sign(x - hi))  # s = 0
        box = torch.where(spread, mass, step) / torch.where(width > 0, width, 1.0)
        narrow = width < 1e-4 * s
        normal = _normal_pdf(x - 0.5 * (lo + hi), s * s + width * width / 12.0)
        return torch.where(narrow, normal, box).numpy()

    def plot_range(self) -> tuple[float, float]:
        """The support [low, high]."""
        return self.low, self.high

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """n float32 draws low + (high - low)·u, u ~ U[0, 1)."""
        u = torch.rand(n, generator=generator, dtype=torch.float32, device=generator.device)
        return u.mul_(self.high - self.low).add_(self.low)


@dataclass(frozen=True)
class Exponential:
    """The skewed choice: loc + Exp(mean ``scale``), density e^{-(x-loc)/scale}/scale for x ≥ loc.

    Skewness 2; the density jumps from 0 to 1/scale at ``loc``. 0 < scale ≤ 1000, |loc| ≤ 1000.
    """

    loc: float = 0.0
    scale: float = 1.0

    def __post_init__(self) -> None:
        loc, scale = _finite("loc", self.loc), _finite("scale", self.scale)
        if scale <= 0:
            raise ValueError(f"scale must be > 0, got {scale!r}")
        object.__setattr__(self, "loc", loc)
        object.__setattr__(self, "scale", scale)

    @property
    def mean(self) -> float:
        """loc + scale."""
        return self.loc + self.scale

    @property
    def var(self) -> float:
        """scale²."""
        return self.scale**2

    def cdf(self, x: torch.Tensor) -> torch.Tensor:
        """1 - e^{-(x-loc)/scale} for x ≥ loc, else 0."""
        z = ((x - self.loc) / self.scale).clamp(min=0.0)
        return -torch.expm1(-z)

    def noisy_density(self, x: Any, a: Any, s: Any) -> np.ndarray:
        """The exponentially modified Gaussian: with b = a·scale, u = (x - a·loc)/s and
        w = (s/b - u)/√2, the density is erfcx(w)·e^{-u²/2}/(2b) for w ≥ 0 and
        e^{(s/b)(s/(2b) - u)}·Φ(u - s/b)/b for w < 0 (neither overflows). a = 0: N(0, s²);
        s = 0: the exponential density of scale b, half of its jump at a·loc.
        """
        x, a, s = _broadcast(x, a, s)
        b = a * self.scale
        b1 = torch.where(b > 0, b, 1.0)
        s1 = torch.where(s > 0, s, 1.0)
        u = (x - a * self.loc) / s1
        ratio = s / b1
        w = (ratio - u) / math.sqrt(2.0)
        left = torch.special.erfcx(w.clamp(min=0.0)) * torch.exp(-0.5 * u * u) / (2.0 * b1)
        right = torch.exp(ratio * (0.5 * ratio - u).clamp(max=0.0)) * _normal_cdf(u - ratio) / b1
        emg = torch.where(w >= 0, left, right)
        z = (x - a * self.loc) / b1
        jump = torch.where(z > 0, 1.0, torch.where(z == 0, 0.5, 0.0))
        plain = jump * torch.exp(-z.clamp(min=0.0)) / b1  # s = 0
        density = torch.where(s > 0, emg, plain)
        return torch.where(b > 0, density, _normal_pdf(x, s * s)).numpy()

    def plot_range(self) -> tuple[float, float]:
        """[loc, loc + scale·ln(1/TAIL_MASS)]: the right tail left out equals N(0,1)'s beyond 4σ."""
        return self.loc, self.loc - self.scale * math.log(TAIL_MASS)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """n float32 draws loc + scale·E, E ~ Exp(1)."""
        e = torch.empty(n, dtype=torch.float32, device=generator.device)
        return e.exponential_(1.0, generator=generator).mul_(self.scale).add_(self.loc)


def gaussian(mean: float = 3.0, std: float = 1.0) -> GaussianMixture:
    """N(mean, std²): the tutorial's data, N(3, 1) by default (one-component mixture)."""
    return GaussianMixture((1.0,), (mean,), (std,))


def bimodal(
    weight: float = 0.5, mean1: float = -2.0, mean2: float = 2.0, std: float = 0.5
) -> GaussianMixture:
    """w·N(mean1, std²) + (1-w)·N(mean2, std²), default two equal modes at ±2 with σ = 0.5."""
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 1:
        raise ValueError(f"weight must be a number in [0, 1], got {weight!r}")
    return GaussianMixture((weight, 1.0 - weight), (mean1, mean2), (std, std))


def mixture(
    weights: Sequence[float] = (0.2, 0.5, 0.3),
    means: Sequence[float] = (-3.0, 0.5, 4.0),
    stds: Sequence[float] = (0.5, 1.0, 0.7),
) -> GaussianMixture:
    """A user-defined Gaussian mixture (validated and normalised by :class:`GaussianMixture`)."""
    return GaussianMixture(tuple(weights), tuple(means), tuple(stds))


DATA: dict[str, Callable[..., DataDistribution]] = {
    "gaussian": gaussian,
    "bimodal": bimodal,
    "uniform": Uniform,
    "exponential": Exponential,
    "mixture": mixture,
}


def data_params(name: str) -> dict[str, Any]:
    """The parameters of data choice ``name`` with their defaults."""
    _check_data_name(name)
    signature = inspect.signature(DATA[name])
    return {k: p.default for k, p in signature.parameters.items()}


def data_distribution(name: str, **params: Any) -> DataDistribution:
    """The registered data choice ``name`` with ``params`` overriding its defaults.

    Raises ``ValueError`` for an unknown name or parameter (listing the valid ones) and for an
    invalid value.
    """
    _check_data_name(name)
    valid = data_params(name)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {unknown} for data {name!r}; valid: {sorted(valid)}"
        )
    return DATA[name](**params)


def is_analytic(data: DataDistribution) -> bool:
    """True when q(x_t) is known in closed form (the data has ``noisy_density``: every data
    choice here), False when it is computed numerically."""
    return callable(getattr(data, "noisy_density", None))


def _check_data_name(name: str) -> None:
    if name not in DATA:
        raise ValueError(f"unknown data {name!r}; valid: {sorted(DATA)}")


def check_sample_count(n: Any) -> int:
    """n as an int, or ``ValueError`` unless it is an integer in [100, 1_000_000]."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise ValueError(f"the number of samples must be an integer, got {n!r}")
    if not MIN_SAMPLES <= n <= MAX_SAMPLES:
        raise ValueError(
            f"the number of samples must be between {MIN_SAMPLES:,} and {MAX_SAMPLES:,}, got {n:,}"
        )
    return int(n)


# Independent random streams derived from one seed: data for each sampler and each sampler's noise.
_STREAMS = {"data_closed": 0, "data_chain": 1, "closed": 2, "chain": 3}


def make_generator(
    seed: Seed, device: torch.device | str, stream: str = "closed"
) -> torch.Generator:
    """A torch.Generator on ``device`` for stream ``stream`` of ``seed``.

    An int seed (≥ 0) is mixed with the stream through numpy's SeedSequence, so the streams are
    independent; a given generator is returned unchanged. The same seed gives the same numbers on
    the same kind of device (CPU and CUDA generators differ).
    """
    if isinstance(seed, torch.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0 or a torch.Generator, got {seed!r}")
    state = np.random.SeedSequence([int(seed), _STREAMS[stream]]).generate_state(1, np.uint64)[0]
    return torch.Generator(device=torch.device(device)).manual_seed(int(state))


def sample_data(
    data: DataDistribution, n: int, seed: Seed = 0, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """n float32 samples of ``data`` on ``device`` (100 ≤ n ≤ 1,000,000), reproducible from seed."""
    n = check_sample_count(n)
    generator = make_generator(seed, device, "data_closed")
    return data.sample(n, generator)


# -- frames -----------------------------------------------------------------------------------


def _check_alphas_cumprod(alphas_cumprod: Any) -> np.ndarray:
    array = np.asarray(alphas_cumprod, dtype=np.float64)
    if array.ndim != 1 or array.shape[0] < 1:
        raise ValueError(f"alphas_cumprod must be 1-D and non-empty, got shape {array.shape}")
    if not np.all(np.isfinite(array)) or np.any((array < 0) | (array > 1)):
        raise ValueError("alphas_cumprod must be finite and in [0, 1]")
    return array


def frame_timesteps(
    alphas_cumprod: Any, n_frames: int = 60, time_weight: float = 1.0
) -> np.ndarray:
    """Timestep indices for the animation: sorted, unique, from 0 to T-1, min(n_frames, T) many.

    The frames are equally spaced in arc length along the curve
    (time_weight·t/(T-1), √ᾱ_t, √(1-ᾱ_t)): the histogram's mean moves with √ᾱ_t and its noise
    with √(1-ᾱ_t), so equal arc length is roughly equal visual change, and the t term keeps
    frames in the flat tail. Where one step is longer than the frame spacing, the rounding
    merges frames; the largest gaps in t are then split until there are enough. T < n_frames
    gives all timesteps.
    """
    ac = _check_alphas_cumprod(alphas_cumprod)
    n_frames = _check_int("n_frames", n_frames, 2)
    weight = _finite("time_weight", time_weight)
    if weight < 0:
        raise ValueError(f"time_weight must be >= 0, got {weight!r}")
    T = ac.shape[0]
    if n_frames >= T:
        return np.arange(T, dtype=np.int64)
    curve = np.stack([weight * np.arange(T) / (T - 1), np.sqrt(ac), np.sqrt(1.0 - ac)])
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(curve, axis=1), axis=0))])
    if arc[-1] <= 0:
        chosen = np.round(np.linspace(0, T - 1, n_frames)).astype(np.int64)
    else:
        targets = np.linspace(0.0, arc[-1], n_frames)
        chosen = np.round(np.interp(targets, arc, np.arange(T))).astype(np.int64)
    chosen = set(np.unique(np.concatenate([chosen, [0, T - 1]])).tolist())
    while len(chosen) < n_frames:
        ordered = sorted(chosen)
        gaps = np.diff(ordered)
        widest = int(np.argmax(gaps))
        chosen.add(ordered[widest] + int(gaps[widest]) // 2)
    return np.array(sorted(chosen), dtype=np.int64)


def axis_range(
    data: DataDistribution, alphas_cumprod: Any, pad: float = 0.02
) -> tuple[float, float]:
    """A fixed x-range that holds every frame, so the axes never move.

    [min_t √ᾱ_t·lo - 4√(1-ᾱ_t), max_t √ᾱ_t·hi + 4√(1-ᾱ_t)] over t and ᾱ = 1 (the data), where
    [lo, hi] is the data's plot range; it contains the data's range and N(0,1)'s ±4σ, widened
    by ``pad`` of its width on each side.
    """
    ac = np.append(1.0, _check_alphas_cumprod(alphas_cumprod))
    lo, hi = data.plot_range()
    a, s = np.sqrt(ac), np.sqrt(1.0 - ac)
    low = float(np.min(a * lo - 4.0 * s))
    high = float(np.max(a * hi + 4.0 * s))
    width = high - low
    return low - pad * width, high + pad * width


# Points across a narrow peak of q(x_t): its centre ± up to 4 standard deviations
_PEAK_OFFSETS = np.linspace(-4.0, 4.0, 17)


def density_grid(
    data: DataDistribution, alphas_cumprod: Any, low: float, high: float, n_grid: int
) -> np.ndarray:
    """Where q(x_t) is drawn: ``n_grid`` even points on [low, high] and, for a Gaussian
    mixture, points across each component's peak √ᾱ·μ_k (of width √(ᾱσ_k² + 1 − ᾱ)) in every
    frame where that peak is narrower than four steps of the even grid: there the even points
    alone could miss the peak entirely (σ = 0.01 at ±100 drew a flat line near 0).
    """
    grid = np.linspace(low, high, n_grid)
    if not isinstance(data, GaussianMixture):
        return grid
    ac = _check_alphas_cumprod(alphas_cumprod)[:, None]
    means, stds = np.asarray(data.means), np.asarray(data.stds)
    centres = np.sqrt(ac) * means
    widths = np.sqrt(ac * stds**2 + 1.0 - ac)
    narrow = widths < 4.0 * (high - low) / (n_grid - 1)
    extra = (centres[narrow][:, None] + widths[narrow][:, None] * _PEAK_OFFSETS).ravel()
    return np.union1d(grid, extra[(extra > low) & (extra < high)])


def closed_form_frames(
    fd: ForwardDiffusion, x0: Any, frame_ts: Any, seed: Seed = 0
) -> torch.Tensor:
    """x_t for every frame from the closed form q(x_t | x_0) (DDPM eq. 4): [frames, n] float32.

    x_t = √ᾱ_t·x0 + √(1-ᾱ_t)·ε_t with ε_t drawn independently for every frame, so each frame
    is an honest draw of the marginal q(x_t) (the same x0 is reused across frames). The same
    values as :meth:`ForwardDiffusion.q_sample` of x0 repeated per frame, computed in the noise's
    own memory (ε is not kept); on ``fd.device``, and returns a tensor on that device.
    """
    x = _as_samples(x0, fd.device)
    ts = np.asarray(frame_ts, dtype=np.int64)
    if ts.ndim != 1 or ts.size == 0:
        raise ValueError("frame_ts must be a non-empty 1-D sequence of timesteps")
    if ts.min() < 0 or ts.max() >= fd.timesteps:
        raise ValueError(f"frame timesteps must be in 0..{fd.timesteps - 1}")
    generator = make_generator(seed, fd.device, "closed")
    noise = torch.randn((ts.size, x.shape[0]), generator=generator, device=x.device)
    index = torch.from_numpy(ts).to(x.device)
    a = fd.table("sqrt_alphas_cumprod", x.device, torch.float32)[index].unsqueeze(1)
    b = fd.table("sqrt_one_minus_alphas_cumprod", x.device, torch.float32)[index].unsqueeze(1)
    return noise.mul_(b).addcmul_(x, a)


def chain_frames(fd: ForwardDiffusion, x0: Any, frame_ts: Any, seed: Seed = 0) -> torch.Tensor:
    """x_t for every frame from one pass of the Markov chain: [frames, n] float32 on fd.device.

    x_s = √(1-β_s)·x_{s-1} + √β_s·ε_s with fresh ε_s each step
    (:meth:`ForwardDiffusion.q_sample_chain`); the frames are states of the same trajectories.
    """
    x = _as_samples(x0, fd.device)
    ts = [int(t) for t in np.asarray(frame_ts, dtype=np.int64).reshape(-1)]
    if not ts:
        raise ValueError("frame_ts must be a non-empty 1-D sequence of timesteps")
    generator = make_generator(seed, fd.device, "chain")
    return fd.q_sample_chain(x, ts, generator=generator)


def _as_samples(x0: Any, device: torch.device) -> torch.Tensor:
    if isinstance(x0, torch.Tensor):
        x = x0.detach().to(device=device, dtype=torch.float32)
    else:
        x = torch.from_numpy(np.ascontiguousarray(x0, dtype=np.float32)).to(device)
    if x.ndim != 1:
        raise ValueError(f"x0 must be 1-D samples, got shape {tuple(x.shape)}")
    check_sample_count(x.shape[0])
    if not bool(torch.isfinite(x).all()):
        raise ValueError("x0 must be finite")
    return x


# -- histograms -------------------------------------------------------------------------------


def frame_histograms(
    samples: Any, low: float, high: float, n_bins: int = 80, density: bool = False
) -> np.ndarray:
    """Histograms of every frame in one pass: [frames, n_bins] for samples [frames, n].

    Bins are n_bins equal bins on [low, high); samples outside are not counted (a density then
    integrates to the fraction inside). One bincount over the flattened bin index
    frame·(n_bins+2) + 1 + bin, where the extra two bins per frame catch the samples below and
    above the range. Runs on the samples' device (torch) or the CPU (numpy input).

    Returns int64 counts, or float32 densities count/(n·width) when ``density``.
    """
    x = torch.as_tensor(samples) if not isinstance(samples, torch.Tensor) else samples
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"samples must be [frames, n] with both > 0, got {tuple(x.shape)}")
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    low, high = float(low), float(high)
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"need finite low < high, got {low!r}, {high!r}")
    frames, n = x.shape
    stride = n_bins + 2
    scale = n_bins / (high - low)
    # position + 1 in [0, n_bins + 2); clamped values are ≥ 0, so the int cast truncates = floors
    pos = torch.mul(x, scale).add_(1.0 - low * scale).clamp_(0.0, n_bins + 1.0)
    index = pos.to(torch.int32 if frames * stride < 2**31 else torch.int64)
    del pos
    offsets = torch.arange(frames, device=x.device, dtype=index.dtype).mul_(stride).unsqueeze(1)
    index.add_(offsets)
    counts = torch.bincount(index.view(-1), minlength=frames * stride).view(frames, stride)
    counts = counts[:, 1:-1].cpu().numpy().astype(np.int64)
    if not density:
        return counts
    return (counts / (n * (high - low) / n_bins)).astype(np.float32)


# -- the exact density q(x_t) -----------------------------------------------------------------


def analytic_density(data: AnalyticData, alphas_cumprod: Any, x: Any) -> np.ndarray:
    """q(x_t) in closed form on grid x for every ᾱ: [len(ᾱ), len(x)] float64.

    ``data.noisy_density`` at a = √ᾱ, s = √(1-ᾱ); ᾱ = 1 gives the data's density and ᾱ = 0
    N(0, 1), without special cases here.
    """
    ac = _check_alphas_cumprod(alphas_cumprod)[:, None]
    grid = _check_grid(x)[None, :]
    return data.noisy_density(grid, np.sqrt(ac), np.sqrt(1.0 - ac))


def _check_grid(x: Any) -> np.ndarray:
    grid = np.asarray(x, dtype=np.float64)
    if grid.ndim != 1 or grid.shape[0] < 2 or not np.all(np.isfinite(grid)):
        raise ValueError("the grid must be 1-D, finite, with at least 2 points")
    if np.any(np.diff(grid) <= 0):
        raise ValueError("the grid must be strictly increasing")
    return grid


@dataclass(frozen=True)
class _FineDensity:
    centres: np.ndarray  # [M] cell centres u_j
    step: float  # h
    density: np.ndarray  # [F, M]


def _cells(low: float, high: float, cells: int) -> tuple[float, float]:
    """(first edge, width h) of ``cells`` equal cells covering [low, high] with 0 at the centre
    of one: as ᾱ → 0 all the data mass goes to 0, which is then placed exactly."""
    h = (high - low) / (cells - 1)
    return -h * (math.ceil(-low / h - 0.5) + 0.5), h


def _numeric_fine(
    data: DataDistribution, ac: np.ndarray, low: float, high: float, cells: int
) -> _FineDensity:
    """q(x_t) on ``cells`` equal cells covering [low, high], centred on 0, by FFT convolution.

    m_j = P(√ᾱ·X0 ∈ cell j), from the data's CDF (exact for densities with jumps; the tails
    beyond the grid go to the end cells); K_k = P(√(1-ᾱ)·ε ∈ [(k-½)h, (k+½)h]);
    q(u_i) ≈ Σ_j m_j K_{i-j} / h. Both are cell masses, so √(1-ᾱ) → 0 gives the cell averages
    of the scaled data density and ᾱ = 0 puts all data mass in the cell of 0 (a point mass);
    neither divides by zero. Error O(h²) where the density is smooth.
    """
    low, h = _cells(low, high, cells)
    a = torch.from_numpy(np.sqrt(ac))[:, None]
    s = torch.from_numpy(np.sqrt(1.0 - ac))[:, None]
    edges = low + h * torch.arange(cells + 1, dtype=torch.float64)
    edges[0], edges[-1] = -math.inf, math.inf
    positive = a > 0
    scaled = edges[None, :] / torch.where(positive, a, torch.ones_like(a))
    # cdf of √ᾱ·X0 at the edges; ᾱ = 0: a step at 0
    cdf = torch.where(positive, data.cdf(scaled), (edges[None, :] >= 0).to(torch.float64))
    mass = torch.diff(cdf, dim=1).clamp_(min=0.0)
    k = torch.arange(-(cells - 1), cells, dtype=torch.float64)[None, :]
    kernel = torch.diff(
        torch.special.ndtr(torch.cat([k - 0.5, k[:, -1:] + 0.5], dim=1) * h / s), dim=1
    )
    # s = 0: (k ± ½)h/0 = ±∞, never 0/0, so the kernel is exactly the unit mass at k = 0
    size = 1 << math.ceil(math.log2(3 * cells - 2))
    product = torch.fft.rfft(mass, n=size) * torch.fft.rfft(kernel, n=size)
    full = torch.fft.irfft(product, n=size)[:, cells - 1 : 2 * cells - 1]
    density = full.clamp_(min=0.0).div_(h).numpy()
    centres = low + h * (np.arange(cells) + 0.5)
    return _FineDensity(centres, h, density)


def _fine_range(x: np.ndarray) -> tuple[float, float]:
    width = x[-1] - x[0]
    return float(x[0] - 0.25 * width), float(x[-1] + 0.25 * width)


def _numeric_range(data: DataDistribution, ac: np.ndarray, grid: np.ndarray) -> tuple[float, float]:
    """The fine grid's range: the grid's and the axis range's, each widened by 25% per side, so
    that the mass it leaves to its end cells is negligible wherever the grid lies."""
    low, high = _fine_range(grid)
    axis_low, axis_high = _fine_range(np.array(axis_range(data, ac)))
    return min(low, axis_low), max(high, axis_high)


def q_density(
    data: DataDistribution,
    alphas_cumprod: Any,
    x: Any,
    method: DensityMethod = "auto",
    cells: int = 8192,
) -> np.ndarray:
    """The exact density q(x_t) on grid x for every frame's ᾱ_t: [frames, len(x)] float64.

    ``method``: "analytic" (data with ``noisy_density``, :func:`analytic_density`), "numeric"
    (any data with a CDF: FFT convolution of √ᾱ·X0 with N(0, 1-ᾱ) on ``cells`` cells spanning
    the grid's and the data's axis range, each widened by 25% on each side, linearly
    interpolated onto x; error O(h²) where q is smooth, a jump of the data spread over a cell),
    or "auto" (analytic when :func:`is_analytic`).
    """
    grid = _check_grid(x)
    ac = _check_alphas_cumprod(alphas_cumprod)
    if method not in ("auto", "analytic", "numeric"):
        raise ValueError(f"unknown method {method!r}; valid: ['analytic', 'auto', 'numeric']")
    if method == "analytic" and not is_analytic(data):
        raise ValueError(f"no analytic density for {type(data).__name__}; use method='numeric'")
    if method == "analytic" or (method == "auto" and is_analytic(data)):
        return analytic_density(data, ac, grid)  # type: ignore[arg-type]
    if isinstance(cells, bool) or not isinstance(cells, int) or not 16 <= cells <= 1 << 16:
        raise ValueError(f"cells must be an integer in [16, 65536], got {cells!r}")
    fine = _numeric_fine(data, ac, *_numeric_range(data, ac, grid), cells)
    position = np.clip((grid - fine.centres[0]) / fine.step, 0.0, cells - 1.0)
    left = np.minimum(position.astype(np.int64), cells - 2)
    weight = position - left
    return fine.density[:, left] * (1.0 - weight) + fine.density[:, left + 1] * weight


# -- statistics -------------------------------------------------------------------------------


def theoretical_moments(
    data: DataDistribution, alphas_cumprod: Any
) -> tuple[np.ndarray, np.ndarray]:
    """E[x_t] = √ᾱ_t·E[x0] and Var[x_t] = ᾱ_t·Var[x0] + 1 - ᾱ_t, each [frames] float64."""
    ac = _check_alphas_cumprod(alphas_cumprod)
    return np.sqrt(ac) * data.mean, ac * data.var + (1.0 - ac)


def frame_moments(samples: Any) -> tuple[np.ndarray, np.ndarray]:
    """Sample mean and std (Bessel-corrected) of every frame of [frames, n]: float64 [frames]."""
    x = samples if isinstance(samples, torch.Tensor) else torch.as_tensor(np.asarray(samples))
    if x.ndim != 2 or x.shape[1] < 2:
        raise ValueError(f"samples must be [frames, n] with n >= 2, got {tuple(x.shape)}")
    if x.device.type == "cpu":
        # numpy's single-threaded reductions beat torch's on a small, busy CPU
        array = x.numpy()
        mean = array.mean(axis=1, dtype=np.float64)
        return mean, array.std(axis=1, dtype=np.float64, ddof=1)
    var, mean = torch.var_mean(x.double(), dim=1, correction=1)
    return mean.cpu().numpy(), var.sqrt().cpu().numpy()


def ks_2samp_frames(a: Any, b: Any, block_elements: int = 1 << 23) -> np.ndarray:
    """Two-sample Kolmogorov–Smirnov statistic D = sup_x |F_a(x) - F_b(x)| of every frame.

    a: [frames, n], b: [frames, m] (float, torch or numpy). Exact (the value of
    scipy.stats.ks_2samp): each row is sorted, then the two sorted rows are merged by a stable
    sort of integer keys (the float's order-preserving bits · 2 + which sample), which is a
    linear merge; with c_b the running count of b and c_a = position - c_b, D = max
    |c_a·m - c_b·n| / (n·m) over the last position of each run of equal values. CUDA tensors
    are done with torch on the GPU; everything else with numpy sorts (torch's CPU sort is
    several times slower). ``block_elements`` bounds the int64 temporaries.
    """
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.device.type == "cuda":
        return _ks_torch(a, b.to(a.device))
    a = a.cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
    b = b.cpu().numpy() if isinstance(b, torch.Tensor) else np.asarray(b)
    return _ks_numpy(a, b, block_elements)


def _check_ks(shape_a: tuple[int, ...], shape_b: tuple[int, ...]) -> None:
    if len(shape_a) != 2 or len(shape_b) != 2 or shape_a[0] != shape_b[0]:
        raise ValueError(f"need [frames, n] and [frames, m] samples, got {shape_a} and {shape_b}")
    if min(shape_a[0], shape_a[1], shape_b[1]) == 0:
        raise ValueError("every frame needs at least one sample in each set")


def _ordered_bits(x: np.ndarray) -> np.ndarray:
    """float32 → int32 keys with the same order (sign-magnitude → two's complement).

    Negative floats v map to -(bits & 0x7FFFFFFF), computed branch-free as (b ^ m) - m with
    m = -1 for negative b; -0.0 and +0.0 both give 0, as they compare equal.
    """
    bits = x.view(np.int32)
    mask = bits >> 31
    return ((bits & 0x7FFFFFFF) ^ mask) - mask


def _ks_numpy(a: np.ndarray, b: np.ndarray, block_elements: int) -> np.ndarray:
    _check_ks(a.shape, b.shape)
    frames, n = a.shape
    m = b.shape[1]
    # float32 on purpose: the samples are float32, and numpy's SIMD sort is fastest there
    sa = np.sort(a.astype(np.float32, copy=False), axis=1)
    sb = np.sort(b.astype(np.float32, copy=False), axis=1)
    # sorting puts NaN last and -inf first: checking the ends checks every sample
    for s in (sa, sb):
        if not (np.all(np.isfinite(s[:, 0])) and np.all(np.isfinite(s[:, -1]))):
            raise ValueError("the samples must be finite")
    out = np.empty(frames, dtype=np.float64)
    rows = max(1, block_elements // (n + m))
    # c_a·m - c_b·n with c_a = position - c_b, as position·m - c_b·(n + m)
    position = np.arange(1, n + m + 1, dtype=np.int64) * m
    # two buffers reused for every block: fresh pages cost more than the arithmetic here
    key_buffer = np.empty((min(rows, frames), n + m), dtype=np.int64)
    diff_buffer = np.empty_like(key_buffer)
    for start in range(0, frames, rows):
        block = slice(start, start + rows)
        keys = key_buffer[: sa[block].shape[0]]
        diff = diff_buffer[: keys.shape[0]]
        keys[:, :n] = _ordered_bits(sa[block])
        keys[:, n:] = _ordered_bits(sb[block])
        keys <<= 1
        keys[:, n:] |= 1
        keys.sort(axis=1, kind="stable")  # timsort: two sorted runs → one linear merge
        np.bitwise_and(keys, 1, out=diff)
        np.cumsum(diff, axis=1, out=diff)
        diff *= -(n + m)
        diff += position
        np.abs(diff, out=diff)
        keys >>= 1
        # only the last of a run of equal values is a point of the ECDFs
        np.copyto(diff[:, :-1], 0, where=keys[:, 1:] == keys[:, :-1])
        out[block] = diff.max(axis=1) / (n * m)
    return out


def _ks_torch(a: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    _check_ks(tuple(a.shape), tuple(b.shape))
    if not (bool(torch.isfinite(a).all()) and bool(torch.isfinite(b).all())):
        raise ValueError("the samples must be finite")
    n, m = a.shape[1], b.shape[1]

    def keys(x: torch.Tensor, label: int) -> torch.Tensor:
        bits = torch.sort(x.float(), dim=1).values.add_(0.0).view(torch.int32).long()
        bits = torch.where(bits < 0, -(bits & 0x7FFFFFFF), bits)
        return (bits << 1) | label

    merged = torch.sort(torch.cat([keys(a, 0), keys(b, 1)], dim=1), dim=1, stable=True).values
    count_b = torch.cumsum(merged & 1, dim=1)
    position = torch.arange(1, n + m + 1, device=a.device)
    diff = ((position - count_b) * m - count_b * n).abs()
    value = merged >> 1
    diff[:, :-1].masked_fill_(value[:, 1:] == value[:, :-1], 0)
    return (diff.amax(dim=1).double() / (n * m)).cpu().numpy()


def ks_critical(n: int, m: int, alpha: float = 0.001) -> float:
    """Asymptotic critical value c(α)·√((n+m)/(n·m)), c(α) = √(-ln(α/2)/2), of the KS test."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    return math.sqrt(-0.5 * math.log(alpha / 2.0)) * math.sqrt((n + m) / (n * m))


def kl_to_standard_normal(
    data: DataDistribution, alphas_cumprod: Any, cells: int = 8192, nodes: int = 64
) -> np.ndarray:
    """KL(q(x_t) ‖ N(0, 1)) = ∫ q log(q/φ) dx for every ᾱ_t: [frames] float64, in nats.

    Numeric integration of the exact density: Gaussian mixtures by Gauss–Hermite quadrature
    with ``nodes`` nodes under each component (log q by log-sum-exp, so no underflow); other
    data by the trapezoid rule on ``cells`` points spanning the axis range widened by 25% per
    side, of the closed form where the data has one, else of the fine FFT grid of
    :func:`q_density` (q = 0 contributes 0).
    """
    ac = _check_alphas_cumprod(alphas_cumprod)
    if isinstance(data, GaussianMixture):
        w, m, s = data._arrays()  # type: ignore[attr-defined]
        z, g = np.polynomial.hermite_e.hermegauss(nodes)
        g = g / g.sum()
        mean = np.sqrt(ac)[:, None] * m[None, :]  # [F, K]
        std = np.sqrt(ac[:, None] * s[None, :] ** 2 + (1.0 - ac[:, None]))
        x = mean[:, :, None] + std[:, :, None] * z  # [F, K, I]
        log_pdf = (
            -0.5 * ((x[..., None] - mean[:, None, None, :]) / std[:, None, None, :]) ** 2
            - np.log(std[:, None, None, :])
            + np.log(np.where(w > 0, w, 1.0))[None, None, None, :]
        )
        log_pdf = np.where(w[None, None, None, :] > 0, log_pdf, -np.inf)
        peak = log_pdf.max(axis=-1, keepdims=True)
        log_q = (peak + np.log(np.exp(log_pdf - peak).sum(axis=-1, keepdims=True)))[..., 0]
        integrand = log_q + 0.5 * x**2  # log q - log φ; the ½ log 2π cancel
        return np.maximum(np.einsum("k,fki,i->f", w, integrand, g), 0.0)
    low, high = _fine_range(np.array(axis_range(data, ac)))
    if is_analytic(data):
        start, h = _cells(low, high, cells)
        centres = start + h * (np.arange(cells) + 0.5)
        q = analytic_density(data, ac, centres)  # type: ignore[arg-type]
    else:
        fine = _numeric_fine(data, ac, low, high, cells)
        centres, h, q = fine.centres, fine.step, fine.density
    log_phi = -0.5 * centres**2 - 0.5 * math.log(2.0 * math.pi)
    with np.errstate(divide="ignore", invalid="ignore"):
        integrand = np.where(q > 0, q * (np.log(np.where(q > 0, q, 1.0)) - log_phi), 0.0)
    return np.maximum(np.trapezoid(integrand, dx=h, axis=1), 0.0)


# -- everything the page needs ----------------------------------------------------------------


@dataclass(frozen=True)
class HistogramFrames:
    """All frames of the animation, as numpy arrays ready to plot.

    ``hist_closed`` / ``hist_chain``: float32 densities [frames, bins] on ``edges``;
    ``density``: float32 q(x_t) [frames, len(grid)] on ``grid`` (:func:`density_grid`); the
    statistics are float64 [frames].
    ``n_closed`` / ``n_chain``: x0 draws of the closed form / trajectories of the chain; a
    sampler that was not run has count 0 and None arrays. ``ks`` and ``ks_critical`` (for
    n_chain samples of each) are None unless both ran.
    """

    timesteps: np.ndarray
    alphas_cumprod: np.ndarray
    edges: np.ndarray
    grid: np.ndarray
    hist_closed: np.ndarray | None
    hist_chain: np.ndarray | None
    density: np.ndarray
    analytic: bool
    mean_closed: np.ndarray | None
    std_closed: np.ndarray | None
    mean_chain: np.ndarray | None
    std_chain: np.ndarray | None
    mean_theory: np.ndarray
    std_theory: np.ndarray
    ks: np.ndarray | None
    ks_critical: float | None
    kl: np.ndarray
    n_closed: int
    n_chain: int

    def browser_bytes(self) -> int:
        """Bytes of the arrays a page sends to the browser (histograms and density curves)."""
        arrays = (self.hist_closed, self.hist_chain, self.density)
        return sum(int(a.nbytes) for a in arrays if a is not None)


def histogram_frames(
    fd: ForwardDiffusion,
    data: DataDistribution,
    n: int = 100_000,
    *,
    n_frames: int = 60,
    extra_timesteps: Sequence[int] = (),
    n_bins: int = 80,
    n_grid: int = 400,
    seed: int = 0,
    samplers: Samplers = "both",
    chain_n: int | None = None,
    chunk_values: int | None = None,
    workers: int = 1,
) -> HistogramFrames:
    """Sample the chosen samplers, histogram them and compute q(x_t) and the statistics per frame.

    The frames are :func:`frame_timesteps` (``n_frames`` of them) and ``extra_timesteps``
    (e.g. the evenly spaced t of a figure of snapshots), in order, each once.

    ``samplers``: "both", "closed" (the closed form, n draws of x0) or "chain" (the Markov
    chain, ``chain_n`` trajectories: n when None, at most n, as each costs T noise draws).
    The closed form and the chain get independent x0 draws (streams of ``seed``); with both,
    the KS statistic of the first chain_n closed-form samples of every frame against the chain
    is a genuine two-sample test of the marginals at every frame.

    ``chunk_values`` bounds the memory of the closed form: its frames are sampled in chunks of
    at most that many values (at least one frame), each with its own generator seeded in order
    from the seed's "closed" stream; None samples all frames at once from that stream.
    ``workers`` threads run the chunks, the chain and the KS side by side (their time is spent
    mostly outside the GIL); the result does not depend on ``workers``.
    """
    n = check_sample_count(n)
    if samplers not in SAMPLERS:
        raise ValueError(f"unknown samplers {samplers!r}; valid: {sorted(SAMPLERS)}")
    m = n if chain_n is None else _check_int("chain_n", chain_n, MIN_SAMPLES, n)
    if chunk_values is not None:
        _check_int("chunk_values", chunk_values, 1)
    workers = _check_int("workers", workers, 1)
    n_grid = _check_int("n_grid", n_grid, 2)
    ts = frame_timesteps(fd.alphas_cumprod, n_frames)
    extra = np.asarray(extra_timesteps).reshape(-1)
    if extra.size and (
        extra.dtype.kind not in "iu" or extra.min() < 0 or extra.max() >= fd.timesteps
    ):
        raise ValueError(f"extra timesteps must be integers in 0..{fd.timesteps - 1}")
    ts = np.union1d(ts, extra.astype(np.int64))
    ac = np.asarray(fd.alphas_cumprod, dtype=np.float64)[ts]
    low, high = axis_range(data, fd.alphas_cumprod)
    bins = (low, high, n_bins)
    closed = chain = (None, None, None)
    ks = None
    with ThreadPoolExecutor(max_workers=workers) as pool:
        chain_job = (
            pool.submit(_chain, fd, data, m, ts, bins, seed) if samplers != "closed" else None
        )
        if samplers != "chain":
            keep = m if samplers == "both" else 0
            closed, kept = _closed_form(pool, fd, data, n, ts, bins, seed, chunk_values, keep)
        if chain_job is not None:
            chain, chain_t = chain_job.result()
        if samplers == "both":
            step = -(-len(ts) // workers)
            parts = [
                pool.submit(ks_2samp_frames, kept[i : i + step], chain_t[i : i + step])
                for i in range(0, len(ts), step)
            ]
            ks = np.concatenate([part.result() for part in parts])
    grid = density_grid(data, ac, low, high, n_grid)
    mean_theory, var_theory = theoretical_moments(data, ac)
    return HistogramFrames(
        timesteps=ts,
        alphas_cumprod=ac,
        edges=np.linspace(low, high, n_bins + 1),
        grid=grid,
        hist_closed=closed[0],
        hist_chain=chain[0],
        density=q_density(data, ac, grid).astype(np.float32),
        analytic=is_analytic(data),
        mean_closed=closed[1],
        std_closed=closed[2],
        mean_chain=chain[1],
        std_chain=chain[2],
        mean_theory=mean_theory,
        std_theory=np.sqrt(var_theory),
        ks=ks,
        ks_critical=ks_critical(m, m) if samplers == "both" else None,
        kl=kl_to_standard_normal(data, ac),
        n_closed=0 if samplers == "chain" else n,
        n_chain=0 if samplers == "closed" else m,
    )


Bins = tuple[float, float, int]
Summary = tuple[np.ndarray, np.ndarray, np.ndarray]


def _summary(x_t: torch.Tensor, bins: Bins) -> Summary:
    """Histogram densities [frames, bins], sample mean and std [frames] of every frame."""
    return (frame_histograms(x_t, *bins, density=True), *frame_moments(x_t))


def _chain(
    fd: ForwardDiffusion, data: DataDistribution, m: int, ts: np.ndarray, bins: Bins, seed: int
) -> tuple[Summary, torch.Tensor]:
    """The chain's summary and its frames, from m draws of the seed's "data_chain" stream."""
    x0 = data.sample(m, make_generator(seed, fd.device, "data_chain"))
    x_t = chain_frames(fd, x0, ts, seed)
    return _summary(x_t, bins), x_t


def _closed_chunk(
    fd: ForwardDiffusion, x0: torch.Tensor, ts: np.ndarray, bins: Bins, seed: Seed, keep: int
) -> tuple[Summary, torch.Tensor]:
    """The closed form's summary of frames ``ts`` and their first ``keep`` samples."""
    x_t = closed_form_frames(fd, x0, ts, seed)
    kept = x_t if keep == x_t.shape[1] else x_t[:, :keep].clone()
    return _summary(x_t, bins), kept


def _closed_form(
    pool: Executor, fd: ForwardDiffusion, data: DataDistribution, n: int, ts: np.ndarray,
    bins: Bins, seed: int, chunk_values: int | None, keep: int,
) -> tuple[Summary, torch.Tensor]:  # fmt: skip
    """All closed-form frames in chunks on ``pool`` (see :func:`histogram_frames`): the summary
    and the first ``keep`` samples of every frame."""
    x0 = data.sample(n, make_generator(seed, fd.device, "data_closed"))
    rows = len(ts) if chunk_values is None else max(1, chunk_values // n)
    seeds: list[Seed] = [seed]
    if chunk_values is not None:
        base = make_generator(seed, fd.device, "closed")
        count = -(-len(ts) // rows)
        chunk_seeds = torch.randint(0, 2**62, (count,), generator=base, device=fd.device)
        seeds = [torch.Generator(device=fd.device).manual_seed(s) for s in chunk_seeds.tolist()]
    jobs = [
        pool.submit(_closed_chunk, fd, x0, ts[k * rows : (k + 1) * rows], bins, s, keep)
        for k, s in enumerate(seeds)
    ]
    summaries, kept = zip(*(job.result() for job in jobs), strict=True)
    heights, means, stds = (np.concatenate(column) for column in zip(*summaries, strict=True))
    return (heights, means, stds), (torch.cat(kept) if len(kept) > 1 else kept[0])


__all__ = [
    "DATA",
    "DataDistribution",
    "Exponential",
    "GaussianMixture",
    "HistogramFrames",
    "SAMPLERS",
    "AnalyticData",
    "Uniform",
    "analytic_density",
    "axis_range",
    "bimodal",
    "chain_frames",
    "check_sample_count",
    "closed_form_frames",
    "data_distribution",
    "data_params",
    "frame_histograms",
    "frame_moments",
    "frame_timesteps",
    "gaussian",
    "histogram_frames",
    "is_analytic",
    "kl_to_standard_normal",
    "ks_2samp_frames",
    "ks_critical",
    "make_generator",
    "mixture",
    "q_density",
    "sample_data",
    "theoretical_moments",
]
