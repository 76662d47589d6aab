"""Forward diffusion (DDPM) in numpy + torch: schedules, q(x_t|x_0), the Markov chain, the posterior.

Importable without Streamlit or Plotly, so it also runs on GPU machines without a web stack.
The names below load their module on first use: ``core.i18n`` alone loads neither numpy nor
torch, so the app can draw its menu before those load.
"""

from __future__ import annotations

import importlib
from typing import Any

_MODULES = {
    "SCHEDULES": "core.schedules",
    "DeviceError": "core.device",
    "ForwardDiffusion": "core.diffusion",
    "beta_schedule": "core.schedules",
    "describe_device": "core.device",
    "pick_device": "core.device",
    "rescale_zero_terminal_snr": "core.schedules",
    "schedule_params": "core.schedules",
    "validate_betas": "core.schedules",
}

__all__ = list(_MODULES)


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_MODULES})
