"""Dependencies point one way (docs/architecture.md): cli -> workflows -> building blocks ->
config and the floor (errors, rundir, hardware). Read from the source with `ast`, lazy imports
inside functions included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
FLOOR, BLOCKS, WORKFLOWS, ENTRY = 0, 1, 2, 3
LAYERS = {
    "errors": FLOOR, "rundir": FLOOR, "hardware": FLOOR, "config": FLOOR, "distributed": FLOOR,
    "quiet": FLOOR,
    "data": BLOCKS, "models": BLOCKS, "inference": BLOCKS, "metrics": BLOCKS,
    "baselines": BLOCKS,
    "training": WORKFLOWS, "evaluation": WORKFLOWS, "reports": WORKFLOWS,
    "summarize": WORKFLOWS, "model_comparison": WORKFLOWS, "serving": WORKFLOWS,
    "cli": ENTRY, "__main__": ENTRY, "demo": ENTRY,
}  # fmt: skip
NO_TORCH = ("metrics", "baselines", "reports")


def modules() -> dict[str, ast.Module]:
    out = {}
    for file in sorted((SRC / "summarist").rglob("*.py")):
        name = ".".join(file.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        out[name] = ast.parse(file.read_text(encoding="utf-8"))
    return out


def imports(tree: ast.Module) -> list[tuple[str, list[str]]]:
    """(module, names) for every import in the file, at any depth."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names]
    return found


def part(module: str) -> str:
    """The top-level piece of a summarist module: `summarist.models.loading` -> models."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else ""


MODULES = modules()


def test_every_top_level_piece_has_a_layer() -> None:
    pieces = {part(m) for m in MODULES} - {""}
    assert pieces <= set(LAYERS), sorted(pieces - set(LAYERS))


@pytest.mark.parametrize("module", sorted(m for m in MODULES if part(m)))
def test_imports_point_down_and_no_private_names_cross_modules(module: str) -> None:
    mine = part(module)
    for target, names in imports(MODULES[module]):
        if not target.startswith("summarist"):
            continue
        targets = [f"summarist.{n}" for n in names] if target == "summarist" else [target]
        for full in targets:
            other = part(full)
            if other in ("", "__version__"):
                continue
            assert LAYERS[other] <= LAYERS[mine], f"{module} imports {full}: points up"
            assert not (mine == "data" and other in ("models", "inference")), (
                f"{module} imports {full}: pass a tokenizer in instead"
            )
            assert not (mine == "evaluation" and other == "training"), (
                f"{module} imports {full}: pass a generate callable in instead"
            )
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        assert not private, f"{module} imports private {private} from {target}"


@pytest.mark.parametrize("piece", NO_TORCH)
def test_metrics_baselines_and_reports_import_no_torch(piece: str) -> None:
    for module, tree in MODULES.items():
        if part(module) != piece:
            continue
        heavy = {t.split(".")[0] for t, _ in imports(tree)} & {"torch", "transformers"}
        assert not heavy, f"{module} imports {heavy}"
        for target, _ in imports(tree):
            assert part(target) not in ("models", "inference", "training") or not target.startswith(
                "summarist"
            ), f"{module} imports {target}"


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, tree in MODULES.items():
        for target, names in imports(tree):
            submodules = [f"{target}.{n}" for n in names if f"{target}.{n}" in graph]
            # `from pkg import submodule` depends on the submodule, not on pkg/__init__.py
            for full in submodules or [target]:
                if full in graph and full != module:
                    graph[module].add(full)
    # Tarjan's strongly connected components: any with more than one module is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert not cycles, cycles
