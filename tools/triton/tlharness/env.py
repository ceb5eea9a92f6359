"""What this interpreter has: torch, triton, CUDA, PyYAML. Missing pieces are EnvironmentMissing
errors that name what to install."""
from __future__ import annotations

import os
import platform
import sys

from .protocol import EnvironmentMissing

TORCH_REMEDY = (
    "install PyTorch for {python} (pip install torch; on Debian/Ubuntu apt-get install python3-torch for "
    "/usr/bin/python3), or set TUNELOOP_PYTHON to an interpreter that has it"
)


def require_torch():
    try:
        import torch  # noqa: F401
    except Exception as error:  # ImportError, or a broken install raising anything
        raise EnvironmentMissing(
            f"PyTorch is not importable by {sys.executable}: {error}",
            TORCH_REMEDY.format(python=sys.executable),
        )
    return torch


def require_yaml():
    try:
        import yaml  # noqa: F401
    except Exception as error:
        raise EnvironmentMissing(
            f"PyYAML is not importable by {sys.executable}: {error}",
            f"pip install pyyaml (apt-get install python3-yaml for /usr/bin/python3), or set TUNELOOP_PYTHON",
        )
    return yaml


def optional_triton():
    """The triton module, or None. Importing it works without a GPU; launching needs a driver."""
    try:
        import triton  # noqa: F401

        return triton
    except Exception:
        return None


def require_triton(why: str):
    triton = optional_triton()
    if triton is None:
        raise EnvironmentMissing(
            f"triton is not importable by {sys.executable}, and {why}.",
            "pip install triton (Linux x86-64/aarch64; kernels need an NVIDIA or AMD GPU, TRITON_INTERPRET=1 runs them on the CPU, correctness only)",
        )
    return triton


def is_interpret() -> bool:
    return os.environ.get("TRITON_INTERPRET", "") not in ("", "0")


def resolve_device(torch, requested: str) -> str:
    if requested == "cuda":
        if not torch.cuda.is_available():
            raise EnvironmentMissing(
                f"CUDA was requested but torch {torch.__version__} sees no CUDA device "
                f"(CUDA build: {torch.version.cuda or 'no'}).",
                "run on a host with an NVIDIA GPU and driver, with a CUDA build of torch "
                "(pip install torch from the CUDA wheel index); or use device cpu",
            )
        return "cuda"
    if requested == "cpu":
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def versions(torch=None) -> dict:
    """Versions for archives and run contexts: never raises."""
    out = {
        "python": platform.python_version(),
        "executable": sys.executable,
        "torch": None,
        "torch_cuda": None,
        "cuda_available": False,
        "device_name": None,
        "device_capability": None,
        "cuda_driver_api": None,
        "triton": None,
        "numpy": None,
        "interpret": is_interpret(),
    }
    if torch is None:
        try:
            import torch  # noqa: F811
        except Exception:
            torch = None
    if torch is not None:
        out["torch"] = torch.__version__
        out["torch_cuda"] = torch.version.cuda
        try:
            out["cuda_available"] = bool(torch.cuda.is_available())
            if out["cuda_available"]:
                index = torch.cuda.current_device()
                out["device_name"] = torch.cuda.get_device_name(index)
                out["device_capability"] = list(torch.cuda.get_device_capability(index))
                getter = getattr(torch._C, "_cuda_getDriverVersion", None)
                out["cuda_driver_api"] = getter() if getter else None
        except Exception as error:  # a broken driver is a fact to report, not a crash
            out["cuda_error"] = str(error)
    triton = sys.modules.get("triton") or optional_triton()
    if triton is not None:
        out["triton"] = getattr(triton, "__version__", "unknown")
    try:
        import numpy

        out["numpy"] = numpy.__version__
    except Exception:
        pass
    return out


def runtime_paths() -> dict:
    """What a sandbox must make visible for this interpreter to run: its executable, its prefixes
    and every folder on sys.path (site-packages, PYTHONPATH entries), resolved."""
    paths = [sys.executable, sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *sys.path]
    seen = []
    for path in paths:
        if not path:
            continue
        real = os.path.realpath(path)
        if os.path.exists(real) and real not in seen:
            seen.append(real)
    return {"executable": os.path.realpath(sys.executable), "roots": seen}
