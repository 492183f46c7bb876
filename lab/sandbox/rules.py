"""Static rules every generated program must pass before it runs.

A program is parsed, never imported: the rules are checked on its syntax tree, and every violation names its line,
the rule and what to do instead, so the program's writer (an LLM, a search, a person) can repair it.
"""

from __future__ import annotations

import ast
import hashlib
from dataclasses import dataclass, field

from lab.errors import ProgramError, Violation

SAFE_MODULES = frozenset({"numpy", "numpy.linalg", "math"})
"""Modules a program may import."""

SAFE_BUILTINS = (
    "abs", "all", "any", "bool", "dict", "divmod", "enumerate", "filter", "float", "frozenset", "int", "isinstance",
    "len", "list", "map", "max", "min", "pow", "range", "repr", "reversed", "round", "set", "slice", "sorted", "str",
    "sum", "tuple", "zip", "ArithmeticError", "AssertionError", "Exception", "FloatingPointError", "IndexError",
    "KeyError", "LookupError", "NotImplementedError", "OverflowError", "RuntimeError", "TypeError", "ValueError",
    "ZeroDivisionError",
)
"""The builtins a program sees; anything else is a NameError at run time."""

FORBIDDEN_NAMES = frozenset({
    "__import__", "open", "exec", "eval", "compile", "getattr", "setattr", "delattr", "hasattr", "globals",
    "locals", "vars", "dir", "input", "breakpoint", "help", "memoryview", "type", "object", "super", "classmethod",
    "staticmethod", "property", "exit", "quit", "print", "id", "BaseException", "SystemExit", "KeyboardInterrupt",
    "GeneratorExit",
})

FORBIDDEN_ATTRIBUTES = frozenset({
    # files and pickles through numpy
    "load", "save", "savez", "savez_compressed", "savetxt", "loadtxt", "genfromtxt", "fromfile", "tofile",
    "fromregex", "memmap", "dump", "dumps", "DataSource", "open",
    # ways out of numpy's array world
    "ctypes", "ctypeslib", "lib", "f2py", "testing", "distutils", "show_config", "show_runtime", "info",
    "get_include", "os", "sys", "builtins",
    # process-wide state and randomness (a reward must be a function of its inputs)
    "random", "seterr", "seterrcall", "setbufsize", "set_printoptions",
    # frame and code objects: introspection that walks out of the sandbox
    "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "ag_frame", "ag_code", "f_globals", "f_locals",
    "f_builtins", "f_back", "f_code", "tb_frame", "tb_next", "co_code", "func_globals", "mro",
    # str.format reaches attributes by name inside the string, past these rules
    "format", "format_map",
})

TOP_LEVEL = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.Assign, ast.AnnAssign)

ALLOWED_SYNTAX: tuple[type[ast.AST], ...] = (
    ast.Module, ast.FunctionDef, ast.arguments, ast.arg, ast.Return, ast.Assign, ast.AugAssign, ast.AnnAssign,
    ast.For, ast.While, ast.If, ast.With, ast.withitem, ast.Raise, ast.Try, ast.ExceptHandler, ast.Assert,
    ast.Import, ast.ImportFrom, ast.alias, ast.Expr, ast.Pass, ast.Break, ast.Continue, ast.Delete,
    ast.BoolOp, ast.NamedExpr, ast.BinOp, ast.UnaryOp, ast.Lambda, ast.IfExp, ast.Dict, ast.Set, ast.ListComp,
    ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.comprehension, ast.Compare, ast.Call, ast.keyword,
    ast.Constant, ast.Attribute, ast.Subscript, ast.Starred, ast.Name, ast.List, ast.Tuple, ast.Slice,
    ast.JoinedStr, ast.FormattedValue,
    ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop,
)
"""The syntax a numpy program needs: an allowlist, so syntax Python adds later is refused until it is reviewed.
Everything else (match statements, whose class patterns read attributes by keyword; classes; async code;
generators; global state; type statements) is a violation."""

REFUSED_SYNTAX: dict[type[ast.AST], tuple[str, str]] = {
    ast.Match: ("match", "`match` statements are not allowed (a class pattern reads attributes past these rules); "
                         "use if/elif"),
    ast.ClassDef: ("class", "classes are not allowed; write functions"),
    ast.AsyncFunctionDef: ("async", "async code is not allowed"),
    ast.Await: ("async", "async code is not allowed"),
    ast.AsyncFor: ("async", "async code is not allowed"),
    ast.AsyncWith: ("async", "async code is not allowed"),
    ast.Yield: ("generator", "generators are not allowed; return values"),
    ast.YieldFrom: ("generator", "generators are not allowed; return values"),
    ast.Global: ("global state", "`global`/`nonlocal` are not allowed: a program must be a function of its inputs"),
    ast.Nonlocal: ("global state", "`global`/`nonlocal` are not allowed: a program must be a function of its "
                                   "inputs"),
}
"""Syntax outside the allowlist that programs try often enough to deserve their own message."""


def printable(text: str) -> str:
    """`text` safe to print and write as UTF-8 (a program's lone surrogates become U+FFFD)."""
    return text.encode("utf-8", "replace").decode("utf-8")


@dataclass(frozen=True)
class ProgramRules:
    """What a kind of program must define and may use."""

    entry: str
    """The function the lab calls."""
    entry_params: tuple[str, ...]
    """Its positional parameters, by meaning (their names in the program may differ)."""
    kind: str = "program"
    extra_params: bool = False
    """Whether the entry may take parameters after the declared ones (a skill's own parameters)."""
    max_chars: int = 20_000
    modules: frozenset[str] = field(default=SAFE_MODULES)
    allowed_attributes: frozenset[str] = frozenset()
    """Attributes this kind of program may use although they are forbidden in general (e.g. a robot's `open`)."""

    def signature(self) -> str:
        """The entry's signature as the program's writer must write it (`...` where it may take more)."""
        return f"def {self.entry}({', '.join([*self.entry_params, *(['...'] if self.extra_params else [])])})"


def check_program(source: str, rules: ProgramRules) -> ast.Module:
    """Parse `source` and check it against `rules`; return the tree, or raise a ProgramError listing violations."""
    if len(source) > rules.max_chars:
        raise ProgramError(
            f"the {rules.kind} is {len(source):,} characters long, over the limit of {rules.max_chars:,}",
            hint="write a shorter program: the lab only needs the function it calls and its helpers",
        )
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        violation = Violation(error.lineno or 0, "syntax error", str(error.msg))
        raise ProgramError(f"the {rules.kind} is not valid Python", (violation,)) from None
    violations = [*_check_top_level(tree, rules), *_check_nodes(tree, rules)]
    if violations:
        violations.sort(key=lambda v: v.line)
        raise ProgramError(
            f"the {rules.kind} breaks {len(violations)} rule(s)", tuple(violations),
            hint=f"a {rules.kind} may import only {', '.join(sorted(rules.modules))}, and must define "
                 f"`{rules.signature()}` at top level",
        )
    return tree


def _check_top_level(tree: ast.Module, rules: ProgramRules) -> list[Violation]:
    violations = []
    entry: ast.FunctionDef | None = None
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            continue
        if not isinstance(node, TOP_LEVEL):
            violations.append(Violation(node.lineno, "top-level code",
                                        f"only imports, constants and functions may be at top level, "
                                        f"not {type(node).__name__}"))
        if isinstance(node, ast.FunctionDef) and node.name == rules.entry:
            entry = node
    if entry is None:
        violations.append(Violation(1, "missing function", f"the program must define `{rules.signature()}`"))
        return violations
    args = entry.args
    positional = [*args.posonlyargs, *args.args]
    required = len(positional) - len(args.defaults)
    wrong = len(positional) < len(rules.entry_params) if rules.extra_params else (
        required != len(rules.entry_params))
    if wrong or args.vararg or args.kwarg or args.kwonlyargs:
        names = ", ".join(a.arg for a in positional)
        violations.append(Violation(entry.lineno, "wrong signature",
                                    f"`{rules.entry}({names})` must take exactly {len(rules.entry_params)} "
                                    f"{'at least ' if rules.extra_params else ''}arguments: `{rules.signature()}`"))
    return violations


def _bound_name_violations(line: int, name: str | None) -> list[Violation]:
    """A name the program binds (function, argument, `as` name) may not be a dunder or a forbidden name."""
    if name and name.startswith("__"):
        return [Violation(line, "dunder", f"the name `{name}` is not allowed")]
    if name and name in FORBIDDEN_NAMES:
        return [Violation(line, "forbidden name", f"`{name}` is not allowed in a program")]
    return []


def _walk(tree: ast.AST) -> list[ast.AST]:
    """Every node of `tree`, but not the insides of syntax outside the allowlist (one violation says it all)."""
    nodes, pending = [], [tree]
    while pending:
        node = pending.pop()
        nodes.append(node)
        if isinstance(node, ALLOWED_SYNTAX):
            pending.extend(ast.iter_child_nodes(node))
    return nodes


def _check_nodes(tree: ast.Module, rules: ProgramRules) -> list[Violation]:
    violations = []
    for node in _walk(tree):
        line = getattr(node, "lineno", 0)
        if type(node) in REFUSED_SYNTAX:
            rule, detail = REFUSED_SYNTAX[type(node)]
            violations.append(Violation(line, rule, detail))
        elif not isinstance(node, ALLOWED_SYNTAX):
            violations.append(Violation(line, "syntax", f"`{type(node).__name__}` is not allowed in a {rules.kind}; "
                                                        "write plain functions, loops and numpy calls"))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name not in rules.modules:
                    violations.append(Violation(line, "import", f"`import {alias.name}` is not allowed"))
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level or module not in rules.modules:
                violations.append(Violation(line, "import", f"`from {'.' * node.level}{module} import ...` "
                                                            "is not allowed"))
            for alias in node.names:
                if alias.name == "*":
                    violations.append(Violation(line, "import", "`import *` is not allowed; import names"))
                elif alias.name.startswith("_") or alias.name in FORBIDDEN_ATTRIBUTES:
                    violations.append(Violation(line, "forbidden name", f"`{alias.name}` may not be imported"))
        elif isinstance(node, ast.Name):
            if node.id.startswith("__"):
                violations.append(Violation(line, "dunder", f"`{node.id}` is not allowed"))
            elif node.id in FORBIDDEN_NAMES:
                violations.append(Violation(line, "forbidden name", f"`{node.id}` is not allowed in a program"))
        elif isinstance(node, ast.Attribute):
            if node.attr.startswith("_"):
                violations.append(Violation(line, "private attribute",
                                            f"`.{node.attr}`: attributes starting with _ are not allowed"))
            elif node.attr in FORBIDDEN_ATTRIBUTES and node.attr not in rules.allowed_attributes:
                violations.append(Violation(line, "forbidden attribute", f"`.{node.attr}` is not allowed"))
        elif isinstance(node, ast.keyword):
            if node.arg is not None and node.arg.startswith("_"):
                violations.append(Violation(line, "private keyword",
                                            f"`{node.arg}=`: keyword names starting with _ are not allowed"))
        elif isinstance(node, (ast.FunctionDef, ast.arg)):
            name = getattr(node, "name", None) or getattr(node, "arg", None)
            violations += _bound_name_violations(line, name)
        elif isinstance(node, ast.ExceptHandler):
            if node.type is None:
                violations.append(Violation(line, "bare except", "name the exceptions you catch (e.g. `except "
                                                                 "ValueError:`)"))
            violations += _bound_name_violations(line, node.name)
        if isinstance(node, ast.alias):  # `import numpy as __builtins__` would replace the builtins of the program
            violations += _bound_name_violations(line, node.asname)
    return violations


def program_identity(source: str) -> str:
    """A program's identity for spotting duplicates: a hash of its syntax tree without docstrings, comments or
    layout (of the text itself when it does not parse)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return hashlib.sha256(source.encode()).hexdigest()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(
                body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
    return hashlib.sha256(ast.dump(tree).encode()).hexdigest()
