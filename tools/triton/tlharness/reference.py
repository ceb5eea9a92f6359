"""`reference`: build each seed's inputs, run the baseline module, save inputs, weights and the
expected outputs. This process never sees candidate code.

Also establishes facts the judge relies on: whether the reference is deterministic (it decides
whether the candidate must be bitwise reproducible or only within tolerance), whether outputs
depend on the seeded inputs at all (the sensitivity check is meaningless otherwise), and that the
reference does not mutate its own inputs (then the case is not a pure forward).
"""
from __future__ import annotations

import json
import os
import time

from .env import require_torch, resolve_device, versions
from .manifest import load_manifest
from .protocol import CaseError, log
from .synth import build_reference, flatten_output, load_reference_module, materialize, state_of, synthesize_inputs, tensors_of
from .tensors import bits_equal, save_bundle


def run_reference(args) -> dict:
    torch = require_torch()
    manifest = load_manifest(args.case_dir)
    device = resolve_device(torch, args.device)
    module = load_reference_module(args.case_dir, manifest)
    model, randomized = build_reference(torch, module, manifest, device)
    seeds = [args.base_seed + i for i in range(args.seeds)]
    os.makedirs(args.out, exist_ok=True)

    saved_inputs, expected, structure = [], [], None
    started = time.perf_counter()
    for index, seed in enumerate(seeds):
        saved = synthesize_inputs(torch, manifest, seed, index, args.small)
        leaves, this_structure = _forward(torch, model, saved, device, check_purity=True)
        if structure is None:
            structure = this_structure
        elif this_structure != structure:
            raise CaseError(f"the reference returns {this_structure} for seed {seed} but {structure} for seed {seeds[0]}.", "forward must return the same structure for every input.")
        saved_inputs.append(saved)
        expected.append([value for _, value in leaves])
        log(f"reference seed {seed}: {len(leaves)} output(s)")
    elapsed = time.perf_counter() - started

    again, _ = _forward(torch, model, saved_inputs[0], device, check_purity=False)
    deterministic = all(bits_equal(torch, a, b) for a, (_, b) in zip(expected[0], again))
    sensitive = len(seeds) < 2 or any(not bits_equal(torch, a, b) for a, b in zip(expected[0], expected[1]))
    outputs = [_describe(torch, path, value) for (path, _), value in zip(leaves, expected[0])]
    if any(o.get("constant") for o in outputs):
        log("warning: an output is constant over its elements; wrong kernels may match it")

    save_bundle(torch, os.path.join(args.out, "inputs.pt"), {"seeds": seeds, "inputs": saved_inputs})
    save_bundle(torch, os.path.join(args.out, "expected.pt"), {"structure": structure, "outputs": expected})
    save_bundle(torch, os.path.join(args.out, "weights.pt"), state_of(model))
    meta = {
        "case": manifest["name"],
        "case_dir": os.path.abspath(args.case_dir),
        "manifest": manifest,
        "device": device,
        "small_shapes": bool(args.small),
        "seeds": seeds,
        "structure": structure,
        "outputs": outputs,
        "input_tensors": [
            {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "contiguous": t.is_contiguous()}
            for t in tensors_of(materialize(torch, saved_inputs[0], "cpu"))
        ],
        "has_weights": bool(state_of(model)),
        "randomized_parameters": randomized,
        "reference_deterministic": deterministic,
        "reference_sensitive": sensitive,
        "reference_seconds": round(elapsed, 4),
        "versions": versions(torch),
    }
    with open(os.path.join(args.out, "meta.json"), "w", encoding="utf-8") as handle:
        json.dump(meta, handle, indent=1)
    return meta


def _forward(torch, model, saved: dict, device: str, check_purity: bool):
    live = materialize(torch, saved, device)
    before = [t.clone() for t in tensors_of(live)] if check_purity else []
    with torch.no_grad():
        try:
            out = model(*live["args"], **live["kwargs"])
        except BaseException as error:
            raise CaseError(f"the reference forward raised {type(error).__name__}: {error}", "Fix model.py or the input schema in manifest.yaml.")
    if device == "cuda":
        torch.cuda.synchronize()
    leaves, structure = flatten_output(torch, out)
    if structure.startswith("unsupported") or "unsupported:" in structure:
        raise CaseError(f"the reference returns {structure}.", "forward must return tensors (or tuples/lists/dicts of tensors and numbers).")
    if check_purity and any(not bits_equal(torch, a, b) for a, b in zip(before, tensors_of(live))):
        raise CaseError("the reference forward modifies its inputs in place.", "A case needs a pure forward: clone inputs before in-place ops.")
    return [(path, v.detach().to("cpu").clone() if isinstance(v, torch.Tensor) else v) for path, v in leaves], structure


def _describe(torch, path: str, value) -> dict:
    if not isinstance(value, torch.Tensor):
        return {"path": path, "kind": "value", "type": type(value).__name__}
    flat = value.reshape(-1)
    constant = flat.numel() > 1 and bool((flat == flat[0]).all())
    return {
        "path": path,
        "kind": "tensor",
        "shape": list(value.shape),
        "dtype": str(value.dtype).replace("torch.", ""),
        "nbytes": value.numel() * value.element_size(),
        "constant": constant,
    }
