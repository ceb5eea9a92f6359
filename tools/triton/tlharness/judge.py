"""Judging the check calls: correctness from the candidate's saved outputs against the expected
ones, in the trusted process (which never imports candidate code).

Inputs: the reference (meta, expected outputs per shape variant and seed), the candidate process's
check bundle (read as untrusted: a regular file within a size bound, loaded with the safe
unpickler) and its report (used only for what it observed: failures, patches, audit events,
threads; a candidate could forge that report, never the comparisons made here). The plan of calls
comes from checkplan.plan, not from the candidate.
"""
from __future__ import annotations

from .checkplan import REPEAT, plan, synthesize
from .compare import all_finite_values, comparable, element_errors, on_grid_fraction, scalar_close
from .synth import materialize, tensors_of
from .tensors import bits_equal, digest

REQUIRED = ("runs", "allclose")
CHECK_NAMES = ("output_structure", "shape_dtype_device", "nan_inf_positions", "allclose", "precision", "inputs_unchanged", "deterministic",
               "sensitive", "fresh_data_same_buffers", "synchronous", "outputs_stable", "no_input_aliasing")


def verdict_of(checks: list, failure) -> dict:
    """correct / compile_error from the checks and the candidate's failure."""
    return {
        "correct": all(c["passed"] is not False for c in checks) and all(c["passed"] is True for c in checks if c["name"] in REQUIRED),
        "compile_error": bool(failure and (failure.get("stage") in ("import", "construct") or (failure.get("call") == f"{REPEAT}" and failure.get("is_compile_error")))),
    }


class Judge:
    def __init__(self, torch, meta, expected, tolerances, allow_nondeterminism):
        self.torch = torch
        self.meta = meta
        self.expected = expected
        self.tolerances = tolerances
        self.allow_nondeterminism = allow_nondeterminism
        self.worst = {}
        self._originals = {}
        self.plan = plan(meta["variants"], len(meta["seeds"]))

    def want(self, call) -> list:
        return self.expected[call["variant"]][call["seed_index"]]

    def originals(self, call) -> list:
        """The inputs the plan gave this call, as they were before it (regenerated once per input set)."""
        key = (call["variant"], call["seed_index"])
        if key not in self._originals:
            self._originals[key] = tensors_of(materialize(self.torch, synthesize(self.torch, self.meta["manifest"], *key), "cpu"))
        return self._originals[key]

    def run(self, failure, calls) -> list:
        checks = []
        planned = [p["label"] for p in self.plan]
        labels = [c.get("label") for c in calls]
        if failure:
            where = failure.get("call") or failure.get("stage")
            checks.append(_check("runs", False, f"{failure.get('type')} during {where}: {failure.get('message', '')[:2000]}"))
        elif labels != planned:
            checks.append(_check("runs", False, f"{len(calls)} calls left outputs where the plan has {len(planned)} (in order: {', '.join(planned[:4])}...): the process report and its files disagree"))
        else:
            checks.append(_check("runs", True, f"{len(calls)} calls completed ({len(self.meta['variants'])} shape variant(s) x {len(self.meta['seeds'])} seeds, repeats, fresh data)"))
        # Only calls the plan made, with the variant and seed the plan says (never the file's word).
        by_plan = {p["label"]: p for p in self.plan}
        calls = [{**c, "variant": by_plan[c["label"]]["variant"], "seed_index": by_plan[c["label"]]["values_of"]} for c in calls if c.get("label") in by_plan]
        if not calls:
            checks += [_check(name, None, "not run: the candidate produced no output") for name in CHECK_NAMES]
            return checks
        by_label = {c["label"]: c for c in calls}
        seed_calls = [c for c in calls if c["label"] != "main/fresh-data"]
        checks.append(self.structure(calls))
        checks.append(self.meta_match(calls))
        checks.append(self.nan_inf(calls))
        checks.append(self.allclose(seed_calls, "allclose"))
        checks.append(self.precision(seed_calls))
        checks.append(self.inputs_unchanged(calls))
        checks.append(self.deterministic([c for c in calls if c["label"].startswith(REPEAT)]))
        checks.append(self.sensitive(seed_calls))
        fresh = by_label.get("main/fresh-data")
        checks.append(self.allclose([fresh], "fresh_data_same_buffers") if fresh else _check("fresh_data_same_buffers", None, "needs 2 seeds"))
        checks.append(self.synchronous(calls))
        checks.append(self.stable(calls))
        checks.append(self.aliasing(calls))
        return checks

    # --- individual checks ---------------------------------------------------------------------

    def structure(self, calls):
        bad = [f"{c['label']}: {c['structure']}" for c in calls if c["structure"] != self.meta["structure"]]
        return _check("output_structure", not bad, f"expected {self.meta['structure']}" + (f"; got {bad[:3]}" if bad else ""))

    def meta_match(self, calls):
        problems = []
        for call in calls:
            for i, (got, want) in enumerate(zip(call["outputs"], self.want(call))):
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
            for i, (got, want) in enumerate(zip(call["outputs"], self.want(call))):
                if not comparable(torch, got, want) or not want.is_floating_point():
                    continue
                work = torch.float64 if want.dtype == torch.float64 else torch.float32
                g, w = got.to(work), want.to(work)
                if all_finite_values(torch, g) and all_finite_values(torch, w):
                    continue
                for name, fn in (("NaN", torch.isnan), ("+Inf", lambda t: torch.isposinf(t)), ("-Inf", lambda t: torch.isneginf(t))):
                    diff = int((fn(g) != fn(w)).sum())
                    if diff:
                        problems.append(f"{call['label']} output {i}: {diff} element(s) where {name} positions differ (expected {int(fn(w).sum())}, got {int(fn(g).sum())})")
        return _check("nan_inf_positions", not problems, "; ".join(problems[:5]) or "NaN/Inf positions match")

    def allclose(self, calls, name):
        torch = self.torch
        problems = []
        for call in calls:
            for i, (got, want) in enumerate(zip(call["outputs"], self.want(call))):
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
        reference = {}
        for call in calls:
            for i, (got, want) in enumerate(zip(call["outputs"], self.want(call))):
                if not comparable(torch, got, want) or want.dtype not in (torch.float32, torch.float64):
                    continue
                for low in (torch.float16, torch.bfloat16):
                    cand = on_grid_fraction(torch, got, low)
                    key = (call["variant"], call["seed_index"], i, low)
                    if key not in reference:
                        reference[key] = on_grid_fraction(torch, want, low)
                    ref = reference[key]
                    if cand is not None and ref is not None and cand >= 0.98 and ref <= 0.5:
                        return _check("precision", False,
                                      f"{call['label']} output {i}: {cand:.1%} of the values are exactly representable in {_dt_name(low)} "
                                      f"(the reference's: {ref:.1%}): computed in {_dt_name(low)} and cast back to {_dt(want)}")
        return _check("precision", True, "outputs carry the reference's precision")

    def inputs_unchanged(self, calls):
        problems = []
        for call in calls:
            original = self.originals(call)
            for i, (after, before) in enumerate(zip(call["inputs_after"], original)):
                if not bits_equal(self.torch, after.contiguous(), before.contiguous()):
                    changed = int((after.double() != before.double()).sum()) if after.shape == before.shape else -1
                    problems.append(f"{call['label']}: input {i} was modified in place ({changed} element(s) changed)")
        return _check("inputs_unchanged", not problems, "; ".join(problems[:4]) or "inputs are bitwise unchanged after every call")

    def deterministic(self, repeats):
        """The first check input, called at the start, the middle, the end (and after the bench):
        every call must give what the first gave (bitwise, unless the reference itself is not or
        allow_nondeterminism is set)."""
        if len(repeats) < 2:
            return _check("deterministic", None, "not run: the candidate did not complete two runs on the same inputs")
        bitwise = self.meta["reference_deterministic"] and not self.allow_nondeterminism
        first = repeats[0]
        for other in repeats[1:]:
            for i, (a, b) in enumerate(zip(first["outputs"], other["outputs"])):
                if bitwise:
                    if not bits_equal(self.torch, a, b):
                        return _check("deterministic", False, f"output {i} of {other['label']} differs bitwise from {first['label']} on the same inputs (garbage reads, races, randomness, or behaviour that changes with the call count)")
                elif comparable(self.torch, a, b) and self._errors(a, b)["mismatches"]:
                    return _check("deterministic", False, f"output {i} of {other['label']} differs beyond tolerance from {first['label']} on the same inputs")
        how = "bitwise identical" if bitwise else (
            "within tolerance (allow_nondeterminism)" if self.allow_nondeterminism else "within tolerance (the reference itself is not bitwise deterministic)")
        return _check("deterministic", True, f"{len(repeats)} runs on the same inputs spread through the run ({', '.join(c['label'] for c in repeats)}) are {how}")

    def sensitive(self, calls):
        if not self.meta["reference_sensitive"]:
            return _check("sensitive", None, "skipped: the reference's outputs do not change with the seed")
        first = next((c for c in calls if c["label"] == REPEAT), None)
        others = [c for c in calls if c["variant"] == "main" and "#" not in c["label"] and c["label"] != REPEAT]
        if not first or not others:
            return _check("sensitive", None, "not run: fewer than two seeds completed")
        main = self.expected["main"]
        for call in others:
            for i, (a, b) in enumerate(zip(first["outputs"], call["outputs"])):
                ref_differs = not bits_equal(self.torch, main[0][i], main[call["seed_index"]][i])
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

    def stable(self, calls):
        """An output must not change under the caller once returned: a buffer handed out again by
        the next call (each call overwriting the last result) changes it."""
        changed = []
        for call in calls:
            after = call.get("after_next_digests")
            if after is None:
                continue
            for i, (snap, later) in enumerate(zip(call["outputs"], after)):
                if digest(self.torch, snap) != later:
                    changed.append(f"{call['label']} output {i}")
        return _check("outputs_stable", not changed, (
            "an earlier call's output changed when the candidate was called again (one buffer returned to every caller): " + ", ".join(changed[:4])
        ) if changed else "no output changed after the next call (no shared output buffers)")

    def aliasing(self, calls):
        if self.meta.get("reference_aliases_inputs"):
            return _check("no_input_aliasing", None, "skipped: the reference itself returns views of its inputs")
        aliased = [f"{c['label']} output {i}" for c in calls for i, a in enumerate(c.get("aliases_input") or []) if a]
        return _check("no_input_aliasing", not aliased, (
            "outputs share memory with the inputs where the reference returns new tensors: " + ", ".join(aliased[:4])
        ) if aliased else "no output shares memory with an input")

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
        for i, desc in enumerate(self.meta["outputs"]["main"]):
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
