"""`judge`: decide correctness from saved tensors, in a process that never imports candidate code.

Inputs: the reference's meta, inputs and expected outputs; the check process's outputs bundle and
its JSON report (used only for what it observed: failures, patches, audit events, threads; a
candidate could forge that report, never the comparisons made here). Bundles are read with the
safe unpickler, so a forged file cannot run code here.
"""
from __future__ import annotations

import json
import os

from .compare import comparable, element_errors, on_grid_fraction, resolve_tolerances, scalar_close
from .env import require_torch
from .flags import runtime_flags
from .scan import scan_source
from .synth import materialize, tensors_of
from .tensors import bits_equal, digest, load_bundle


def run_judge(args) -> dict:
    torch = require_torch()
    with open(os.path.join(args.reference, "meta.json"), encoding="utf-8") as handle:
        meta = json.load(handle)
    with open(args.check_result, encoding="utf-8") as handle:
        report = json.load(handle)
    expected = load_bundle(torch, os.path.join(args.reference, "expected.pt"))["outputs"]
    originals = load_bundle(torch, os.path.join(args.reference, "inputs.pt"))["inputs"]
    outputs_path = os.path.join(args.check_dir, "outputs.pt")
    # A process killed mid-save leaves one file of the pair: then there are no outputs to judge.
    complete = os.path.exists(outputs_path) and os.path.exists(f"{outputs_path}.json")
    calls = load_bundle(torch, outputs_path)["calls"] if complete else []
    tolerances = resolve_tolerances(meta["manifest"]["tolerances"], json.loads(args.tolerances or "{}"))
    judge = Judge(torch, meta, expected, originals, tolerances, args.allow_nondeterminism)
    checks = judge.run(report.get("failure"), calls)

    with open(args.candidate, encoding="utf-8", errors="replace") as handle:
        source = handle.read()
    with open(os.path.join(meta["case_dir"], meta["manifest"]["model"]["file"]), encoding="utf-8", errors="replace") as handle:
        model_source = handle.read()
    float32_outputs = any(o.get("dtype") in ("float32", "float64") for o in meta["outputs"])
    stem = os.path.splitext(meta["manifest"]["model"]["file"])[0]
    flags = runtime_flags(report, meta) + scan_source(source, model_source, stem, meta["manifest"]["model"]["class"], float32_outputs)
    failure = report.get("failure")
    return {
        "correct": all(c["passed"] is not False for c in checks) and all(c["passed"] is True for c in checks if c["name"] in REQUIRED),
        "compile_error": bool(failure and (failure.get("stage") in ("import", "construct") or (failure.get("call") == "seed0" and failure.get("is_compile_error")))),
        "failure": failure,
        "checks": checks,
        "outputs": judge.output_errors(),
        "flags": flags,
        "tolerances": tolerances,
        "calls_judged": len(calls),
    }


REQUIRED = ("runs", "allclose")


class Judge:
    def __init__(self, torch, meta, expected, originals, tolerances, allow_nondeterminism):
        self.torch = torch
        self.meta = meta
        self.expected = expected
        self.originals = originals
        self.tolerances = tolerances
        self.allow_nondeterminism = allow_nondeterminism
        self.worst = {}

    def run(self, failure, calls) -> list:
        n_seeds = len(self.meta["seeds"])
        planned = 2 + (n_seeds - 1) + (1 if n_seeds >= 2 else 0)
        checks = []
        if failure:
            where = failure.get("call") or failure.get("stage")
            checks.append(_check("runs", False, f"{failure.get('type')} during {where}: {failure.get('message', '')[:2000]}"))
        elif len(calls) < planned:
            checks.append(_check("runs", False, f"only {len(calls)} of {planned} calls left outputs: the process report and its files disagree"))
        else:
            checks.append(_check("runs", True, f"{len(calls)} calls completed"))
        if not calls:
            for name in ("output_structure", "shape_dtype_device", "nan_inf_positions", "allclose", "precision", "inputs_unchanged",
                         "deterministic", "sensitive", "fresh_data_same_buffers", "synchronous"):
                checks.append(_check(name, None, "not run: the candidate produced no output"))
            return checks
        by_label = {c["label"]: c for c in calls}
        seed_calls = [c for c in calls if c["label"] != "fresh-data-same-buffers"]
        checks.append(self.structure(calls))
        checks.append(self.meta_match(calls))
        checks.append(self.nan_inf(calls))
        checks.append(self.allclose(seed_calls, "allclose"))
        checks.append(self.precision(seed_calls))
        checks.append(self.inputs_unchanged(calls))
        checks.append(self.deterministic(by_label.get("seed0"), by_label.get("seed0-repeat")))
        checks.append(self.sensitive(seed_calls))
        fresh = by_label.get("fresh-data-same-buffers")
        checks.append(self.allclose([fresh], "fresh_data_same_buffers") if fresh else _check("fresh_data_same_buffers", None, "needs 2 seeds"))
        checks.append(self.synchronous(calls))
        return checks

    # --- individual checks ---------------------------------------------------------------------

    def structure(self, calls):
        bad = [f"{c['label']}: {c['structure']}" for c in calls if c["structure"] != self.meta["structure"]]
        return _check("output_structure", not bad, f"expected {self.meta['structure']}" + (f"; got {bad[:3]}" if bad else ""))

    def meta_match(self, calls):
        problems = []
        for call in calls:
            for i, (got, want) in enumerate(zip(call["outputs"], self.expected[call["seed_index"]])):
                if not isinstance(want, self.torch.Tensor):
                    continue
                if not isinstance(got, self.torch.Tensor):
                    problems.append(f"{call['label']} output {i}: a {type(got).__name__}, not a tensor")
                    continue
                if tuple(got.shape) != tuple(want.shape):
                    problems.append(f"{call['label']} output {i}: shape {list(got.shape)}, expected {list(want.shape)}")
                if got.dtype != want.dtype:
                    problems.append(f"{call['label']} output {i}: dtype {_dt(got)}, expected {_dt(want)}")
                device = (call.get("output_devices") or [None] * (i + 1))[i]
                if device is not None and device.split(":")[0] != self.meta["device"]:
                    problems.append(f"{call['label']} output {i}: on {device}, expected {self.meta['device']}")
        return _check("shape_dtype_device", not problems, "; ".join(list(dict.fromkeys(problems))[:5]) or "shapes, dtypes and devices match")

    def nan_inf(self, calls):
        torch = self.torch
        problems = []
        for call in calls:
            for i, (got, want) in enumerate(zip(call["outputs"], self.expected[call["seed_index"]])):
                if not comparable(torch, got, want) or not want.is_floating_point():
                    continue
                g, w = got.double(), want.double()
                for name, fn in (("NaN", torch.isnan), ("+Inf", lambda t: torch.isposinf(t)), ("-Inf", lambda t: torch.isneginf(t))):
                    diff = int((fn(g) != fn(w)).sum())
                    if diff:
                        problems.append(f"{call['label']} output {i}: {diff} element(s) where {name} positions differ (expected {int(fn(w).sum())}, got {int(fn(g).sum())})")
        return _check("nan_inf_positions", not problems, "; ".join(problems[:5]) or "NaN/Inf positions match")

    def allclose(self, calls, name):
        torch = self.torch
        problems = []
        for call in calls:
            want_all = self.expected[call["seed_index"]]
            for i, (got, want) in enumerate(zip(call["outputs"], want_all)):
                if not isinstance(want, torch.Tensor):
                    if not scalar_close(got, want, self._tol("float64")):
                        problems.append(f"{call['label']} output {i}: {got!r} != {want!r}")
                    continue
                if not comparable(torch, got, want):
                    problems.append(f"{call['label']} output {i}: not comparable (shape/dtype/type)")
                    continue
                stats = self._errors(got, want)
                self._remember(i, call["label"], stats)
                if stats["mismatches"]:
                    problems.append(
                        f"{call['label']} output {i}: {stats['mismatches']} of {stats['elements']} elements outside "
                        f"atol={stats['atol']:g} rtol={stats['rtol']:g}"
                        + (f", {stats['nonfinite_mismatches']} of them NaN/Inf where the reference is finite or vice versa" if stats["nonfinite_mismatches"] else "")
                        + f" (max abs err over finite elements {stats['max_abs_error']:.3g}, max rel err {stats['max_rel_error']:.3g}, "
                        + f"worst at index {stats['worst_index']}: got {stats['worst_got']!r}, expected {stats['worst_expected']!r})"
                    )
        ok = not problems
        detail = "; ".join(problems[:4]) if problems else f"{len(calls)} call(s) within tolerance"
        if name == "fresh_data_same_buffers" and problems:
            detail = "new values in the same input buffers gave the old answer or a wrong one (a cache keyed by pointer/shape?): " + detail
        return _check(name, ok, detail)

    def precision(self, calls):
        """A float32 answer computed in float16 and cast back has every value on the float16 grid."""
        torch = self.torch
        for call in calls:
            for i, (got, want) in enumerate(zip(call["outputs"], self.expected[call["seed_index"]])):
                if not comparable(torch, got, want) or want.dtype not in (torch.float32, torch.float64):
                    continue
                for low in (torch.float16, torch.bfloat16):
                    cand = on_grid_fraction(torch, got, low)
                    ref = on_grid_fraction(torch, want, low)
                    if cand is not None and ref is not None and cand >= 0.98 and ref <= 0.5:
                        return _check("precision", False,
                                      f"{call['label']} output {i}: {cand:.1%} of the values are exactly representable in {_dt_name(low)} "
                                      f"(the reference's: {ref:.1%}): computed in {_dt_name(low)} and cast back to {_dt(want)}")
        return _check("precision", True, "outputs carry the reference's precision")

    def inputs_unchanged(self, calls):
        problems = []
        for call in calls:
            original = tensors_of(materialize(self.torch, self.originals[call["seed_index"]], "cpu"))
            for i, (after, before) in enumerate(zip(call["inputs_after"], original)):
                if not bits_equal(self.torch, after.contiguous(), before.contiguous()):
                    changed = int((after.double() != before.double()).sum()) if after.shape == before.shape else -1
                    problems.append(f"{call['label']}: input {i} was modified in place ({changed} element(s) changed)")
        return _check("inputs_unchanged", not problems, "; ".join(problems[:4]) or "inputs are bitwise unchanged after every call")

    def deterministic(self, first, second):
        if not first or not second:
            return _check("deterministic", None, "not run: the candidate did not complete two runs on the same inputs")
        bitwise = self.meta["reference_deterministic"] and not self.allow_nondeterminism
        for i, (a, b) in enumerate(zip(first["outputs"], second["outputs"])):
            if bitwise:
                if not bits_equal(self.torch, a, b):
                    return _check("deterministic", False, f"output {i} differs bitwise between two runs on the same inputs (garbage reads, races, or randomness)")
            elif comparable(self.torch, a, b) and self._errors(a, b)["mismatches"]:
                return _check("deterministic", False, f"output {i} differs beyond tolerance between two runs on the same inputs")
        how = "bitwise identical" if bitwise else (
            "within tolerance (allow_nondeterminism)" if self.allow_nondeterminism else "within tolerance (the reference itself is not bitwise deterministic)")
        return _check("deterministic", True, f"two runs on the same inputs are {how}")

    def sensitive(self, calls):
        if not self.meta["reference_sensitive"]:
            return _check("sensitive", None, "skipped: the reference's outputs do not change with the seed")
        first = next((c for c in calls if c["label"] == "seed0"), None)
        others = [c for c in calls if c["label"].startswith("seed") and c["label"] not in ("seed0", "seed0-repeat")]
        if not first or not others:
            return _check("sensitive", None, "not run: fewer than two seeds completed")
        for call in others:
            for i, (a, b) in enumerate(zip(first["outputs"], call["outputs"])):
                ref_differs = not bits_equal(self.torch, self.expected[0][i], self.expected[call["seed_index"]][i])
                if ref_differs and bits_equal(self.torch, a, b):
                    return _check("sensitive", False, f"output {i} is identical for seed0 and {call['label']} while the reference's differs: a constant or cached answer")
        return _check("sensitive", True, f"outputs change with the inputs across {len(others) + 1} seeds")

    def synchronous(self, calls):
        late = []
        for call in calls:
            for i, (snap, settled) in enumerate(zip(call["outputs"], call["settled_digests"])):
                if digest(self.torch, snap) != settled:
                    late.append(f"{call['label']} output {i}")
        return _check("synchronous", not late, (
            "outputs kept changing after forward returned (work on another thread or stream the caller does not wait for): " + ", ".join(late[:4])
        ) if late else "outputs were complete when forward returned")

    # --- helpers -------------------------------------------------------------------------------

    def _tol(self, dtype_name):
        return self.tolerances.get(dtype_name, {"atol": 0.0, "rtol": 0.0})

    def _errors(self, got, want) -> dict:
        return element_errors(self.torch, got, want, self._tol(_dt(want)))

    def _remember(self, index, label, stats):
        current = self.worst.get(index)
        if current is None or (stats["mismatches"], stats["max_abs_error"]) > (current["mismatches"], current["max_abs_error"]):
            self.worst[index] = {**stats, "call": label}

    def output_errors(self) -> list:
        out = []
        for i, desc in enumerate(self.meta["outputs"]):
            stats = self.worst.get(i)
            out.append({
                "index": i,
                "path": desc["path"],
                "shape": desc.get("shape"),
                "dtype": desc.get("dtype") or desc.get("type"),
                "max_abs_error": stats["max_abs_error"] if stats else None,
                "max_rel_error": stats["max_rel_error"] if stats else None,
                "mismatches": stats["mismatches"] if stats else None,
                "elements": stats["elements"] if stats else None,
                "atol": stats["atol"] if stats else None,
                "rtol": stats["rtol"] if stats else None,
                "worst_call": stats["call"] if stats else None,
            })
        return out


def _check(name, passed, detail):
    return {"name": name, "passed": passed, "detail": detail}


def _dt(t):
    return str(t.dtype).replace("torch.", "")


def _dt_name(dtype):
    return str(dtype).replace("torch.", "")
