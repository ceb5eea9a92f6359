"""The case format: <root>/<name>/model.py + manifest.yaml. Parsing, validation, discovery.

Validation errors name the field (`inputs.args[0].shape`) and what was expected, so a client that
wrote the manifest can fix it without reading this file.
"""
from __future__ import annotations

import os
import re

from .env import require_yaml
from .protocol import CaseError

CASE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
DTYPES = {
    "float32": "float32", "float": "float32", "fp32": "float32",
    "float16": "float16", "half": "float16", "fp16": "float16",
    "bfloat16": "bfloat16", "bf16": "bfloat16",
    "float64": "float64", "double": "float64", "fp64": "float64",
    "int64": "int64", "long": "int64", "int32": "int32", "int": "int32",
    "int16": "int16", "int8": "int8", "uint8": "uint8", "bool": "bool",
}
FLOAT_DTYPES = ("float32", "float16", "bfloat16", "float64")
DISTRIBUTIONS = {
    "normal": {"mean": 0.0, "std": 1.0},
    "uniform": {"low": -1.0, "high": 1.0},
    "randint": {"low": 0, "high": 10},
    "bernoulli": {"p": 0.5},
}
LAYOUTS = ("contiguous", "transposed", "strided")
DEVICES = ("auto", "cuda", "cpu")
TOP_KEYS = {"name", "description", "model", "device", "inputs", "weights", "tolerances"}


def _loader(yaml):
    """SafeLoader that reads 1e-6 as a float (YAML 1.1, hence PyYAML, wants 1.0e-6)."""

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
        list("-+0123456789"),
    )
    return Loader


def load_manifest(case_dir: str) -> dict:
    """Parse and validate <case_dir>/manifest.yaml; returns the normalized manifest."""
    yaml = require_yaml()
    path = os.path.join(case_dir, "manifest.yaml")
    if not os.path.isfile(path):
        raise CaseError(f"{path} does not exist.", "A case folder holds model.py and manifest.yaml.")
    try:
        with open(path, "r", encoding="utf-8") as handle:
            raw = yaml.load(handle, Loader=_loader(yaml))
    except yaml.YAMLError as error:
        raise CaseError(f"manifest.yaml is not valid YAML: {error}", "Fix the YAML syntax (JSON is valid YAML too).")
    return normalize_manifest(raw, case_dir)


def normalize_manifest(raw, case_dir: str) -> dict:
    if not isinstance(raw, dict):
        raise CaseError("manifest.yaml must be a mapping at the top level.", "See the case format in the README (Triton section).")
    unknown = sorted(set(raw) - TOP_KEYS)
    if unknown:
        raise CaseError(f"manifest.yaml has unknown key(s) {unknown}.", f"Allowed top-level keys: {sorted(TOP_KEYS)}.")
    model = raw.get("model") or {}
    if not isinstance(model, dict):
        raise CaseError("model must be a mapping (file, class, init_kwargs).", "e.g. model: {class: Model, init_kwargs: {dim: -1}}")
    unknown = sorted(set(model) - {"file", "class", "init_kwargs"})
    if unknown:
        raise CaseError(f"model has unknown key(s) {unknown}.", "Allowed: file, class, init_kwargs.")
    model_file = model.get("file", "model.py")
    if not isinstance(model_file, str) or "/" in model_file or not model_file.endswith(".py"):
        raise CaseError(f"model.file must be a .py file name inside the case folder, got {model_file!r}.", "Use model.py.")
    if not os.path.isfile(os.path.join(case_dir, model_file)):
        raise CaseError(f"model.file {model_file} does not exist in {case_dir}.", "Put the reference module next to manifest.yaml.")
    class_name = model.get("class", "Model")
    if not isinstance(class_name, str) or not class_name.isidentifier():
        raise CaseError(f"model.class must be a class name, got {class_name!r}.", "e.g. class: Model")
    init_kwargs = model.get("init_kwargs") or {}
    if not isinstance(init_kwargs, dict):
        raise CaseError("model.init_kwargs must be a mapping of constructor keyword arguments.", "e.g. init_kwargs: {hidden: 1024}")

    device = raw.get("device", "auto")
    if device not in DEVICES:
        raise CaseError(f"device must be one of {list(DEVICES)}, got {device!r}.", "device is the preferred device; cuda falls back to cpu when no GPU is present.")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise CaseError("description must be a string.", "Describe what the module computes and what matters for speed.")

    inputs = raw.get("inputs") or {}
    if not isinstance(inputs, dict) or set(inputs) - {"args", "kwargs"}:
        raise CaseError("inputs must be a mapping with args (a list) and/or kwargs (a mapping).", "e.g. inputs: {args: [{name: x, shape: [1024, 1024], dtype: float32}]}")
    args = inputs.get("args") or []
    kwargs = inputs.get("kwargs") or {}
    if not isinstance(args, list):
        raise CaseError("inputs.args must be a list of input specs.", "One entry per positional argument of forward().")
    if not isinstance(kwargs, dict):
        raise CaseError("inputs.kwargs must be a mapping from keyword name to input spec.", "e.g. kwargs: {eps: {value: 1.0e-6}}")
    norm_args = [normalize_input(spec, f"inputs.args[{i}]") for i, spec in enumerate(args)]
    norm_kwargs = {str(k): normalize_input(spec, f"inputs.kwargs.{k}") for k, spec in kwargs.items()}
    if not any(s["kind"] == "tensor" for s in norm_args + list(norm_kwargs.values())):
        raise CaseError("inputs declare no tensor.", "At least one input must be a tensor (shape + dtype).")

    weights = raw.get("weights") or {}
    if not isinstance(weights, dict) or set(weights) - {"function", "seed", "randomize_constant"}:
        raise CaseError("weights must be a mapping with function, seed and/or randomize_constant.", "e.g. weights: {function: init_weights}")
    function = weights.get("function")
    if function is not None and (not isinstance(function, str) or not function.isidentifier()):
        raise CaseError(f"weights.function must name a function in {model_file}, got {function!r}.", "e.g. weights: {function: init_weights}")
    seed = weights.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise CaseError(f"weights.seed must be an integer, got {seed!r}.", "e.g. weights: {seed: 0}")

    return {
        "name": raw.get("name") or os.path.basename(os.path.normpath(case_dir)),
        "description": description,
        "model": {"file": model_file, "class": class_name, "init_kwargs": init_kwargs},
        "device": device,
        "inputs": {"args": norm_args, "kwargs": norm_kwargs},
        "weights": {"function": function, "seed": seed, "randomize_constant": bool(weights.get("randomize_constant", True))},
        "tolerances": normalize_tolerances(raw.get("tolerances"), "tolerances"),
    }


def normalize_input(spec, where: str) -> dict:
    if not isinstance(spec, dict):
        raise CaseError(f"{where} must be a mapping (a tensor spec with shape/dtype, or {{value: ...}}).", "e.g. {name: x, shape: [1024], dtype: float32}")
    if "value" in spec:
        extra = sorted(set(spec) - {"name", "value"})
        if extra:
            raise CaseError(f"{where}: a literal input takes only name and value, got {extra}.", "Drop the tensor keys or the value.")
        return {"kind": "value", "name": spec.get("name"), "value": spec["value"]}
    unknown = sorted(set(spec) - {"name", "shape", "small_shape", "dtype", "distribution", "layout"})
    if unknown:
        raise CaseError(f"{where} has unknown key(s) {unknown}.", "A tensor spec takes name, shape, small_shape, dtype, distribution, layout.")
    shape = _shape(spec.get("shape"), f"{where}.shape")
    small = _shape(spec["small_shape"], f"{where}.small_shape") if spec.get("small_shape") is not None else None
    if small is not None and len(small) != len(shape):
        raise CaseError(f"{where}.small_shape has {len(small)} dims but shape has {len(shape)}.", "Give the same number of dimensions.")
    dtype_name = str(spec.get("dtype", "float32"))
    if dtype_name not in DTYPES:
        raise CaseError(f"{where}.dtype {dtype_name!r} is not supported.", f"Use one of {sorted(set(DTYPES.values()))}.")
    dtype = DTYPES[dtype_name]
    layout = spec.get("layout", "contiguous")
    if layout not in LAYOUTS:
        raise CaseError(f"{where}.layout must be one of {list(LAYOUTS)}, got {layout!r}.", "transposed and strided give non-contiguous inputs.")
    if layout == "transposed" and len(shape) < 2:
        raise CaseError(f"{where}.layout transposed needs at least 2 dimensions.", "Use layout strided or contiguous.")
    dists = spec.get("distribution", {"kind": "bernoulli" if dtype == "bool" else "randint" if dtype not in FLOAT_DTYPES else "normal"})
    if isinstance(dists, (dict, str)):
        dists = [dists]
    if not isinstance(dists, list) or not dists:
        raise CaseError(f"{where}.distribution must be a mapping or a non-empty list of them (seeds cycle through the list).", "e.g. distribution: {kind: normal, std: 2}")
    norm = [_distribution(d, f"{where}.distribution[{i}]", dtype) for i, d in enumerate(dists)]
    return {"kind": "tensor", "name": spec.get("name"), "shape": shape, "small_shape": small, "dtype": dtype, "layout": layout, "distributions": norm}


def _shape(value, where: str) -> list:
    if not isinstance(value, list) or not value or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in value):
        raise CaseError(f"{where} must be a non-empty list of positive integers, got {value!r}.", "e.g. shape: [1024, 1024]")
    return value


def _distribution(value, where: str, dtype: str) -> dict:
    if isinstance(value, str):
        value = {"kind": value}
    if not isinstance(value, dict) or value.get("kind") not in DISTRIBUTIONS:
        raise CaseError(f"{where} must name a kind in {sorted(DISTRIBUTIONS)}, got {value!r}.", "e.g. {kind: uniform, low: -3, high: 3}")
    kind = value["kind"]
    params = dict(DISTRIBUTIONS[kind])
    for key, v in value.items():
        if key == "kind":
            continue
        if key not in params:
            raise CaseError(f"{where}: {kind} takes {sorted(params)}, not {key!r}.", f"Parameters of {kind}: {sorted(params)}.")
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise CaseError(f"{where}.{key} must be a number, got {v!r}.", "Use a number.")
        params[key] = v
    if kind in ("uniform", "randint") and not params["low"] < params["high"]:
        raise CaseError(f"{where}: low must be below high.", "e.g. {kind: uniform, low: -1, high: 1}")
    if kind == "normal" and params["std"] <= 0:
        raise CaseError(f"{where}.std must be positive: constant inputs let wrong kernels pass.", "e.g. std: 1")
    if kind == "randint" and dtype in FLOAT_DTYPES + ("bool",):
        raise CaseError(f"{where}: randint needs an integer dtype, the input is {dtype}.", "Use normal/uniform for floats, bernoulli for bool.")
    if kind == "bernoulli" and not 0 < params["p"] < 1:
        raise CaseError(f"{where}.p must be strictly between 0 and 1.", "e.g. p: 0.5")
    if dtype not in FLOAT_DTYPES and kind in ("normal", "uniform"):
        raise CaseError(f"{where}: {kind} needs a floating dtype, the input is {dtype}.", "Use randint for integers, bernoulli for bool.")
    return {"kind": kind, **params}


def normalize_tolerances(value, where: str) -> dict:
    """{dtype: {atol, rtol}} with dtype names normalized; absent -> {}."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CaseError(f"{where} must map a dtype to {{atol, rtol}}.", "e.g. tolerances: {float32: {atol: 1.0e-5, rtol: 1.0e-4}}")
    out = {}
    for name, tol in value.items():
        if name not in DTYPES:
            raise CaseError(f"{where}: unknown dtype {name!r}.", f"Use one of {sorted(set(DTYPES.values()))}.")
        if not isinstance(tol, dict) or set(tol) - {"atol", "rtol"}:
            raise CaseError(f"{where}.{name} must be {{atol, rtol}}.", "e.g. {atol: 1.0e-5, rtol: 1.0e-4}")
        for key in ("atol", "rtol"):
            v = tol.get(key)
            if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0):
                raise CaseError(f"{where}.{name}.{key} must be a non-negative number, got {v!r}.", "e.g. 1.0e-5")
        out[DTYPES[name]] = {k: float(v) for k, v in tol.items() if v is not None}
    return out


def list_cases(roots: list) -> list:
    """Every case folder under the roots, first root winning on a name clash."""
    seen = {}
    out = []
    for root in roots:
        if not os.path.isdir(root):
            continue
        for entry in sorted(os.listdir(root)):
            case_dir = os.path.join(root, entry)
            if not os.path.isfile(os.path.join(case_dir, "manifest.yaml")):
                continue
            item = describe_case(case_dir, root)
            if entry in seen:
                item["shadowed_by"] = seen[entry]
            else:
                seen[entry] = case_dir
            out.append(item)
    return out


def find_case(roots: list, name: str) -> str:
    if not CASE_NAME.match(name):
        raise CaseError(f"{name!r} is not a valid case name.", "Case names are 1-64 characters: letters, digits, '.', '_' or '-'.")
    for root in roots:
        case_dir = os.path.join(root, name)
        if os.path.isfile(os.path.join(case_dir, "manifest.yaml")):
            return case_dir
    raise CaseError(f"No case named {name!r} under {roots}.", "List cases with triton_cases {action: \"list\"}, or create one with triton_create_case.")


def describe_case(case_dir: str, root: str) -> dict:
    name = os.path.basename(os.path.normpath(case_dir))
    item = {"name": name, "root": root, "path": case_dir, "valid": True, "error": None, "candidates": candidate_files(case_dir)}
    try:
        manifest = load_manifest(case_dir)
    except CaseError as error:
        item.update(valid=False, error=f"{error.message} {error.remedy or ''}".strip())
        return item
    item.update(
        description=manifest["description"],
        device=manifest["device"],
        model=manifest["model"],
        inputs=[_brief(spec, label) for label, spec in _labelled_inputs(manifest)],
        tolerances=manifest["tolerances"],
        weights=manifest["weights"],
    )
    return item


def candidate_files(case_dir: str) -> list:
    folder = os.path.join(case_dir, "candidates")
    if not os.path.isdir(folder):
        return []
    return [os.path.join(folder, f) for f in sorted(os.listdir(folder)) if f.endswith(".py")]


def _labelled_inputs(manifest: dict):
    for i, spec in enumerate(manifest["inputs"]["args"]):
        yield spec.get("name") or f"arg{i}", spec
    for key, spec in manifest["inputs"]["kwargs"].items():
        yield key, spec


def _brief(spec: dict, label: str) -> dict:
    if spec["kind"] == "value":
        return {"name": label, "value": spec["value"]}
    return {
        "name": label,
        "shape": spec["shape"],
        "small_shape": spec["small_shape"],
        "dtype": spec["dtype"],
        "layout": spec["layout"],
        "distributions": spec["distributions"],
    }
