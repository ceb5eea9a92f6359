"""Inputs and weights: synthesized from the manifest, the same for every process that needs them.

Inputs are generated on the CPU with a seeded generator (so they do not depend on the device) and
saved as contiguous base tensors plus a layout tag; `materialize` rebuilds the exact view
(transposed or strided) on the target device, because moving a non-dense view between devices
would make it contiguous.
"""
from __future__ import annotations

import importlib.util
import os
import sys

from .protocol import CaseError


def dtype_of(torch, name: str):
    return getattr(torch, name)


def variants(manifest: dict) -> list:
    """The input shapes a case declares: "main" (every input's shape) and, when any tensor input has
    a small_shape, "small". Every variant is checked in every mode (a kernel hard-coded to one shape
    fails the other); timing uses "main"."""
    tensors = [s for s in input_specs(manifest) if s["kind"] == "tensor"]
    return ["main", "small"] if any(s["small_shape"] for s in tensors) else ["main"]


def input_specs(manifest: dict) -> list:
    return list(manifest["inputs"]["args"]) + [manifest["inputs"]["kwargs"][k] for k in manifest["inputs"]["kwargs"]]


def synthesize_inputs(torch, manifest: dict, seed: int, seed_index: int, variant: str) -> dict:
    """{"args": [saved...], "kwargs": {name: saved}} for one seed; saved = {"base", "layout"} or {"value"}."""
    specs = list(enumerate(manifest["inputs"]["args"])) + list(manifest["inputs"]["kwargs"].items())
    saved = {"args": [], "kwargs": {}}
    for position, (key, spec) in enumerate(specs):
        item = _synthesize_one(torch, spec, seed * 1009 + position, seed_index, variant == "small")
        if isinstance(key, int):
            saved["args"].append(item)
        else:
            saved["kwargs"][key] = item
    return saved


def _synthesize_one(torch, spec: dict, stream: int, seed_index: int, small: bool) -> dict:
    if spec["kind"] == "value":
        return {"value": spec["value"]}
    shape = list(spec["small_shape"] if small and spec["small_shape"] else spec["shape"])
    return {"base": draw(torch, spec, base_shape(spec, shape), torch.Generator().manual_seed(stream), seed_index), "layout": spec["layout"]}


def base_shape(spec: dict, shape: list) -> list:
    """The contiguous buffer behind an input of `shape` in the spec's layout (see materialize)."""
    out = list(shape)
    if spec["layout"] == "transposed":
        out[-1], out[-2] = out[-2], out[-1]
    elif spec["layout"] == "strided":
        out[-1] *= 2
    return out


def draw(torch, spec: dict, shape: list, generator, seed_index: int):
    """A contiguous tensor of the spec's dtype from its distribution (cycled by seed_index)."""
    dist = spec["distributions"][seed_index % len(spec["distributions"])]
    dtype = dtype_of(torch, spec["dtype"])
    work = torch.float64 if dtype == torch.float64 else torch.float32
    kind = dist["kind"]
    if kind == "normal":
        base = torch.randn(shape, generator=generator, dtype=work) * dist["std"] + dist["mean"]
    elif kind == "uniform":
        base = torch.rand(shape, generator=generator, dtype=work) * (dist["high"] - dist["low"]) + dist["low"]
    elif kind == "randint":
        base = torch.randint(int(dist["low"]), int(dist["high"]), shape, generator=generator, dtype=torch.int64)
    else:  # bernoulli
        base = torch.rand(shape, generator=generator) < dist["p"]
    return base.to(dtype).contiguous()


def materialize(torch, saved: dict, device: str) -> dict:
    """Saved inputs -> {"args": [...], "kwargs": {...}} of live values on `device`."""
    return {
        "args": [_materialize_one(item, device) for item in saved["args"]],
        "kwargs": {k: _materialize_one(v, device) for k, v in saved["kwargs"].items()},
    }


def _materialize_one(item: dict, device: str):
    if "value" in item:
        return item["value"]
    return layout_view(item["base"].to(device), item["layout"])


def layout_view(base, layout: str):
    """The input as forward sees it: the base itself, or a transposed / every-other-column view."""
    if layout == "transposed":
        return base.transpose(-1, -2)
    if layout == "strided":
        return base[..., ::2]
    return base


def tensors_of(inputs: dict) -> list:
    values = list(inputs["args"]) + [inputs["kwargs"][k] for k in sorted(inputs["kwargs"])]
    return [v for v in values if hasattr(v, "data_ptr")]


def import_file(path: str, module_name: str):
    """Import a Python file as `module_name` (errors propagate: callers classify them)."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise CaseError(f"cannot import {path}", "Check that the file is a Python module.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def load_reference_module(case_dir: str, manifest: dict):
    """The case's model module; the case folder goes on sys.path for its sibling helpers.
    Only the reference, bench and baseline-profile processes call this, never the check process."""
    if case_dir not in sys.path:
        sys.path.insert(0, case_dir)
    path = os.path.join(case_dir, manifest["model"]["file"])
    try:
        return import_file(path, "tuneloop_reference_model")
    except CaseError:
        raise
    except BaseException as error:
        raise CaseError(f"importing {path} failed: {type(error).__name__}: {error}", "Fix model.py; it must import with torch alone.")


def build_reference(torch, module, manifest: dict, device: str):
    """Construct the reference model with deterministic weights; returns (model, randomized names)."""
    cls = getattr(module, manifest["model"]["class"], None)
    if cls is None:
        raise CaseError(f"model.py defines no {manifest['model']['class']!r}.", "Set model.class to the nn.Module class in model.py.")
    weights = manifest["weights"]
    torch.manual_seed(weights["seed"])
    try:
        model = cls(**manifest["model"]["init_kwargs"])
    except BaseException as error:
        raise CaseError(f"{manifest['model']['class']}(**init_kwargs) failed: {type(error).__name__}: {error}", "Check model.init_kwargs against the constructor.")
    randomized = []
    if weights["function"]:
        init = getattr(module, weights["function"], None)
        if not callable(init):
            raise CaseError(f"weights.function {weights['function']!r} is not a function in model.py.", "Define it, or drop weights.function.")
        torch.manual_seed(weights["seed"])
        with torch.no_grad():
            returned = init(model)
        if isinstance(returned, dict):
            model.load_state_dict(returned)
    elif weights["randomize_constant"]:
        randomized = _randomize_constant_parameters(torch, model, weights["seed"])
    if hasattr(model, "to"):
        model = model.to(device)
    if hasattr(model, "eval"):
        model.eval()
    return model, randomized


def _randomize_constant_parameters(torch, model, seed: int) -> list:
    """Default inits leave LayerNorm weight=1, bias=0: a kernel that ignores them would pass.
    Parameters whose elements are all equal get value + 0.1*N(0,1) (deterministic)."""
    generator = torch.Generator().manual_seed(seed + 7919)
    names = []
    if not hasattr(model, "named_parameters"):
        return names
    with torch.no_grad():
        for name, param in model.named_parameters():
            if not param.is_floating_point() or param.numel() == 0:
                continue
            flat = param.detach().reshape(-1)
            constant = bool((flat == flat[0]).all()) if flat.numel() > 1 else float(flat[0]) == 0.0
            if not constant:
                continue
            noise = torch.randn(param.shape, generator=generator, dtype=torch.float32).to(param.dtype)
            scale = max(abs(float(flat[0])) * 0.1, 0.1)
            param.add_(noise.to(param.device) * scale)
            names.append(name)
    return names


def state_of(model) -> dict:
    if not hasattr(model, "state_dict"):
        return {}
    return {k: v.detach().to("cpu").clone() for k, v in model.state_dict().items()}


def flatten_output(torch, value, path: str = "out"):
    """(leaves, structure): leaves are (path, value) with tensors or plain scalars."""
    if isinstance(value, torch.Tensor):
        return [(path, value)], "tensor"
    if isinstance(value, (tuple, list)):
        leaves, parts = [], []
        for i, item in enumerate(value):
            sub, structure = flatten_output(torch, item, f"{path}[{i}]")
            leaves += sub
            parts.append(structure)
        return leaves, f"{type(value).__name__}({','.join(parts)})"
    if isinstance(value, dict):
        leaves, parts = [], []
        for key in sorted(value, key=str):
            sub, structure = flatten_output(torch, value[key], f"{path}[{key!r}]")
            leaves += sub
            parts.append(f"{key}:{structure}")
        return leaves, f"dict({','.join(parts)})"
    if value is None or isinstance(value, (bool, int, float)):
        return [(path, value)], type(value).__name__
    return [(path, repr(value)[:200])], f"unsupported:{type(value).__name__}"
