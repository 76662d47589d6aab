"""Noise schedules β_1..β_T for the forward process q(x_t | x_{t-1}) = N(√(1-β_t)·x_{t-1}, β_t·I).

Every schedule is a function ``(timesteps, **params) -> np.ndarray`` of float64 betas, shape (T,),
collected in the registry :data:`SCHEDULES`. Schedules are computed in float64 because the
cumulative product ᾱ_t = Π(1-β_s) loses its last digits in float32 near t = T.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

ScheduleName = Literal["linear", "cosine", "quadratic", "scaled_linear", "sigmoid"]

MIN_TIMESTEPS = 2
MAX_TIMESTEPS = 100_000


def linear_beta_schedule(
    timesteps: int, beta_start: float = 1e-4, beta_end: float = 0.02
) -> np.ndarray:
    """Evenly spaced betas from ``beta_start`` to ``beta_end`` (Ho et al. 2020, DDPM, §4)."""
    return np.linspace(beta_start, beta_end, timesteps, dtype=np.float64)


def cosine_beta_schedule(
    timesteps: int, s: float = 0.008, min_beta: float = 1e-4, max_beta: float = 0.9999
) -> np.ndarray:
    """Cosine schedule (Nichol & Dhariwal 2021, Improved DDPM, eq. 17).

    ᾱ(t) = f(t)/f(0) with f(t) = cos²(((t/T) + s)/(1 + s) · π/2), β_t = 1 - ᾱ_t/ᾱ_{t-1},
    clipped to [min_beta, max_beta]. ``s`` is the small offset that keeps β_1 from being tiny.
    The defaults are the tutorial's clipping: the paper clips only above, at 0.999; the lower
    clip at 1e-4 raises the first 13 betas at T = 1000.
    """
    t = np.linspace(0.0, timesteps, timesteps + 1, dtype=np.float64)
    f = np.cos(((t / timesteps) + s) / (1.0 + s) * math.pi / 2.0) ** 2
    alphas_cumprod = f / f[0]
    betas = 1.0 - alphas_cumprod[1:] / alphas_cumprod[:-1]
    return np.clip(betas, min_beta, max_beta)


def quadratic_beta_schedule(
    timesteps: int, beta_start: float = 1e-4, beta_end: float = 0.02
) -> np.ndarray:
    """Betas evenly spaced in √β, then squared (the "scaled linear" form of Rombach et al. 2022)."""
    return np.linspace(beta_start**0.5, beta_end**0.5, timesteps, dtype=np.float64) ** 2


def scaled_linear_beta_schedule(
    timesteps: int, beta_start: float = 0.00085, beta_end: float = 0.012
) -> np.ndarray:
    """The quadratic form with Stable Diffusion's endpoints (Rombach et al. 2022, LDM)."""
    return quadratic_beta_schedule(timesteps, beta_start, beta_end)


def sigmoid_beta_schedule(
    timesteps: int, beta_start: float = 1e-4, beta_end: float = 0.02
) -> np.ndarray:
    """Sigmoid of T evenly spaced points on [-6, 6], scaled to [beta_start, beta_end].

    From GeoDiff (Xu et al. 2022); the form diffusers calls ``sigmoid``.
    """
    x = np.linspace(-6.0, 6.0, timesteps, dtype=np.float64)
    return 1.0 / (1.0 + np.exp(-x)) * (beta_end - beta_start) + beta_start


SCHEDULES: dict[str, Callable[..., np.ndarray]] = {
    "linear": linear_beta_schedule,
    "cosine": cosine_beta_schedule,
    "quadratic": quadratic_beta_schedule,
    "scaled_linear": scaled_linear_beta_schedule,
    "sigmoid": sigmoid_beta_schedule,
}


def schedule_params(name: str) -> dict[str, float]:
    """The parameters of schedule ``name`` with their defaults, e.g. {'beta_start': 1e-4, ...}."""
    _check_name(name)
    signature = inspect.signature(SCHEDULES[name])
    return {
        key: param.default
        for key, param in signature.parameters.items()
        if param.default is not inspect.Parameter.empty
    }


def beta_schedule(name: str, timesteps: int, **params: Any) -> np.ndarray:
    """Betas of the registered schedule ``name`` for ``timesteps`` steps: float64, shape (T,).

    Raises ``ValueError`` for an unknown name, an unknown parameter, a non-finite parameter or
    betas outside (0, 1]; the message names the valid choices.
    """
    _check_name(name)
    timesteps = _check_timesteps(timesteps)
    valid = schedule_params(name)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {unknown} for schedule {name!r}; valid: {sorted(valid)}"
        )
    for key, value in params.items():
        if isinstance(value, bool) or not isinstance(value, int | float | np.floating):
            raise ValueError(f"parameter {key!r} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"parameter {key!r} must be finite, got {value!r}")
    if "s" in params and params["s"] < 0:
        raise ValueError(f"parameter 's' must be >= 0, got {params['s']!r}")
    merged = {**valid, **params}
    if "min_beta" in merged and not 0 < merged["min_beta"] <= merged["max_beta"] <= 1:
        raise ValueError(
            "need 0 < min_beta <= max_beta <= 1, got "
            f"min_beta={merged['min_beta']!r}, max_beta={merged['max_beta']!r}"
        )
    for key in ("beta_start", "beta_end"):
        if key in merged and not 0 < merged[key] <= 1:
            raise ValueError(f"parameter {key!r} must be in (0, 1], got {merged[key]!r}")
    return validate_betas(SCHEDULES[name](timesteps, **params))


def validate_betas(betas: Any) -> np.ndarray:
    """Check custom betas and return them as float64 (T,).

    Rules: 1-D, at least 2 steps, finite, 0 < β ≤ 1, and ᾱ_t strictly decreasing (which 0 < β
    implies unless β underflows) until ᾱ_t underflows itself. The message names the first
    offending index.
    """
    try:
        array = np.asarray(betas)
    except (TypeError, ValueError, RuntimeError) as error:  # ragged, or a tensor with grad
        raise ValueError(f"betas must be numbers: {error}") from None
    if array.dtype.kind not in "iuf":  # not bools, strings, objects or complex numbers
        raise ValueError(f"betas must be real numbers, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if array.ndim != 1:
        raise ValueError(f"betas must be 1-D, got shape {array.shape}")
    if array.shape[0] < MIN_TIMESTEPS:
        raise ValueError(f"need at least {MIN_TIMESTEPS} betas, got {array.shape[0]}")
    if array.shape[0] > MAX_TIMESTEPS:
        raise ValueError(f"at most {MAX_TIMESTEPS} betas, got {array.shape[0]}")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise ValueError(f"beta at index {bad[0]} is not finite ({float(array[bad[0]])!r})")
    bad = np.flatnonzero((array <= 0) | (array > 1))
    if bad.size:
        raise ValueError(
            f"beta at index {bad[0]} is {float(array[bad[0]])!r}; each beta must be in (0, 1]"
        )
    # ᾱ_{-1} = 1 is included so that a β_0 too small to move 1 - β_0 away from 1 is caught too:
    # ᾱ_0 = 1 would make 1 - ᾱ_0 = 0 and the posterior at t = 0 NaN. A flat run once ᾱ has
    # underflowed (below the smallest normal float64, where a product with 1 - β can round back
    # to the same subnormal, or at 0 after β = 1) is allowed: SNR is then ~0, never NaN.
    alphas_cumprod = np.cumprod(1.0 - array)
    previous = np.concatenate([[1.0], alphas_cumprod[:-1]])
    normal = previous >= np.finfo(np.float64).tiny
    flat = np.flatnonzero((alphas_cumprod >= previous) & normal)
    if flat.size:
        raise ValueError(
            f"alphas_cumprod does not decrease at index {flat[0]}: "
            f"beta {float(array[flat[0]])!r} is too small to matter in float64"
        )
    return array


def rescale_zero_terminal_snr(betas: np.ndarray) -> np.ndarray:
    """Rescale betas so that the last ᾱ is exactly 0 (zero terminal SNR).

    Lin et al. 2024, "Common Diffusion Noise Schedules and Sample Steps are Flawed", Algorithm 1:
    shift and scale √ᾱ_t so that √ᾱ_T = 0 while √ᾱ_1 is kept, then recover the betas.
    The last beta becomes 1.
    """
    betas = validate_betas(betas)
    sqrt_alphas_cumprod = np.sqrt(np.cumprod(1.0 - betas))
    first, last = sqrt_alphas_cumprod[0], sqrt_alphas_cumprod[-1]
    if last == 0.0:
        # Already zero terminal SNR; the ratios below would be 0/0 on a flat run at ᾱ = 0.
        return betas.copy()
    sqrt_alphas_cumprod = (sqrt_alphas_cumprod - last) * first / (first - last)
    alphas_cumprod = sqrt_alphas_cumprod**2
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = alphas_cumprod[1:] / alphas_cumprod[:-1]
    # √ᾱ may reach its last value (in float64) before the last step: ᾱ is 0 from there on, and
    # stays 0 with β = 1, instead of 0/0
    ratios[alphas_cumprod[:-1] == 0.0] = 0.0
    alphas = np.concatenate([alphas_cumprod[:1], ratios])
    rescaled = 1.0 - alphas
    rescaled[-1] = 1.0  # exactly: ᾱ_T = 0 must not become 1e-33 through rounding
    try:
        return validate_betas(rescaled)
    except ValueError as error:  # betas so small that √ᾱ_1 and √ᾱ_T round to one value
        raise ValueError(f"these betas cannot be rescaled to zero terminal SNR: {error}") from None


def _check_name(name: str) -> None:
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}; valid: {sorted(SCHEDULES)}")


def _check_timesteps(timesteps: Any) -> int:
    if isinstance(timesteps, bool) or not isinstance(timesteps, int | np.integer):
        raise ValueError(f"timesteps must be an integer, got {timesteps!r}")
    if not MIN_TIMESTEPS <= timesteps <= MAX_TIMESTEPS:
        raise ValueError(
            f"timesteps must be between {MIN_TIMESTEPS} and {MAX_TIMESTEPS}, got {timesteps}"
        )
    return int(timesteps)
