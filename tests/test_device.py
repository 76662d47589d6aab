"""Choosing the device: DIFFUSION_DEVICE, explicit choices, and clear errors."""

from __future__ import annotations

import pytest
import torch

import core.device as device_module
from core import DeviceError, ForwardDiffusion, describe_device, pick_device

HAS_CUDA = torch.cuda.is_available()


@pytest.fixture
def no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend this is a machine without CUDA or MPS, whatever it really is."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(device_module, "_mps_available", lambda: False)


@pytest.fixture
def one_fake_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)


def test_env_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIFFUSION_DEVICE", "cpu")
    assert pick_device() == torch.device("cpu")
    assert ForwardDiffusion(10).device == torch.device("cpu")


@pytest.mark.parametrize("value", ["auto", "AUTO", " auto ", ""])
def test_env_auto_is_cpu_without_a_gpu(monkeypatch, no_gpu, value: str) -> None:
    monkeypatch.setenv("DIFFUSION_DEVICE", value)
    assert pick_device() == torch.device("cpu")


def test_unset_env_is_auto(monkeypatch, no_gpu) -> None:
    monkeypatch.delenv("DIFFUSION_DEVICE", raising=False)
    assert pick_device() == torch.device("cpu")
    assert pick_device(None) == torch.device("cpu")


def test_auto_prefers_cuda(monkeypatch, one_fake_gpu) -> None:
    monkeypatch.setenv("DIFFUSION_DEVICE", "auto")
    assert pick_device() == torch.device("cuda")
    assert pick_device("cuda:0") == torch.device("cuda:0")


def test_auto_takes_mps_without_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(device_module, "_mps_available", lambda: True)
    assert pick_device("auto") == torch.device("mps")
    assert pick_device("mps") == torch.device("mps")


@pytest.mark.parametrize("value", ["cuda", "cuda:0", "CUDA"])
def test_cuda_without_cuda_is_a_clear_error(monkeypatch, no_gpu, value: str) -> None:
    monkeypatch.setenv("DIFFUSION_DEVICE", value)
    with pytest.raises(
        DeviceError, match="CUDA was asked for, but torch sees no usable NVIDIA GPU"
    ):
        pick_device()
    with pytest.raises(DeviceError, match="no usable NVIDIA GPU"):
        ForwardDiffusion(10)


def test_cuda_index_beyond_the_devices(one_fake_gpu) -> None:
    with pytest.raises(DeviceError, match=r"cuda:3 was asked for, but there are 1 CUDA device"):
        pick_device("cuda:3")


def test_mps_without_mps(no_gpu) -> None:
    with pytest.raises(DeviceError, match="MPS was asked for"):
        pick_device("mps")


@pytest.mark.parametrize("value", ["gpu", "tpu", "cuda:x", "cpu:0", "cuda:", "cuda:-1", "mps:1"])
def test_garbage_names_the_choices(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("DIFFUSION_DEVICE", value)
    with pytest.raises(DeviceError, match="DIFFUSION_DEVICE") as info:
        pick_device()
    for choice in ("auto", "cpu", "cuda", "mps", "cuda:N"):
        assert choice in str(info.value)
    assert repr(value) in str(info.value)


def test_explicit_choice_beats_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIFFUSION_DEVICE", "garbage")
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device(torch.device("cpu")) == torch.device("cpu")
    assert ForwardDiffusion(10, device="cpu").device == torch.device("cpu")


def test_device_error_is_a_value_error() -> None:
    assert issubclass(DeviceError, ValueError)


def test_describe_device() -> None:
    assert describe_device(torch.device("cpu")) == "CPU"
    assert describe_device(torch.device("mps")) == "Apple GPU (MPS)"


@pytest.mark.skipif(not HAS_CUDA, reason="needs CUDA")
@pytest.mark.gpu
def test_describe_cuda() -> None:
    assert describe_device(torch.device("cuda")).startswith("GPU: ")


def test_a_device_that_is_not_a_name_is_a_clear_error() -> None:
    for choice in (0, 1.5, ["cpu"]):
        with pytest.raises(DeviceError, match="a device is a name or a torch.device"):
            pick_device(choice)  # type: ignore[arg-type]
