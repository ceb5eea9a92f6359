"""Element-wise comparison of a candidate's output with the reference's, and the tolerances."""
from __future__ import annotations

DEFAULT_TOLERANCES = {
    "float64": {"atol": 1e-8, "rtol": 1e-7},
    "float32": {"atol": 1e-5, "rtol": 1e-4},
    "float16": {"atol": 1e-3, "rtol": 1e-2},
    "bfloat16": {"atol": 1e-2, "rtol": 2e-2},
}
MIN_PRECISION_SAMPLE = 64


def resolve_tolerances(from_manifest: dict, from_client: dict) -> dict:
    out = {k: dict(v) for k, v in DEFAULT_TOLERANCES.items()}
    for layer in (from_manifest, from_client):
        for dtype, tol in layer.items():
            out.setdefault(dtype, {}).update(tol)
    return out


def element_errors(torch, got, want, tol: dict) -> dict:
    """Mismatches under |got - expected| <= atol + rtol*|expected| (NaN/Inf must match exactly),
    the max abs error and max rel error (|got - expected| / (|expected| + atol)) over finite
    elements, and the worst element."""
    atol, rtol = float(tol.get("atol", 0.0)), float(tol.get("rtol", 0.0))
    if not want.is_floating_point():
        mism = (got != want).reshape(-1)
        n = int(mism.sum())
        idx = int(mism.nonzero()[0]) if n else None
        return {
            "elements": want.numel(),
            "mismatches": n,
            "nonfinite_mismatches": 0,
            "max_abs_error": float((got.double() - want.double()).abs().max()) if want.numel() else 0.0,
            "max_rel_error": 0.0 if not n else float("inf"),
            "atol": 0.0,
            "rtol": 0.0,
            "worst_index": _index(want, idx),
            "worst_got": _item(got, idx),
            "worst_expected": _item(want, idx),
        }
    g, w = got.double().reshape(-1), want.double().reshape(-1)
    finite = torch.isfinite(g) & torch.isfinite(w)
    err = torch.where(finite, (g - w).abs(), torch.zeros_like(g))
    rel = err / (w.abs() + atol if atol > 0 else w.abs().clamp_min(1e-30))
    bad = finite & (err > atol + rtol * w.abs())
    same_special = (torch.isnan(g) & torch.isnan(w)) | (torch.isinf(g) & torch.isinf(w) & (g == w))
    nonfinite = ~finite & ~same_special
    bad = bad | nonfinite
    score = torch.where(bad, torch.full_like(err, float("inf")), err)
    worst = int(score.argmax()) if score.numel() else None
    return {
        "elements": int(w.numel()),
        "mismatches": int(bad.sum()),
        "nonfinite_mismatches": int(nonfinite.sum()),
        "max_abs_error": float(err.max()) if err.numel() else 0.0,
        "max_rel_error": float(rel.max()) if rel.numel() else 0.0,
        "atol": atol,
        "rtol": rtol,
        "worst_index": _index(want, worst),
        "worst_got": _item(got, worst),
        "worst_expected": _item(want, worst),
    }


def comparable(torch, got, want) -> bool:
    return isinstance(got, torch.Tensor) and isinstance(want, torch.Tensor) and got.shape == want.shape and got.dtype == want.dtype


def scalar_close(got, want, tol) -> bool:
    if isinstance(want, bool) or isinstance(want, int) or want is None:
        return got == want and type(got) is type(want)
    if not isinstance(got, (int, float)) or isinstance(got, bool):
        return False
    if want != want:
        return got != got
    return abs(got - want) <= tol["atol"] + tol["rtol"] * abs(want)


def on_grid_fraction(torch, t, low):
    flat = t.detach().reshape(-1).double()
    flat = flat[torch.isfinite(flat) & (flat != 0)]
    if flat.numel() < MIN_PRECISION_SAMPLE:
        return None
    return float((flat.to(low).double() == flat).double().mean())


def _index(t, flat_index):
    if flat_index is None:
        return None
    out = []
    for size in reversed(list(t.shape)):
        out.append(flat_index % size)
        flat_index //= size
    return list(reversed(out))


def _item(t, flat_index):
    return None if flat_index is None else t.reshape(-1)[flat_index].item()
