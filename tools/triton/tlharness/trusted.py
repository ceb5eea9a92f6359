"""`trusted`: the reference, the baseline and the judge, in one process that never imports
candidate code and runs outside the sandbox.

Start: load the cached reference (every file checked against the SHA-256 the server recorded) or,
when there is none or a check fails, build it into --build (the server records the new digests
and says why it rebuilt). Then write the candidate's inputs into its sandbox's in/ folder: the
normalized manifest, seeds, shape variants, output sizes for poisoning, and the weights; never an
expected output.

Commands (one JSON line each; see protocol.Channel):
  judge_check {report, audit, file}   correctness of the check calls (judge.py) and the flags
  warmup {seed, ms}                   untimed baseline calls; the per-call time sizes the rounds
  round {seed, index, n}              the baseline's timed calls (rounds.py), remembered for judging
  judge_round {index, candidate, file, iterations}   the candidate's round (benchjudge.py)
  judge_late {file, failure}          the first check input once more, after the bench
  exit
"""
from __future__ import annotations

import json
import os
import time

from .benchjudge import BenchJudge
from .compare import resolve_tolerances
from .flags import runtime_flags
from .judge import Judge, verdict_of
from .protocol import Channel, claim_stdin
from .refcache import build, load
from .rounds import RoundInputs, Sketcher, make_timer, run_round, warmup
from .scan import scan_source
from .synth import build_reference, load_reference_module
from .tensors import IntegrityError, load_untrusted_bundle, save_bundle
from .env import require_torch

# Files from the sandbox are read only up to this many times the expected outputs' size.
UNTRUSTED_FACTOR = 8


def run_trusted(args) -> dict:
    claim_stdin()
    torch = require_torch()
    torch.set_grad_enabled(False)
    channel = Channel()
    session = TrustedSession(torch, args)
    channel.send({"event": "ready", **session.prepare()})
    return channel.serve(session, "trusted")


class TrustedSession:
    def __init__(self, torch, args):
        self.torch = torch
        self.args = args

    def prepare(self) -> dict:
        torch, args = self.torch, self.args
        digests = json.loads(args.digests or "{}")
        integrity, built, loaded = None, False, None
        if digests:
            try:
                loaded = load(torch, args.entry, digests)
            except IntegrityError as error:
                integrity = {"file": error.name, "expected": error.expected, "actual": error.actual}
        if loaded is None:
            meta, expected, state, digests = build(torch, args.case_dir, args.seeds, args.device, args.build)
            built = True
        else:
            meta, expected, state = loaded
        self.meta, self.expected = meta, expected
        manifest = meta["manifest"]
        module = load_reference_module(args.case_dir, manifest)
        self.baseline, _ = build_reference(torch, module, manifest, meta["device"])
        if state and hasattr(self.baseline, "load_state_dict"):
            self.baseline.load_state_dict({k: v.to(meta["device"]) for k, v in state.items()})
        self.tolerances = resolve_tolerances(manifest["tolerances"], json.loads(args.tolerances or "{}"))
        sizes = {v: [o["nbytes"] for o in outs if o["kind"] == "tensor"] for v, outs in meta["outputs"].items()}
        self.max_bytes = UNTRUSTED_FACTOR * (1 << 20) + UNTRUSTED_FACTOR * 16 * sum(sum(s) for s in sizes.values()) * (len(meta["seeds"]) + 4)
        self.bench = BenchJudge(torch, self.baseline, meta["device"], self.tolerances, self.max_bytes)
        if args.sandbox_in:
            spec = {
                "manifest": manifest,
                "device": meta["device"],
                "seeds": meta["seeds"],
                "variants": meta["variants"],
                "poison_bytes": sizes,
                "system_roots": args.system_root or [],
            }
            with open(os.path.join(args.sandbox_in, "spec.json"), "w", encoding="utf-8") as handle:
                json.dump(spec, handle)
            save_bundle(torch, os.path.join(args.sandbox_in, "weights.pt"), state)
        return {
            "built": built,
            "digests": digests if built else None,
            "integrity": integrity,
            "meta": {k: meta[k] for k in ("case", "device", "seeds", "variants", "structure", "randomized_parameters", "reference_deterministic",
                                          "reference_sensitive", "reference_aliases_inputs", "reference_seconds", "versions", "outputs")},
            "tolerances": self.tolerances,
            # torch's own default here; the candidate's process is told to use the same
            # (inside a sandbox torch may not see the CPU topology and pick another).
            "threads": torch.get_num_threads(),
        }

    def cmd_judge_check(self, command: dict) -> dict:
        torch, args, meta = self.torch, self.args, self.meta
        report = command.get("report") or {}
        failure = report.get("failure")
        calls, unreadable = [], None
        if command.get("file"):
            try:
                calls = load_untrusted_bundle(torch, command["file"], self.max_bytes)["calls"]
            except Exception as error:  # missing (killed before saving), a link, too large, not a bundle
                unreadable = f"{type(error).__name__}: {error}"
        if unreadable and not failure:
            failure = {"stage": "the process", "call": None, "type": "OutputsUnreadable", "message": f"the check outputs could not be read: {unreadable}"}
        judge = Judge(torch, meta, self.expected, self.tolerances, args.allow_nondeterminism)
        checks = judge.run(failure, calls if isinstance(calls, list) else [])
        self.judge = judge
        self.first_repeat = next((c for c in calls if isinstance(c, dict) and c.get("label") == "main/seed0"), None) if isinstance(calls, list) else None
        flags = runtime_flags(report, command.get("audit") or [], args.sensitive or [])
        if args.candidate:
            with open(args.candidate, "rb") as handle:
                source = handle.read().decode("utf-8", errors="replace")
            with open(os.path.join(args.case_dir, meta["manifest"]["model"]["file"]), encoding="utf-8", errors="replace") as handle:
                model_source = handle.read()
            float32_outputs = any(o.get("dtype") in ("float32", "float64") for o in meta["outputs"]["main"])
            stem = os.path.splitext(meta["manifest"]["model"]["file"])[0]
            flags += scan_source(source, model_source, stem, meta["manifest"]["model"]["class"], float32_outputs)
        return {**verdict_of(checks, failure), "failure": failure, "checks": checks, "outputs": judge.output_errors(), "flags": flags, "calls_judged": len(calls)}

    def cmd_warmup(self, command: dict) -> dict:
        self.timer = make_timer(self.torch, self.meta["device"])
        self.sketcher = Sketcher(self.torch, int(command["seed"]), self.meta["device"])
        inputs = RoundInputs(self.torch, self.meta["manifest"], int(command["seed"]), 0, self.meta["device"])
        return {**warmup(self.torch, self.baseline, inputs, self.timer, self.sketcher, float(command["ms"])), "method": self.timer.method, "label": self.timer.label}

    def cmd_round(self, command: dict) -> dict:
        torch = self.torch
        seed, index, n = int(command["seed"]), int(command["index"]), int(command["n"])
        started = time.perf_counter()
        inputs = RoundInputs(torch, self.meta["manifest"], seed, index, self.meta["device"])
        setup_ms = (time.perf_counter() - started) * 1000
        result = run_round(torch, self.baseline, inputs, n, self.timer, self.sketcher)
        self.bench.remember(index, inputs, n, result, self.sketcher)
        # setup_ms (building the round's inputs) lets the server size the next round by the calls alone.
        return {"times_ms": result["times_ms"], "host_ms": result["host_ms"], "setup_ms": setup_ms}

    def cmd_judge_round(self, command: dict) -> dict:
        return {"problems": self.bench.judge_round(int(command["index"]), command.get("candidate") or {}, command["file"], [int(i) for i in command["iterations"]])}

    def cmd_judge_late(self, command: dict) -> dict:
        """The bench check, and the first check input once more after the bench: bitwise what the
        first call gave (or within tolerance where allowed), and still correct."""
        torch = self.torch
        checks = [self.bench.check()]
        failure = command.get("failure")
        if failure:
            checks.append({"name": "deterministic_after_bench", "passed": False, "detail": f"{failure.get('type')}: {str(failure.get('message'))[:1000]}"})
            return {"checks": checks}
        try:
            calls = load_untrusted_bundle(torch, command["file"], self.max_bytes)["calls"]
        except Exception as error:
            checks.append({"name": "deterministic_after_bench", "passed": False, "detail": f"the late call's outputs could not be read ({type(error).__name__}: {error})"})
            return {"checks": checks}
        late = next((c for c in calls if isinstance(c, dict) and c.get("label") == "main/seed0#late"), None)
        if late is None or self.first_repeat is None:
            checks.append({"name": "deterministic_after_bench", "passed": False, "detail": "no output for the late call"})
            return {"checks": checks}
        late = {**late, "variant": "main", "seed_index": 0}
        same = self.judge.deterministic([self.first_repeat, late])
        right = self.judge.allclose([late], "allclose")
        passed = same["passed"] is not False and right["passed"] is True
        checks.append({"name": "deterministic_after_bench", "passed": passed, "detail": same["detail"] if same["passed"] is False else right["detail"] if not right["passed"] else "after the timed rounds the first check input still gives the same, correct output"})
        return {"checks": checks}
