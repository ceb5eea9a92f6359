"""The check calls: which inputs the candidate is called on, in which order, and what is recorded.

`plan` is shared by the candidate's process (which runs it) and the trusted one (which judges it),
so the judge never takes the candidate's word for what was called. Every shape variant of the
manifest, every seed; the first input set repeated at the start, the middle and the end (and once
more after the timed rounds: sandboxed.late), so noise that starts with the third call or after
the bench is seen; then seed 1's values copied into seed 0's buffers (a cache keyed by pointer,
shape or object identity returns stale data).

For each call (CallRecorder): memory is poisoned first; right after it the outputs are copied to
the host (the snapshot the judge compares) and checked for sharing storage with the inputs; after
the next call they are hashed again (a buffer the candidate returns twice changes under the
caller); after a pause (and a device-wide synchronize on CUDA) they are hashed again (work still
landing after forward returned); the inputs are copied after the call (in-place mutation).

Why an uninitialized output (torch.empty) is caught whatever the allocator does: the expected
values never exist in this process, and nothing it derives from a candidate's output during the
check is freed before the check ends, so no freed block holds a correct answer for a later
torch.empty to land on. An unwritten output then holds NaN from the poisoning, zeros (fresh pages),
or stale values of something else; none of them equals the expected answer.
"""
from __future__ import annotations

import time

from .guards import poison, python_thread_ids
from .synth import flatten_output, materialize, synthesize_inputs, tensors_of
from .tensors import cpu_copy, digest, shares_storage

SETTLE_S = 0.02
THREAD_WAIT_S = 2.0
REPEAT = "main/seed0"


def plan(variants: list, seeds: int) -> list:
    """[{label, variant, seed, values_of}]: `values_of` differs from `seed` for the fresh-data call."""
    order = [("main", i) for i in range(seeds)] + [(v, i) for v in variants if v != "main" for i in range(seeds)]
    calls = [{"label": f"{v}/seed{i}", "variant": v, "seed": i, "values_of": i} for v, i in order]
    calls.insert(len(calls) // 2 + 1, _repeat(2))
    calls.append(_repeat(3))
    if seeds >= 2:
        calls.append({"label": "main/fresh-data", "variant": "main", "seed": 0, "values_of": 1})
    return calls


def _repeat(k: int) -> dict:
    return {"label": f"{REPEAT}#{k}", "variant": "main", "seed": 0, "values_of": 0}


def synthesize(torch, manifest: dict, variant: str, seed: int):
    """The saved (CPU) inputs of one check input set: seed i is also the distribution index."""
    return synthesize_inputs(torch, manifest, seed, seed, variant)


class CallRecorder:
    """Runs the candidate on check inputs and records what the judge needs (see the module doc)."""

    def __init__(self, torch, candidate, spec: dict):
        self.torch = torch
        self.candidate = candidate
        self.device = spec["device"]
        self.manifest = spec["manifest"]
        self.poison_sizes = spec["poison_bytes"]
        self.records = []
        self.keep_alive = []
        self.previous = None

    def inputs(self, variant: str, seed: int):
        return materialize(self.torch, synthesize(self.torch, self.manifest, variant, seed), self.device)

    def call(self, label: str, variant: str, inputs: dict, seed: int):
        """One call; returns its report row, or raises what the candidate raised."""
        torch = self.torch
        poison(torch, self.device, self.poison_sizes.get(variant, []))
        before = python_thread_ids()
        t0 = time.perf_counter()
        with torch.no_grad():
            out = self.candidate(*inputs["args"], **inputs["kwargs"])
        leaves, structure = flatten_output(torch, out)
        # Stream-ordered copy to the host: on CUDA it waits for the current stream only, so work
        # left on another stream is not waited for (the settled look below sees it).
        snapshot = [cpu_copy(torch, v) if isinstance(v, torch.Tensor) else v for _, v in leaves]
        wall_ms = (time.perf_counter() - t0) * 1000
        self.keep_alive.append(out)
        alive_after = python_thread_ids() - before
        input_tensors = tensors_of(inputs)
        aliases = [isinstance(v, torch.Tensor) and any(shares_storage(torch, v, t) for t in input_tensors) for _, v in leaves]
        if self.previous is not None:
            self.previous["after_next_digests"] = self._digests(self.previous.pop("_leaves"))
        self._settle(before)
        settled = [cpu_copy(torch, v) if isinstance(v, torch.Tensor) else v for _, v in leaves]
        self.keep_alive.append(settled)
        record = {
            "label": label,
            "variant": variant,
            "seed_index": seed,
            "structure": structure,
            "outputs": snapshot,
            "output_devices": [str(v.device) if isinstance(v, torch.Tensor) else None for _, v in leaves],
            "aliases_input": aliases,
            "settled_digests": [digest(torch, v) for v in settled],
            "after_next_digests": None,
            "inputs_after": [cpu_copy(torch, t) for t in input_tensors],
            "_leaves": leaves,
        }
        self.records.append(record)
        self.previous = record
        return {"label": label, "wall_ms": round(wall_ms, 3), "threads_alive_after": len(alive_after)}

    def finish(self) -> list:
        """The records as saved (the last call's after-next digests are taken now)."""
        if self.previous is not None and "_leaves" in self.previous:
            self.previous["after_next_digests"] = self._digests(self.previous.pop("_leaves"))
        self.previous = None
        return [{k: v for k, v in r.items() if not k.startswith("_")} for r in self.records]

    def _digests(self, leaves) -> list:
        if self.device == "cuda":
            self.torch.cuda.synchronize()
        return [digest(self.torch, v) for _, v in leaves]

    def _settle(self, threads_before: set) -> None:
        """Give late work time to land before the second look: a pause, and up to THREAD_WAIT_S for
        Python threads the call left running (so a thread's late write is seen, not raced)."""
        time.sleep(SETTLE_S)
        deadline = time.perf_counter() + THREAD_WAIT_S
        while python_thread_ids() - threads_before and time.perf_counter() < deadline:
            time.sleep(0.01)
        if self.device == "cuda":
            self.torch.cuda.synchronize()
