#!/usr/bin/env python3
"""tuneloop's Triton verification harness.

Usage: harness.py PHASE [options]   (Python 3.9+; torch required except for `cases`; triton optional)

Phases, each run by the server in its own process (own process group, timeout, TRITON_CACHE_DIR):
  probe       interpreter, torch, triton, CUDA, device
  cases       list or describe cases under --root folders (PyYAML only, no torch)
  validate    run a case once (new cases are validated before they are saved)
  reference   synthesize inputs per seed, run the baseline, save inputs/weights/expected outputs
  check       run a candidate on the saved inputs (poisoned memory, raw observations saved)
  judge       compare the check's outputs with the expected ones; never imports the candidate
  bench       time baseline and candidate interleaved (CUDA: do_bench; CPU: perf_counter loop)
  profile     torch.profiler trace and operator table of the baseline or a candidate

Output: exactly one JSON document on stdout: {"ok": true, "phase", "result"} or
{"ok": false, "phase", "error": {"kind", "message", "remedy"}}. Logs go to stderr.
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
    cases = sub.add_parser("cases")
    cases.add_argument("--root", action="append", default=[])
    cases.add_argument("--show")
    validate = sub.add_parser("validate")
    validate.add_argument("--case-dir", required=True)
    validate.add_argument("--small", action="store_true")
    reference = sub.add_parser("reference")
    reference.add_argument("--case-dir", required=True)
    reference.add_argument("--out", required=True)
    reference.add_argument("--seeds", type=int, default=5)
    reference.add_argument("--base-seed", type=int, default=0)
    reference.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    reference.add_argument("--small", action="store_true")
    for name in ("check", "judge", "bench", "profile"):
        p = sub.add_parser(name)
        p.add_argument("--reference", required=True)
        p.add_argument("--candidate", required=name != "profile")
        p.add_argument("--entry", default="ModelNew")
        if name in ("check", "profile"):
            p.add_argument("--out", required=True)
        if name == "judge":
            p.add_argument("--check-dir", required=True)
            p.add_argument("--check-result", required=True)
            p.add_argument("--tolerances")
            p.add_argument("--allow-nondeterminism", action="store_true")
        if name == "bench":
            p.add_argument("--rounds", type=int, default=7)
            p.add_argument("--warmup-ms", type=float, default=25.0)
            p.add_argument("--rep-ms", type=float, default=100.0)
        if name == "profile":
            p.add_argument("--steps", type=int, default=5)
            p.add_argument("--row-limit", type=int, default=20)
    return parser


def dispatch(args):
    if args.phase == "probe":
        from tlharness.env import versions

        return {**versions(), "harness": HARNESS_VERSION}
    if args.phase == "cases":
        from tlharness.manifest import describe_case, find_case, list_cases

        if args.show:
            case_dir = find_case(args.root, args.show)
            return {"case": describe_case(case_dir, os.path.dirname(case_dir))}
        return {"cases": list_cases(args.root)}
    if args.phase == "validate":
        from tlharness.validate import run_validate

        return run_validate(args)
    if args.phase == "reference":
        from tlharness.reference import run_reference

        return run_reference(args)
    if args.phase == "check":
        from tlharness.check import run_check

        return run_check(args)
    if args.phase == "judge":
        from tlharness.judge import run_judge

        return run_judge(args)
    if args.phase == "bench":
        from tlharness.bench import run_bench

        return run_bench(args)
    if args.phase == "profile":
        from tlharness.profiling import run_profile

        return run_profile(args)
    raise UsageError("harness: name a phase.", "Phases: probe, cases, validate, reference, check, judge, bench, profile.")


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
