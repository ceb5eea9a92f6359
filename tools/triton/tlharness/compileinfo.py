"""What Triton compiled for the candidate: kernel name, registers, spills, shared memory,
num_warps/num_stages, the autotuner's pick, and the PTX (or AMDGCN) saved to a folder.

NOT EXERCISED ON THE CI MACHINE (no GPU, no triton): written against triton's sources. Compiled
kernels live in each JITFunction's per-device cache: `device_caches[device][0]` (a dict key ->
CompiledKernel) in triton >= 3.2, `cache[device]` (same dict) in 2.1 .. 3.1. A CompiledKernel's
`metadata` is a namedtuple in 3.x and a dict in 2.x; `n_regs`/`n_spills` are set when the binary
is loaded (`_init_handles`, lazily in 3.x). Every access is guarded: a field triton renamed comes
back as null, it does not fail the check.
"""
from __future__ import annotations

import os
import re
import sys


def collect_kernels(module, out_dir: str) -> dict:
    if "triton" not in sys.modules:
        return {"available": False, "note": "the candidate did not import triton", "kernels": []}
    kernels, seen = [], set()
    for name, value in list(vars(module).items()):
        jit, best = _unwrap(value)
        if jit is None or id(jit) in seen:
            continue
        seen.add(id(jit))
        for compiled in _compiled(jit):
            kernels.append(_describe(compiled, name, best, out_dir, len(kernels)))
    note = None if kernels else "no compiled Triton kernel found in the candidate module's globals (interpret mode, or kernels defined elsewhere)"
    return {"available": bool(kernels), "note": note, "kernels": kernels}


def _unwrap(value):
    best = None
    for _ in range(6):
        kind = type(value).__name__
        if kind == "JITFunction":
            return value, best
        if kind in ("Autotuner", "Heuristics"):
            if kind == "Autotuner" and best is None:
                best = getattr(value, "best_config", None)
            value = getattr(value, "fn", None)
            continue
        return None, None
    return None, None


def _compiled(jit):
    caches = []
    device_caches = getattr(jit, "device_caches", None)
    if isinstance(device_caches, dict):
        for entry in device_caches.values():
            cache = entry[0] if isinstance(entry, (tuple, list)) and entry else entry
            if isinstance(cache, dict):
                caches.append(cache)
    legacy = getattr(jit, "cache", None)
    if isinstance(legacy, dict):
        caches += [c for c in legacy.values() if isinstance(c, dict)]
    for cache in caches:
        for kernel in list(cache.values()):
            try:
                if hasattr(kernel, "result") and callable(kernel.result):
                    kernel = kernel.result()  # async compile futures (triton >= 3.4)
            except Exception:
                continue
            yield kernel


def _field(kernel, name):
    metadata = getattr(kernel, "metadata", None)
    if isinstance(metadata, dict) and name in metadata:
        return metadata[name]
    if metadata is not None and hasattr(metadata, name):
        return getattr(metadata, name)
    return getattr(kernel, name, None)


def _describe(kernel, via: str, best, out_dir: str, index: int) -> dict:
    if getattr(kernel, "n_regs", None) is None and hasattr(kernel, "_init_handles"):
        try:
            kernel._init_handles()
        except Exception:
            pass
    name = _field(kernel, "name") or via
    info = {
        "name": str(name),
        "python_name": via,
        "n_regs": _int(getattr(kernel, "n_regs", None)),
        "n_spills": _int(getattr(kernel, "n_spills", None)),
        "shared_bytes": _int(_field(kernel, "shared")),
        "num_warps": _int(_field(kernel, "num_warps")),
        "num_stages": _int(_field(kernel, "num_stages")),
        "best_config": str(best) if best is not None else None,
        "asm_path": None,
    }
    asm = getattr(kernel, "asm", None) or {}
    for key in ("ptx", "amdgcn"):
        text = asm.get(key) if hasattr(asm, "get") else None
        if isinstance(text, (str, bytes)):
            os.makedirs(out_dir, exist_ok=True)
            safe = re.sub(r"[^A-Za-z0-9_.-]", "_", str(name))[:80]
            path = os.path.join(out_dir, f"{index:02d}-{safe}.{key}")
            with open(path, "wb") as handle:
                handle.write(text if isinstance(text, bytes) else text.encode())
            info["asm_path"] = path
            break
    return info


def _int(value):
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
