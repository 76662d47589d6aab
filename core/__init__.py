"""Forward diffusion (DDPM) in numpy + torch: schedules, q(x_t|x_0), the Markov chain, the posterior.

Importable without Streamlit or Plotly, so it also runs on GPU machines without a web stack.
"""

from core.device import DeviceError, describe_device, pick_device
from core.diffusion import ForwardDiffusion
from core.schedules import (
    SCHEDULES,
    beta_schedule,
    rescale_zero_terminal_snr,
    schedule_params,
    validate_betas,
)

__all__ = [
    "SCHEDULES",
    "DeviceError",
    "ForwardDiffusion",
    "beta_schedule",
    "describe_device",
    "pick_device",
    "rescale_zero_terminal_snr",
    "schedule_params",
    "validate_betas",
]
