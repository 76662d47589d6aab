"""The fused CUDA kernel of q(x_t | x_0): x_t = a·x0 + b·ε in one pass, written in Triton.

One pass reads x0 and ε once and writes x_t once, where eager torch needs two passes over the
output. For a batch of timesteps the kernel also gathers each sample's coefficients from the
tables itself, so q_sample queues this one launch and no small ops around it. Triton ships with
the CUDA builds of torch; :mod:`core.diffusion` imports this module on its first CUDA call and
falls back to eager torch when the import or a launch fails.
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
    t_ptr,
    a,
    b,
    n,
    inner,
    rows,
    PER_SAMPLE: tl.constexpr,
    GATHER: tl.constexpr,
    BLOCK: tl.constexpr,
):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n
    x = tl.load(x_ptr + offsets, mask=mask).to(tl.float32)
    eps = tl.load(eps_ptr + offsets, mask=mask).to(tl.float32)
    if PER_SAMPLE:
        row = offsets // inner  # the element's sample: its row of a and b
        inside = mask
        if GATHER:  # a and b are tables: the row is the sample's timestep
            row = tl.load(t_ptr + row, mask=mask)
            inside = mask & (row >= 0) & (row < rows)  # outside the tables: read nothing, 0
        x = x * tl.load(a_ptr + row, mask=inside, other=0.0).to(tl.float32)
        eps = eps * tl.load(b_ptr + row, mask=inside, other=0.0).to(tl.float32)
    else:
        x = x * a
        eps = eps * b
    tl.store(out_ptr + offsets, (x + eps).to(out_ptr.dtype.element_ty), mask=mask)


def scaled_sum(
    x: torch.Tensor,
    a: float | torch.Tensor,
    eps: torch.Tensor,
    b: float | torch.Tensor,
    index: torch.Tensor | None = None,
) -> torch.Tensor | None:
    """a·x + b·eps in one kernel, or None where the kernel does not apply.

    Args:
        x, eps: contiguous tensors of one shape and dtype (float16, bfloat16 or float32).
        a, b: floats for the whole tensor; or one value per sample (shape [B, 1, ...] against
            x's [B, ...]); or, with ``index``, contiguous 1-D tables on x's device.
        index: with tables a and b, the timesteps (int64, shape [B], on x's device): sample i
            takes a[index[i]] and b[index[i]], gathered by the kernel itself. A sample whose
            index is not a row of the tables reads nothing and comes out 0: the caller checks
            the range, and may finish that check after the launch.

    The coefficients are converted to float32 in the kernel and the arithmetic is float32, like
    eager torch's for these dtypes.

    Returns:
        A new tensor like x, or None (float64, non-contiguous, empty or ≥ 2^31 elements, other
        coefficient or index shapes, dtypes or devices): the caller then takes the eager path.
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
    gather = index is not None
    if per_sample:
        if (
            not isinstance(b, torch.Tensor)
            or x.ndim == 0
            or not (a.dtype.is_floating_point and b.dtype.is_floating_point)
        ):
            return None
        if gather:
            if not (
                index.dtype == torch.int64
                and index.shape == (x.shape[0],)
                and a.ndim == b.ndim == 1
                and a.is_contiguous()
                and b.is_contiguous()
                and index.device == a.device == b.device == x.device
            ):
                return None
            a_values, b_values, steps = a, b, index
        else:
            a_values = a.reshape(-1).to(device=x.device)
            b_values = b.reshape(-1).to(device=x.device)
            if not a_values.numel() == b_values.numel() == x.shape[0]:
                return None
            steps = a_values  # unused by the kernel
        a_scalar = b_scalar = 0.0
        inner = n // x.shape[0]
    elif gather:  # an index goes with tables
        return None
    else:
        a_values = b_values = steps = x  # unused by the kernel
        a_scalar, b_scalar = float(a), float(b)
        inner = n
    out = torch.empty_like(x)
    grid = (triton.cdiv(n, BLOCK),)
    rows = a_values.numel() if per_sample else 0
    args = (x, eps, out, a_values, b_values, steps, a_scalar, b_scalar, n, inner, rows)
    # Triton launches on the current device: switch to x's where it is another one. (CPU
    # tensors only under Triton's interpreter, TRITON_INTERPRET=1, in tests without a GPU.)
    other_device = x.is_cuda and x.device.index != torch.cuda.current_device()
    with torch.cuda.device(x.device) if other_device else contextlib.nullcontext():
        _scaled_sum_kernel[grid](*args, PER_SAMPLE=per_sample, GATHER=gather, BLOCK=BLOCK)
    return out
