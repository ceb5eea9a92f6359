"""`validate`: everything a new case needs to work, checked by running it once: the manifest
parses, model.py imports, the class builds with its kwargs and weights, inputs synthesize, and
forward returns tensors. Used by triton_create_case before the case is moved into place."""
from __future__ import annotations

import time

from .env import require_torch, resolve_device
from .manifest import load_manifest
from .protocol import CaseError
from .synth import build_reference, flatten_output, load_reference_module, materialize, synthesize_inputs, tensors_of


def run_validate(args) -> dict:
    torch = require_torch()
    manifest = load_manifest(args.case_dir)
    device = resolve_device(torch, "cpu" if manifest["device"] == "cpu" else "auto")
    module = load_reference_module(args.case_dir, manifest)
    model, randomized = build_reference(torch, module, manifest, device)
    saved = synthesize_inputs(torch, manifest, 0, 0, "small" if args.small else "main")
    live = materialize(torch, saved, device)
    started = time.perf_counter()
    with torch.no_grad():
        try:
            out = model(*live["args"], **live["kwargs"])
        except BaseException as error:
            raise CaseError(f"forward raised {type(error).__name__}: {error}", "Check the input schema (shapes, dtypes, order) against forward().")
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    leaves, structure = flatten_output(torch, out)
    if "unsupported:" in structure:
        raise CaseError(f"forward returns {structure}.", "Return tensors, or tuples/lists/dicts of tensors and numbers.")
    if not any(isinstance(v, torch.Tensor) for _, v in leaves):
        raise CaseError("forward returns no tensor.", "Return the result tensor(s).")
    return {
        "name": manifest["name"],
        "device": device,
        "structure": structure,
        "outputs": [
            {"path": p, "shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", "")} if isinstance(v, torch.Tensor) else {"path": p, "value": repr(v)}
            for p, v in leaves
        ],
        "inputs": [{"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "contiguous": t.is_contiguous()} for t in tensors_of(live)],
        "parameters": sum(p.numel() for p in model.parameters()) if hasattr(model, "parameters") else 0,
        "randomized_parameters": randomized,
        "forward_seconds": round(seconds, 4),
        "manifest": manifest,
    }
