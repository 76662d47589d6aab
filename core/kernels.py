"""The fused CUDA kernel of q(x_t | x_0): x_t = a·x0 + b·ε in one pass, written in Triton.

One pass reads x0 and ε once and writes x_t once, where eager torch needs two passes over the
output. Triton ships with the CUDA builds of torch; :mod:`core.diffusion` imports this module
on its first CUDA call and falls back to eager torch when the import or a launch fails.
"""

from __future__ import annotations

import contextlib

import torch
import triton
import triton.language as tl

BLOCK = 1024
DTYPES = (torch.float16, torch.bfloat16, torch.float32)


@triton.jit
def _scaled_sum_kernel(
    x_ptr,
    eps_ptr,
    out_ptr,
    a_ptr,
    b_ptr,
    a,
    b,
    n,
    inner,
    PER_SAMPLE: tl.constexpr,
    BLOCK: tl.constexpr,
):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n
    x = tl.load(x_ptr + offsets, mask=mask).to(tl.float32)
    eps = tl.load(eps_ptr + offsets, mask=mask).to(tl.float32)
    if PER_SAMPLE:
        sample = offsets // inner
        x = x * tl.load(a_ptr + sample, mask=mask)
        eps = eps * tl.load(b_ptr + sample, mask=mask)
    else:
        x = x * a
        eps = eps * b
    tl.store(out_ptr + offsets, (x + eps).to(out_ptr.dtype.element_ty), mask=mask)


def scaled_sum(
    x: torch.Tensor, a: float | torch.Tensor, eps: torch.Tensor, b: float | torch.Tensor
) -> torch.Tensor | None:
    """a·x + b·eps in one kernel, or None where the kernel does not apply.

    Args:
        x, eps: contiguous tensors of one shape and dtype (float16, bfloat16 or float32).
        a, b: floats for the whole tensor, or one value per sample (shape [B, 1, ...] against
            x's [B, ...]). Arithmetic is float32, like eager torch's for these dtypes.

    Returns:
        A new tensor like x, or None (float64, non-contiguous, empty or ≥ 2^31 elements, other
        coefficient shapes): the caller then takes the eager path.
    """
    n = x.numel()
    if (
        x.dtype not in DTYPES
        or eps.dtype != x.dtype
        or eps.shape != x.shape
        or not (x.is_contiguous() and eps.is_contiguous())
        or not 0 < n < 2**31
    ):
        return None
    per_sample = isinstance(a, torch.Tensor)
    if per_sample:
        if not isinstance(b, torch.Tensor) or x.ndim == 0:
            return None
        a_values = a.reshape(-1).to(device=x.device, dtype=torch.float32)
        b_values = b.reshape(-1).to(device=x.device, dtype=torch.float32)
        if not a_values.numel() == b_values.numel() == x.shape[0]:
            return None
        a_scalar = b_scalar = 0.0
        inner = n // x.shape[0]
    else:
        a_values = b_values = x  # unused by the kernel
        a_scalar, b_scalar = float(a), float(b)
        inner = n
    out = torch.empty_like(x)
    grid = (triton.cdiv(n, BLOCK),)
    args = (x, eps, out, a_values, b_values, a_scalar, b_scalar, n, inner)
    # CPU tensors only under Triton's interpreter (TRITON_INTERPRET=1), in tests without a GPU
    with torch.cuda.device(x.device) if x.is_cuda else contextlib.nullcontext():
        _scaled_sum_kernel[grid](*args, PER_SAMPLE=per_sample, BLOCK=BLOCK)
    return out
