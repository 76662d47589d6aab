"""The fused CPU kernel of q(x_t | x_0): x_t = a·x0 + b·ε in one pass, compiled with Numba.

Eager torch needs two passes over the output on the CPU (a·x0, then + b·ε), which costs about
1.35x a copy of x0; one pass that reads x0 and ε once and writes x_t once costs about 1.06x
(BENCHMARKS.md, "Core"). :mod:`core.diffusion` imports this module on its first CPU call and
falls back to eager torch when Numba is missing or the kernel cannot run. Each dtype compiles
once per process on its first call (about 1.5 s), so it is used for tensors of at least
``core.diffusion.CPU_FUSED_MIN_ELEMENTS`` elements only.
"""

from __future__ import annotations

import threading

import numba
import numpy as np
import torch

# Work is cut into pieces of CHUNK elements, never across two samples; the threads take pieces
# in turn. Each piece is a plain loop over contiguous memory that LLVM vectorises.
CHUNK = 1 << 15
DTYPES = {torch.float32: np.float32, torch.float64: np.float64}

# Numba's fallback threading layer ("workqueue", where no OpenMP or TBB runtime is installed)
# aborts the process when two threads launch parallel kernels at once; Streamlit runs each
# session on its own thread. A launch already uses every thread it is given, so one at a time.
_launch_lock = threading.Lock()


@numba.njit(fastmath=True, nogil=True, inline="always")
def _axpby(x, a, eps, b, out):  # pragma: no cover - compiled
    for i in range(x.size):
        out[i] = a * x[i] + b * eps[i]


@numba.njit(parallel=True, fastmath=True, nogil=True)
def _scaled_sum_kernel(x, a, eps, b, out, inner):  # pragma: no cover - compiled
    pieces = (inner + CHUNK - 1) // CHUNK
    for job in numba.prange(a.size * pieces):
        sample = job // pieces
        start = sample * inner + (job - sample * pieces) * CHUNK
        stop = min(start + CHUNK, (sample + 1) * inner)
        _axpby(x[start:stop], a[sample], eps[start:stop], b[sample], out[start:stop])


def scaled_sum(
    x: torch.Tensor, a: float | torch.Tensor, eps: torch.Tensor, b: float | torch.Tensor
) -> torch.Tensor | None:
    """a·x + b·eps in one parallel pass on the CPU, or None where the kernel does not apply.

    Args:
        x, eps: contiguous CPU tensors of one shape and dtype (float32 or float64).
        a, b: floats for the whole tensor, or one value per sample (shape [B, 1, ...] against
            x's [B, ...]). Arithmetic is in x's dtype, like eager torch's.

    Returns:
        A new tensor like x, or None (another dtype or device, non-contiguous, empty, other
        coefficient shapes): the caller then takes the eager path.
    """
    dtype = DTYPES.get(x.dtype)
    if (
        dtype is None
        or x.device.type != "cpu"
        or eps.device != x.device
        or eps.dtype != x.dtype
        or eps.shape != x.shape
        or not (x.is_contiguous() and eps.is_contiguous())
        or x.is_neg()
        or eps.is_neg()  # a lazily negated view has no numpy form
        or x.numel() == 0
    ):
        return None
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)) or x.ndim == 0:
            return None
        a_values = a.detach().reshape(-1).cpu().numpy().astype(dtype)
        b_values = b.detach().reshape(-1).cpu().numpy().astype(dtype)
        if not a_values.size == b_values.size == x.shape[0]:
            return None
    else:
        a_values, b_values = np.array([a], dtype), np.array([b], dtype)
    out = torch.empty_like(x)
    inner = x.numel() // a_values.size
    flat = [t.numpy().reshape(-1) for t in (x, eps, out)]
    with _launch_lock:
        numba.set_num_threads(min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS))
        _scaled_sum_kernel(flat[0], a_values, flat[1], b_values, flat[2], inner)
    return out
