"""Choosing the torch device: CUDA, else Apple MPS, else CPU, unless ``DIFFUSION_DEVICE`` says."""

from __future__ import annotations

import os
from typing import Literal

import torch

DeviceChoice = Literal["auto", "cpu", "cuda", "mps"]
DEVICE_CHOICES: tuple[str, ...] = ("auto", "cpu", "cuda", "mps")
ENV_VAR = "DIFFUSION_DEVICE"


class DeviceError(ValueError):
    """The requested device does not exist or cannot be used on this machine."""


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def pick_device(choice: str | torch.device | None = None) -> torch.device:
    """The device to compute on.

    ``choice`` (or, when it is None, the environment variable ``DIFFUSION_DEVICE``) is one of
    ``auto`` (the default: CUDA, else MPS, else CPU), ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
    A device that is asked for by name but cannot be used raises :class:`DeviceError`.
    """
    if isinstance(choice, torch.device):
        choice = str(choice)
    if choice is None:
        choice = os.environ.get(ENV_VAR, "auto")
    if not isinstance(choice, str):
        raise DeviceError(f"a device is a name or a torch.device, got {choice!r:.60}")
    text = choice.strip().lower() or "auto"
    kind, colon, index = text.partition(":")
    if kind not in DEVICE_CHOICES or (colon and (kind != "cuda" or not index.isdigit())):
        raise DeviceError(
            f"unknown device {choice!r} (from {ENV_VAR} or the caller); "
            f"valid: {', '.join(DEVICE_CHOICES)} or cuda:N"
        )
    if kind == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError("CUDA was asked for, but torch sees no usable NVIDIA GPU")
        if index and int(index) >= torch.cuda.device_count():
            raise DeviceError(
                f"{text} was asked for, but there are {torch.cuda.device_count()} CUDA device(s)"
            )
        return torch.device(text)
    if kind == "mps" and not _mps_available():
        raise DeviceError("MPS was asked for, but this torch build or machine has no Apple GPU")
    return torch.device(kind)


def describe_device(device: torch.device) -> str:
    """A short label for a badge: 'GPU: NVIDIA H100 80GB HBM3', 'Apple GPU (MPS)' or 'CPU'."""
    if device.type == "cuda":
        return f"GPU: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return "CPU"
