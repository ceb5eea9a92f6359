"""The reference: every input set's expected outputs, computed by the case's own module in the
trusted process, cached in the data dir and integrity-checked on every load.

An entry is a folder of ENTRY_FILES. `build` writes one and returns each file's SHA-256 (the server
records them in SQLite); `load` reads each file through read_verified against the digests the
server passes, so a cached file changed by anyone after it was written is an IntegrityError (the
server then rebuilds and says so), never a silently different truth.

Also established here, once per entry: whether the reference is bitwise deterministic (then the
candidate must be too), whether its outputs depend on the inputs at all (the sensitivity check is
meaningless otherwise), whether it returns views of its inputs (otherwise a candidate must not),
and that it does not mutate its own inputs (then the case is not a pure forward).
"""
from __future__ import annotations

import hashlib
import json
import os
import time

from .env import resolve_device, versions
from .manifest import load_manifest
from .protocol import CaseError, log
from .synth import build_reference, flatten_output, load_reference_module, materialize, state_of, synthesize_inputs, tensors_of, variants
from .tensors import bits_equal, bundle_files, decode_bundle, read_verified, save_bundle, shares_storage

ENTRY_FILES = ["meta.json", *bundle_files("expected.pt"), *bundle_files("weights.pt")]


def build(torch, case_dir: str, seeds: int, device_request: str, out_dir: str) -> tuple:
    """Compute and write an entry; returns (meta, expected, state, digests)."""
    manifest = load_manifest(case_dir)
    device = resolve_device(torch, device_request)
    module = load_reference_module(case_dir, manifest)
    model, randomized = build_reference(torch, module, manifest, device)
    seed_list = list(range(seeds))
    shapes = variants(manifest)
    os.makedirs(out_dir, exist_ok=True)
    expected, structure, aliases = {}, None, False
    started = time.perf_counter()
    for variant in shapes:
        expected[variant] = []
        for index, seed in enumerate(seed_list):
            saved = synthesize_inputs(torch, manifest, seed, index, variant)
            leaves, this_structure, aliased = forward(torch, model, saved, device, check_purity=True)
            aliases = aliases or aliased
            if structure is None:
                structure = this_structure
            elif this_structure != structure:
                raise CaseError(f"the reference returns {this_structure} for {variant} seed {seed} but {structure} for main seed 0.", "forward must return the same structure for every input.")
            expected[variant].append([value for _, value in leaves])
        log(f"reference {variant}: {len(seed_list)} seeds")
    elapsed = time.perf_counter() - started

    first = synthesize_inputs(torch, manifest, 0, 0, "main")
    again, _, _ = forward(torch, model, first, device, check_purity=False)
    main = expected["main"]
    deterministic = all(bits_equal(torch, a, b) for a, (_, b) in zip(main[0], again))
    sensitive = len(seed_list) < 2 or any(not bits_equal(torch, a, b) for a, b in zip(main[0], main[1]))
    state = state_of(model)
    meta = {
        "case": manifest["name"],
        "manifest": manifest,
        "device": device,
        "seeds": seed_list,
        "variants": shapes,
        "structure": structure,
        "outputs": {v: [describe(torch, path, value) for (path, _), value in zip(leaves, expected[v][0])] for v in shapes},
        "input_tensors": [
            {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "contiguous": t.is_contiguous()}
            for t in tensors_of(materialize(torch, first, "cpu"))
        ],
        "has_weights": bool(state),
        "randomized_parameters": randomized,
        "reference_deterministic": deterministic,
        "reference_sensitive": sensitive,
        "reference_aliases_inputs": aliases,
        "reference_seconds": round(elapsed, 4),
        "versions": versions(torch),
    }
    save_bundle(torch, os.path.join(out_dir, "expected.pt"), {"structure": structure, "outputs": expected})
    save_bundle(torch, os.path.join(out_dir, "weights.pt"), state)
    with open(os.path.join(out_dir, "meta.json"), "w", encoding="utf-8") as handle:
        json.dump(meta, handle, indent=1)
    digests = {}
    for name in ENTRY_FILES:
        with open(os.path.join(out_dir, name), "rb") as handle:
            digests[name] = hashlib.sha256(handle.read()).hexdigest()
    return meta, expected, state, digests


def load(torch, entry_dir: str, digests: dict) -> tuple:
    """(meta, expected, state) from a cached entry, every file checked against its recorded SHA-256
    first (IntegrityError names the first that fails)."""
    data = {name: read_verified(entry_dir, name, digests) for name in ENTRY_FILES}
    meta = json.loads(data["meta.json"].decode("utf-8"))
    expected = decode_bundle(torch, data["expected.pt"], data["expected.pt.json"], "expected.pt")["outputs"]
    state = decode_bundle(torch, data["weights.pt"], data["weights.pt.json"], "weights.pt")
    return meta, expected, state


def forward(torch, model, saved: dict, device: str, check_purity: bool):
    """The reference's leaves for one saved input set (CPU copies), its structure, and whether an
    output shares storage with an input."""
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
    if "unsupported:" in structure:
        raise CaseError(f"the reference returns {structure}.", "forward must return tensors (or tuples/lists/dicts of tensors and numbers).")
    if check_purity and any(not bits_equal(torch, a, b) for a, b in zip(before, tensors_of(live))):
        raise CaseError("the reference forward modifies its inputs in place.", "A case needs a pure forward: clone inputs before in-place ops.")
    inputs = tensors_of(live)
    aliased = any(isinstance(v, torch.Tensor) and any(shares_storage(torch, v, t) for t in inputs) for _, v in leaves)
    return [(path, v.detach().to("cpu").clone() if isinstance(v, torch.Tensor) else v) for path, v in leaves], structure, aliased


def describe(torch, path: str, value) -> dict:
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
