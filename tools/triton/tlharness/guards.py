"""In-process observations around candidate code: memory poisoning, monkey-patch detection,
an audit hook, thread counting.

These run in the same process as the candidate, so a candidate that deliberately attacks the
harness could defeat them: they are flags, not proofs. The decisions that matter (correctness,
mutation, determinism, what the timed calls returned) are made outside the sandbox by the trusted
process from what the candidate's process produced, against truth it never held.
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
        # The harness's own modules: rebinding its timer or its checks through vars(module) shows here.
        targets.update({f"harness {name}": module for name, module in list(sys.modules.items()) if name == "tlharness" or name.startswith("tlharness.")})
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


_WATCHED = (
    "open", "import", "exec", "compile", "subprocess.Popen", "os.system", "os.fork", "os.forkpty", "os.exec", "os.posix_spawn",
    "os.spawn", "os.kill", "os.killpg", "socket.", "gc.get_objects", "gc.get_referrers", "gc.get_referents",
    "sys._current_frames", "sys.settrace", "sys.setprofile", "object.__getattr__", "object.__setattr__", "object.__delattr__",
    "ctypes.", "marshal.loads",
)
# Raised by library code on the candidate's behalf all the time (warnings, typing, dataclasses,
# importlib, torch): recorded only when the candidate's own line made the call. sys._getframe is
# not watched at all: the hook calls it itself (a watched event raised inside the hook would need a
# re-entrancy switch, and a switch is what a candidate flips); the static scan flags it instead.
_IMMEDIATE_ONLY = ("exec", "compile", "gc.", "sys._current_frames", "sys.settrace", "sys.setprofile",
                   "object.__getattr__", "ctypes.", "marshal.loads")
_FUNCTION_ATTRS = ("__code__", "__defaults__", "__kwdefaults__", "__closure__", "__globals__")
_HARNESS_MODULES = ("tlharness", "harness", "tuneloop_reference_model")
MAX_FRAMES = 64


def install_audit(candidate_path: str, allowed_roots: list, reference_modules: list, fd: int) -> None:
    """Stream what the candidate does that cheats need, as {"event": "audit"} lines on the result
    channel, from the moment it is imported to the end of the process.

    An audit hook cannot be removed, and this one keeps no switch and no state: every event is
    written out at once (nothing to erase later), and changing the function itself (its code or
    defaults, found through the garbage collector) raises audited events that are streamed first. Events are
    attributed by the call stack: opens, imports, processes and function patches count when a frame
    of the candidate's file is on the stack (or another thread made them); introspection and dynamic
    code only when the candidate's own line made the call (library code does it all the time).
    Opens of the system, the Python installation, the sandbox's own folders and TMPDIR are normal
    and left out. A flag, not a proof: the defence is that nothing trusted exists in the sandbox.
    """
    import json.encoder
    import threading

    own = os.path.realpath(candidate_path)
    roots = tuple(os.path.realpath(r).rstrip(os.sep) + os.sep for r in allowed_roots if r)
    stems = frozenset(list(reference_modules) + list(_HARNESS_MODULES))

    def hook(event, args, _getframe=sys._getframe, _write=os.write, _fd=fd, _own=(own, os.path.dirname(own) + os.sep + "__pycache__"),
             _roots=roots, _stems=stems, _watched=_WATCHED, _immediate=_IMMEDIATE_ONLY, _attrs=_FUNCTION_ATTRS, _enc=json.encoder.encode_basestring_ascii,
             _realpath=os.path.realpath, _fsdecode=os.fsdecode, _ident=threading.get_ident, _main=threading.main_thread().ident, _isinstance=isinstance,
             _str=str, _repr=repr):
        if not event.startswith(_watched):
            return
        try:
            frame = _getframe(1)
            immediate = frame is not None and frame.f_code.co_filename.startswith(_own)
            if event.startswith(_immediate):
                if not immediate:
                    return
                on_stack = True
            else:
                on_stack = immediate or _ident() != _main
                depth = 0
                while not on_stack and frame is not None and depth < MAX_FRAMES:
                    on_stack = frame.f_code.co_filename.startswith(_own)
                    frame = frame.f_back
                    depth += 1
                if not on_stack:
                    return
            detail = ""
            if event == "open":
                path = args[0] if args else None
                if not _isinstance(path, (str, bytes)):
                    return
                real = _realpath(_fsdecode(path))
                if real.startswith(_own) or (real + "/").startswith(_roots):
                    return
                detail = _fsdecode(path)
            elif event == "import":
                name = _str(args[0]) if args else ""
                if name.split(".")[0] not in _stems:
                    return
                detail = name
            elif event.startswith("object."):
                name = _str(args[1]) if len(args) > 1 else ""
                if event != "object.__getattr__" and name not in _attrs:
                    return
                detail = name
            elif event.startswith(("subprocess", "os.exec", "os.posix_spawn", "os.spawn", "os.system")) and args:
                detail = _repr(args[1] if len(args) > 1 and not event.startswith("os.system") else args[0])
            else:
                detail = event
            line = '{"event": "audit", "name": %s, "detail": %s}\n' % (_enc(event), _enc(detail[:300]))
            _write(_fd, line.encode("ascii"))
        except BaseException:
            pass

    sys.addaudithook(hook)


def python_thread_ids() -> set:
    return set(sys._current_frames())


def native_thread_count() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return -1
