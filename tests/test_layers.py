"""The shape of the code: imports point down the layers, no module imports itself back through
others, and no app module grows past what one person reads in a sitting.

Read from the source with `ast` (imports inside functions count too: a lazy import that goes
up a layer is still a dependency the wrong way)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = ("accounts", "byok", "tokens", "generations", "billing", "bambi", "openai_compat")
MAX_LINES = 400

# Lowest first; a module may import its own layer and the layers listed before it. `bambi`
# is split: its helpers are the bottom every app stands on, its project modules (settings,
# URLs, pages, start-up checks) the top that assembles the apps.
BAMBI_TOP = {
    "bambi.settings",
    "bambi.urls",
    "bambi.views",
    "bambi.checks",
    "bambi.apps",
    "bambi.wsgi",
    "bambi.asgi",
}
LAYERS = [
    "bambi",  # errors, dates, ids, http, client_ip, ratelimit, api, debug
    "accounts",
    "billing.plans",  # the plan: what byok and generations ask about
    "billing",
    "byok",
    "tokens",  # personal API tokens: limited by the plan, to models of byok
    "generations",
    "openai_compat",  # the OpenAI-compatible /v1/ surface over generations
    "top",
]


def _modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts or "djstripe_migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """Project modules imported anywhere in the file (`from x import y` counts x.y when x.y is
    a module, else x)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                names.add(full if full in MODULES else node.module)
    return {name for name in names if name in MODULES}


GRAPH = {name: _imports(path) for name, path in MODULES.items()}


def _layer(module: str) -> int:
    if module in BAMBI_TOP or module.endswith(".urls") or module.endswith(".admin"):
        return LAYERS.index("top") if module.startswith("bambi") else _app_layer(module)
    return _app_layer(module)


def _app_layer(module: str) -> int:
    if module == "billing.plans":
        return LAYERS.index("billing.plans")
    return LAYERS.index(module.split(".")[0])


def test_imports_point_down_the_layers():
    upward = [
        f"{module} imports {imported}"
        for module, imported_modules in GRAPH.items()
        for imported in imported_modules
        if _layer(imported) > _layer(module) and imported.split(".")[0] != module.split(".")[0]
    ]
    assert upward == []


def test_accounts_imports_no_other_app():
    for module, imported in GRAPH.items():
        if module.startswith("accounts"):
            assert {i.split(".")[0] for i in imported} <= {"accounts", "bambi"}, module


def test_no_module_imports_itself_back():
    cycles = []
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = "open"
        stack.append(module)
        for imported in sorted(GRAPH[module]):
            if state.get(imported) == "open":
                cycles.append(" -> ".join([*stack[stack.index(imported) :], imported]))
            elif imported not in state:
                visit(imported)
        stack.pop()
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)
    assert cycles == []


def test_no_app_module_is_longer_than_one_sitting():
    long = {
        name: lines
        for name, path in MODULES.items()
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    # bambi/settings.py is one env-driven settings file on purpose (as healthchecks does).
    assert long.keys() <= {"bambi.settings"}, long
