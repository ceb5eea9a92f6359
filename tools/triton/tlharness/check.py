"""`check`: run the candidate in a fresh process and record everything it did, raw.

The process never holds the reference module or the expected outputs: it loads the saved inputs
and weights only. The plan, in order:
  seed0, seed0-repeat (determinism), seed1 .. seedN-1, fresh-data (seed 1's values copied into
  seed 0's buffers: a cache keyed by pointer, shape or object identity returns stale data).
Before every call memory is poisoned; right after it the outputs are copied to the host (the
"immediate" snapshot the judge compares); after a pause (and a device-wide synchronize on CUDA)
they are copied and hashed again: if that differs from the immediate snapshot, work was still
landing after forward returned (another thread or stream).

Why an uninitialized output (torch.empty) is caught whatever the allocator does: the expected
values never exist in this process, and nothing this process derives from a candidate's output
(returned objects, snapshots, settled copies, hashes) is freed before the process ends, so no
freed block ever holds a correct answer for a later torch.empty to land on. An unwritten output
then holds NaN from the poisoning (a reused block), zeros (fresh pages from mmap), or stale
values of something else; none of them equals the expected answer.
Judging happens elsewhere (judge.py), in a process that never imports the candidate.
"""
from __future__ import annotations

import json
import os
import time

from .candidate import CandidateError, describe_exception, load_candidate
from .compileinfo import collect_kernels
from .env import EnvironmentMissing, is_interpret, require_torch, versions
from .guards import AuditLog, PatchWatch, native_thread_count, poison, python_thread_ids, warm_thread_pools
from .protocol import log, stage
from .synth import flatten_output, materialize, tensors_of
from .tensors import cpu_copy, digest, load_bundle, save_bundle

SETTLE_S = 0.05
THREAD_WAIT_S = 2.0


def run_check(args) -> dict:
    torch = require_torch()
    with open(os.path.join(args.reference, "meta.json"), encoding="utf-8") as handle:
        meta = json.load(handle)
    device = meta["device"]
    if device == "cuda" and not torch.cuda.is_available():
        raise EnvironmentMissing("the reference ran on CUDA but this process sees no CUDA device.", "run every phase on the same GPU host")
    env_versions = versions(torch)  # imports triton (when present) before the patch snapshot
    saved = load_bundle(torch, os.path.join(args.reference, "inputs.pt"))
    state = load_bundle(torch, os.path.join(args.reference, "weights.pt"))
    live = [materialize(torch, s, device) for s in saved["inputs"]]
    sizes = [o["nbytes"] for o in meta["outputs"] if o["kind"] == "tensor"]
    os.makedirs(args.out, exist_ok=True)

    warm_thread_pools(torch)
    watch = PatchWatch(torch)
    model_stem = os.path.splitext(meta["manifest"]["model"]["file"])[0]
    audit = AuditLog([meta["case_dir"], os.path.dirname(os.path.abspath(args.reference))], [model_stem, "tuneloop_reference_model"], args.candidate)
    threads_at_start = python_thread_ids()
    native_at_start = native_thread_count()
    result = {
        "device": device,
        "interpret": is_interpret(),
        "versions": env_versions,
        "failure": None,
        "calls": [],
        "outputs_file": os.path.join(args.out, "outputs.pt"),
    }

    stage("import")
    audit.recording = True
    started = time.perf_counter()
    try:
        candidate = load_candidate(torch, args.candidate, args.entry, meta["manifest"], device, state)
    except CandidateError as error:
        audit.recording = False
        result["failure"] = {"stage": error.stage, "call": None, **error.info}
        return _finish(torch, result, watch, audit, threads_at_start, native_at_start, [], [], args, None)
    finally:
        audit.recording = False
    result["import_ms"] = round((time.perf_counter() - started) * 1000, 3)

    plan = [("seed0", 0, 0), ("seed0-repeat", 0, 0)] + [(f"seed{i}", i, i) for i in range(1, len(live))]
    if len(live) >= 2:
        plan.append(("fresh-data-same-buffers", 0, 1))
    keep_alive, snapshots = [], []
    for label, buffers_of, values_of in plan:
        if buffers_of != values_of:
            with torch.no_grad():
                for dst, src in zip(tensors_of(live[buffers_of]), tensors_of(live[values_of])):
                    dst.copy_(src)
        inputs = live[buffers_of]
        poison(torch, device, sizes)
        before = python_thread_ids()
        audit.recording = True
        t0 = time.perf_counter()
        try:
            with torch.no_grad():
                out = candidate(*inputs["args"], **inputs["kwargs"])
            leaves, structure = flatten_output(torch, out)
            # Stream-ordered copy to the host: on CUDA it waits for the current stream only, so work
            # left on another stream is not waited for (the settled look below sees it).
            snapshot = [cpu_copy(torch, v) if isinstance(v, torch.Tensor) else v for _, v in leaves]
        except BaseException as error:
            audit.recording = False
            info = describe_exception(error, args.candidate)
            result["failure"] = {"stage": "call", "call": label, **info}
            log(f"candidate raised on {label}: {info['type']}: {info['message'][:300]}")
            break
        finally:
            audit.recording = False
        wall_ms = (time.perf_counter() - t0) * 1000
        if label == "seed0":
            stage("compiled")
        keep_alive.append(out)
        alive_after = python_thread_ids() - before
        _settle(before)
        if device == "cuda":
            torch.cuda.synchronize()
        settled_copies = [cpu_copy(torch, v) if isinstance(v, torch.Tensor) else v for _, v in leaves]
        keep_alive.append(settled_copies)
        settled = [digest(torch, v) for v in settled_copies]
        snapshots.append({
            "label": label,
            "seed_index": values_of,
            "structure": structure,
            "outputs": snapshot,
            "output_devices": [str(v.device) if isinstance(v, torch.Tensor) else None for _, v in leaves],
            "settled_digests": settled,
            "inputs_after": [cpu_copy(torch, t) for t in tensors_of(inputs)],
        })
        result["calls"].append({
            "label": label,
            "seed_index": values_of,
            "structure": structure,
            "wall_ms": round(wall_ms, 3),
            "threads_alive_after": len(alive_after),
        })
    kernels = collect_kernels(candidate_module(), os.path.join(args.out, "compile")) if device == "cuda" and not is_interpret() else None
    return _finish(torch, result, watch, audit, threads_at_start, native_at_start, snapshots, keep_alive, args, kernels)


def _settle(threads_before: set) -> None:
    """Give late work time to land before the second look: a pause, and up to THREAD_WAIT_S for
    Python threads the call left running (so a thread's late write is seen, not raced)."""
    time.sleep(SETTLE_S)
    deadline = time.perf_counter() + THREAD_WAIT_S
    while python_thread_ids() - threads_before and time.perf_counter() < deadline:
        time.sleep(0.01)


def candidate_module():
    import sys

    return sys.modules.get("tuneloop_candidate")


def _finish(torch, result, watch, audit, threads_at_start, native_at_start, snapshots, keep_alive, args, kernels) -> dict:
    save_bundle(torch, result["outputs_file"], {"calls": snapshots})
    result["patched"] = watch.changes()
    result["settings_changed"] = watch.settings_changes()
    result["audit"] = {"events": audit.events, "dropped": audit.dropped}
    result["threads"] = {
        "python_threads_started": len(python_thread_ids() - threads_at_start),
        "native_threads_before": native_at_start,
        "native_threads_after": native_thread_count(),
    }
    result["compile"] = kernels
    del keep_alive
    return result
