#!/usr/bin/env python3
"""tuneloop's Triton verification harness.

Usage: harness.py PHASE [options]   (Python 3.9+; torch required except for `cases`; triton optional)

Phases, each run by the server in its own process (own timeout, TRITON_CACHE_DIR):
  probe       interpreter, torch, triton, CUDA, device
  paths       the folders this interpreter needs (what a sandbox must bind); no torch
  cases       list or describe cases under --root folders (PyYAML only, no torch)
  validate    run a case once (new cases are validated before they are saved)
  trusted     the reference (cached, integrity-checked), the baseline and the judge: long-lived,
              never imports candidate code, runs outside the sandbox (tlharness/trusted.py)
  candidate   the candidate, long-lived, in a sandbox holding nothing trusted (tlharness/sandboxed.py)
  profile     torch.profiler trace and operator table of the baseline (trusted) or a candidate (sandboxed)

Output of the one-shot phases: exactly one JSON document on stdout: {"ok": true, "phase", "result"}
or {"ok": false, "phase", "error": {"kind", "message", "remedy"}}. The long-lived ones write one
JSON line per event or reply first (protocol.Channel), then that document. Logs go to stderr.
Exit codes: 0 ok; 1 harness bug; 2 usage; 3 environment (torch/PyYAML/triton/CUDA missing);
4 invalid case; 5 the candidate failed where it had worked before (bench, profile).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from tlharness import HARNESS_VERSION  # noqa: E402
from tlharness.protocol import UsageError, claim_stdout, emit_error, emit_result  # noqa: E402


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"harness: {message}", "Run harness.py --help for the phases and their options.")


def build_parser():
    parser = _Parser(prog="harness.py", description="tuneloop Triton verification harness")
    sub = parser.add_subparsers(dest="phase")
    sub.add_parser("probe")
    sub.add_parser("paths")
    cases = sub.add_parser("cases")
    cases.add_argument("--root", action="append", default=[])
    cases.add_argument("--show")
    validate = sub.add_parser("validate")
    validate.add_argument("--case-dir", required=True)
    validate.add_argument("--small", action="store_true")
    trusted = sub.add_parser("trusted")
    trusted.add_argument("--case-dir", required=True)
    trusted.add_argument("--entry", required=True, help="the cached reference entry (read when --digests names its files)")
    trusted.add_argument("--digests", default="{}", help="JSON {file: sha256} recorded for --entry")
    trusted.add_argument("--build", required=True, help="where to build the reference when it is not cached or fails its check")
    trusted.add_argument("--seeds", type=int, default=5)
    trusted.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    trusted.add_argument("--sandbox-in", help="the candidate's in/ folder: spec.json and weights.pt are written there")
    trusted.add_argument("--system-root", action="append", help="folders the sandbox binds (opens there are not flagged)")
    trusted.add_argument("--sensitive", action="append", help="host paths whose opening is reference_access")
    trusted.add_argument("--candidate", help="the candidate's source, for the static scan (never imported)")
    trusted.add_argument("--tolerances")
    trusted.add_argument("--allow-nondeterminism", action="store_true")
    candidate = sub.add_parser("candidate")
    candidate.add_argument("--input", required=True)
    candidate.add_argument("--out", required=True)
    candidate.add_argument("--entry", default="ModelNew")
    profile = sub.add_parser("profile")
    profile.add_argument("--case-dir", help="profile the baseline (trusted)")
    profile.add_argument("--input", help="profile the candidate in --input/candidate.py with the spec and weights there")
    profile.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    profile.add_argument("--entry", default="ModelNew")
    profile.add_argument("--out", required=True)
    profile.add_argument("--steps", type=int, default=5)
    profile.add_argument("--row-limit", type=int, default=20)
    profile.add_argument("--threads", type=int, help="intra-op threads (default: torch's own)")
    return parser


def dispatch(args):
    if args.phase == "probe":
        from tlharness.env import versions

        return {**versions(), "harness": HARNESS_VERSION}
    if args.phase == "paths":
        from tlharness.env import runtime_paths

        return runtime_paths()
    if args.phase == "cases":
        from tlharness.manifest import describe_case, find_case, list_cases

        if args.show:
            case_dir = find_case(args.root, args.show)
            return {"case": describe_case(case_dir, os.path.dirname(case_dir))}
        return {"cases": list_cases(args.root)}
    if args.phase == "validate":
        from tlharness.validate import run_validate

        return run_validate(args)
    if args.phase == "trusted":
        from tlharness.trusted import run_trusted

        return run_trusted(args)
    if args.phase == "candidate":
        from tlharness.sandboxed import run_candidate

        return run_candidate(args)
    if args.phase == "profile":
        from tlharness.profiling import run_profile

        return run_profile(args)
    raise UsageError("harness: name a phase.", "Phases: probe, paths, cases, validate, trusted, candidate, profile.")


def main(argv=None):
    claim_stdout()
    phase = "unknown"
    try:
        args = build_parser().parse_args(argv)
        phase = args.phase or "unknown"
        return emit_result(phase, dispatch(args))
    except SystemExit as error:  # --help, or a candidate calling sys.exit at import
        if phase == "unknown":
            return int(error.code or 0)
        return emit_error(phase, error)
    except BaseException as error:
        return emit_error(phase, error)


if __name__ == "__main__":
    sys.exit(main())
