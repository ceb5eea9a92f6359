"""Loading a candidate and describing its failures.

A candidate is a Python file defining `entry`: a class (default `ModelNew`) built like the
reference (same constructor kwargs; the reference's weights are loaded into it with
load_state_dict(strict=True), so its parameters must have the reference's names), or a plain
function (only for cases without weights).
"""
from __future__ import annotations

import os
import traceback

from .synth import import_file

COMPILE_ERROR_TYPES = ("CompilationError", "OutOfResources", "SyntaxError", "IndentationError", "TabError")


class CandidateError(Exception):
    """A failure of the candidate, with the stage it happened in ('import', 'construct', 'call')."""

    def __init__(self, stage: str, info: dict):
        super().__init__(info["message"])
        self.stage = stage
        self.info = info


def load_candidate(torch, path: str, entry: str, manifest: dict, device: str, state: dict):
    check_source_text(path)
    try:
        module = import_file(path, "tuneloop_candidate")
    except BaseException as error:  # SyntaxError, ImportError, anything raised at module level
        raise CandidateError("import", describe_exception(error, path))
    target = getattr(module, entry, None)
    if target is None:
        names = sorted(n for n in vars(module) if not n.startswith("_") and callable(vars(module)[n]))
        raise CandidateError("import", _message(f"the candidate defines no {entry!r} (it defines: {', '.join(names) or 'nothing callable'})"))
    if isinstance(target, type):
        try:
            torch.manual_seed(manifest["weights"]["seed"])
            instance = target(**manifest["model"]["init_kwargs"])
            if state:
                result = instance.load_state_dict(state, strict=False)
                missing, unexpected = list(result.missing_keys), list(result.unexpected_keys)
                if missing or unexpected:
                    raise CandidateError("construct", _message(
                        f"{entry}'s parameters do not match the reference's: missing {missing[:10]}, unexpected {unexpected[:10]}. "
                        "The harness loads the reference's state_dict into the candidate, so keep the reference's parameter names."))
            if hasattr(instance, "to"):
                instance = instance.to(device)
            if hasattr(instance, "eval"):
                instance.eval()
            return instance
        except CandidateError:
            raise
        except BaseException as error:
            raise CandidateError("construct", describe_exception(error, path))
    if not callable(target):
        raise CandidateError("import", _message(f"{entry!r} in the candidate is a {type(target).__name__}, not a class or function"))
    if state:
        raise CandidateError("construct", _message(
            f"{entry!r} is a function, but this case has weights ({', '.join(list(state)[:5])}): define a class with the reference's constructor and parameter names"))
    return target


def check_source_text(path: str) -> None:
    """A candidate is Python source text: a NUL byte or bytes that are not UTF-8 (a binary file) is a
    compile error with its position, before anything imports it."""
    with open(path, "rb") as handle:
        data = handle.read()
    position = data.find(b"\0")
    reason = "a NUL byte"
    if position < 0:
        try:
            data.decode("utf-8")
            return
        except UnicodeDecodeError as error:
            position, reason = error.start, f"bytes that are not UTF-8 ({data[error.start:error.start + 4].hex()}...)"
    line = data.count(b"\n", 0, position) + 1
    column = position - (data.rfind(b"\n", 0, position) + 1) + 1
    info = _message(f"the candidate is not Python source text: {reason} at line {line}, column {column} (byte {position}); a binary file or a NUL byte cannot be compiled")
    info.update(type="SyntaxError", location={"file": path, "line": line, "column": column})
    raise CandidateError("import", info)


def describe_exception(error: BaseException, candidate_path: str) -> dict:
    """Type, message (verbatim: Triton's compile errors carry `at L:C:` and a caret), the location
    in the candidate when the traceback passes through it, and the traceback."""
    names = [c.__name__ for c in type(error).__mro__]
    location = None
    if isinstance(error, SyntaxError):
        location = {"file": error.filename, "line": error.lineno, "column": error.offset}
    else:
        real = os.path.realpath(candidate_path)
        for frame in reversed(traceback.extract_tb(error.__traceback__)):
            if os.path.realpath(frame.filename) == real:
                location = {"file": frame.filename, "line": frame.lineno, "column": None}
                break
    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return {
        "type": type(error).__name__,
        "message": str(error)[:20000],
        "is_compile_error": any(n in COMPILE_ERROR_TYPES for n in names),
        "location": location,
        "traceback": text[-12000:],
        "missing_module": getattr(error, "name", None) if isinstance(error, ModuleNotFoundError) else None,
    }


def _message(text: str) -> dict:
    return {"type": "CandidateError", "message": text, "is_compile_error": True, "location": None, "traceback": "", "missing_module": None}
