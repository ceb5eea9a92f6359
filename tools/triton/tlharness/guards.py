"""In-process observations around candidate code: memory poisoning, monkey-patch detection,
an audit hook, thread counting.

These run in the same process as the candidate, so a candidate that deliberately attacks the
harness could defeat them: they are flags, not proofs. The decisions that matter (correctness,
mutation, determinism) are made by the judge process from saved tensors, and the judge never
imports candidate code.
"""
from __future__ import annotations

import builtins
import hashlib
import json
import os
import sys
import time

_NAN = float("nan")


def warm_thread_pools(torch) -> None:
    """Start torch's intra-op pool before the candidate runs, so threads it starts are its own."""
    a = torch.ones(1 << 16)
    (a * 2).sum()
    torch.ones(64, 64) @ torch.ones(64, 64)


def poison(torch, device: str, sizes: list) -> None:
    """Allocate buffers of the outputs' sizes, fill them with NaN and free them, so an output the
    candidate forgets to write holds NaN (or, where the allocator returns fresh pages, zeros)
    rather than leftovers that might happen to be right."""
    buffers = []
    for nbytes in sizes:
        for _ in range(2):
            t = torch.empty(max(1, (int(nbytes) + 3) // 4), dtype=torch.float32, device=device)
            t.fill_(_NAN)
            buffers.append(t)
    if device == "cuda":
        torch.cuda.synchronize()
    del buffers


class PatchWatch:
    """Remembers every callable attribute of the modules and classes timing and comparison rely
    on; `changes()` lists those replaced or deleted since (timer patching, swapped torch ops)."""

    def __init__(self, torch, extra: dict | None = None):
        self.torch = torch
        self.watched = self._targets(torch, extra or {})
        self.before = {label: {k: v for k, v in vars(obj).items() if callable(v)} for label, obj in self.watched.items()}
        self.settings_before = global_settings(torch)

    @staticmethod
    def _targets(torch, extra: dict) -> dict:
        targets = {
            "torch": torch,
            "torch.nn.functional": torch.nn.functional,
            "torch.Tensor": torch.Tensor,
            "torch.nn.Module": torch.nn.Module,
            "torch.cuda": torch.cuda,
            "torch.cuda.Event": torch.cuda.Event,
            "torch.utils.benchmark": sys.modules.get("torch.utils.benchmark"),
            "torch.profiler": sys.modules.get("torch.profiler"),
            "time": time,
            "builtins": builtins,
            "hashlib": hashlib,
            "json": json,
            "os": os,
            "triton": sys.modules.get("triton"),
            "triton.testing": sys.modules.get("triton.testing"),
        }
        targets.update(extra)
        return {k: v for k, v in targets.items() if v is not None}

    def changes(self) -> list:
        found = []
        for label, names in self.before.items():
            now = vars(self.watched[label])
            for name, value in names.items():
                if now.get(name, None) is not value:
                    found.append(f"{label}.{name}")
        return sorted(found)

    def settings_changes(self) -> list:
        now = global_settings(self.torch)
        return [f"{k}: {self.settings_before[k]!r} -> {now[k]!r}" for k in self.settings_before if now.get(k) != self.settings_before[k]]


def global_settings(torch) -> dict:
    """Process-wide numerics and threading knobs a candidate could flip to its advantage. Each is
    read on its own: a knob a torch version renamed reads as None instead of failing the check."""
    readers = {
        "default_dtype": lambda: str(torch.get_default_dtype()),
        "num_threads": torch.get_num_threads,
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled,
        "cuda.matmul.allow_tf32": lambda: torch.backends.cuda.matmul.allow_tf32,
        "cudnn.allow_tf32": lambda: torch.backends.cudnn.allow_tf32,
        "cudnn.benchmark": lambda: torch.backends.cudnn.benchmark,
        "float32_matmul_precision": lambda: torch.get_float32_matmul_precision(),
    }
    out = {}
    for name, read in readers.items():
        try:
            out[name] = read()
        except Exception:
            out[name] = None
    return out


_WATCHED_EVENTS = (
    "subprocess.Popen", "os.system", "os.fork", "os.forkpty", "os.exec", "os.posix_spawn", "os.spawn",
    "socket.connect", "socket.bind", "gc.get_objects", "gc.get_referrers", "object.__setattr__",
)
MAX_EVENTS = 500


class AuditLog:
    """A sys.addaudithook recorder (hooks cannot be removed). It records, while switched on, file
    opens under the sensitive roots (the case folder, the reference outputs), imports of modules
    named like the case's model file, processes started (Triton's own compiler calls included: the
    judge tells them apart), sockets, heap walks, and swaps of a function's __code__ (a patch that
    keeps the function object, so PatchWatch cannot see it). sys._getframe is left out: warnings
    and typing call it all the time; the static scan flags it instead."""

    def __init__(self, sensitive_roots: list, module_names: list, own_file: str):
        self.roots = tuple(os.path.realpath(r) + os.sep for r in sensitive_roots if r)
        own = os.path.realpath(own_file)
        self.own = (own, os.path.join(os.path.dirname(own), "__pycache__") + os.sep)
        self.module_names = frozenset(module_names)
        self.events = []
        self.dropped = 0
        self.recording = False
        sys.addaudithook(self._hook)

    def _hook(self, event, args):
        if not self.recording:
            return
        if event == "open":
            path = args[0]
            if isinstance(path, (str, bytes)) and self.roots:
                text = os.fsdecode(path)
                real = os.path.realpath(text)
                if real == self.own[0] or real.startswith(self.own[1]):
                    return  # the candidate's own source and bytecode
                if real.startswith(self.roots) or (real + os.sep) in self.roots:
                    self._add(event, text)
            return
        if event == "import":
            if args and str(args[0]).split(".")[0] in self.module_names:
                self._add(event, str(args[0]))
            return
        if event.startswith(_WATCHED_EVENTS):
            detail = ""
            if event == "object.__setattr__":
                if len(args) < 2 or args[1] != "__code__":
                    return  # dataclasses and friends set class attributes all the time
                detail = f"{getattr(args[0], '__module__', '?')}.{getattr(args[0], '__qualname__', '?')}.__code__"
            elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn") and args:
                detail = repr(args[0])[:200] if event == "os.system" else repr(args[1] if len(args) > 1 else args[0])[:200]
            self._add(event, detail)

    def _add(self, event: str, detail: str) -> None:
        if len(self.events) < MAX_EVENTS:
            self.events.append({"event": event, "detail": detail})
        else:
            self.dropped += 1


def python_thread_ids() -> set:
    return set(sys._current_frames())


def native_thread_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return -1
