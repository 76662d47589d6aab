"""The forward process of DDPM (Ho et al. 2020): its tables, q(x_t | x_0), the Markov chain, and
the posterior q(x_{t-1} | x_t, x_0).

Index convention: timestep index t = 0..T-1 is the state after steps 0..t, so
ᾱ_t = Π_{s=0..t} (1 - β_s) and ``q_sample(x0, 0)`` already carries β_0 of noise. The clean image is
x0 itself (the app shows it apart, as "x₀ (clean)").
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import numpy as np
import torch

from core.device import pick_device
from core.schedules import beta_schedule, rescale_zero_terminal_snr, validate_betas

Array = np.ndarray | torch.Tensor
Timestep = int | Sequence[int] | np.ndarray | torch.Tensor

# Samples per generator in the CPU chain (q_sample_chain): 2^18 normal numbers take ~2 ms to draw.
CHAIN_CHUNK = 1 << 18
# The chain applies up to CHAIN_BLOCK_STEPS steps at a time, with at most CHAIN_BLOCK_VALUES
# noise values (float32: 32 MiB) drawn at once (ForwardDiffusion._run_chain).
CHAIN_BLOCK_STEPS = 32
CHAIN_BLOCK_VALUES = 1 << 23

TABLES = (
    "betas",
    "alphas",
    "alphas_cumprod",
    "alphas_cumprod_prev",
    "sqrt_alphas_cumprod",
    "sqrt_one_minus_alphas_cumprod",
    "snr",
    "log_snr",
    "posterior_variance",
    "posterior_log_variance_clipped",
    "posterior_mean_coef1",
    "posterior_mean_coef2",
)


class ForwardDiffusion:
    """The fixed forward process q(x_{1:T} | x_0) with its precomputed float64 tables.

    Args:
        timesteps: number of steps T (ignored when ``betas`` is given).
        beta_schedule: a name from :data:`core.schedules.SCHEDULES`.
        betas: custom betas (1-D, 0 < β ≤ 1); overrides ``beta_schedule``.
        device: where numpy inputs are computed ("auto", "cpu", "cuda", ...; default: the
            ``DIFFUSION_DEVICE`` environment variable, else the best available device).
        zero_terminal_snr: rescale the betas so that ᾱ_{T-1} = 0 (Lin et al. 2024).
        **schedule_params: the schedule's parameters, e.g. ``beta_start=1e-4``.

    The tables are read-only numpy float64 arrays of shape (T,); the object cannot be changed
    after construction.
    """

    __slots__ = ("_frozen", "_tensor_cache", "device", "timesteps", *TABLES)

    def __init__(
        self,
        timesteps: int = 1000,
        beta_schedule: str = "linear",
        *,
        betas: Any = None,
        device: str | torch.device | None = None,
        zero_terminal_snr: bool = False,
        **schedule_params: Any,
    ) -> None:
        set_ = object.__setattr__
        if betas is None:
            betas = _beta_schedule(beta_schedule, timesteps, **schedule_params)
        elif schedule_params:
            raise ValueError(
                f"give either betas or schedule parameters, not both: {sorted(schedule_params)}"
            )
        else:
            betas = validate_betas(betas)
        if zero_terminal_snr:
            betas = rescale_zero_terminal_snr(betas)
        alphas = 1.0 - betas
        alphas_cumprod = np.cumprod(alphas)
        alphas_cumprod_prev = np.append(1.0, alphas_cumprod[:-1])
        one_minus = 1.0 - alphas_cumprod
        with np.errstate(divide="ignore"):
            # ᾱ = 0 (zero terminal SNR) gives SNR 0 and log-SNR -inf, never NaN.
            snr = alphas_cumprod / one_minus
            log_snr = np.log(alphas_cumprod) - np.log(one_minus)
        posterior_variance = betas * (1.0 - alphas_cumprod_prev) / one_minus
        # β̃_0 = 0: the log is clipped to β̃_1 as in Improved DDPM.
        posterior_log_variance_clipped = np.log(
            np.append(posterior_variance[1], posterior_variance[1:])
        )
        tables = {
            "betas": betas,
            "alphas": alphas,
            "alphas_cumprod": alphas_cumprod,
            "alphas_cumprod_prev": alphas_cumprod_prev,
            "sqrt_alphas_cumprod": np.sqrt(alphas_cumprod),
            "sqrt_one_minus_alphas_cumprod": np.sqrt(one_minus),
            "snr": snr,
            "log_snr": log_snr,
            "posterior_variance": posterior_variance,
            "posterior_log_variance_clipped": posterior_log_variance_clipped,
            "posterior_mean_coef1": betas * np.sqrt(alphas_cumprod_prev) / one_minus,
            "posterior_mean_coef2": (1.0 - alphas_cumprod_prev) * np.sqrt(alphas) / one_minus,
        }
        for name, table in tables.items():
            # over an immutable bytes object: numpy cannot make such an array writeable again
            table = np.frombuffer(np.asarray(table, dtype=np.float64).tobytes(), np.float64)
            set_(self, name, table)
        set_(self, "timesteps", int(betas.shape[0]))
        set_(self, "device", pick_device(device))
        set_(self, "_tensor_cache", {})
        set_(self, "_frozen", True)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"ForwardDiffusion is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"ForwardDiffusion is immutable; cannot delete {name!r}")

    def __copy__(self) -> ForwardDiffusion:
        return self  # immutable

    def __deepcopy__(self, memo: dict[int, Any]) -> ForwardDiffusion:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its betas (every table follows from them) and its device."""
        return (_from_betas, (np.array(self.betas), str(self.device)))

    def __repr__(self) -> str:
        return (
            f"ForwardDiffusion(T={self.timesteps}, beta[0]={self.betas[0]:.3g}, "
            f"beta[-1]={self.betas[-1]:.3g}, device={self.device})"
        )

    # -- the closed form q(x_t | x_0) ---------------------------------------------------------

    def q_sample(
        self,
        x0: Array,
        t: Timestep,
        noise: Array | None = None,
        generator: torch.Generator | None = None,
    ) -> tuple[Array, Array]:
        """Sample q(x_t | x_0) = N(√ᾱ_t·x0, (1-ᾱ_t)·I) in closed form (DDPM eq. 4).

        x_t = √ᾱ_t·x0 + √(1-ᾱ_t)·ε, ε ~ N(0, I).

        Args:
            x0: clean data, shape [B, ...] (or any shape when ``t`` is an int); a torch tensor
                is computed on its own device and dtype, a numpy array on ``self.device`` and
                returned as numpy. Integer and bool data is computed in float32.
            t: one timestep index for the whole batch, or one per sample (shape [B]).
            noise: ε of x0's shape; drawn from ``generator`` when None.
            generator: a torch.Generator on x0's device, for reproducible noise.

        Returns:
            (x_t, noise), both of x0's type, device and dtype.
        """
        x, as_numpy = self._as_tensor(x0)
        if noise is None:
            eps = _randn_like(x, generator)
        else:
            eps, _ = self._as_tensor(noise, device=x.device)
            eps = eps.to(x.dtype)
            if eps.shape != x.shape:
                raise ValueError(f"noise shape {tuple(eps.shape)} != x0 shape {tuple(x.shape)}")
        names = ("sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod")
        steps, finish_check = self._timesteps_checking(t, x)
        x_t = None
        if isinstance(steps, torch.Tensor):  # one t per sample: the kernel may gather a and b
            # queued before the range check waits, so the GPU runs it meanwhile (timesteps
            # outside the tables read nothing there, and the check then raises)
            x_t = self._gathered_scaled_sum(x, steps, eps, *names)
        finish_check()
        if x_t is None:
            a, b = self._values(steps, x, *names)
            x_t = _scaled_sum(x, a, eps, b)
        if as_numpy:
            return x_t.cpu().numpy(), eps.cpu().numpy()
        return x_t, eps

    def q_mean_variance(self, x0: Array, t: Timestep) -> tuple[Array, Array, Array]:
        """Mean √ᾱ_t·x0, variance 1-ᾱ_t and log-variance of q(x_t | x_0).

        The variance and log-variance broadcast against x0 ([B, 1, ...] for a batch of t).
        """
        x, as_numpy = self._as_tensor(x0)
        (a,) = self._coefficients(t, x, "sqrt_alphas_cumprod")
        (var,) = self._coefficients(t, x, "alphas_cumprod", complement=True)
        mean = a * x
        log_var = torch.log(var)
        if as_numpy:
            return mean.cpu().numpy(), var.cpu().numpy(), log_var.cpu().numpy()
        return mean, var, log_var

    # -- the posterior q(x_{t-1} | x_t, x_0) --------------------------------------------------

    def q_posterior_mean_variance(
        self, x0: Array, x_t: Array, t: Timestep
    ) -> tuple[Array, Array, Array]:
        """Mean, variance and clipped log-variance of q(x_{t-1} | x_t, x_0) (DDPM eqs. 6–7).

        μ̃_t = β_t·√ᾱ_{t-1}/(1-ᾱ_t)·x0 + (1-ᾱ_{t-1})·√α_t/(1-ᾱ_t)·x_t,
        β̃_t = (1-ᾱ_{t-1})/(1-ᾱ_t)·β_t.

        At t = 0 the state before is x0 itself (ᾱ_{-1} = 1): the mean is x0 and the variance 0,
        while the log-variance is clipped to log β̃_1 (the convention of DDPM's and Improved
        DDPM's code), so that it stays finite.
        """
        x, as_numpy = self._as_tensor(x0)
        xt, _ = self._as_tensor(x_t, device=x.device)
        xt = xt.to(x.dtype)
        if xt.shape != x.shape:
            raise ValueError(f"x_t shape {tuple(xt.shape)} != x0 shape {tuple(x.shape)}")
        c1, c2, var, log_var = self._coefficients(
            t,
            x,
            "posterior_mean_coef1",
            "posterior_mean_coef2",
            "posterior_variance",
            "posterior_log_variance_clipped",
        )
        mean = c1 * x + c2 * xt
        # an int t gives floats: return the variances as 0-d tensors like q_mean_variance does
        var = torch.as_tensor(var, dtype=x.dtype, device=x.device)
        log_var = torch.as_tensor(log_var, dtype=x.dtype, device=x.device)
        if as_numpy:
            return mean.cpu().numpy(), var.cpu().numpy(), log_var.cpu().numpy()
        return mean, var, log_var

    # -- the Markov chain ---------------------------------------------------------------------

    def q_sample_chain(
        self,
        x0: Array,
        t: Timestep,
        generator: torch.Generator | None = None,
    ) -> Array:
        """Run the Markov chain x_s = √(1-β_s)·x_{s-1} + √β_s·ε_s with fresh noise every step.

        Index convention: the state at timestep index t is the one after steps 0..t, so
        ``q_sample_chain(x0, t)`` has exactly the distribution of ``q_sample(x0, t)``.

        Args:
            x0: clean data of any shape (torch: its device and dtype; numpy: ``self.device``).
            t: one timestep (returns x_t, x0's shape) or a sequence of timesteps (returns the
                states stacked in the order given, shape [len(t), *x0.shape]), all from a single
                pass of max(t)+1 steps. Only the current state, the requested ones and one
                block of noise (at most CHAIN_BLOCK_VALUES values) are kept.
            generator: a torch.Generator on x0's device, for reproducible noise. On the CPU,
                more than ``CHAIN_CHUNK`` samples run in fixed chunks on torch's threads, each
                with a generator seeded from this one (the same seed, the same result). The
                steps are drawn in blocks that end at the timesteps asked for, so the same seed
                with other timesteps draws other numbers (of the same law).
        """
        x, as_numpy = self._as_tensor(x0)
        wanted, single = self._step_list(t)
        if not wanted:
            raise ValueError("q_sample_chain needs at least one timestep")
        flat = x.reshape(-1)
        out = torch.empty((len(wanted), flat.numel()), dtype=x.dtype, device=x.device)
        slots: dict[int, list[int]] = {}
        for position, s in enumerate(wanted):
            slots.setdefault(s, []).append(position)
        steps = max(wanted) + 1
        size = flat.numel()
        if x.device.type != "cpu" or size <= CHAIN_CHUNK:
            self._run_chain(flat, out, slots, steps, generator)
        else:
            # The CPU draws normal numbers on one thread per generator: split the samples into
            # fixed chunks, each with a generator seeded from ``generator``, and run the chunks'
            # chains on torch's threads. Fixed chunks keep a seed's result independent of the
            # thread count.
            starts = range(0, size, CHAIN_CHUNK)
            seeds = torch.randint(0, 2**62, (len(starts),), generator=generator).tolist()

            def run(start: int, seed: int) -> None:
                chunk = slice(start, start + CHAIN_CHUNK)
                chunk_generator = torch.Generator().manual_seed(seed)
                self._run_chain(flat[chunk], out[:, chunk], slots, steps, chunk_generator)

            with ThreadPoolExecutor(max_workers=torch.get_num_threads()) as pool:
                list(pool.map(run, starts, seeds))
        out = out.view(len(wanted), *x.shape)
        result = out[0] if single else out
        return result.cpu().numpy() if as_numpy else result

    def _run_chain(
        self,
        x: torch.Tensor,
        out: torch.Tensor,
        slots: dict[int, list[int]],
        steps: int,
        generator: torch.Generator | None,
    ) -> None:
        """Steps 0..steps-1 of the chain from x (1-D), writing the state after step s to
        out[position] for each position in slots[s].

        The steps run in blocks s0..s1 (at most CHAIN_BLOCK_VALUES / len(x) steps, ending at
        every recorded step), two ops a block: fresh ε_s for every step of the block in one
        draw, then the block's steps applied at once,
        x_s1 = (Π_{s0≤i≤s1} √α_i)·x_{s0-1} + Σ_{s0≤j≤s1} (√β_j Π_{j<i≤s1} √α_i)·ε_j,
        which is x_s = √α_s·x_{s-1} + √β_s·ε_s unrolled (the same values up to float rounding).
        Two ops a step would hand Python's lock back and forth 2·T times: in a server whose
        other threads run Python, each hand-back waits for them, and a chain of 1000 steps
        that takes 0.08 s alone took 39 s beside two busy threads.

        float16 and bfloat16 data run in float32 (rounding a bfloat16 state at every step
        would add up to a visible error in its variance); the states are stored in x's dtype.
        """
        state = x.to(_COMPUTE_DTYPES.get(x.dtype, x.dtype), copy=True)
        sqrt_alphas = np.sqrt(self.alphas)
        sqrt_betas = np.sqrt(self.betas)
        longest = max(1, min(CHAIN_BLOCK_STEPS, CHAIN_BLOCK_VALUES // max(1, x.numel())))
        noise = torch.empty((longest, x.numel()), dtype=state.dtype, device=x.device)
        start = 0
        while start < steps:
            end = min(start + longest, steps)  # exclusive
            recorded = [s for s in slots if start <= s < end]
            if recorded:
                end = min(recorded) + 1
            # weights of ε_j: √β_j times the √α of the later steps of the block (float64)
            later = np.cumprod(sqrt_alphas[start:end][::-1])[::-1]
            carry = float(later[0])  # Π √α over the block
            tail = np.append(later[1:], 1.0)
            # float64 → dtype on the CPU first: MPS has no float64
            weights = torch.from_numpy(sqrt_betas[start:end] * tail).to(state.dtype).to(x.device)
            block = noise[: end - start].normal_(generator=generator)
            state.addmv_(block.t(), weights, beta=carry)
            for position in slots.get(end - 1, ()):
                out[position].copy_(state)
            start = end

    # -- frames for animations and strips -----------------------------------------------------

    def frames_uint8(
        self,
        x0: Array,
        noise: Array | None = None,
        timesteps: Timestep | None = None,
        *,
        generator: torch.Generator | None = None,
        layout: Literal["auto", "chw", "hwc"] = "auto",
        chunk_bytes: int | None = None,
    ) -> Array:
        """The 8-bit frames v_t = round((clip(x_t, -1, 1) + 1)·127.5) of x_t = √ᾱ_t·x0 + √(1-ᾱ_t)·ε.

        One ε for all frames (the closed form, as in the app's strips and animations), so frame t
        is ``q_sample(x0, t, noise)`` mapped to pixels like :func:`core.images.from_model`
        (rounding half to even; float32 arithmetic, so a value within ~1e-4 of a rounding
        boundary may land one level off).

        Args:
            x0: an image in [-1, 1], shape [C, H, W] or [H, W, C] with C in (1, 3, 4).
            noise: ε of x0's shape and layout; drawn from ``generator`` when None.
            timesteps: the frames' timestep indices (default: all, 0..T-1), in the order given.
            generator: a torch.Generator on the compute device, for ``noise=None``.
            layout: "chw", "hwc", or "auto" (channels last when the last axis has 1, 3 or 4
                entries, else channels first).
            chunk_bytes: bound on the float32 working buffer (default 64 MiB on the CPU, 21
                frames of 512x512x3: few, large ops, which cope best with busy cores; 256 MiB
                on a GPU, few kernel launches). The result itself is len(timesteps)·H·W·C bytes;
                use :meth:`iter_frames_uint8` to stream instead.

        Returns:
            uint8 frames [len(timesteps), H, W, C]: a numpy array for a numpy x0, else a tensor
            on x0's device.
        """
        x, as_numpy = self._as_tensor(x0)
        steps = self._frame_steps(timesteps)
        height, width, channels = self._frame_shape(x, layout)
        out = torch.empty((len(steps), height, width, channels), dtype=torch.uint8, device=x.device)
        for start, chunk in self._frames(x, noise, steps, generator, layout, chunk_bytes):
            out[start : start + chunk.shape[0]].copy_(chunk)
        return out.cpu().numpy() if as_numpy else out

    def iter_frames_uint8(
        self,
        x0: Array,
        noise: Array | None = None,
        timesteps: Timestep | None = None,
        *,
        generator: torch.Generator | None = None,
        layout: Literal["auto", "chw", "hwc"] = "auto",
        chunk_bytes: int | None = None,
    ) -> Iterator[tuple[int, Array]]:
        """:meth:`frames_uint8` in pieces: yields (position of the first frame, frames [k, H, W, C]).

        Memory stays bounded by ``chunk_bytes`` plus one piece, so an encoder can consume the
        frames as they come. Pieces are numpy arrays for a numpy x0, else tensors.
        """
        x, as_numpy = self._as_tensor(x0)
        steps = self._frame_steps(timesteps)
        for start, chunk in self._frames(x, noise, steps, generator, layout, chunk_bytes):
            # the chunk is a view of a reused buffer: hand out copies
            yield start, (chunk.to("cpu", copy=True).numpy() if as_numpy else chunk.clone())

    def _frame_steps(self, timesteps: Timestep | None) -> list[int]:
        if timesteps is None:
            return list(range(self.timesteps))
        return self._step_list(timesteps)[0]

    def _step_list(self, t: Timestep) -> tuple[list[int], bool]:
        """Timesteps as a list of ints checked against the tables, and whether t was one."""
        one = _one_timestep(t)
        steps = [one] if one is not None else _timestep_tensor(t).tolist()
        for step in steps:
            self._check_index(step)
        return steps, one is not None

    @staticmethod
    def _frame_shape(x: torch.Tensor, layout: str) -> tuple[int, int, int]:
        if layout not in ("auto", "chw", "hwc"):
            raise ValueError(f"unknown layout {layout!r}; valid: 'auto', 'chw', 'hwc'")
        if x.ndim != 3 or not x.numel():
            raise ValueError(
                f"an image is [C, H, W] or [H, W, C], not empty; got shape {tuple(x.shape)}"
            )
        if layout == "auto":
            if x.shape[-1] in (1, 3, 4):
                layout = "hwc"
            elif x.shape[0] in (1, 3, 4):
                layout = "chw"
            else:
                raise ValueError(
                    f"cannot tell the channel axis of shape {tuple(x.shape)} "
                    "(1, 3 or 4 channels first or last); pass layout='chw' or 'hwc'"
                )
        if layout == "hwc":
            return int(x.shape[0]), int(x.shape[1]), int(x.shape[2])
        return int(x.shape[1]), int(x.shape[2]), int(x.shape[0])

    def _frames(
        self,
        x: torch.Tensor,
        noise: Array | None,
        steps: list[int],
        generator: torch.Generator | None,
        layout: str,
        chunk_bytes: int | None,
    ) -> Iterator[tuple[int, torch.Tensor]]:
        """The frames as uint8 tensors [k, H, W, C] on x's device, k frames at a time."""
        height, width, channels = self._frame_shape(x, layout)
        if noise is None:
            eps = _randn_like(x.to(torch.float32), generator)
        else:
            eps, _ = self._as_tensor(noise, device=x.device)
            if eps.shape != x.shape:
                raise ValueError(f"noise shape {tuple(eps.shape)} != x0 shape {tuple(x.shape)}")
        hwc = layout == "hwc" or (layout == "auto" and x.shape[-1] in (1, 3, 4))

        def pixels(value: torch.Tensor) -> torch.Tensor:
            # 127.5·value as one row of channels-last pixels, float32
            value = value.to(torch.float32) if hwc else value.to(torch.float32).permute(1, 2, 0)
            return (value * 127.5).reshape(-1)

        # v_t = 127.5·(a_t·x0 + b_t·ε + 1) = a_t·X + b_t·E + 127.5 with X = 127.5·x0 and
        # E = 127.5·ε precomputed once. Elementwise (not a matrix product, whose rounding would
        # depend on the chunk size): every frame comes out the same however it is chunked. The
        # chunk is clamped, rounded and converted while it is still in cache.
        image, noise_pixels = pixels(x), pixels(eps)
        index = torch.tensor(steps, dtype=torch.long)
        a_all = torch.from_numpy(self.sqrt_alphas_cumprod[index.numpy()]).to(torch.float32)
        b_all = torch.from_numpy(self.sqrt_one_minus_alphas_cumprod[index.numpy()])
        a_all, b_all = a_all.to(x.device)[:, None], b_all.to(torch.float32).to(x.device)[:, None]
        pixels_per_frame = height * width * channels
        if chunk_bytes is None:
            chunk_bytes = (256 << 20) if x.device.type == "cuda" else (64 << 20)
        if chunk_bytes <= 0:
            raise ValueError(f"chunk_bytes must be positive, got {chunk_bytes}")
        per_chunk = max(1, min(len(steps), chunk_bytes // (4 * pixels_per_frame)))
        buffer = torch.empty((per_chunk, pixels_per_frame), dtype=torch.float32, device=x.device)
        frames = torch.empty((per_chunk, pixels_per_frame), dtype=torch.uint8, device=x.device)
        for start in range(0, len(steps), per_chunk):
            k = min(per_chunk, len(steps) - start)
            values = buffer[:k]
            torch.mul(image, a_all[start : start + k], out=values)
            values.addcmul_(noise_pixels, b_all[start : start + k]).add_(127.5)
            values.clamp_(0.0, 255.0).round_()
            frames[:k].copy_(values)
            yield start, frames[:k].view(k, height, width, channels)

    # -- helpers ------------------------------------------------------------------------------

    def table(self, name: str, device: torch.device | str, dtype: torch.dtype) -> torch.Tensor:
        """A table as a new tensor on ``device`` in ``dtype`` (the caller's to change)."""
        return self._table(name, device, dtype).clone()

    def _table(self, name: str, device: torch.device | str, dtype: torch.dtype) -> torch.Tensor:
        """A table as a tensor on ``device`` in ``dtype``, cached: shared, never to be changed."""
        if name not in TABLES:
            raise ValueError(f"unknown table {name!r}; valid: {list(TABLES)}")
        key = (name, str(device), dtype)
        cached = self._tensor_cache.get(key)
        if cached is None:
            # float64 → dtype on the CPU first: MPS has no float64.
            cached = torch.from_numpy(np.array(getattr(self, name))).to(dtype).to(device)
            self._tensor_cache[key] = cached
        return cached

    def _check_index(self, t: int) -> None:
        if not 0 <= t < self.timesteps:
            raise ValueError(f"timestep {t} out of range 0..{self.timesteps - 1}")

    def _coefficients(
        self, t: Timestep, x: torch.Tensor, *names: str, complement: bool = False
    ) -> tuple[Any, ...]:
        """Per-timestep values of the tables ``names``, shaped to broadcast against ``x``.

        An int t gives Python floats (exact float64 values) or 0-d tensors; a batch of t gives
        tensors of shape [B, 1, ...].
        """
        return self._values(self._timesteps(t, x), x, *names, complement=complement)

    def _timesteps(self, t: Timestep, x: torch.Tensor) -> int | torch.Tensor:
        """t checked against the tables and x's batch: an int for one timestep, or the int64
        tensor [B] of one timestep per sample.

        CUDA timesteps stay on the GPU, where checking their range waits for the GPU once (a
        clear error is worth the wait); others are checked on the CPU and stay there.
        """
        steps, finish_check = self._timesteps_checking(t, x)
        finish_check()
        return steps

    def _timesteps_checking(
        self, t: Timestep, x: torch.Tensor
    ) -> tuple[int | torch.Tensor, Callable[[], None]]:
        """:meth:`_timesteps` with the range check of a batch started, not finished: the
        function returned finishes it (raising ValueError), and waits for CUDA timesteps.

        Work queued on the GPU before it is called runs while the host waits; it must not read
        the tables at the unchecked timesteps (the gathering kernel masks them).

        CUDA timesteps are copied to the host on a side stream, after an event recorded here,
        where the caller's work ends: the copy waits for the work that made t, not for the
        kernel queued after this call, and it does not sit between two kernels of the
        caller's stream (in a loop of calls the GPU runs them back to back).
        """
        one = _one_timestep(t)
        if one is not None:
            self._check_index(one)
            return one, _checked
        index = _timestep_tensor(t)
        if x.ndim == 0 or index.shape[0] != x.shape[0]:
            raise ValueError(
                f"{index.shape[0]} timesteps for a batch of {x.shape[0] if x.ndim else 0}"
            )
        if not index.numel():
            return index, _checked
        ready = None
        if index.is_cuda:
            ready = torch.cuda.Event()
            ready.record(torch.cuda.current_stream(index.device))

        def finish_check() -> None:
            values = index.numpy() if ready is None else _to_host_after(index, ready)
            outside = values[(values < 0) | (values >= self.timesteps)]
            if outside.size:
                raise ValueError(
                    f"timesteps must be in 0..{self.timesteps - 1}, got {int(outside[0])}"
                )

        return index, finish_check

    def _values(
        self, steps: int | torch.Tensor, x: torch.Tensor, *names: str, complement: bool = False
    ) -> tuple[Any, ...]:
        """:meth:`_coefficients` of timesteps already checked by :meth:`_timesteps`."""
        if isinstance(steps, int):
            values = []
            for name in names:
                value = float(getattr(self, name)[steps])
                values.append(1.0 - value if complement else value)
            if complement:
                # variances go through torch.log: keep them tensors
                return tuple(torch.tensor(v, dtype=x.dtype, device=x.device) for v in values)
            return tuple(values)
        # Gather where the timesteps are (on a GPU for CUDA timesteps, else on the CPU), then
        # for a GPU one copy from pinned memory, which does not wait for the GPU's queued work.
        where = steps.device
        values = torch.stack([self._table(name, where, torch.float64)[steps] for name in names])
        if complement:
            values = 1.0 - values
        values = values.to(x.dtype)  # here, before a move: MPS has no float64
        if values.device != x.device:
            if x.device.type == "cuda":
                values = values.pin_memory()
            # not to the CPU: a copy from a GPU that does not wait could be read before it lands
            values = values.to(x.device, non_blocking=x.device.type == "cuda")
        shape = (-1,) + (1,) * (x.ndim - 1)
        return tuple(row.reshape(shape) for row in values)

    def _gathered_scaled_sum(
        self, x: torch.Tensor, steps: torch.Tensor, eps: torch.Tensor, a_name: str, b_name: str
    ) -> torch.Tensor | None:
        """a[steps]·x + b[steps]·ε for the tables a and b named, in one fused kernel launch that
        gathers each sample's coefficients itself; None where that does not apply.

        Only the Triton kernel gathers (x on CUDA, :data:`_FUSED_GATHER`). The host queues the
        kernel alone (no gather, stack or cast ops) and before the range check of CUDA
        timesteps waits, so the GPU runs it during that wait. A timestep outside the tables
        reads nothing (its sample comes out 0; the check then raises). The tables are in x's
        dtype, so the coefficients are rounded as the eager path rounds its gathered values.
        """
        if (
            x.device.type not in _FUSED_GATHER
            or x.requires_grad
            or eps.requires_grad
            or not _fused_may_apply(x, eps)
        ):
            return None
        if steps.device != x.device:
            if steps.device.type == "cpu":
                # A pinned copy of its own (t may be the caller's, pinned or not, and change
                # after the call): from pinned memory the copy does not wait for the GPU.
                steps = torch.empty_like(steps, pin_memory=True).copy_(steps)
            steps = steps.to(x.device, non_blocking=True)
        a, b = self._table(a_name, x.device, x.dtype), self._table(b_name, x.device, x.dtype)
        return _fused_scaled_sum(x, a, eps, b, index=steps)

    def _as_tensor(
        self, value: Array, device: torch.device | None = None
    ) -> tuple[torch.Tensor, bool]:
        """``value`` as a floating-point tensor, and whether it came as numpy (or a list).

        A torch tensor stays on its device (or moves to ``device``); numpy goes to
        ``device``, else ``self.device``. Integer and bool data becomes float32; complex data is
        refused (its imaginary part would be dropped or noised).
        """
        if isinstance(value, torch.Tensor):
            tensor, as_numpy = (value if device is None else value.to(device)), False
        elif isinstance(value, np.ndarray | np.generic | list | tuple | float | int):
            array = np.asarray(value)
            if array.dtype.kind == "c":
                raise TypeError(f"data must be real numbers, got dtype {array.dtype}")
            if array.dtype == np.longdouble:  # torch has no such dtype
                array = array.astype(np.float64)
            elif not np.issubdtype(array.dtype, np.floating):
                array = array.astype(np.float32)
            tensor = torch.from_numpy(np.asarray(array, order="C"))  # 0-d stays 0-d
            tensor, as_numpy = tensor.to(device if device is not None else self.device), True
        else:
            raise TypeError(f"expected a torch tensor or numpy array, got {type(value).__name__}")
        if tensor.dtype.is_complex:
            raise TypeError(f"data must be real numbers, got dtype {tensor.dtype}")
        if not tensor.dtype.is_floating_point:
            tensor = tensor.to(torch.float32)
        return tensor, as_numpy


def _from_betas(betas: np.ndarray, device: str) -> ForwardDiffusion:
    """A process rebuilt from its betas (how a :class:`ForwardDiffusion` is unpickled)."""
    return ForwardDiffusion(betas=betas, device=device)


def _beta_schedule(name: str, timesteps: int, **params: Any) -> np.ndarray:
    return beta_schedule(name, timesteps, **params)


# Data of these dtypes is computed in float32 and rounded once at the end (others: in their own).
_COMPUTE_DTYPES = {torch.float16: torch.float32, torch.bfloat16: torch.float32}


def _checked() -> None:
    """The range check of timesteps already checked."""


def _one_timestep(t: Any) -> int | None:
    """t as an int when it is one timestep (an int, or a 0-d integer array or tensor), None
    when it is a sequence of them; ValueError when it is neither (a float, a bool, a string)."""
    if type(t) is int:  # the usual case, first (a bool is not of type int)
        return t
    if isinstance(t, torch.Tensor | np.ndarray):
        if t.ndim:
            return None
        _check_integer_dtype(t.dtype)
        return int(t)
    if isinstance(t, int | np.integer) and not isinstance(t, bool):
        return int(t)
    if isinstance(t, list | tuple | range):
        return None
    raise ValueError(f"a timestep must be an integer or a sequence of integers, got {t!r:.60}")


def _timestep_tensor(t: Any) -> torch.Tensor:
    """A sequence of timesteps as a flat int64 tensor, on its GPU if it is a CUDA tensor, else
    on the CPU; ValueError unless every element is an integer (an empty sequence is none)."""
    if isinstance(t, torch.Tensor):
        _check_integer_dtype(t.dtype)
        index = t
    else:
        if isinstance(t, list | tuple) and any(isinstance(v, bool | np.bool_) for v in t):
            raise ValueError("timesteps must be integers, got a bool among them")
        try:
            array = np.asarray(t)
        except ValueError as error:  # ragged nesting
            raise ValueError(f"timesteps must be a flat sequence of integers: {error}") from None
        if array.size:
            _check_integer_dtype(array.dtype)
        index = torch.from_numpy(array.astype(np.int64))
    if index.ndim != 1:
        raise ValueError(f"timesteps must be a flat sequence (1-D), got shape {tuple(index.shape)}")
    where = index.device if index.device.type == "cuda" else torch.device("cpu")
    return index.to(device=where, dtype=torch.long)


_side_streams: dict[torch.device, torch.cuda.Stream] = {}


def _to_host_after(index: torch.Tensor, ready: torch.cuda.Event) -> np.ndarray:
    """A CUDA tensor's values on the host, copied on a side stream once ``ready`` has passed
    (and waited for: the copy has landed when this returns)."""
    side = _side_streams.get(index.device)
    if side is None:  # one per GPU, shared by threads: each waits for its own copy's event
        side = _side_streams.setdefault(index.device, torch.cuda.Stream(index.device))
    on_host = torch.empty(index.shape, dtype=index.dtype, pin_memory=True)
    with torch.cuda.stream(side):
        side.wait_event(ready)
        on_host.copy_(index, non_blocking=True)
        landed = torch.cuda.Event()
        landed.record(side)
    landed.synchronize()
    return on_host.numpy()


def _check_integer_dtype(dtype: torch.dtype | np.dtype) -> None:
    if isinstance(dtype, torch.dtype):
        integer = not (dtype.is_floating_point or dtype.is_complex or dtype == torch.bool)
    else:
        integer = dtype.kind in "iu"
    if not integer:
        raise ValueError(f"timesteps must be integers, got dtype {dtype}")


def _randn_like(x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """ε ~ N(0, I) of x's shape, dtype and device. float16 and bfloat16 noise is drawn in
    float32 and rounded once: some torch builds draw those dtypes directly with the wrong
    spread (torch 2.11 on the CPU: a bfloat16 variance of 0.987, ten standard errors low)."""
    compute = _COMPUTE_DTYPES.get(x.dtype, x.dtype)
    eps = torch.randn(x.shape, generator=generator, dtype=compute, device=x.device)
    return eps.to(x.dtype)


def _scaled_sum(x: torch.Tensor, a: Any, eps: torch.Tensor, b: Any) -> torch.Tensor:
    """a·x + b·eps with a, b floats or tensors of shape [B, 1, ...] broadcasting against x.

    One fused pass where it applies (:func:`_fused_scaled_sum`: a Triton kernel on CUDA, a
    Numba kernel on the CPU); elsewhere two in-place passes (a·x into a new tensor, then
    + b·eps) and no temporary. float16 and bfloat16 are computed in float32 and rounded once,
    like the fused kernels do (two passes in their own dtype would round a·x first).
    """
    if x.requires_grad or eps.requires_grad:
        return torch.mul(x, a) + torch.mul(eps, b)
    fused = _fused_scaled_sum(x, a, eps, b)
    if fused is not None:
        return fused
    compute = _COMPUTE_DTYPES.get(x.dtype)
    if compute is not None:
        a, b = (v.to(compute) if isinstance(v, torch.Tensor) else v for v in (a, b))
        return _scaled_sum(x.to(compute), a, eps.to(compute), b).to(x.dtype)
    if isinstance(a, float) and isinstance(b, float):
        return torch.mul(x, a).add_(eps, alpha=b)
    return torch.mul(x, a).addcmul_(eps, b)


# The fused kernels read x and ε once and write x_t once; eager torch needs two passes. Each is
# imported on the first call on its device (core/kernels.py: Triton, CUDA; core/cpu_kernels.py:
# Numba, CPU). If that or a launch fails (no Triton or Numba, no compiler, an unsupported GPU)
# the error is remembered and every later call on that device takes the plain path.
# DIFFUSION_FUSED=0 turns the fused paths off (for benchmarks and debugging).
_FUSED_MODULES = {"cuda": "core.kernels", "cpu": "core.cpu_kernels"}
# The devices whose kernel also gathers per-sample coefficients from the tables (Triton's).
_FUSED_GATHER = {"cuda"}
# Numba compiles the CPU kernel on its first call (1–2 s) and it pays off where a pass over
# memory costs milliseconds; smaller tensors (a picture of the app: ≤ 512×512×3) stay eager.
CPU_FUSED_MIN_ELEMENTS = 1 << 20
_fused_state: dict[str, dict[str, Any]] = {
    device: {"fn": None, "failed": None} for device in _FUSED_MODULES
}
_fused_lock = threading.Lock()


def _fused_enabled() -> bool:
    return os.environ.get("DIFFUSION_FUSED", "1").strip() not in {"0", "false", "no", "off"}


def _fused_may_apply(x: torch.Tensor, eps: torch.Tensor) -> bool:
    """Whether a fused kernel may take x and eps: on, not failed on x's device, no views, and
    on the CPU large enough. Checked before anything is imported."""
    state = _fused_state.get(x.device.type)
    if state is None or state["failed"] is not None or not _fused_enabled():
        return False
    if not (x.is_contiguous() and eps.is_contiguous()):  # neither kernel takes views
        return False
    return not (x.device.type == "cpu" and x.numel() < CPU_FUSED_MIN_ELEMENTS)


def _fused_scaled_sum(
    x: torch.Tensor, a: Any, eps: torch.Tensor, b: Any, index: torch.Tensor | None = None
) -> torch.Tensor | None:
    """a·x + b·eps in one fused pass, or None when the fused path is off or does not apply.

    With ``index`` (a device in :data:`_FUSED_GATHER` only), a and b are tables and sample i
    takes a[index[i]] and b[index[i]] (core/kernels.py, ``scaled_sum``).
    """
    if not _fused_may_apply(x, eps):
        return None
    if index is not None and x.device.type not in _FUSED_GATHER:
        return None
    state = _fused_state[x.device.type]
    try:
        fn = state["fn"]
        if fn is None:
            with _fused_lock:  # one thread imports (Streamlit runs many)
                module = importlib.import_module(_FUSED_MODULES[x.device.type])
                fn = state["fn"] = module.scaled_sum
        return fn(x, a, eps, b) if index is None else fn(x, a, eps, b, index=index)
    except torch.OutOfMemoryError:  # passing, not a reason to give up the kernel
        raise
    except Exception as error:  # no Triton or Numba, or the kernel cannot run here: use eager
        state["failed"] = f"{type(error).__name__}: {error}"
        return None


__all__ = ["TABLES", "ForwardDiffusion"]
