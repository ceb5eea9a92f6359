"""`profile`: torch.profiler over the baseline or a candidate; a Chrome trace, the operator table
and the top operators as data, written to the output folder.

Column names moved across torch versions: self_device_time_total (2.4+) vs self_cuda_time_total
(older); on CPU the table is sorted by self_cpu_time_total.
"""
from __future__ import annotations

import json
import os

from .candidate import CandidateError, load_candidate
from .checkplan import synthesize
from .env import is_interpret, require_torch, resolve_device, versions
from .manifest import load_manifest
from .protocol import CandidateFailure, UsageError
from .synth import build_reference, load_reference_module, materialize
from .tensors import load_bundle


def run_profile(args) -> dict:
    torch = require_torch()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    from torch.profiler import ProfilerActivity, profile, schedule

    env_versions = versions(torch)
    if args.input:  # the candidate, in its sandbox: the spec and weights the trusted process wrote
        with open(os.path.join(args.input, "spec.json"), encoding="utf-8") as handle:
            spec = json.load(handle)
        manifest, device = spec["manifest"], spec["device"]
        state = load_bundle(torch, os.path.join(args.input, "weights.pt"))
        try:
            target = load_candidate(torch, os.path.join(args.input, "candidate.py"), args.entry, manifest, device, state)
        except CandidateError as error:
            raise CandidateFailure(f"the candidate failed to load: {error.info['type']}: {error.info['message'][:4000]}", "Fix it (triton_verify reports the full error).")
        variant = "candidate"
    elif args.case_dir:  # the baseline: trusted code, built from the case folder
        manifest = load_manifest(args.case_dir)
        device = resolve_device(torch, args.device)
        target, _ = build_reference(torch, load_reference_module(args.case_dir, manifest), manifest, device)
        variant = "baseline"
    else:
        raise UsageError("profile: pass --input (a candidate) or --case-dir (the baseline).")
    inputs = materialize(torch, synthesize(torch, manifest, "main", 0), device)

    def step():
        target(*inputs["args"], **inputs["kwargs"])
        if device == "cuda":
            torch.cuda.synchronize()

    try:
        for _ in range(2):  # compile and warm up outside the profile
            step()
    except BaseException as error:
        raise CandidateFailure(f"the {variant} raised: {type(error).__name__}: {error}", "triton_verify reports the full error.")

    activities = [ProfilerActivity.CPU]
    if device == "cuda":
        activities.append(ProfilerActivity.CUDA)
    os.makedirs(args.out, exist_ok=True)
    with profile(activities=activities, record_shapes=True, schedule=schedule(wait=1, warmup=1, active=args.steps)) as prof:
        for _ in range(args.steps + 2):
            step()
            prof.step()
    trace_path = os.path.join(args.out, "trace.json")
    prof.export_chrome_trace(trace_path)
    averages = prof.key_averages()
    sort_key = _sort_key(averages, device)
    table = averages.table(sort_by=sort_key, row_limit=args.row_limit)
    table_path = os.path.join(args.out, "table.txt")
    with open(table_path, "w", encoding="utf-8") as handle:
        handle.write(table)
    top = sorted((_row(e, device) for e in averages), key=lambda r: -(r.get(_row_field(sort_key)) or 0))
    top = [r for r in top if not r["name"].startswith("ProfilerStep")][: args.row_limit]
    with open(os.path.join(args.out, "operators.json"), "w", encoding="utf-8") as handle:
        json.dump(top, handle, indent=1)
    return {
        "variant": variant,
        "device": device,
        "interpret": is_interpret(),
        "steps": args.steps,
        "sort_by": sort_key,
        "trace_path": trace_path,
        "trace_bytes": os.path.getsize(trace_path),
        "table_path": table_path,
        "top_operators": top,
        "versions": env_versions,
    }


def _sort_key(averages, device: str) -> str:
    if device != "cuda":
        return "self_cpu_time_total"
    sample = next(iter(averages), None)
    return "self_device_time_total" if sample is not None and hasattr(sample, "self_device_time_total") else "self_cuda_time_total"


def _row_field(sort_key: str) -> str:
    return {"self_cpu_time_total": "self_cpu_us", "self_device_time_total": "self_device_us", "self_cuda_time_total": "self_device_us"}[sort_key]


def _attr(event, *names):
    for name in names:
        value = getattr(event, name, None)
        if value is not None:
            return float(value)
    return None


def _row(event, device: str) -> dict:
    calls = int(getattr(event, "count", 0) or 0)
    on_device = device == "cuda"
    return {
        "name": str(event.key),
        "calls": calls,
        "self_cpu_us": _attr(event, "self_cpu_time_total"),
        "cpu_total_us": _attr(event, "cpu_time_total"),
        "self_device_us": _attr(event, "self_device_time_total", "self_cuda_time_total") if on_device else None,
        "device_total_us": _attr(event, "device_time_total", "cuda_time_total") if on_device else None,
        "input_shapes": str(getattr(event, "input_shapes", "") or "")[:200] or None,
    }
