"""`bench`: time the baseline and the candidate the same way, interleaved, in one process.

Only run after the judge found the candidate correct. Rounds alternate the order (B,C then C,B)
so drift and warm caches do not favour one side; each round yields one median per variant, and
the rounds are the samples the server's statistics module compares (speedup with a noise
verdict). CUDA: triton.testing.do_bench(return_mode="median"), which flushes L2 before each rep,
or CUDA events with an explicit L2 flush when triton is absent, plus a host-timed cross-check with
device-wide synchronization (work on a side stream escapes events on the current stream, not a
device synchronize). CPU: a warmed-up perf_counter loop, and the result says these are CPU numbers.
The CUDA paths are NOT EXERCISED on the CI machine (no GPU).
"""
from __future__ import annotations

import inspect
import json
import os
import statistics
import time

from .candidate import CandidateError, load_candidate
from .env import EnvironmentMissing, is_interpret, require_torch, versions
from .guards import PatchWatch
from .protocol import CandidateFailure, UsageError, log
from .synth import build_reference, load_reference_module, materialize
from .tensors import bits_equal, load_bundle

_perf_counter = time.perf_counter  # bound before any candidate code runs
_sleep = time.sleep
MAX_CALLS_PER_ROUND = 100000


def run_bench(args) -> dict:
    if is_interpret():
        raise UsageError("bench refuses TRITON_INTERPRET=1: interpreter timings say nothing about kernel performance.", "Verify with interpret mode for correctness only.")
    torch = require_torch()
    torch.set_grad_enabled(False)
    with open(os.path.join(args.reference, "meta.json"), encoding="utf-8") as handle:
        meta = json.load(handle)
    device = meta["device"]
    if device == "cuda" and not torch.cuda.is_available():
        raise EnvironmentMissing("the reference ran on CUDA but this process sees no CUDA device.", "run every phase on the same GPU host")
    env_versions = versions(torch)
    state = load_bundle(torch, os.path.join(args.reference, "weights.pt"))
    saved = load_bundle(torch, os.path.join(args.reference, "inputs.pt"))["inputs"][0]
    base_inputs, cand_inputs = materialize(torch, saved, device), materialize(torch, saved, device)
    manifest = meta["manifest"]

    module = load_reference_module(meta["case_dir"], manifest)
    baseline, _ = build_reference(torch, module, manifest, device)
    if state and hasattr(baseline, "load_state_dict"):
        baseline.load_state_dict({k: v.to(device) for k, v in state.items()})
    watch = PatchWatch(torch, {"reference module": module, "reference class": getattr(module, manifest["model"]["class"])})
    try:
        candidate = load_candidate(torch, args.candidate, args.entry, manifest, device, state)
    except CandidateError as error:
        raise CandidateFailure(f"the candidate failed to load in the bench process: {error.info['message'][:2000]}", "It loaded in the check phase; look for nondeterministic imports.")

    def run_base():
        return baseline(*base_inputs["args"], **base_inputs["kwargs"])

    def run_cand():
        return candidate(*cand_inputs["args"], **cand_inputs["kwargs"])

    timer = _cuda_timer(torch) if device == "cuda" else _cpu_timer()
    for fn in (run_base, run_cand):
        try:
            timer.warmup(fn, args.warmup_ms)
        except BaseException as error:
            raise CandidateFailure(f"{'the baseline' if fn is run_base else 'the candidate'} raised during warmup: {type(error).__name__}: {error}", "It passed the check phase; this is worth a look.")
    samples = {"baseline": [], "candidate": []}
    calls = {"baseline": [], "candidate": []}
    for index in range(args.rounds):
        order = (("baseline", run_base), ("candidate", run_cand))
        if index % 2:
            order = order[::-1]
        for name, fn in order:
            ms, n = timer.measure(fn, args.rep_ms)
            samples[name].append(ms)
            calls[name].append(n)
        log(f"round {index + 1}/{args.rounds}: baseline {samples['baseline'][-1]:.4f} ms, candidate {samples['candidate'][-1]:.4f} ms")

    result = {
        "device": device,
        "method": timer.method,
        "label": timer.label,
        "rounds": args.rounds,
        "warmup_ms": args.warmup_ms,
        "rep_ms": args.rep_ms,
        "baseline_ms": samples["baseline"],
        "candidate_ms": samples["candidate"],
        "calls_per_round": calls,
        "torch_threads": torch.get_num_threads(),
        "memory": _peak_memory(torch, run_base, run_cand) if device == "cuda" else None,
        "host_check": _host_check(torch, run_base, run_cand, args.rep_ms, samples) if device == "cuda" else None,
        "late_writes": _late_writes(torch, run_cand, device),
        "patched": watch.changes(),
        "settings_changed": watch.settings_changes(),
        "versions": env_versions,
    }
    return result


class _cpu_timer:
    method = "perf_counter loop"
    label = "CPU timings: median of a warmed-up perf_counter loop per round (not GPU performance)"

    def warmup(self, fn, warmup_ms):
        deadline = _perf_counter() + warmup_ms / 1000
        n = 0
        while n < 2 or _perf_counter() < deadline:
            fn()
            n += 1

    def measure(self, fn, rep_ms):
        times = []
        deadline = _perf_counter() + rep_ms / 1000
        while (len(times) < 3 or _perf_counter() < deadline) and len(times) < MAX_CALLS_PER_ROUND:
            t0 = _perf_counter()
            fn()
            times.append((_perf_counter() - t0) * 1000)
        return statistics.median(times), len(times)


def _cuda_timer(torch):
    try:
        from triton.testing import do_bench
    except Exception:
        return _EventTimer(torch)
    return _DoBenchTimer(torch, do_bench)


class _DoBenchTimer:
    method = "triton.testing.do_bench"
    label = "CUDA timings: triton.testing.do_bench median per round (L2 flushed before each rep)"

    def __init__(self, torch, do_bench):
        self.torch = torch
        self.do_bench = do_bench
        self.params = inspect.signature(do_bench).parameters

    def warmup(self, fn, warmup_ms):
        self.warmup_ms = warmup_ms
        fn()
        self.torch.cuda.synchronize()

    def measure(self, fn, rep_ms):
        warmup = getattr(self, "warmup_ms", 25)
        if "return_mode" in self.params:
            value = self.do_bench(fn, warmup=warmup, rep=rep_ms, return_mode="median")
        elif "percentiles" in self.params:  # triton 2.0
            value = self.do_bench(fn, warmup=warmup, rep=rep_ms, percentiles=(0.5,))
        else:
            value = self.do_bench(fn, warmup=warmup, rep=rep_ms, quantiles=[0.5])
        if isinstance(value, (tuple, list)):
            value = value[0]
        return float(value), None


class _EventTimer:
    method = "cuda events"
    label = "CUDA timings: CUDA events, median per round, L2 flushed before each rep (triton not installed)"

    def __init__(self, torch):
        self.torch = torch
        self.flush = torch.empty(256 * 1024 * 1024, dtype=torch.int8, device="cuda")

    def warmup(self, fn, warmup_ms):
        torch = self.torch
        deadline = _perf_counter() + warmup_ms / 1000
        while True:
            fn()
            torch.cuda.synchronize()
            if _perf_counter() >= deadline:
                break

    def measure(self, fn, rep_ms):
        torch = self.torch
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(5):
            fn()
        end.record()
        torch.cuda.synchronize()
        estimate = max(start.elapsed_time(end) / 5, 1e-3)
        n = max(3, min(MAX_CALLS_PER_ROUND, int(rep_ms / estimate)))
        starts = [torch.cuda.Event(enable_timing=True) for _ in range(n)]
        ends = [torch.cuda.Event(enable_timing=True) for _ in range(n)]
        for i in range(n):
            self.flush.zero_()
            starts[i].record()
            fn()
            ends[i].record()
        torch.cuda.synchronize()
        return statistics.median(s.elapsed_time(e) for s, e in zip(starts, ends)), n


def _host_check(torch, run_base, run_cand, rep_ms, samples) -> dict:
    """Host-timed per-call cost with a device-wide synchronize after every call, for both sides."""
    out = {}
    for name, fn in (("baseline", run_base), ("candidate", run_cand)):
        torch.cuda.synchronize()
        n, t0 = 0, _perf_counter()
        while n < 3 or (_perf_counter() - t0) * 1000 < rep_ms:
            fn()
            torch.cuda.synchronize()
            n += 1
        out[f"{name}_ms"] = (_perf_counter() - t0) * 1000 / n
    base_ratio = out["baseline_ms"] / max(statistics.median(samples["baseline"]), 1e-9)
    cand_ratio = out["candidate_ms"] / max(statistics.median(samples["candidate"]), 1e-9)
    gap = out["candidate_ms"] - statistics.median(samples["candidate"])
    out["disagrees"] = bool(cand_ratio > 2 * base_ratio and gap > 0.05)
    return out


def _peak_memory(torch, run_base, run_cand) -> dict:
    out = {}
    for name, fn in (("baseline", run_base), ("candidate", run_cand)):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        result = fn()
        torch.cuda.synchronize()
        out[f"{name}_peak_bytes"] = int(torch.cuda.max_memory_allocated() - before)
        del result
    return out


def _late_writes(torch, run_cand, device) -> bool:
    """After the timing, once more: does the output still change after forward returned?"""
    out = run_cand()
    leaves = out if isinstance(out, (tuple, list)) else [out]
    first = [t.detach().clone() for t in leaves if isinstance(t, torch.Tensor)]
    _sleep(0.05)
    if device == "cuda":
        torch.cuda.synchronize()
    later = [t for t in leaves if isinstance(t, torch.Tensor)]
    return not all(bits_equal(torch, a, b) for a, b in zip(first, later))
