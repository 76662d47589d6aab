"""The payload of the browser-side scrubber, and Python mirrors of the math it runs per frame.

The image-noising page sends x0 and ε to the browser ONCE; the page's JavaScript
(``pages/scrubber/scrubber.html``) then computes every frame itself, so dragging the timestep
slider needs no server round trip. This module builds that payload and holds exact numpy/torch
mirrors of the JavaScript formulas, so the tests can check them against :mod:`core.diffusion`.

Index convention (as in :mod:`core.diffusion`): timestep index t = 0..T-1 is the state after
steps 0..t, ᾱ_t = Π_{s=0..t} (1 - β_s); the clean image x0 is shown separately.

Closed form (DDPM eq. 4):  x_t = √ᾱ_t·x0 + √(1-ᾱ_t)·ε.

Markov-chain path (fresh noise every step, same marginals). The chain state at t moves to t':

* forward, t' > t: the composition of steps t+1..t' is one Gaussian step,
  x_t' | x_t ~ N(√r·x_t, (1 - r)·I) with r = ᾱ_t'/ᾱ_t;
* backward, t' < t: the posterior q(x_t' | x_t, x0) = N(μ, σ²·I) with r = ᾱ_t/ᾱ_t',
  μ = [√ᾱ_t'·(1 - r)·x0 + √r·(1 - ᾱ_t')·x_t] / (1 - ᾱ_t),
  σ² = (1 - ᾱ_t')·(1 - r) / (1 - ᾱ_t),
  DDPM eqs. 6-7 generalised to several steps (for t' = t-1 it is exactly μ̃_t and β̃_t).

Both moves keep x_t ~ q(x_t | x0) for every visited t, whatever the order of visits. The ratio
r of two ᾱ is taken as the product of the α_s between them (:func:`step_ratio`): ᾱ underflows
to 0 in long schedules with large β (T = 2000, β up to 0.999), where the quotient is 0/0.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any, Final

import numpy as np
import torch

#: ε is sent as int16 with this many steps per unit: error ≤ 1/8192 after rounding.
NOISE_SCALE: Final = 4096
#: |ε| beyond this is clipped before quantising (P(|ε| > 7.99) ≈ 1e-15 per value).
NOISE_CLIP: Final = 7.99
PAYLOAD_VERSION: Final = 2
#: Noisy panels of the strip; with x0 in front, the classic 10-panel slide figure.
STRIP_COUNT: Final = 9
#: Frames of the downloadable animation (the clean frame comes in front).
ANIMATION_FRAMES: Final = 80


def quantize_noise(noise: np.ndarray) -> np.ndarray:
    """ε → int16 round(clip(ε, ±7.99)·4096), the wire format of the noise."""
    eps = np.asarray(noise, dtype=np.float64)
    if not np.isfinite(eps).all():
        raise ValueError("noise contains NaN or infinity")
    return np.rint(np.clip(eps, -NOISE_CLIP, NOISE_CLIP) * NOISE_SCALE).astype(np.int16)


def dequantize_noise(quantized: np.ndarray) -> np.ndarray:
    """int16 wire noise → float32 ε (exactly what the browser computes: q / 4096)."""
    return np.asarray(quantized, dtype=np.int16).astype(np.float32) / np.float32(NOISE_SCALE)


def make_noise(shape: tuple[int, ...], seed: int, device: torch.device | str = "cpu") -> np.ndarray:
    """Standard normal ε of ``shape`` from ``seed`` (drawn on ``device``), as the browser sees it.

    The noise is quantised and dequantised here, so that the server's pictures (strip, downloads,
    comparisons) use bit for bit the ε the browser renders with.
    """
    generator = torch.Generator(device=device).manual_seed(int(seed))
    eps = torch.randn(shape, generator=generator, device=device, dtype=torch.float32)
    return dequantize_noise(quantize_noise(eps.cpu().numpy()))


def build_payload(
    *,
    x0_png: bytes,
    width: int,
    height: int,
    noise: np.ndarray,
    alphas_cumprod: np.ndarray,
    alphas: np.ndarray,
    seed: int,
    key: str = "",
) -> dict[str, Any]:
    """Everything the browser needs to render any x_t, as a JSON-ready dict.

    Args:
        x0_png: the clean image as PNG bytes (lossless, so the browser decodes x0 exactly).
        width, height: its size in pixels.
        noise: ε of shape (height, width, 3), float (quantised here) or int16 (already).
        alphas_cumprod: ᾱ_t for t = 0..T-1 (float64; JSON keeps every bit, and √ᾱ_t,
            √(1-ᾱ_t) and ᾱ_t/(1-ᾱ_t) computed from it in JavaScript are correctly rounded IEEE
            operations, identical to numpy's).
        alphas: α_t = 1 - β_t for t = 0..T-1 (float64), for the chain's ratios of ᾱ.
        seed: seeds the browser's PRNG for the Markov-chain path.
        key: names the picture (e.g. the start of its sha256); the browser reports it back in
            ``window.__scrubStats.key``, so a test can tell one document from the next.
    """
    noise = np.asarray(noise)
    if noise.shape != (height, width, 3):
        raise ValueError(f"noise shape {noise.shape} != ({height}, {width}, 3)")
    quantized = noise if noise.dtype == np.int16 else quantize_noise(noise)
    ab = np.asarray(alphas_cumprod, dtype=np.float64)
    if ab.ndim != 1 or ab.size < 1 or not np.all((ab >= 0) & (ab < 1)):
        raise ValueError("alphas_cumprod must be 1-D with values in [0, 1)")
    alphas = np.asarray(alphas, dtype=np.float64)
    if alphas.shape != ab.shape or not np.all((alphas >= 0) & (alphas < 1)):
        raise ValueError("alphas must be like alphas_cumprod, with values in [0, 1)")
    # Little-endian int16, the byte order of every browser's typed arrays.
    raw = np.ascontiguousarray(quantized, dtype="<i2").tobytes()
    return {
        "version": PAYLOAD_VERSION,
        "width": int(width),
        "height": int(height),
        "x0": "data:image/png;base64," + base64.b64encode(x0_png).decode("ascii"),
        "eps": base64.b64encode(raw).decode("ascii"),
        "eps_scale": NOISE_SCALE,
        "alphas_cumprod": [float(value) for value in ab],
        "alphas": [float(value) for value in alphas],
        "T": int(ab.size),
        "seed": int(seed) & 0xFFFFFFFF,
        "key": str(key),
    }


def decode_payload(payload: dict[str, Any]) -> tuple[bytes, np.ndarray, np.ndarray]:
    """(x0 PNG bytes, ε float32 (H, W, 3), ᾱ float64) back from a payload, as the browser does."""
    prefix = "data:image/png;base64,"
    if not payload["x0"].startswith(prefix):
        raise ValueError("x0 is not a PNG data URL")
    png = base64.b64decode(payload["x0"][len(prefix) :])
    raw = np.frombuffer(base64.b64decode(payload["eps"]), dtype="<i2")
    eps = dequantize_noise(raw.reshape(payload["height"], payload["width"], 3))
    return png, eps, np.array(payload["alphas_cumprod"], dtype=np.float64)


def to_script_json(value: Any) -> str:
    """JSON that is safe inside an HTML ``<script>`` element (no ``</script>``, no NaN)."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def fill_template(template: str, **parts: str) -> str:
    """``template`` with each ``/*@NAME@*/null`` marker replaced by ``parts[name]``.

    Every marker must be filled exactly once, so a renamed marker cannot ship silently.
    """
    out = template
    for name, text in parts.items():
        marker = f"/*@{name.upper()}@*/null"
        if out.count(marker) != 1:
            raise ValueError(f"template must contain {marker!r} exactly once")
        out = out.replace(marker, text)
    if "/*@" in out:
        raise ValueError("template has an unfilled marker")
    return out


# -- mirrors of the per-frame JavaScript ------------------------------------------------------


def display_frame(
    x0: np.ndarray, noise: np.ndarray, sqrt_ab: float, sqrt_one_minus_ab: float
) -> tuple[np.ndarray, float]:
    """The closed-form frame as the browser computes it: (uint8 pixels, clipped fraction).

    x_t = √ᾱ_t·x0 + √(1-ᾱ_t)·ε in float64 from float32 inputs; pixel = round-half-even of
    clip((x_t + 1)·127.5, 0, 255) (Uint8ClampedArray semantics, as numpy's rint).
    """
    x_t = sqrt_ab * np.asarray(x0, np.float64) + sqrt_one_minus_ab * np.asarray(noise, np.float64)
    return to_pixels(x_t), clipped_share(x_t)


def to_pixels(x: np.ndarray) -> np.ndarray:
    """uint8 round-half-even of clip((x + 1)·127.5, 0, 255)."""
    return np.rint(np.clip((np.asarray(x, np.float64) + 1.0) * 127.5, 0.0, 255.0)).astype(np.uint8)


def tensor_pixels(x: torch.Tensor) -> np.ndarray:
    """:func:`to_pixels` for a tensor, computed where it lives (float64, so equal to numpy's)."""
    scaled = (x.to(torch.float64).clamp_(-1.0, 1.0).add_(1.0).mul_(127.5)).round_()
    return scaled.to(torch.uint8).cpu().numpy()


def clipped_share(x: np.ndarray) -> float:
    """Fraction of values outside [-1, 1] (the ones the display clips)."""
    x = np.asarray(x)
    return float(np.count_nonzero((x < -1.0) | (x > 1.0)) / max(1, x.size))


def psnr(shown: np.ndarray, reference: np.ndarray) -> float:
    """PSNR in dB of 8-bit ``shown`` against ``reference`` (inf when identical)."""
    diff = np.asarray(shown, np.float64) - np.asarray(reference, np.float64)
    mse = float(np.mean(diff * diff))
    return math.inf if mse == 0 else 10.0 * math.log10(255.0**2 / mse)


def snr(alpha_bar: float) -> float:
    """SNR(t) = ᾱ_t / (1 - ᾱ_t); inf when ᾱ_t = 1, 0 when ᾱ_t = 0."""
    return math.inf if alpha_bar >= 1.0 else alpha_bar / (1.0 - alpha_bar)


def step_ratio(alphas: np.ndarray, t: int, t_new: int) -> float:
    """ᾱ_t'/ᾱ_t = Π_{s=t+1..t'} α_s for t < t', multiplied in that order (as the browser does).

    The product stays exact where ᾱ itself has underflowed to 0 and the quotient is 0/0.
    """
    if not t_new > t:
        raise ValueError("a ratio of ᾱ needs t_new > t")
    ratio = 1.0
    for s in range(t + 1, t_new + 1):
        ratio *= float(alphas[s])
    return ratio


def forward_coefficients(alphas: np.ndarray, t: int, t_new: int) -> tuple[float, float]:
    """(scale, variance) of x_t' | x_t for t' > t: (√r, 1 - r) with r = ᾱ_t'/ᾱ_t."""
    if not t_new > t:
        raise ValueError("a forward move needs t_new > t")
    ratio = step_ratio(alphas, t, t_new)
    return math.sqrt(ratio), 1.0 - ratio


def posterior_coefficients(
    alphas_cumprod: np.ndarray, alphas: np.ndarray, t: int, t_new: int
) -> tuple[float, float, float]:
    """(c_x0, c_xt, σ²) of q(x_t' | x_t, x0) = N(c_x0·x0 + c_xt·x_t, σ²) for t' < t.

    With r = ᾱ_t/ᾱ_t': c_x0 = √ᾱ_t'·(1-r)/(1-ᾱ_t), c_xt = √r·(1-ᾱ_t')/(1-ᾱ_t),
    σ² = (1-ᾱ_t')·(1-r)/(1-ᾱ_t).
    """
    if not t_new < t:
        raise ValueError("a backward move needs t_new < t")
    ab_t, ab_new = float(alphas_cumprod[t]), float(alphas_cumprod[t_new])
    ratio = step_ratio(alphas, t_new, t)
    denom = 1.0 - ab_t
    c_x0 = math.sqrt(ab_new) * (1.0 - ratio) / denom
    c_xt = math.sqrt(ratio) * (1.0 - ab_new) / denom
    var = (1.0 - ab_new) * (1.0 - ratio) / denom
    return c_x0, c_xt, max(var, 0.0)


def chain_move(
    x_t: np.ndarray,
    x0: np.ndarray,
    alphas_cumprod: np.ndarray,
    alphas: np.ndarray,
    t: int,
    t_new: int,
    z: np.ndarray,
) -> np.ndarray:
    """Move the chain state from t to t' with standard normals ``z`` (the browser's step)."""
    if t_new == t:
        return np.array(x_t, copy=True)
    if t_new > t:
        scale, var = forward_coefficients(alphas, t, t_new)
        return scale * x_t + math.sqrt(var) * z
    c_x0, c_xt, var = posterior_coefficients(alphas_cumprod, alphas, t, t_new)
    return c_x0 * x0 + c_xt * x_t + math.sqrt(var) * z


def pool_draw(pool: np.ndarray, offset: int, sign: int, n: int) -> np.ndarray:
    """The browser's normals for one move: ``sign · pool[(offset + i) mod len(pool)]``, i < n.

    The pool (a power of two ≥ n long, drawn once) is read at a fresh random offset per move, so
    each pixel gets an independent N(0, 1) entry at every move.
    """
    size = pool.shape[0]
    if size & (size - 1) or size < n:
        raise ValueError("the pool length must be a power of two and at least n")
    return sign * pool[(offset + np.arange(n)) & (size - 1)]


def chain_path(
    x0: torch.Tensor,
    noise: torch.Tensor,
    timesteps: list[int],
    alphas_cumprod: np.ndarray,
    alphas: np.ndarray,
    generator: torch.Generator,
) -> torch.Tensor:
    """States of one Markov-chain path at increasing ``timesteps``, stacked [len, *x0.shape].

    The first state is the closed form with ``noise``; each later one is a forward move with
    fresh noise from ``generator``. Jointly distributed exactly as the step-by-step chain.
    """
    if not timesteps or any(b <= a for a, b in zip(timesteps, timesteps[1:], strict=False)):
        raise ValueError("timesteps must be non-empty and strictly increasing")
    ab = np.asarray(alphas_cumprod, dtype=np.float64)
    out = torch.empty((len(timesteps), *x0.shape), dtype=x0.dtype, device=x0.device)
    first = timesteps[0]
    state = math.sqrt(ab[first]) * x0 + math.sqrt(1.0 - ab[first]) * noise
    out[0] = state
    for i, (t, t_new) in enumerate(zip(timesteps, timesteps[1:], strict=False), start=1):
        scale, var = forward_coefficients(alphas, t, t_new)
        z = torch.randn(x0.shape, generator=generator, dtype=x0.dtype, device=x0.device)
        state = scale * state + math.sqrt(var) * z
        out[i] = state
    return out


def evenly_spaced(timesteps: int, count: int) -> list[int]:
    """``count`` distinct timestep indices from 0 to T-1, evenly spaced (fewer if T < count)."""
    values = np.rint(np.linspace(0, timesteps - 1, min(count, timesteps))).astype(int)
    return sorted({int(v) for v in values})


__all__ = [
    "ANIMATION_FRAMES",
    "NOISE_CLIP",
    "NOISE_SCALE",
    "STRIP_COUNT",
    "build_payload",
    "chain_move",
    "chain_path",
    "clipped_share",
    "decode_payload",
    "dequantize_noise",
    "display_frame",
    "evenly_spaced",
    "fill_template",
    "forward_coefficients",
    "make_noise",
    "pool_draw",
    "posterior_coefficients",
    "psnr",
    "quantize_noise",
    "snr",
    "step_ratio",
    "tensor_pixels",
    "to_pixels",
    "to_script_json",
]
