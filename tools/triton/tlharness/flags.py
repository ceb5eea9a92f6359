"""Flags from what the check process observed at run time (see guards.py): in-process
observations, so flags rather than verdicts of their own."""
from __future__ import annotations

import os

# Processes Triton and torch start themselves while compiling (ptxas, the C compiler for the
# launcher stub, ldconfig behind ctypes.util.find_library).
TOOLCHAIN = {"ptxas", "nvdisasm", "cuobjdump", "nvcc", "gcc", "cc", "clang", "g++", "c++", "ld", "ld.lld", "ldconfig",
             "ldconfig.real", "hipcc", "ld.gold", "uname", "nvidia-smi", "rocm-smi", "lld", "x86_64-linux-gnu-gcc"}


def runtime_flags(report: dict, meta: dict) -> list:
    flags = []

    def flag(code, severity, detail):
        flags.append({"code": code, "severity": severity, "source": "runtime", "detail": detail})

    if report.get("patched"):
        flag("patched_functions", "suspicious", "functions of torch/time/triton/builtins were replaced while the candidate ran: " + ", ".join(report["patched"][:10]))
    if report.get("settings_changed"):
        flag("global_settings_changed", "warning", "process-wide torch settings changed: " + "; ".join(report["settings_changed"][:5]))
    events = (report.get("audit") or {}).get("events") or []
    reference = [e for e in events if e["event"] in ("open", "import")]
    if reference:
        flag("reference_access", "suspicious", "the candidate opened or imported the case's reference files: " + ", ".join(sorted({e["detail"] for e in reference})[:5]))
    processes = [e for e in events if e["event"].startswith(("subprocess", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork"))]
    foreign = [e for e in processes if _program(e["detail"]) not in TOOLCHAIN]
    if foreign:
        flag("processes_started", "suspicious", "the candidate started processes: " + ", ".join(e["detail"] or e["event"] for e in foreign[:5]))
    for code, prefix, what in (("network", "socket.", "opened network connections"), ("heap_introspection", "gc.", "walked the garbage collector's heap"),
                               ("patched_functions", "object.__setattr__", "replaced a function's code")):
        hits = [e for e in events if e["event"].startswith(prefix)]
        if hits:
            flag(code, "suspicious", f"the candidate {what}: " + ", ".join(e["detail"] or e["event"] for e in hits[:5]))
    threads = report.get("threads") or {}
    alive = [c["label"] for c in report.get("calls", []) if c.get("threads_alive_after")]
    if alive or threads.get("python_threads_started"):
        flag("threads_started", "suspicious", "Python threads started by the candidate were still running after forward returned"
             + (f" ({', '.join(alive[:4])})" if alive else ""))
    return flags


def _program(detail: str) -> str:
    """The program name out of an argv repr such as "['ptxas', '-v', ...]" or "'/usr/bin/gcc'"."""
    text = (detail or "").strip("[]() ")
    first = text.split(",")[0].strip().strip("'\"b")
    return os.path.basename(first)
