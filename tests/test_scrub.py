"""core.scrub: the browser payload round-trips, and the JavaScript formulas' numpy mirrors are right.

The Monte Carlo checks use fixed seeds and tolerances of 5 standard errors for the sample size.
"""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from core import SCHEDULES, ForwardDiffusion, scrub
from core.images import encode_png, from_model, to_model

RNG = np.random.default_rng(1234)


def image(height: int = 24, width: int = 32) -> np.ndarray:
    return RNG.integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_payload_round_trip_is_exact_for_x0_and_within_a_step_for_noise():
    x0 = image()
    eps = np.random.default_rng(0).standard_normal(x0.shape).astype(np.float32)
    eps[0, 0, 0], eps[0, 0, 1] = 9.5, -12.0  # beyond the wire range: clipped at ±7.99
    fd = ForwardDiffusion(200, "cosine")
    payload = scrub.build_payload(
        x0_png=encode_png(x0), width=32, height=24, noise=eps,
        alphas_cumprod=fd.alphas_cumprod, alphas=fd.alphas, seed=7,
    )  # fmt: skip
    payload = json.loads(json.dumps(payload))  # what the browser receives
    png, decoded, ab = scrub.decode_payload(payload)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(png)).convert("RGB")), x0)
    inside = np.abs(eps) <= scrub.NOISE_CLIP
    assert np.max(np.abs(decoded - eps)[inside]) <= 0.5 / scrub.NOISE_SCALE + 1e-7
    assert decoded[0, 0, 0] == pytest.approx(scrub.NOISE_CLIP, abs=1 / scrub.NOISE_SCALE)
    assert decoded[0, 0, 1] == pytest.approx(-scrub.NOISE_CLIP, abs=1 / scrub.NOISE_SCALE)
    np.testing.assert_array_equal(ab, fd.alphas_cumprod)  # every float64 bit survives JSON
    np.testing.assert_array_equal(payload["alphas"], fd.alphas)
    assert (payload["T"], payload["width"], payload["height"], payload["seed"]) == (200, 32, 24, 7)


def test_page_noise_is_already_on_the_wire_grid():
    eps = scrub.make_noise((8, 9, 3), seed=11)
    np.testing.assert_array_equal(scrub.dequantize_noise(scrub.quantize_noise(eps)), eps)
    np.testing.assert_array_equal(eps, scrub.make_noise((8, 9, 3), seed=11))
    assert not np.array_equal(eps, scrub.make_noise((8, 9, 3), seed=12))


def test_quantised_noise_keeps_its_statistics():
    eps = scrub.make_noise((256, 256, 3), seed=0)
    n = eps.size
    assert abs(eps.mean()) < 5 / math.sqrt(n)
    assert abs(eps.var() - 1) < 5 * math.sqrt(2 / n)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"noise": np.zeros((2, 2, 3)), "width": 3, "height": 2},
        {"noise": np.zeros((2, 3, 3)), "width": 3, "height": 2, "alphas_cumprod": [0.5, 1.0]},
        {"noise": np.full((2, 3, 3), np.nan), "width": 3, "height": 2},
        {"noise": np.zeros((2, 3, 3)), "width": 3, "height": 2, "alphas": [0.9]},
        {"noise": np.zeros((2, 3, 3)), "width": 3, "height": 2, "alphas": [0.9, 1.0]},
    ],
)
def test_bad_payload_inputs_raise(kwargs):
    args = {"x0_png": b"", "seed": 0, "alphas_cumprod": [0.9, 0.5], "alphas": [0.9, 0.6], **kwargs}
    with pytest.raises(ValueError):
        scrub.build_payload(**args)


def test_script_json_cannot_close_the_script_element():
    text = scrub.to_script_json({"label": "</script><script>alert(1)</script> & co"})
    assert "</" not in text and "<" not in text and "&" not in text
    assert json.loads(text)["label"] == "</script><script>alert(1)</script> & co"
    with pytest.raises(ValueError):
        scrub.to_script_json({"x": float("nan")})


def test_fill_template_fills_each_marker_exactly_once():
    filled = scrub.fill_template("a=/*@PAYLOAD@*/null;b=/*@LABELS@*/null;", payload="1", labels="2")
    assert filled == "a=1;b=2;"
    with pytest.raises(ValueError):
        scrub.fill_template("a=/*@PAYLOAD@*/null;", payload="1", labels="2")
    with pytest.raises(ValueError):
        scrub.fill_template("a=/*@PAYLOAD@*/null;/*@OTHER@*/null", payload="1")


def test_the_real_template_has_its_markers():
    from pathlib import Path

    template = (Path(__file__).parents[1] / "pages" / "scrubber" / "scrubber.html").read_text()
    html = scrub.fill_template(template, payload="{}", labels="{}")
    assert "const P = {};" in html and "const L = {};" in html


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
@pytest.mark.parametrize("t", [0, 1, 137, 998, 999])
def test_the_browser_formula_agrees_with_core_q_sample(schedule, t):
    fd = ForwardDiffusion(1000, schedule, device="cpu")
    x0_u8 = image()
    x0 = to_model(x0_u8)
    eps = scrub.make_noise(x0.shape, seed=t)
    x_t, _ = fd.q_sample(x0, t, noise=eps)
    a, b = fd.sqrt_alphas_cumprod[t], fd.sqrt_one_minus_alphas_cumprod[t]
    mirror = a * x0.astype(np.float64) + b * eps.astype(np.float64)
    np.testing.assert_allclose(mirror, x_t, atol=2e-6)
    pixels, clipped = scrub.display_frame(x0, eps, a, b)
    reference = from_model(x_t)
    diff = np.abs(pixels.astype(int) - reference.astype(int))
    assert diff.max() <= 1 and np.count_nonzero(diff) <= 2  # float32 vs float64 at .5 ties
    assert clipped == pytest.approx(np.mean(np.abs(mirror) > 1))


def test_browser_tables_equal_core_tables():
    # The browser computes √ᾱ, √(1-ᾱ) and SNR from ᾱ with IEEE operations, as numpy does.
    fd = ForwardDiffusion(1000, "cosine", zero_terminal_snr=True)
    ab = np.array(fd.alphas_cumprod)
    np.testing.assert_array_equal(np.sqrt(ab), fd.sqrt_alphas_cumprod)
    np.testing.assert_array_equal(np.sqrt(1 - ab), fd.sqrt_one_minus_alphas_cumprod)
    assert scrub.snr(ab[-1]) == 0.0 and scrub.snr(1.0) == math.inf


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
@pytest.mark.parametrize("zero_snr", [False, True])
def test_one_step_posterior_is_ddpms(schedule, zero_snr):
    fd = ForwardDiffusion(300, schedule, zero_terminal_snr=zero_snr)
    for t in range(1, fd.timesteps):
        c_x0, c_xt, var = scrub.posterior_coefficients(fd.alphas_cumprod, fd.alphas, t, t - 1)
        assert c_x0 == pytest.approx(fd.posterior_mean_coef1[t], rel=1e-9, abs=1e-15)
        assert c_xt == pytest.approx(fd.posterior_mean_coef2[t], rel=1e-9, abs=1e-15)
        assert var == pytest.approx(fd.posterior_variance[t], rel=1e-8, abs=1e-15)
        scale, step_var = scrub.forward_coefficients(fd.alphas, t - 1, t)
        assert scale == pytest.approx(math.sqrt(fd.alphas[t]), rel=1e-12)
        assert step_var == pytest.approx(fd.betas[t], rel=1e-8, abs=1e-15)


def test_moves_need_the_right_direction():
    fd = ForwardDiffusion(10)
    with pytest.raises(ValueError):
        scrub.forward_coefficients(fd.alphas, 5, 5)
    with pytest.raises(ValueError):
        scrub.posterior_coefficients(fd.alphas_cumprod, fd.alphas, 5, 6)
    with pytest.raises(ValueError):
        scrub.step_ratio(fd.alphas, 5, 5)


def _check_marginal(x, x0, ab_t, n):
    mean_err = np.mean(x - math.sqrt(ab_t) * x0)
    var = np.var(x - math.sqrt(ab_t) * x0)
    assert abs(mean_err) < 5 * math.sqrt((1 - ab_t) / n), (mean_err, ab_t)
    assert abs(var / (1 - ab_t) - 1) < 5 * math.sqrt(2 / n), (var, 1 - ab_t)


# T = 2000 with β up to 0.999: ᾱ underflows to exactly 0 from t = 1454 on, where a ratio of two
# ᾱ is 0/0; adjacent states there are still correlated (α ≈ 0.27 a step near t = 1460).
UNDERFLOW = ((2000, "linear"), {"beta_end": 0.999})
UNDERFLOW_VISITS = [1300, 1460, 1461, 1800, 1463, 1462, 1999, 1454, 1453, 1700, 100, 1500]


@pytest.mark.parametrize(
    ("process", "normals"),
    [(((1000, "linear"), {}), "fresh"), (((1000, "cosine"), {"zero_terminal_snr": True}), "fresh"),
     (((1000, "linear"), {}), "pool"), (((1000, "cosine"), {"zero_terminal_snr": True}), "pool"),
     (UNDERFLOW, "fresh"), (UNDERFLOW, "pool")],
)  # fmt: skip
def test_chain_moves_keep_the_marginals_and_the_chain_covariance(process, normals):
    """The browser's chain, mirrored: start at t by the closed form, then jump around.

    ``pool``: the normals come as in the browser, from one pool read at a random offset and sign
    per move; ``fresh``: new normals per move (the exact chain the pool stands in for).
    """
    args, kwargs = process
    fd = ForwardDiffusion(*args, **kwargs)
    ab, alphas = fd.alphas_cumprod, fd.alphas
    n = 200_000  # pixels, each its own chain
    rng = np.random.default_rng(5)
    pool = rng.standard_normal(1 << 18)
    kind = normals

    def draw():
        if kind == "fresh":
            return rng.standard_normal(n)
        return scrub.pool_draw(pool, int(rng.integers(1 << 18)), int(rng.choice([-1, 1])), n)

    x0 = rng.uniform(-1, 1, n)
    visits = [100, 101, 400, 999, 998, 500, 20, 0, 1, 700, 300, 299, 999, 3]
    if process == UNDERFLOW:
        visits = UNDERFLOW_VISITS
    t = visits[0]
    x = math.sqrt(ab[t]) * x0 + math.sqrt(1 - ab[t]) * rng.standard_normal(n)
    for t_new in visits[1:]:
        x_new = scrub.chain_move(x, x0, ab, alphas, t, t_new, draw())
        _check_marginal(x_new, x0, ab[t_new], n)
        # joint law of the chain: Cov(x_s, x_u | x0) = √(α_s+1···α_u)·(1-ᾱ_s) for s < u
        s, u = min(t, t_new), max(t, t_new)
        r_s, r_u = (x, x_new) if t < t_new else (x_new, x)
        expected = math.sqrt(np.prod(alphas[s + 1 : u + 1])) * (1 - ab[s])
        centred_s = r_s - math.sqrt(ab[s]) * x0
        centred_u = r_u - math.sqrt(ab[u]) * x0
        cov = float(np.mean(centred_s * centred_u))
        scale = math.sqrt((1 - ab[s]) * (1 - ab[u]))
        assert abs(cov - expected) < 5 * scale / math.sqrt(n) + 1e-12, (s, u, cov, expected)
        x, t = x_new, t_new
    assert np.isfinite(x).all()


def test_pool_draw_reads_a_rotated_signed_window():
    pool = np.arange(8.0)
    np.testing.assert_array_equal(scrub.pool_draw(pool, 6, -1, 4), [-6.0, -7.0, -0.0, -1.0])
    with pytest.raises(ValueError):
        scrub.pool_draw(np.zeros(6), 0, 1, 4)
    with pytest.raises(ValueError):
        scrub.pool_draw(np.zeros(4), 0, 1, 5)


def test_chain_move_to_the_same_t_keeps_the_state():
    fd = ForwardDiffusion(50)
    x = np.arange(6.0)
    moved = scrub.chain_move(x, x, fd.alphas_cumprod, fd.alphas, 7, 7, np.ones(6))
    np.testing.assert_array_equal(moved, x)


def test_torch_chain_path_has_the_chain_law():
    fd = ForwardDiffusion(400, "linear")
    ab = fd.alphas_cumprod
    n = 100_000
    generator = torch.Generator().manual_seed(3)
    x0 = torch.rand(n, generator=generator, dtype=torch.float64) * 2 - 1
    noise = torch.randn(n, generator=generator, dtype=torch.float64)
    steps = [0, 50, 51, 200, 399]
    path = scrub.chain_path(x0, noise, steps, ab, fd.alphas, generator).numpy()
    x0 = x0.numpy()
    for row, t in zip(path, steps, strict=True):
        _check_marginal(row, x0, ab[t], n)
    np.testing.assert_allclose(path[0], np.sqrt(ab[0]) * x0 + np.sqrt(1 - ab[0]) * noise.numpy())
    cov = np.mean((path[1] - np.sqrt(ab[50]) * x0) * (path[3] - np.sqrt(ab[200]) * x0))
    expected = math.sqrt(ab[200] / ab[50]) * (1 - ab[50])
    assert abs(cov - expected) < 5 / math.sqrt(n)
    with pytest.raises(ValueError):
        scrub.chain_path(torch.zeros(2), torch.zeros(2), [3, 3], ab, fd.alphas, generator)


def test_torch_chain_path_keeps_its_correlation_where_alphas_cumprod_is_zero():
    fd = ForwardDiffusion(*UNDERFLOW[0], **UNDERFLOW[1])
    n = 100_000
    generator = torch.Generator().manual_seed(4)
    x0 = torch.rand(n, generator=generator, dtype=torch.float64) * 2 - 1
    noise = torch.randn(n, generator=generator, dtype=torch.float64)
    steps = [1460, 1461, 1999]
    assert not fd.alphas_cumprod[steps].any()
    path = scrub.chain_path(x0, noise, steps, fd.alphas_cumprod, fd.alphas, generator).numpy()
    assert np.isfinite(path).all()
    for row in path:  # pure noise: N(0, 1)
        _check_marginal(row, x0.numpy(), 0.0, n)
    cov = np.mean(path[0] * path[1])
    assert abs(cov - math.sqrt(fd.alphas[1461])) < 5 / math.sqrt(n)  # not 0: one step apart


def test_step_ratio_is_the_quotient_of_alphas_cumprod_where_that_has_its_digits():
    fd = ForwardDiffusion(1000, "cosine")
    ab = fd.alphas_cumprod
    for t, t_new in [(0, 1), (0, 999), (10, 500), (998, 999)]:
        assert scrub.step_ratio(fd.alphas, t, t_new) == pytest.approx(ab[t_new] / ab[t], rel=1e-12)
    under = ForwardDiffusion(*UNDERFLOW[0], **UNDERFLOW[1])
    ratio = scrub.step_ratio(under.alphas, 1460, 1462)
    assert ratio == under.alphas[1461] * under.alphas[1462] > 0.07


def test_evenly_spaced_covers_both_ends():
    assert scrub.evenly_spaced(1000, 9) == [0, 125, 250, 375, 500, 624, 749, 874, 999]
    assert scrub.evenly_spaced(5, 9) == [0, 1, 2, 3, 4]


def test_psnr_and_clipping():
    a = image()
    assert scrub.psnr(a, a) == math.inf
    b = a.astype(int)
    b[0, 0, 0] = (b[0, 0, 0] + 128) % 256
    assert 0 < scrub.psnr(b.astype(np.uint8), a) < math.inf
    assert scrub.clipped_share(np.array([-1.5, -1.0, 0.0, 1.0, 1.0001])) == pytest.approx(0.4)
    np.testing.assert_array_equal(scrub.to_pixels(np.array([-2.0, -1.0, 0.0, 1.0, 3.0])),
                                  [0, 0, 128, 255, 255])  # fmt: skip
