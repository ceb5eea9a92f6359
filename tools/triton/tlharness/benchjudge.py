"""Judging what the candidate's timed calls returned, in the trusted process.

Per round: every timed call's sketch (rounds.Sketcher: a random projection plus NaN/Inf counts,
sent by the candidate's process before it learnt which calls would be revealed) is compared with
the baseline's sketch for the same input; the revealed calls (the server's random picks, and always
the last) are compared element-wise with the baseline's output for their inputs, and their sketch
with the one committed for them. A within-tolerance difference moves a sketch by about
sigma = sqrt(sum (w_j (atol + rtol|y_j|))^2); the bound is 12 sigma plus float32 rounding of the dot,
so an honest candidate (another algorithm, or allowed nondeterminism) passes and a wrong answer,
a stale cache or a skipped call does not.
"""
from __future__ import annotations

from .compare import comparable, element_errors
from .synth import flatten_output
from .tensors import load_untrusted_bundle

SIGMAS = 12.0
ROUNDING = 64 * 2.0 ** -23


def sketch_problem(got, want, scale) -> str | None:
    """Why a candidate's sketch of one output leaf cannot be a within-tolerance answer, or None."""
    if not isinstance(got, list) or len(got) != len(want):
        return "malformed"
    if want[0] == "value" or got[0] == "value":
        return None if got == want else f"value {got[1:]!r}, expected {want[1:]!r}"
    if [int(x) for x in got[1:]] != [int(x) for x in want[1:]]:
        return f"NaN/+Inf/-Inf counts {got[1:]} where the baseline has {want[1:]}"
    if isinstance(want[0], int) and isinstance(got[0], int):
        return None if got[0] == want[0] else "integer output differs"
    try:
        diff = abs(float(got[0]) - float(want[0]))
    except (TypeError, ValueError):
        return "malformed"
    bound = SIGMAS * scale[0] + ROUNDING * scale[1] + 1e-30
    return None if diff <= bound else f"projection off by {diff:.3g} (tolerance allows {bound:.3g})"


class BenchJudge:
    def __init__(self, torch, baseline, device: str, tolerances: dict, max_bytes: int):
        self.torch = torch
        self.baseline = baseline
        self.device = device
        self.tolerances = tolerances
        self.max_bytes = max_bytes
        self.rounds = {}
        self.problems = []
        self.calls_checked = 0
        self.revealed = 0

    def remember(self, index: int, inputs, n: int, result: dict, sketcher) -> None:
        """The baseline's own round: its sketches are the truth the candidate's are held to (the
        spread tolerance allows is computed when judging, outside the timed round)."""
        self.rounds[index] = {"inputs": inputs, "n": n, "sketches": result["sketches"], "signatures": list(result["signatures"]), "last": result["last"][1], "sketcher": sketcher}

    def judge_round(self, index: int, candidate: dict, path: str, iterations: list) -> list:
        base = self.rounds.pop(index, None)
        problems = []
        if base is None:
            return [f"round {index}: the baseline did not run it"]
        base["scale"] = base["sketcher"].scale(base.pop("last"), self.tolerances)
        sketches = candidate.get("sketches")
        if not isinstance(sketches, list) or len(sketches) != base["n"]:
            return [f"round {index}: {len(sketches) if isinstance(sketches, list) else 'no'} sketches for {base['n']} timed calls"]
        signatures = candidate.get("signatures") if isinstance(candidate.get("signatures"), dict) else {}
        for signature in signatures:
            if signature not in base["signatures"]:
                problems.append(f"round {index} call {signatures[signature]}: returned {signature} where the baseline returns {base['signatures'][0]}")
        bad = []
        for i, (got, want) in enumerate(zip(sketches, base["sketches"])):
            why = _leaves_problem(got, want, base["scale"])
            if why:
                bad.append((i, why))
        self.calls_checked += len(sketches)
        if bad:
            problems.append(f"round {index}: {len(bad)} of {base['n']} timed calls returned something else than the baseline for the same input "
                            f"(call {bad[0][0]}: {bad[0][1]})")
        problems += self._reveals(index, base, sketches, path, iterations)
        self.problems += problems
        return problems

    def _reveals(self, index, base, sketches, path, iterations) -> list:
        torch = self.torch
        try:
            bundle = load_untrusted_bundle(torch, path, self.max_bytes)
        except Exception as error:  # missing, a link, too large, not a bundle: nothing to compare
            return [f"round {index}: the revealed outputs could not be read ({type(error).__name__}: {error})"]
        outputs = bundle.get("outputs") if isinstance(bundle, dict) else None
        if not isinstance(outputs, list) or len(outputs) != len(iterations):
            return [f"round {index}: {len(outputs) if isinstance(outputs, list) else 'no'} revealed outputs for {len(iterations)} requested"]
        inputs = base["inputs"]
        sketcher = base["sketcher"]
        problems = []
        for i, got in zip(iterations, outputs):
            self.revealed += 1
            call_inputs = inputs.call_inputs(i)
            with torch.no_grad():
                leaves, _ = flatten_output(torch, self.baseline(*call_inputs["args"], **call_inputs["kwargs"]))
            want = [v.detach().to("cpu") if isinstance(v, torch.Tensor) else v for _, v in leaves]
            got = got if isinstance(got, list) else [got]
            mismatch = self._compare(got, want)
            if mismatch:
                problems.append(f"round {index} call {i} (revealed{' , the last' if i == base['n'] - 1 else ''}): {mismatch}")
                continue
            on_device = [("out", g.to(self.device) if isinstance(g, torch.Tensor) else g) for g in got]
            committed = _leaves_problem(sketches[i], sketcher.sketch(on_device), base["scale"])
            if committed:
                problems.append(f"round {index} call {i}: the revealed output is not what the timed call returned ({committed})")
        return problems

    def _compare(self, got: list, want: list) -> str | None:
        torch = self.torch
        if len(got) != len(want):
            return f"{len(got)} outputs, expected {len(want)}"
        for k, (g, w) in enumerate(zip(got, want)):
            if not isinstance(w, torch.Tensor):
                if g != w:
                    return f"output {k} is {g!r}, expected {w!r}"
                continue
            if not comparable(torch, g, w):
                return f"output {k}: {_describe(torch, g)}, expected {_describe(torch, w)}"
            stats = element_errors(torch, g, w, self.tolerances.get(str(w.dtype).replace("torch.", ""), {"atol": 0.0, "rtol": 0.0}))
            if stats["mismatches"]:
                return (f"output {k}: {stats['mismatches']} of {stats['elements']} elements outside tolerance "
                        f"(max abs err {stats['max_abs_error']:.3g}, worst at {stats['worst_index']}: got {stats['worst_got']!r}, expected {stats['worst_expected']!r})")
        return None

    def check(self) -> dict:
        detail = (f"{self.calls_checked} timed calls compared with the baseline on the same inputs, {self.revealed} revealed in full: "
                  + ("; ".join(self.problems[:3]) if self.problems else "all within tolerance"))
        return {"name": "bench_outputs", "passed": not self.problems, "detail": detail}


def _leaves_problem(got, want, scale) -> str | None:
    if not isinstance(got, list) or len(got) != len(want):
        return f"{len(got) if isinstance(got, list) else 'no'} outputs where the baseline returns {len(want)}"
    for k, (g, w) in enumerate(zip(got, want)):
        why = sketch_problem(g, w, scale[k] if k < len(scale) else [0.0, 0.0])
        if why:
            return f"output {k}: {why}"
    return None


def _describe(torch, value) -> str:
    if isinstance(value, torch.Tensor):
        return f"{str(value.dtype).replace('torch.', '')}{list(value.shape)}"
    return type(value).__name__
