"""Saving and comparing tensors between processes.

A bundle is `<name>.pt` (a flat list of tensors, loaded with torch.load(weights_only=True), which
refuses pickled code: a candidate process writes some of these files and the judge must not run
anything it wrote) plus `<name>.json` (the structure, with plain values inline; torch 1.13's safe
unpickler refuses Python floats, so nothing but tensors goes into the .pt file).
"""
from __future__ import annotations

import hashlib
import json
import os

_TENSOR_KEY = "__tensor__"


def save_bundle(torch, path: str, obj) -> None:
    tensors = []

    def encode(value):
        if isinstance(value, torch.Tensor):
            tensors.append(value.detach().to("cpu").contiguous())
            return {_TENSOR_KEY: len(tensors) - 1}
        if isinstance(value, dict):
            return {str(k): encode(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [encode(v) for v in value]
        return value

    structure = encode(obj)
    tmp = f"{path}.tmp"
    torch.save(tensors, tmp)
    os.replace(tmp, path)
    with open(f"{path}.json", "w", encoding="utf-8") as handle:
        json.dump(structure, handle)


def load_bundle(torch, path: str):
    tensors = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(tensors, list) or not all(isinstance(t, torch.Tensor) for t in tensors):
        raise ValueError(f"{path} is not a tensor bundle")
    with open(f"{path}.json", "r", encoding="utf-8") as handle:
        structure = json.load(handle)

    def decode(value):
        if isinstance(value, dict):
            if set(value) == {_TENSOR_KEY}:
                return tensors[value[_TENSOR_KEY]]
            return {k: decode(v) for k, v in value.items()}
        if isinstance(value, list):
            return [decode(v) for v in value]
        return value

    return decode(structure)


def cpu_copy(torch, t):
    """A contiguous CPU copy made in one allocation (no intermediate that would be freed holding
    the data: see check.py on why freed memory must never hold a correct answer)."""
    out = torch.empty(tuple(t.shape), dtype=t.dtype, device="cpu")
    out.copy_(t.detach())
    return out


def _int_view(torch, t):
    """The raw bits of a tensor as integers (bitwise comparison treats NaN == NaN, -0 != +0).
    A view, not a copy, when `t` is contiguous."""
    t = t.detach().contiguous()
    if t.is_floating_point():
        width = {8: torch.int64, 4: torch.int32, 2: torch.int16, 1: torch.int8}[t.element_size()]
        return t.view(width)
    if t.dtype == torch.bool:
        return t.view(torch.uint8)
    return t


def bits_equal(torch, a, b) -> bool:
    if not isinstance(a, torch.Tensor) or not isinstance(b, torch.Tensor):
        return type(a) is type(b) and (a == b or (a != a and b != b))
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    return bool(torch.equal(_int_view(torch, a.to("cpu")), _int_view(torch, b.to("cpu"))))


def digest(torch, value) -> str:
    """sha256 of a tensor's dtype, shape and bytes (or of a plain value's repr). Hashes the
    tensor's own memory when it is a contiguous CPU tensor (no copy)."""
    h = hashlib.sha256()
    if isinstance(value, torch.Tensor):
        t = _int_view(torch, value.detach().to("cpu"))
        h.update(f"{value.dtype}{tuple(value.shape)}".encode())
        h.update(t.numpy().reshape(-1).view("uint8") if t.numel() else b"")
    else:
        h.update(repr(value).encode())
    return h.hexdigest()
