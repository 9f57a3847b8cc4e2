"""Device choice and DJL's way of printing a device."""

from __future__ import annotations

import torch

from djl_bridge.config import ConfigError


def resolve_device(name: str) -> torch.device:
    """ "auto" -> cuda when available, else cpu; "cuda" without CUDA is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"--device {name}: CUDA is not available on this machine")
    return device


def djl_device_name(device: torch.device | str) -> str:
    """``cpu()`` or ``gpu(N)``, as DJL's ``Device.toString()``."""
    device = torch.device(device)
    if device.type == "cuda":
        return f"gpu({device.index or 0})"
    return f"{device.type}()"
