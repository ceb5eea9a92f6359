"""Flags from what the candidate's process observed at run time (guards.py): its report (patched
functions, changed settings, threads) and the audit events it streamed. In-process observations,
so flags rather than verdicts of their own."""
from __future__ import annotations

import os

# Processes Triton and torch start themselves while compiling (ptxas, the C compiler for the
# launcher stub, ldconfig behind ctypes.util.find_library).
TOOLCHAIN = {"ptxas", "nvdisasm", "cuobjdump", "nvcc", "gcc", "cc", "clang", "g++", "c++", "ld", "ld.lld", "ldconfig",
             "ldconfig.real", "hipcc", "ld.gold", "uname", "nvidia-smi", "rocm-smi", "lld", "x86_64-linux-gnu-gcc"}
PROCESS_EVENTS = ("subprocess", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork")
INTROSPECTION_EVENTS = ("sys._getframe", "sys._current_frames", "sys.settrace", "sys.setprofile", "object.__getattr__")
DYNAMIC_EVENTS = ("exec", "compile", "marshal.loads", "ctypes.")
HARNESS_MODULES = ("tlharness", "harness")


def runtime_flags(report: dict, events: list, sensitive: list) -> list:
    flags = []

    def flag(code, severity, detail):
        flags.append({"code": code, "severity": severity, "source": "runtime", "detail": detail})

    def named(prefixes):
        return [e for e in events if str(e.get("name", "")).startswith(prefixes)]

    def details(hits, n=5):
        return ", ".join(sorted({str(e.get("detail") or e.get("name")) for e in hits})[:n])

    if report.get("patched"):
        flag("patched_functions", "suspicious", "functions of torch/time/triton/builtins or of the harness were replaced while the candidate ran: " + ", ".join(report["patched"][:10]))
    if report.get("settings_changed"):
        flag("global_settings_changed", "warning", "process-wide torch settings changed: " + "; ".join(report["settings_changed"][:5]))
    roots = tuple(os.path.realpath(p) for p in sensitive if p)
    opens = named(("open",))
    reference = [e for e in opens if str(e.get("detail", "")).startswith(roots) or "expected.pt" in str(e.get("detail", ""))]
    imports = named(("import",))
    reference += [e for e in imports if str(e.get("detail", "")).split(".")[0] not in HARNESS_MODULES]
    if reference:
        flag("reference_access", "suspicious", "the candidate tried to open or import the reference's files or the data dir: " + details(reference))
    harness = [e for e in imports if str(e.get("detail", "")).split(".")[0] in HARNESS_MODULES]
    if harness:
        flag("harness_access", "suspicious", "the candidate imported tuneloop's harness modules: " + details(harness))
    elsewhere = [e for e in opens if e not in reference]
    if elsewhere:
        flag("file_access", "suspicious", "the candidate opened files outside the system, Python and its own folders: " + details(elsewhere))
    processes = [e for e in named(PROCESS_EVENTS) if _program(str(e.get("detail", ""))) not in TOOLCHAIN]
    if processes:
        flag("processes_started", "suspicious", "the candidate started processes: " + details(processes))
    for code, prefixes, what in (
        ("network", ("socket.",), "used the network"),
        ("heap_introspection", ("gc.",), "walked the garbage collector's heap"),
        ("frame_introspection", INTROSPECTION_EVENTS, "inspected stack frames or installed tracing hooks"),
        ("patched_functions", ("object.__setattr__", "object.__delattr__"), "replaced a function's code, defaults or closure"),
        ("dynamic_code", DYNAMIC_EVENTS, "ran code built at run time or native code through ctypes"),
        ("signals_sent", ("os.kill", "os.killpg"), "sent signals to processes"),
    ):
        hits = named(prefixes)
        if hits:
            flag(code, "suspicious", f"the candidate {what}: " + details(hits))
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
