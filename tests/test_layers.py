"""The `lab` package has one direction of dependency (issue 15): its units are stacked in layers, and every import
between two units points down, to a strictly lower layer.

A *unit* is a package directly under lab/ (lab/worlds/, lab/skills/ ...), or a module directly in lab/ (lab/runs.py
is the unit "runs"); lab/cli.py and every lab/cli_*.py together are the one unit "cli", and lab/__init__.py is the
unit "lab". The table `LAYERS` below places every unit, bottom first.

The imports are read statically with `ast` from every lab/**/*.py file, so nothing from the lab is imported and
the checks take a fraction of a second. Every `import` and `from ... import` of a `lab.*` module counts, at module
level or inside a function (a function-level import still makes the dependency; deferring it only hides it from
the interpreter at start-up). Relative imports are resolved. `from lab.x import y` is an import of the module
lab.x.y when that module exists, else of lab.x.

Imports under `if TYPE_CHECKING:` are left out of every check here: they never run, so they load nothing and can
make no cycle, and annotations may name a type from any layer.

The checks:
- every unit is placed in `LAYERS` (a new package must be placed on purpose, not fall through);
- no cycle between units (strongly connected components of the unit graph);
- every import from one unit into another goes to a strictly lower layer (siblings in one layer are independent);
- an import of a `lab` module inside a function has a reason other than dodging a cycle: the imported module
  pulls in a heavy dependency at import time (computed from the module-level import closure), or the importer
  is the CLI (its start-up time), or the import's line says why with a `# heavy: ...` or `# start-up: ...`
  comment.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path

PACKAGE_DIRECTORY = Path(__file__).resolve().parents[1] / "lab"

LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    ("foundation: package root and errors", frozenset({"lab", "errors"})),
    ("foundation: settings and places", frozenset({"settings", "content", "offline", "console", "gymnasium_hook"})),
    ("foundation: run directories", frozenset({"runs"})),
    ("shared pieces", frozenset({"embedding", "policy", "video"})),
    ("sandbox | llm", frozenset({"sandbox", "llm"})),
    ("worlds", frozenset({"worlds"})),
    ("reward programs", frozenset({"rewards"})),
    ("training", frozenset({"training"})),
    ("executors", frozenset({"executors"})),
    ("skills", frozenset({"skills"})),
    ("reward search (Eureka loop)", frozenset({"search"})),
    ("curriculum (Voyager loop)", frozenset({"curriculum"})),
    ("report", frozenset({"report"})),
    ("command line", frozenset({"cli"})),
)
"""Bottom layer first. A unit may import units of lower layers only. The foundation is split in three so that
everything may raise the errors of errors.py and run directories may validate settings."""

HEAVY_DEPENDENCIES = frozenset(
    {"torch", "stable_baselines3", "litellm", "sentence_transformers", "matplotlib", "imageio", "ray"}
)
"""Third-party packages slow enough to import that a function may defer importing a lab module that loads them."""

REASON_MARKERS = ("heavy:", "start-up:")
"""A comment containing one of these on an in-function import's line states why the import is deferred."""


@dataclass(frozen=True)
class Import:
    """One imported module, as written in one import statement."""

    file: str
    line: int
    importer: str
    target: str
    function: str | None
    type_checking: bool
    reason_comment: bool

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class ImportGraph:
    """Every lab module, the lab imports of each, and the third-party top-level names each imports at module
    level."""

    modules: frozenset[str]
    lab_imports: tuple[Import, ...]
    module_level_third_party: dict[str, frozenset[str]]


def module_name_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIRECTORY.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit_of(module: str) -> str:
    """The unit of a `lab` module: lab.worlds.core -> worlds, lab.runs -> runs, lab.cli_train -> cli, lab -> lab."""
    parts = module.split(".")
    if len(parts) == 1:
        return "lab"
    if parts[1] == "cli" or parts[1].startswith("cli_"):
        return "cli"
    return parts[1]


def enclosing_packages(module: str) -> Iterator[str]:
    """The packages whose __init__ runs when `module` is imported: lab.a.b -> lab, lab.a."""
    parts = module.split(".")
    for end in range(1, len(parts)):
        yield ".".join(parts[:end])


def is_type_checking_test(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class ImportCollector(ast.NodeVisitor):
    """Collects the imports of one source file, noting the enclosing function and any `if TYPE_CHECKING:`."""

    def __init__(self, file: str, module: str, is_package: bool, source_lines: list[str], modules: frozenset[str]):
        self.file = file
        self.module = module
        self.is_package = is_package
        self.source_lines = source_lines
        self.modules = modules
        self.functions: list[str] = []
        self.type_checking_depth = 0
        self.lab_imports: list[Import] = []
        self.module_level_third_party: set[str] = set()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        self.functions.append(getattr(node, "name", "<lambda>"))
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_Lambda = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        if not is_type_checking_test(node.test):
            self.generic_visit(node)
            return
        self.type_checking_depth += 1
        for statement in node.body:
            self.visit(statement)
        self.type_checking_depth -= 1
        for statement in node.orelse:
            self.visit(statement)

    def visit_Import(self, node: ast.Import) -> None:
        self.record(node, [alias.name for alias in node.names])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = self.absolute_base(node)
        targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in self.modules else base for alias in node.names]
        self.record(node, list(dict.fromkeys(targets)))

    def absolute_base(self, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        package = self.module.split(".") if self.is_package else self.module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        return ".".join([*package, *([node.module] if node.module else [])])

    def record(self, node: ast.Import | ast.ImportFrom, targets: Iterable[str]) -> None:
        statement_lines = self.source_lines[node.lineno - 1 : (node.end_lineno or node.lineno)]
        reason_comment = any(marker in line.partition("#")[2] for line in statement_lines for marker in REASON_MARKERS)
        for target in targets:
            if target == "lab" or target.startswith("lab."):
                self.lab_imports.append(
                    Import(
                        file=self.file,
                        line=node.lineno,
                        importer=self.module,
                        target=target,
                        function=".".join(self.functions) or None,
                        type_checking=self.type_checking_depth > 0,
                        reason_comment=reason_comment,
                    )
                )
            elif not self.functions and not self.type_checking_depth:
                self.module_level_third_party.add(target.split(".")[0])


@cache
def import_graph() -> ImportGraph:
    paths = sorted(path for path in PACKAGE_DIRECTORY.rglob("*.py") if "__pycache__" not in path.parts)
    modules = frozenset(module_name_of(path) for path in paths)
    lab_imports: list[Import] = []
    third_party: dict[str, frozenset[str]] = {}
    for path in paths:
        source = path.read_text(encoding="utf-8")
        collector = ImportCollector(
            file=str(path.relative_to(PACKAGE_DIRECTORY.parent)),
            module=module_name_of(path),
            is_package=path.name == "__init__.py",
            source_lines=source.splitlines(),
            modules=modules,
        )
        collector.visit(ast.parse(source, str(path)))
        lab_imports += collector.lab_imports
        third_party[collector.module] = frozenset(collector.module_level_third_party)
    return ImportGraph(modules, tuple(lab_imports), third_party)


def layer_of(unit: str) -> int | None:
    return next((index for index, (_, units) in enumerate(LAYERS) if unit in units), None)


def cross_unit_imports() -> list[Import]:
    """Imports that run (not under TYPE_CHECKING) from one unit into another."""
    return [
        found
        for found in import_graph().lab_imports
        if not found.type_checking and unit_of(found.importer) != unit_of(found.target)
    ]


def strongly_connected_components(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm; each component sorted, components in no particular order."""
    index: dict[str, int] = {}
    lowest: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = lowest[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                lowest[node] = min(lowest[node], lowest[successor])
            elif successor in on_stack:
                lowest[node] = min(lowest[node], index[successor])
        if lowest[node] == index[node]:
            component: list[str] = []
            while not component or component[-1] != node:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def module_level_closure(module: str) -> set[str]:
    """The lab modules that importing `module` runs: its enclosing packages' __init__ files, and, transitively,
    what each of those imports at module level (imports in functions and under TYPE_CHECKING do not run)."""
    graph = import_graph()
    module_level_targets: dict[str, set[str]] = defaultdict(set)
    for found in graph.lab_imports:
        if found.function is None and not found.type_checking:
            module_level_targets[found.importer].add(found.target)
    seen: set[str] = set()
    pending = [module]
    while pending:
        current = pending.pop()
        for loaded in [*enclosing_packages(current), current]:
            if loaded in graph.modules and loaded not in seen:
                seen.add(loaded)
                pending.extend(module_level_targets[loaded])
    return seen


def heavy_dependencies_of(module: str) -> set[str]:
    third_party = import_graph().module_level_third_party
    loaded = set().union(*(third_party.get(lab_module, frozenset()) for lab_module in module_level_closure(module)))
    return loaded & HEAVY_DEPENDENCIES


def listing(lines: Iterable[str]) -> str:
    return "\n".join(f"  {line}" for line in lines)


def test_every_unit_is_placed_in_a_layer() -> None:
    """A unit missing from LAYERS would escape the layer check, so a new package or top-level module fails here
    until someone decides where it sits."""
    placed = [unit for _, units in LAYERS for unit in units]
    assert len(placed) == len(set(placed)), f"a unit is placed in two layers of LAYERS: {sorted(placed)}"
    graph = import_graph()
    units = {unit_of(module) for module in graph.modules} | {unit_of(found.target) for found in graph.lab_imports}
    unplaced = sorted(unit for unit in units if layer_of(unit) is None)
    assert not unplaced, (
        f"these units of lab/ are not placed in a layer: {', '.join(unplaced)}.\n"
        f"Add each to LAYERS in {Path(__file__).name}, in the lowest layer above everything it imports."
    )


def shortest_path(graph: dict[str, set[str]], start: str, goal: str, within: set[str]) -> list[str] | None:
    """Breadth-first: the fewest units from `start` to `goal` using only units of `within`."""
    previous: dict[str, str | None] = {start: None}
    frontier = [start]
    while frontier and goal not in previous:
        following: list[str] = []
        for node in frontier:
            for successor in sorted(graph.get(node, set()) & within):
                if successor not in previous:
                    previous[successor] = node
                    following.append(successor)
        frontier = following
    if goal not in previous:
        return None
    path: list[str] = []
    step: str | None = goal
    while step is not None:
        path.append(step)
        step = previous[step]
    return path[::-1]


def is_against_layers(importer_unit: str, target_unit: str) -> bool:
    importer_layer, target_layer = layer_of(importer_unit), layer_of(target_unit)
    return importer_layer is not None and target_layer is not None and target_layer >= importer_layer


def cycles_to_show(graph: dict[str, set[str]], component: list[str]) -> list[list[str]]:
    """For each edge of a strongly connected component that points up or sideways in LAYERS (every edge of it if
    none does), the shortest cycle through that edge, each cycle once. These are the cycles to break."""
    members = set(component)
    edges = [(importer, target) for importer in component for target in sorted(graph[importer] & members)]
    closing_edges = [edge for edge in edges if is_against_layers(*edge)] or edges
    cycles: dict[frozenset[tuple[str, str]], list[str]] = {}
    for importer, target in closing_edges:
        back = shortest_path(graph, target, importer, members)
        if back is not None:
            cycle = [importer, *back]
            cycles.setdefault(frozenset(pairwise(cycle)), cycle)
    return sorted(cycles.values(), key=lambda cycle: (len(cycle), cycle))


def test_no_import_cycle_between_units() -> None:
    """Units form a directed acyclic graph: a cycle means neither side can be understood, tested or loaded
    without the other. The message shows, for every strongly connected group of units, the short cycles that
    the imports against the layer order close, and every import (file:line) on those cycles."""
    sites: dict[tuple[str, str], list[Import]] = defaultdict(list)
    for found in cross_unit_imports():
        sites[(unit_of(found.importer), unit_of(found.target))].append(found)
    unit_graph: dict[str, set[str]] = defaultdict(set)
    for importer_unit, target_unit in sites:
        unit_graph[importer_unit].add(target_unit)
    components = [component for component in strongly_connected_components(unit_graph) if len(component) > 1]
    report: list[str] = []
    for component in components:
        cycles = cycles_to_show(unit_graph, component)
        report.append(f"units {', '.join(component)} reach each other; cycles:")
        report += [f"  {' -> '.join(cycle)}" for cycle in cycles]
        report.append("the imports on these cycles:")
        edges_on_cycles = {edge for cycle in cycles for edge in pairwise(cycle)}
        for importer_unit, target_unit in sorted(edges_on_cycles):
            report.append(f"  {importer_unit} -> {target_unit}")
            report += [f"    {found.where} imports {found.target}" for found in sites[(importer_unit, target_unit)]]
    assert not components, "the units of lab/ import each other in a cycle:\n" + listing(report)


def test_every_cross_unit_import_points_down() -> None:
    """Each import from one unit into another goes to a strictly lower layer of LAYERS; units of one layer are
    siblings and import none of each other. Unplaced units are reported by the placement test, not here."""
    offending: list[str] = []
    for found in cross_unit_imports():
        importer_unit, target_unit = unit_of(found.importer), unit_of(found.target)
        importer_layer, target_layer = layer_of(importer_unit), layer_of(target_unit)
        if importer_layer is None or target_layer is None or target_layer < importer_layer:
            continue
        direction = "sibling" if target_layer == importer_layer else "up"
        deferred = f" (in {found.function})" if found.function else ""
        offending.append(f"{found.where} -> {found.target}{deferred}  [{importer_unit} -> {target_unit}, {direction}]")
    layers = listing(f"L{index} {name}: {', '.join(sorted(units))}" for index, (name, units) in enumerate(LAYERS))
    assert not offending, (
        f"{len(offending)} imports do not point to a lower layer; move the imported code down, or the importer up:\n"
        + listing(offending)
        + f"\nThe layers, bottom first:\n{layers}"
    )


def test_function_level_lab_imports_have_a_reason() -> None:
    """An import of a lab module inside a function is allowed when deferring it saves real time: the imported
    module loads a heavy dependency (HEAVY_DEPENDENCIES) at import time, or the importer is the CLI, whose every
    command pays for what cli.py loads, or the line states its reason in a `# heavy: ...` or `# start-up: ...`
    comment. Any other deferred import can only be hiding a cycle (or nothing): import it at module level."""
    unexplained: list[str] = []
    for found in import_graph().lab_imports:
        if found.function is None or found.type_checking or found.reason_comment or unit_of(found.importer) == "cli":
            continue
        if heavy_dependencies_of(found.target):
            continue
        unexplained.append(f"{found.where} imports {found.target} in {found.function}()")
    assert not unexplained, (
        f"{len(unexplained)} function-level lab imports load no heavy dependency "
        f"({', '.join(sorted(HEAVY_DEPENDENCIES))}) and are not in the CLI; import them at module level (a cycle "
        "that appears is a layering error to fix), or state why on the line with `# heavy: ...` or "
        "`# start-up: ...`:\n" + listing(unexplained)
    )
