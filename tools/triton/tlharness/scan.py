"""Static scan of the candidate's source for patterns that cheats need: a flag, not a proof.

It reads the source with `ast` (never runs it). Severity "suspicious" makes a correct candidate's
verdict `suspicious` (review it); "warning" is reported and changes nothing.
"""
from __future__ import annotations

import ast

from .scanrules import (
    THREAD_MODULES,
    PROCESS_MODULES,
    NETWORK_MODULES,
    FILE_MODULES,
    DYNAMIC_MODULES,
    FILE_CALLS,
    PROCESS_CALLS,
    FRAME_CALLS,
    FRAME_ATTRS,
    NAMESPACE_ATTRS,
    DYNAMIC_LOOKUPS,
    HARNESS_MODULES,
    STREAM_ATTRS,
    TIMER_NAMES,
    RNG_NAMES,
    RNG_BASES,
    HIGH_LEVEL_OPS,
    WATCHED_NAMES,
    SEVERITY,
    DESCRIPTIONS,
)


def scan_source(source: str, model_source: str, model_stem: str, reference_class: str, float32_outputs: bool) -> list:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):  # ValueError: a NUL byte (Python < 3.12)
        return []
    finder = _Finder(model_stem, reference_class, float32_outputs)
    finder.visit(tree)
    defined = {n.name for n in ast.walk(tree) if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    defined |= {t.id for n in ast.walk(tree) if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    for line, name in finder.names_used:
        if name == reference_class and name not in defined:
            finder.hit("reference_import", line, f"uses {name}, the reference class, without defining it")
    shared = sorted(reference_ops(model_source) & finder.op_calls.keys())
    for op in shared:
        finder.hit("reference_op_fallback", finder.op_calls[op], f"{op} (also in the reference)")
    return finder.flags()


def reference_ops(model_source: str) -> set:
    try:
        tree = ast.parse(model_source)
    except SyntaxError:
        return set()
    ops = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _last_name(node.func)
            if name in HIGH_LEVEL_OPS:
                ops.add(name)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            ops.add("matmul")
    return ops


def _fold(node):
    """The string a constant expression evaluates to (concatenation, join, f-string of constants,
    %-format), or None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _fold(node.left), _fold(node.right)
        return left + right if left is not None and right is not None else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        left = _fold(node.left)
        if left is None:
            return None
        parts = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
        values = [_fold(p) for p in parts]
        if any(v is None for v in values):
            return None
        try:
            return left % tuple(values)
        except (TypeError, ValueError):
            return None
    if isinstance(node, ast.JoinedStr):
        pieces = []
        for value in node.values:
            piece = _fold(value.value) if isinstance(value, ast.FormattedValue) else _fold(value)
            if piece is None:
                return None
            pieces.append(piece)
        return "".join(pieces)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join" and node.args:
        sep = _fold(node.func.value)
        items = node.args[0].elts if isinstance(node.args[0], (ast.List, ast.Tuple)) else None
        if sep is None or items is None:
            return None
        values = [_fold(i) for i in items]
        return None if any(v is None for v in values) else sep.join(values)
    return None


def _last_name(node):
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


class _Finder(ast.NodeVisitor):
    def __init__(self, model_stem: str, reference_class: str, float32_outputs: bool):
        self.model_stem = model_stem
        self.reference_class = reference_class
        self.float32_outputs = float32_outputs
        self.aliases = {}
        self.hits = {}
        self.names_used = []
        self.op_calls = {}

    def import_roots(self) -> set:
        return {v.split(".")[0] for v in self.aliases.values()}

    def hit(self, code: str, line: int, what: str) -> None:
        self.hits.setdefault(code, []).append(f"line {line}: {what}")

    def flags(self) -> list:
        return [
            {"code": code, "severity": SEVERITY[code], "source": "static", "detail": f"{DESCRIPTIONS[code]}: " + "; ".join(lines[:5]) + (f" (+{len(lines) - 5} more)" if len(lines) > 5 else "")}
            for code, lines in sorted(self.hits.items())
        ]

    def resolve(self, node):
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        head = self.aliases.get(node.id, node.id)
        return ".".join([head] + list(reversed(parts)))

    def _module_import(self, name: str, line: int) -> None:
        root = name.split(".")[0]
        if root in THREAD_MODULES:
            self.hit("threads", line, f"import {name}")
        if root in PROCESS_MODULES:
            self.hit("processes", line, f"import {name}")
        if root in NETWORK_MODULES:
            self.hit("network", line, f"import {name}")
        if root in FILE_MODULES:
            self.hit("file_access", line, f"import {name}")
        if root in DYNAMIC_MODULES:
            self.hit("dynamic_code", line, f"import {name}")
        if root in (self.model_stem, "tuneloop_reference_model"):
            self.hit("reference_import", line, f"import {name}")
        if root in HARNESS_MODULES:
            self.hit("harness_access", line, f"import {name}")

    def visit_Import(self, node):
        for alias in node.names:
            self.aliases[(alias.asname or alias.name).split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
            self._module_import(alias.name, node.lineno)

    def visit_ImportFrom(self, node):
        module = node.module or ""
        if node.level and not module:
            module = self.model_stem  # `from . import model`: relative imports reach the case folder at best
        self._module_import(module, node.lineno)
        for alias in node.names:
            full = f"{module}.{alias.name}" if module else alias.name
            self.aliases[alias.asname or alias.name] = full
            if alias.name in (self.model_stem, self.reference_class):
                self.hit("reference_import", node.lineno, f"from {module} import {alias.name}")

    def visit_Name(self, node):
        self.names_used.append((node.lineno, node.id))
        if node.id == "__builtins__":
            self.hit("builtins_access", node.lineno, "__builtins__")

    def visit_Constant(self, node):
        if isinstance(node.value, str) and (f"{self.model_stem}.py" in node.value or "expected.pt" in node.value):
            self.hit("reference_import", node.lineno, f"string {node.value[:60]!r}")
        if isinstance(node.value, str) and any(name in node.value for name in ("tlharness", "tuneloop.db", "/tuneloop/")):
            self.hit("harness_access", node.lineno, f"string {node.value[:60]!r}")

    def visit_BinOp(self, node):
        self._folded(node)
        self.generic_visit(node)

    def visit_JoinedStr(self, node):
        self._folded(node)
        self.generic_visit(node)

    def _folded(self, node) -> None:
        """A name assembled from constant pieces ("op" + "en", "".join([...]), f"{'mod'}ules")."""
        text = _fold(node)
        if text and text.strip("_") and (text in WATCHED_NAMES or text.split(".")[-1] in WATCHED_NAMES):
            self.hit("obfuscated_name", node.lineno, f"{text!r}")

    def visit_Call(self, node):
        name = self.resolve(node.func)
        last = _last_name(node.func)
        line = node.lineno
        if name in ("exec", "eval", "compile", "__import__"):
            self.hit("dynamic_code", line, f"{name}()")
        elif name == "open":
            self.hit("file_access", line, "open()")
        elif name in ("setattr", "delattr") and node.args:
            target = self.resolve(node.args[0])
            if target and target.split(".")[0] in self.import_roots():
                self.hit("monkeypatch", line, f"{name}({target}, ...)")
        if name in DYNAMIC_LOOKUPS:
            attr = _fold(node.args[1]) if len(node.args) > 1 else None
            if name in ("vars", "globals", "locals") or attr is None:
                self.hit("dynamic_lookup", line, f"{name}()" if attr is None or name in ("vars", "globals", "locals") else f"{name}(..., {attr!r})")
            elif attr in FRAME_ATTRS:
                self.hit("frame_introspection", line, f"{name}(..., {attr!r})")
            elif attr in NAMESPACE_ATTRS:
                self.hit("dynamic_lookup", line, f"{name}(..., {attr!r})")
        if isinstance(node.func, ast.Attribute) and node.func.attr == "join" and isinstance(node.func.value, ast.Constant):
            self._folded(node)
        if name:
            if name in FILE_CALLS:
                self.hit("file_access", line, name)
            if name in PROCESS_CALLS:
                self.hit("processes", line, name)
            if name in FRAME_CALLS:
                self.hit("frame_introspection", line, name)
            if name.startswith("torch.cuda.") and last in STREAM_ATTRS:
                self.hit("streams", line, name)
            if last in RNG_NAMES and name.startswith(RNG_BASES):
                self.hit("randomness", line, name)
        if last in HIGH_LEVEL_OPS:
            self.op_calls.setdefault(last, line)
        if self.float32_outputs and last in ("half", "bfloat16") and isinstance(node.func, ast.Attribute):
            self.hit("reduced_precision", line, f".{last}()")
        self.generic_visit(node)

    def visit_Attribute(self, node):
        name = self.resolve(node)
        if name in ("sys.modules", "sys._getframe", "sys.addaudithook", "sys.audit"):
            self.hit("frame_introspection", node.lineno, name)
        if node.attr in FRAME_ATTRS:
            self.hit("frame_introspection", node.lineno, f".{node.attr}")
        elif node.attr in NAMESPACE_ATTRS:
            self.hit("dynamic_lookup", node.lineno, f".{node.attr}")
        if self.float32_outputs and name in ("torch.float16", "torch.half", "torch.bfloat16", "triton.language.float16", "triton.language.bfloat16"):
            self.hit("reduced_precision", node.lineno, name)
        self.generic_visit(node)

    def _assigned(self, target, line):
        if isinstance(target, (ast.Tuple, ast.List)):
            for t in target.elts:
                self._assigned(t, line)
            return
        if not isinstance(target, ast.Attribute):
            return
        name = self.resolve(target)
        if not name:
            return
        root = name.split(".")[0]
        if root in self.import_roots() or root in ("torch", "time", "triton", "builtins", "os", "sys", "numpy"):
            if name.startswith("torch.backends."):
                code = "global_settings"
            else:
                code = "timer_patch" if target.attr in TIMER_NAMES else "monkeypatch"
            self.hit(code, line, f"{name} = ...")

    def visit_Assign(self, node):
        for target in node.targets:
            self._assigned(target, node.lineno)
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        self._assigned(node.target, node.lineno)
        self.generic_visit(node)

    def visit_Delete(self, node):
        for target in node.targets:
            self._assigned(target, node.lineno)
        self.generic_visit(node)
