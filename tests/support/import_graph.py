"""corral's import graph, drawn from the source with `ast`: which own module imports which,
the circles, each module's floor and its length. The structure guard and bench/structure.py
both read the house plan from here, so what the guard checks is what the table prints.

Imports under ``if TYPE_CHECKING:`` count too: a circle a type checker needs is still a circle a
reader has to untangle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PACKAGES = ("sessions", "tui")


@dataclass(frozen=True)
class Plan:
    """The import graph of corral's own modules and what it says about them."""

    edges: Mapping[str, frozenset[str]]
    lines: Mapping[str, int]

    @property
    def circles(self) -> list[list[str]]:
        """Groups of modules that import each other, a package importing its own submodules
        not counted (that is how a package exposes its parts, not a circle)."""
        return [c for c in strongly_connected(self.edges) if len(c) > 1]

    @property
    def floors(self) -> dict[str, int]:
        """Each module's floor: one above the highest module it imports; circles share one."""
        floors: dict[str, int] = {}
        components = strongly_connected(self.edges)
        where = {m: i for i, comp in enumerate(components) for m in comp}
        # Tarjan gives components in reverse topological order: dependencies first.
        for comp in components:
            below = [
                floors[d]
                for m in comp
                for d in self.edges[m]
                if where[d] != where[m] and d in floors
            ]
            level = max(below, default=-1) + 1
            for m in comp:
                floors[m] = level
        return floors


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def own_modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imported(tree: ast.AST, name: str, is_package: bool, known: Iterable[str]) -> set[str]:
    """The own modules a module imports, resolved to the deepest module that exists."""
    known = set(known)
    base = name.split(".") if is_package else name.split(".")[:-1]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - node.level + 1]
                module = ".".join(anchor + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            candidates = [f"{module}.{alias.name}" for alias in node.names] + [module]
        else:
            continue
        for candidate in candidates:
            parts = candidate.split(".")
            while parts and ".".join(parts) not in known:
                parts.pop()
            if parts:
                targets.add(".".join(parts))
                break
    return targets


def draw() -> Plan:
    modules = own_modules()
    edges: dict[str, frozenset[str]] = {}
    lines: dict[str, int] = {}
    for name, path in modules.items():
        text = path.read_text(encoding="utf-8")
        lines[name] = len(text.splitlines())
        tree = ast.parse(text)
        is_package = path.name == "__init__.py"
        found = imported(tree, name, is_package, modules)
        # A package may import its own submodules; a submodule importing its package is the
        # edge that counts.
        found = {t for t in found if t != name and not (is_package and t.startswith(name + "."))}
        edges[name] = frozenset(found)
    return Plan(edges=edges, lines=lines)


def strongly_connected(edges: Mapping[str, frozenset[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative so deep graphs never hit the recursion limit."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work: list[tuple[str, Iterable[str]]] = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in edges:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                result.append(sorted(component))
    return result


def support_lines() -> dict[str, int]:
    """Lines of code that exists only to help tests: fixtures, stand-ins, recorders, fakes."""
    places = [ROOT / "tests" / "support", ROOT / "tests" / "helpers.py"]
    places += sorted((ROOT / "tests").rglob("conftest.py"))
    places += sorted((ROOT / "tests").rglob("fakes.py"))
    counts: dict[str, int] = {}
    for place in places:
        files = sorted(place.rglob("*.py")) if place.is_dir() else [place]
        for path in files:
            if path.exists():
                counts[str(path.relative_to(ROOT))] = len(path.read_text().splitlines())
    return counts


# sessions/'s floors, lowest first. `sessions.hook` keeps its path because installed agent
# settings call it by name; it is the agents' side of corral, so it stands with them.
FLOORS = ("core", "adapters", "agents", "services", "commands")
PINNED = {"sessions.hook": "agents"}


def floor(module: str) -> int:
    """The floor a module stands on by the plan: its package under sessions/; the top of
    sessions/ for the rest (the supervisor, the runner, the simulated agent); tui/ above."""
    if module.split(".", maxsplit=1)[0] == "tui":
        return len(FLOORS) + 1
    parts = module.split(".")
    package = PINNED.get(module, parts[1] if len(parts) > 1 else "")
    return FLOORS.index(package) if package in FLOORS else len(FLOORS)


def running_up(plan: Plan) -> list[str]:
    """Imports from a module to one on a higher floor of the plan."""
    return sorted(
        f"{module} -> {target}"
        for module, targets in plan.edges.items()
        for target in targets
        if floor(target) > floor(module)
    )
