"""Saving and comparing tensors between processes.

A bundle is `<name>.pt` (a flat list of tensors, loaded with torch.load(weights_only=True), which
refuses pickled code: a candidate process writes some of these files and the judge must not run
anything it wrote) plus `<name>.json` (the structure, with plain values inline; torch 1.13's safe
unpickler refuses Python floats, so nothing but tensors goes into the .pt file).

Reading: the reference cache is read through `read_verified` (every byte checked against the
SHA-256 recorded when it was written); files from a candidate's sandbox through `read_untrusted`
(a regular file, never a symlink, within a size bound: the sandbox could plant a link to the
expected outputs and let the judge read the truth as the candidate's answer).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import stat

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


def bundle_files(name: str) -> list:
    """The two files of bundle `name`."""
    return [name, f"{name}.json"]


def load_bundle(torch, path: str):
    with open(path, "rb") as handle:
        data = handle.read()
    with open(f"{path}.json", "rb") as handle:
        text = handle.read()
    return decode_bundle(torch, data, text, path)


def decode_bundle(torch, data: bytes, structure_text: bytes, where: str):
    tensors = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    if not isinstance(tensors, list) or not all(isinstance(t, torch.Tensor) for t in tensors):
        raise ValueError(f"{where} is not a tensor bundle")
    structure = json.loads(structure_text.decode("utf-8"))

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


class IntegrityError(Exception):
    """A cached file whose bytes no longer hash to what was recorded when it was written."""

    def __init__(self, name: str, expected: str | None, actual: str | None):
        super().__init__(f"{name}: expected sha256 {expected}, found {actual}")
        self.name = name
        self.expected = expected
        self.actual = actual


def read_verified(folder: str, name: str, digests: dict) -> bytes:
    """The bytes of folder/name, if they hash to digests[name]; IntegrityError otherwise."""
    expected = digests.get(name)
    try:
        data = _read_regular(os.path.join(folder, name), None)
    except OSError as error:
        raise IntegrityError(name, expected, f"unreadable ({error.strerror or error})")
    actual = hashlib.sha256(data).hexdigest()
    if expected != actual:
        raise IntegrityError(name, expected, actual)
    return data


def read_untrusted(path: str, max_bytes: int) -> bytes:
    """A file a sandboxed process wrote: regular, not a symlink, at most max_bytes."""
    return _read_regular(path, max_bytes)


def load_untrusted_bundle(torch, path: str, max_bytes: int):
    return decode_bundle(torch, read_untrusted(path, max_bytes), read_untrusted(f"{path}.json", max(1 << 20, max_bytes // 8)), path)


def _read_regular(path: str, max_bytes):
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"{path} is not a regular file")
        if max_bytes is not None and info.st_size > max_bytes:
            raise OSError(f"{path} is {info.st_size} bytes, above the {max_bytes} expected")
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 24)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def storage_span(torch, t):
    """(start, end) of the memory behind t's storage, or None (no storage: sparse, meta...)."""
    try:
        storage = t.untyped_storage() if hasattr(t, "untyped_storage") else t.storage()
        start = storage.data_ptr()
        return (start, start + storage.nbytes())
    except Exception:
        return None


def shares_storage(torch, a, b) -> bool:
    """Whether tensors a and b live in overlapping memory on the same device (views, aliases)."""
    if a.device != b.device:
        return False
    sa, sb = storage_span(torch, a), storage_span(torch, b)
    return bool(sa and sb and sa[0] < sb[1] and sb[0] < sa[1] and sa[0] != sa[1])
