"""`candidate`: the candidate's process. The server runs it in a sandbox (bubblewrap or unshare via
core/sandbox) that holds nothing trusted: no reference outputs, no cache, no case folder, no data
dir, no network. It sees the harness, Python, its in/ folder (candidate.py, and spec.json plus
weights.pt written by the trusted process) read-only, its out/ folder and a private tmp.

Commands (one JSON line each on stdin; see protocol.Channel), in the order the server sends them:
  check {threads}     import the candidate, run the check plan, save out/check.pt (with the
                      trusted process's thread count, so neither side is timed with more cores)
  warmup {seed, ms}   untimed calls; the seed also draws the sketches' random vectors
  round {seed, index, n}    n timed calls, their times and sketches (rounds.py)
  reveal {index, iterations}  the outputs of those calls of the last round, in full: the last
                      one is the very object the timed call returned, the others are recomputed on
                      the same inputs (the judge checks them against the sketches sent before the
                      choice was made, so a recomputation that differs from the timed call shows)
  late                the first check input once more, after the bench (late nondeterminism)
  exit
Everything this process says is a claim: the trusted process and the server check it against
truth this process never holds.
"""
from __future__ import annotations

import json
import os
import time

from .candidate import CandidateError, describe_exception, load_candidate
from .checkplan import REPEAT, CallRecorder, plan
from .compileinfo import collect_kernels
from .env import is_interpret, require_torch, versions
from .guards import PatchWatch, install_audit, native_thread_count, python_thread_ids, warm_thread_pools
from .protocol import Channel, UsageError, claim_stdin, log, result_fd
from .rounds import RoundInputs, Sketcher, make_timer, run_round, warmup
from .synth import flatten_output, tensors_of
from .tensors import cpu_copy, load_bundle, save_bundle


def run_candidate(args) -> dict:
    claim_stdin()
    torch = require_torch()
    torch.set_grad_enabled(False)
    channel = Channel()
    session = CandidateSession(torch, args, channel)
    channel.send({"event": "ready", "versions": session.versions, "pid": os.getpid()})
    return channel.serve(session, "candidate")


class CandidateSession:
    def __init__(self, torch, args, channel):
        self.torch = torch
        self.args = args
        self.channel = channel
        self.versions = versions(torch)  # imports triton (when present) before the candidate can touch it
        self.candidate = None
        self.round = None

    def cmd_check(self, command: dict) -> dict:
        torch, args = self.torch, self.args
        torch.set_num_threads(int(command["threads"]))
        with open(os.path.join(args.input, "spec.json"), encoding="utf-8") as handle:
            self.spec = spec = json.load(handle)
        state = load_bundle(torch, os.path.join(args.input, "weights.pt"))
        device = spec["device"]
        candidate_path = os.path.join(args.input, "candidate.py")
        warm_thread_pools(torch)
        watch = PatchWatch(torch)
        threads_at_start, native_at_start = python_thread_ids(), native_thread_count()
        allowed = [args.input, args.out, os.environ.get("TMPDIR"), os.environ.get("TRITON_CACHE_DIR"), *spec.get("system_roots", [])]
        install_audit(candidate_path, allowed, [os.path.splitext(spec["manifest"]["model"]["file"])[0]], result_fd())
        report = {"device": device, "interpret": is_interpret(), "failure": None, "calls": []}
        self._stage("import")
        started = time.perf_counter()
        try:
            self.candidate = load_candidate(torch, candidate_path, args.entry, spec["manifest"], device, state)
        except CandidateError as error:
            report["failure"] = {"stage": error.stage, "call": None, **error.info}
            return self._finish_check(report, watch, threads_at_start, native_at_start, [])
        report["import_ms"] = round((time.perf_counter() - started) * 1000, 3)
        self.recorder = recorder = CallRecorder(torch, self.candidate, spec)
        live = {}
        for entry in plan(spec["variants"], len(spec["seeds"])):
            key = (entry["variant"], entry["seed"])
            if key not in live:
                live[key] = recorder.inputs(*key)
            inputs = live[key]
            if entry["values_of"] != entry["seed"]:
                source = live.get((entry["variant"], entry["values_of"])) or recorder.inputs(entry["variant"], entry["values_of"])
                for dst, src in zip(tensors_of(inputs), tensors_of(source)):
                    dst.copy_(src)
            try:
                report["calls"].append(recorder.call(entry["label"], entry["variant"], inputs, entry["values_of"]))
            except BaseException as error:
                info = describe_exception(error, candidate_path)
                report["failure"] = {"stage": "call", "call": entry["label"], **info}
                log(f"candidate raised on {entry['label']}: {info['type']}: {info['message'][:300]}")
                break
            if len(report["calls"]) == 1:
                self._stage("compiled")
        kernels = None
        if device == "cuda" and not is_interpret():
            import sys

            kernels = collect_kernels(sys.modules.get("tuneloop_candidate"), os.path.join(args.out, "compile"))
        report["compile"] = kernels
        return self._finish_check(report, watch, threads_at_start, native_at_start, recorder.finish())

    def _finish_check(self, report, watch, threads_at_start, native_at_start, records) -> dict:
        save_bundle(self.torch, os.path.join(self.args.out, "check.pt"), {"calls": records})
        self.watch = watch
        report["patched"] = watch.changes()
        report["settings_changed"] = watch.settings_changes()
        report["threads"] = {
            "python_threads_started": len(python_thread_ids() - threads_at_start),
            "native_threads_before": native_at_start,
            "native_threads_after": native_thread_count(),
        }
        return {"report": report, "file": "check.pt"}

    def _require_candidate(self):
        if self.candidate is None:
            raise UsageError("candidate: no candidate loaded (the check failed or was not run)")
        return self.candidate

    def cmd_warmup(self, command: dict) -> dict:
        fn = self._require_candidate()
        inputs = RoundInputs(self.torch, self.spec["manifest"], int(command["seed"]), 0, self.spec["device"])
        self.timer = make_timer(self.torch, self.spec["device"])
        self.sketcher = Sketcher(self.torch, int(command["seed"]), self.spec["device"])
        return warmup(self.torch, fn, inputs, self.timer, self.sketcher, float(command["ms"]))

    def cmd_round(self, command: dict) -> dict:
        fn = self._require_candidate()
        seed, index, n = int(command["seed"]), int(command["index"]), int(command["n"])
        inputs = RoundInputs(self.torch, self.spec["manifest"], seed, index, self.spec["device"])
        result = run_round(self.torch, fn, inputs, n, self.timer, self.sketcher)
        self.round = {"index": index, "inputs": inputs, "last": result.pop("last"), "n": n}
        return {**result, "patched": self.watch.changes()}

    def cmd_reveal(self, command: dict) -> dict:
        fn = self._require_candidate()
        current = self.round
        if current is None or current["index"] != int(command["index"]):
            raise UsageError("candidate: reveal names a round that is not the last one")
        iterations = [int(i) for i in command["iterations"]]
        outputs = []
        with self.torch.no_grad():
            for i in iterations:
                if i == current["n"] - 1:
                    leaves = current["last"][1]
                else:
                    again = current["inputs"].call_inputs(i)
                    leaves, _ = flatten_output(self.torch, fn(*again["args"], **again["kwargs"]))
                if self.spec["device"] == "cuda":
                    self.torch.cuda.synchronize()
                outputs.append([cpu_copy(self.torch, v) if isinstance(v, self.torch.Tensor) else v for _, v in leaves])
        name = f"round{current['index']}.pt"
        save_bundle(self.torch, os.path.join(self.args.out, name), {"iterations": iterations, "outputs": outputs})
        self.round = None
        return {"file": name}

    def cmd_late(self, command: dict) -> dict:
        self._require_candidate()
        recorder = self.recorder
        recorder.records = []
        try:
            row = recorder.call(f"{REPEAT}#late", "main", recorder.inputs("main", 0), 0)
            failure = None
        except BaseException as error:
            row, failure = None, describe_exception(error, os.path.join(self.args.input, "candidate.py"))
        save_bundle(self.torch, os.path.join(self.args.out, "late.pt"), {"calls": recorder.finish()})
        return {"file": "late.pt", "call": row, "failure": failure, "patched": self.watch.changes()}

    def _stage(self, name: str) -> None:
        self.channel.send({"event": "stage", "stage": name})
