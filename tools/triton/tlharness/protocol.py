"""The result channel, the command channel of the long-lived phases, and the exit codes.

One-shot phases write one JSON document to the real stdout; the long-lived ones (trusted,
candidate) write one JSON line per reply or event there and read one JSON command per line from
stdin. Everything else (logs, and whatever a candidate prints, from Python or from C) goes to
stderr: the real stdout and stdin are moved to private file descriptors before any candidate code
is imported, fd 1 is pointed at stderr and fd 0 at /dev/null, so a stray print cannot corrupt the
channel and a stray read cannot swallow a command. A candidate determined to find those
descriptors can; what it writes there is then parsed, never trusted (the server checks every
claim against what it holds).
"""
from __future__ import annotations

import json
import math
import os
import sys
import traceback

EXIT_OK = 0
EXIT_INTERNAL = 1  # a bug in the harness
EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3  # torch / PyYAML / triton / CUDA missing
EXIT_CASE = 4  # the case (manifest, model.py) is invalid
EXIT_CANDIDATE = 5  # the candidate failed where it was expected to work (bench, profile)

_result_fd = None
_command_fd = None


def claim_stdout() -> None:
    """Keep the real stdout for the result; send fd 1 and sys.stdout to stderr."""
    global _result_fd
    if _result_fd is not None:
        return
    sys.stdout.flush()
    _result_fd = os.dup(1)  # not inherited by children (PEP 446)
    os.dup2(2, 1)
    sys.stdout = sys.stderr


def result_fd() -> int:
    return _result_fd if _result_fd is not None else 1


def claim_stdin() -> None:
    """Keep the real stdin for commands; fd 0 and sys.stdin read /dev/null."""
    global _command_fd
    if _command_fd is not None:
        return
    _command_fd = os.dup(0)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    sys.stdin = open(os.devnull, "r", encoding="utf-8")


class Channel:
    """JSON lines: `send` writes one to the result fd, `commands` yields each one read from stdin,
    `serve` answers each command with the session's cmd_<name> method until "exit"."""

    def send(self, document: dict) -> None:
        emit(document)

    def commands(self):
        buffer = b""
        while True:
            chunk = os.read(_command_fd, 65536)
            if not chunk:
                return
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if line.strip():
                    yield json.loads(line.decode("utf-8"))

    def serve(self, session, phase: str) -> dict:
        for command in self.commands():
            name = command.get("cmd")
            if name == "exit":
                break
            handler = getattr(session, f"cmd_{name}", None)
            if handler is None:
                raise UsageError(f"{phase}: unknown command {name!r}")
            self.send({"reply": command.get("id"), **handler(command)})
        return {"exited": True}


class HarnessError(Exception):
    """An error with an exit code, a kind, and a remedy the server passes on to the client."""

    exit_code = EXIT_INTERNAL
    kind = "internal"

    def __init__(self, message: str, remedy: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.remedy = remedy
        self.details = details or {}


class EnvironmentMissing(HarnessError):
    exit_code = EXIT_ENVIRONMENT
    kind = "environment"


class CaseError(HarnessError):
    exit_code = EXIT_CASE
    kind = "case"


class CandidateFailure(HarnessError):
    exit_code = EXIT_CANDIDATE
    kind = "candidate"


class UsageError(HarnessError):
    exit_code = EXIT_USAGE
    kind = "usage"


def log(message: str) -> None:
    sys.stderr.write(f"[harness] {message}\n")
    sys.stderr.flush()


def stage(name: str) -> None:
    """A marker the server watches on stderr to apply per-stage timeouts (compile vs check)."""
    sys.stderr.write(f"TUNELOOP_STAGE {name}\n")
    sys.stderr.flush()


def _clean(value):
    """JSON has no NaN/Infinity: encode them as strings so the document stays standard."""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def emit(document: dict) -> None:
    text = json.dumps(_clean(document), allow_nan=False) + "\n"
    data = text.encode("utf-8")
    fd = result_fd()
    while data:
        written = os.write(fd, data)
        data = data[written:]


def emit_result(phase: str, result: dict) -> int:
    emit({"ok": True, "phase": phase, "result": result})
    return EXIT_OK


def emit_error(phase: str, error: BaseException) -> int:
    if isinstance(error, HarnessError):
        body = {"kind": error.kind, "message": error.message, "remedy": error.remedy, **error.details}
        code = error.exit_code
    else:
        body = {
            "kind": "internal",
            "message": f"{type(error).__name__}: {error}",
            "remedy": "This is a bug in the harness; the traceback is in the harness's stderr.",
        }
        traceback.print_exception(type(error), error, error.__traceback__)
        code = EXIT_INTERNAL
    emit({"ok": False, "phase": phase, "error": body})
    return code
