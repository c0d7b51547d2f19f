"""House rules that a refactor could silently break: no import cycles among sweep's modules
(counting imports inside functions too), and the model layer imports nothing of the engine,
store or reducer (data flows spec → plan → tasks → model → store → reducer → plots)."""
import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def _graph() -> dict[str, set[str]]:
    mods = {}
    for f in SRC.rglob("*.py"):
        name = ".".join(f.relative_to(SRC).with_suffix("").parts)
        mods[name.removesuffix(".__init__")] = f
    edges = {m: set() for m in mods}
    for m, f in mods.items():
        pkg = m if f.name == "__init__.py" else m.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                    target = ".".join(parts + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                cands = [target] + [f"{target}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                cands = [a.name for a in node.names]
            else:
                continue
            edges[m] |= {c for c in cands if c in mods and c != m}
    return edges


def _cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in edges:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    cycles = _cycles(_graph())
    assert not cycles, f"import cycles: {cycles}"


def test_model_imports_nothing_downstream():
    """(The package root ``sweep`` is allowed: it holds only ``__version__``.)"""
    edges = _graph()
    bad = {m: sorted(t for t in ts if not t.startswith("sweep.model") and t != "sweep")
           for m, ts in edges.items() if m.startswith("sweep.model")}
    bad = {m: t for m, t in bad.items() if t}
    assert not bad, f"model modules importing downstream code: {bad}"
