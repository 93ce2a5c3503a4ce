"""The layout is a rule the suite enforces, not a convention (docs/architecture.md).

Each first-party package has a rank; a module imports only its own package or packages of a
lower rank, function-local imports included. There are no import cycles, no private names
imported across modules, and nothing outside the command line imports its internals.
"""
from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIRST_PARTY = ("ledger", "web", "reports", "migrations", "bench")

# Lowest first. A package may import its own modules and any package of a lower rank; two
# packages of the same rank do not import each other. docs/architecture.md explains each rank.
RANKS: list[tuple[str, ...]] = [
    ("ledger.i18n",),                                     # what a person reads: catalogs, 元, time
    ("ledger.core", "ledger.audit.tlog"),                 # pure values; database-free log formats
    ("ledger.models",),                                   # every table
    ("ledger.store",),                                    # sessions, guards, bulk writes, access
    ("ledger.audit",),                                    # the database's log
    ("ledger.org",),                                      # regions, staff sign-in
    ("ledger.registers",),                                # lists and registers from outside
    ("ledger.screening",),                                # checks made as money moves
    ("ledger.funds",),                                    # lots, accounts, posting, payments
    ("ledger.households",),                               # households, members, credit
    ("ledger.rolls",),                                    # payment rolls and the bank
    ("ledger.reading", "ledger.disclosure", "ledger.oversight"),
    ("ledger.alerts",),                                   # misuse rules, scan, lifecycle
    ("ledger.imports",),                                  # files from other systems
    ("ledger.demo",),                                     # the synthetic province, alerts eval
    ("ledger.cli",),                                      # the command line (click only)
    ("reports", "migrations"),                            # PDFs; schema history
    ("web",),                                             # the Flask app
    ("bench",),                                           # measurements
]

# ledger.cli's public surface for commands of the outer layers (reports.cli, web.cli).
CLI_PUBLIC = {"ledger.cli.params"}

# Tables whose rows are updated in place, each with its reason. Every other table is
# append-only and guarded by triggers (invariant 6).
MUTABLE_TABLES = {
    "accounts": "balance columns are a cache of the postings, checked by verify",
    "users": "a person's current state; their passwords are append-only in user_credentials",
    "audit_head": "the log's head: size, root and frontier move forward under a row lock",
    "login_attempts": "sign-in rate limiting; not part of the books",
    "staff_sessions": "web sessions end (sign-out, new password, disabling); not the books",
    "passkey_counters": "a passkey's signature counter moves forward at each use (WebAuthn "
                        "§7.2 step 18); not part of the books",
    "passkey_challenges": "single-use challenges of the passkey ceremonies, deleted when "
                          "used; not part of the books",
    "alert_observed_shown": "an alert's observed and threshold as people read them, refreshed "
                            "by each scan; a display cache — the finding and its hash are in "
                            "the append-only alert_events",
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    found = {}
    for top in FIRST_PARTY:
        for path in sorted((ROOT / top).rglob("*.py")):
            found[_module_name(path)] = path
    return found


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if path.name != "__init__.py":
        base = base[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _known(name: str) -> str | None:
    """The first-party module `name` refers to (a module, or the module holding a name)."""
    modules = _modules()
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


@cache
def _imports(module: str) -> tuple[tuple[str, str | None, int], ...]:
    path = _modules()[module]
    return _parse_imports(module, path, path.read_text(encoding="utf-8"))


def _parse_imports(module: str, path: Path, text: str) -> tuple[tuple[str, str | None, int], ...]:
    """(imported module, imported name or None, line) for every import, at any depth."""
    tree = ast.parse(text, filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, path, node)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in _modules():
                    found.append((full, None, node.lineno))
                else:
                    found.append((base, alias.name, node.lineno))
    return tuple(found)


def _edges(module: str, imports=None) -> set[str]:
    targets = set()
    for name, _, _ in imports if imports is not None else _imports(module):
        if name.split(".")[0] in FIRST_PARTY:
            target = _known(name)
            if target and target != module:
                targets.add(target)
    return targets


def _rank(module: str) -> tuple[int, str] | None:
    best = None
    for rank, packages in enumerate(RANKS):
        for package in packages:
            if module == package or module.startswith(package + "."):
                if best is None or len(package) > len(best[1]):
                    best = (rank, package)
    return best


def test_every_module_has_a_rank():
    unranked = [m for m in _modules() if _rank(m) is None and m != "ledger"]
    assert unranked == []


def test_modules_import_only_their_package_or_lower_ranks():
    offenders = []
    for module in _modules():
        own = _rank(module)
        if own is None:
            continue
        for target in _edges(module):
            other = _rank(target)
            if other is None or other[1] == own[1]:
                continue
            if target == other[1] and module.startswith(target + "."):
                continue  # a package's own __init__ (its docstring)
            if other[0] >= own[0]:
                offenders.append(f"{module} ({own[1]}) imports {target} ({other[1]})")
    assert offenders == []


def test_no_import_cycles():
    graph = {m: {t for t in _edges(m) if not m.startswith(t + ".")} for m in _modules()}
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in graph[node]:
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    assert cycles == []


def test_no_private_names_imported_across_modules():
    offenders = []
    for module in _modules():
        for name, imported, line in _imports(module):
            # `_` is gettext's name for "translate this" (ledger.i18n), public by convention
            if imported and imported.startswith("_") and not imported.startswith("__") \
                    and imported != "_" and name.split(".")[0] in FIRST_PARTY:
                offenders.append(f"{module}:{line} imports {imported} from {name}")
    assert offenders == []


def test_only_the_command_line_imports_its_internals():
    offenders = []
    for module in _modules():
        if module == "ledger.cli" or module.startswith("ledger.cli."):
            continue
        for target in _edges(module):
            if (target == "ledger.cli" or target.startswith("ledger.cli.")) \
                    and target not in CLI_PUBLIC:
                offenders.append(f"{module} imports {target}")
    assert offenders == []


def test_log_formats_need_no_database():
    """ledger.audit.tlog is what an auditor runs offline: the standard library and
    cryptography, nothing of the ledger's database side."""
    allowed_third_party = {"cryptography"}
    offenders = []
    for module in _modules():
        if not module.startswith("ledger.audit.tlog"):
            continue
        for name, _, line in _imports(module):
            top = name.split(".")[0]
            if top in FIRST_PARTY:
                if not (_known(name) or "").startswith("ledger.audit.tlog"):
                    offenders.append(f"{module}:{line} imports {name}")
            elif top not in sys.stdlib_module_names and top not in allowed_third_party \
                    and top != "__future__":
                offenders.append(f"{module}:{line} imports {name}")
    assert offenders == []


def test_every_table_is_append_only_or_listed_as_mutable():
    from ledger.models import APPEND_ONLY_TABLES, Base
    tables = set(Base.metadata.tables)
    append_only = set(APPEND_ONLY_TABLES)
    assert len(append_only) == len(APPEND_ONLY_TABLES), "a table is declared twice"
    assert append_only <= tables, sorted(append_only - tables)
    assert append_only.isdisjoint(MUTABLE_TABLES)
    assert tables - append_only == set(MUTABLE_TABLES)


def test_ledger_has_only_packages_directly_inside():
    loose = sorted(p.name for p in (ROOT / "ledger").glob("*.py") if p.name != "__init__.py")
    assert loose == []


def test_the_package_map_names_every_subpackage():
    """ledger/__init__.py's docstring is the module map: one line per subpackage."""
    import ledger
    subpackages = sorted(p.parent.name for p in (ROOT / "ledger").glob("*/__init__.py"))
    missing = [name for name in subpackages if f"{name}/" not in (ledger.__doc__ or "")]
    assert missing == []


@pytest.mark.parametrize("source, expected", [
    ("import web.app\nfrom reports import layout\n", {"web.app", "reports.layout"}),
    ("def f():\n    from ledger.core import money\n", {"ledger.core.money"}),
    ("from .money import parse_yuan\n", {"ledger.core.money"}),
])
def test_the_check_itself_sees_imports(source, expected):
    path = ROOT / "ledger" / "core" / "probe.py"
    imports = _parse_imports("ledger.core.probe", path, source)
    assert _edges("ledger.core.probe", imports) == expected


def test_tables_listed_as_mutable_exist():
    from ledger.models import Base
    assert set(MUTABLE_TABLES) <= set(Base.metadata.tables)
