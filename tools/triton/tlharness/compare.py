"""Element-wise comparison of a candidate's output with the reference's, and the tolerances."""
from __future__ import annotations

import math

DEFAULT_TOLERANCES = {
    "float64": {"atol": 1e-8, "rtol": 1e-7},
    "float32": {"atol": 1e-5, "rtol": 1e-4},
    "float16": {"atol": 1e-3, "rtol": 1e-2},
    "bfloat16": {"atol": 1e-2, "rtol": 2e-2},
}
MIN_PRECISION_SAMPLE = 64
PRECISION_SAMPLE = 1 << 16


def resolve_tolerances(from_manifest: dict, from_client: dict) -> dict:
    out = {k: dict(v) for k, v in DEFAULT_TOLERANCES.items()}
    for layer in (from_manifest, from_client):
        for dtype, tol in layer.items():
            out.setdefault(dtype, {}).update(tol)
    return out


def element_errors(torch, got, want, tol: dict) -> dict:
    """Mismatches under |got - expected| <= atol + rtol*|expected| (NaN/Inf must match exactly),
    the max abs error and max rel error (|got - expected| / (|expected| + atol)) over finite
    elements, and the worst element. float64 outputs are compared in float64, the others in
    float32 (exact for float16/bfloat16, and float32's own rounding is far below any tolerance)."""
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
    work = torch.float64 if want.dtype == torch.float64 else torch.float32
    g, w = got.reshape(-1).to(work), want.reshape(-1).to(work)
    all_finite = all_finite_values(torch, g) and all_finite_values(torch, w)
    err = (g - w).abs_()
    if not all_finite:
        finite = torch.isfinite(g) & torch.isfinite(w)
        err = torch.where(finite, err, torch.zeros_like(err))
    bound = w.abs().mul_(rtol).add_(atol)
    bad = err > bound
    nonfinite = 0
    if not all_finite:
        same_special = (torch.isnan(g) & torch.isnan(w)) | (torch.isinf(g) & torch.isinf(w) & (g == w))
        special = ~finite & ~same_special
        nonfinite = int(special.sum())
        bad |= special
    mismatches = int(bad.sum())
    if mismatches:
        worst = int(torch.where(bad, torch.full_like(err, float("inf")), err).argmax())
    else:
        worst = int(err.argmax()) if err.numel() else None
    rel = err / (w.abs().add_(atol) if atol > 0 else w.abs().clamp_min_(1e-30))
    return {
        "elements": int(w.numel()),
        "mismatches": mismatches,
        "nonfinite_mismatches": nonfinite,
        "max_abs_error": float(err.max()) if err.numel() else 0.0,
        "max_rel_error": float(rel.max()) if rel.numel() else 0.0,
        "atol": atol,
        "rtol": rtol,
        "worst_index": _index(want, worst),
        "worst_got": _item(got, worst),
        "worst_expected": _item(want, worst),
    }


def all_finite_values(torch, t) -> bool:
    """No NaN or Inf in t (a finite sum proves it in one pass; an overflowing one falls back)."""
    return math.isfinite(float(t.sum())) or bool(torch.isfinite(t).all())


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
    """The share of t's finite nonzero values exactly representable in dtype `low`, over an evenly
    strided sample of at most PRECISION_SAMPLE elements (a downcast puts every value on the grid)."""
    flat = t.detach().reshape(-1)
    step = max(1, flat.numel() // PRECISION_SAMPLE)
    flat = flat[::step].double()
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
