"""The layering of DESIGN.md: core/ is a leaf that imports no domain app, and only integrations/
knows the marketplace packages. Imports are read with ast (function-level imports included), so the
check needs no database and sees imports that never run in tests."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOMAIN_APPS = {
    "catalog", "orders", "pricing", "reviews", "analytics", "integrations", "notifications", "dashboard", "supply",
}
MARKETPLACE_PACKAGES = ("integrations.ozon", "integrations.wildberries", "integrations.yandex_market")
APPS_OUTSIDE_INTEGRATIONS = sorted(DOMAIN_APPS - {"integrations"} | {"core"})


def imported_modules(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Absolute module names an ast imports; `from pkg import name` also yields `pkg.name`, which
    may be a submodule."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def source_files(app: str) -> Iterator[Path]:
    for path in sorted((ROOT / app).rglob("*.py")):
        if "migrations" not in path.relative_to(ROOT).parts:
            yield path


def imports_matching(apps: list[str], forbidden: Callable[[str], bool]) -> list[str]:
    found = []
    for app in apps:
        for path in source_files(app):
            for lineno, module in imported_modules(ast.parse(path.read_text(), filename=str(path))):
                if forbidden(module):
                    found.append(f"{path.relative_to(ROOT)}:{lineno} imports {module}")
    return sorted(set(found))


def test_core_imports_no_domain_app() -> None:
    found = imports_matching(["core"], lambda module: module.split(".")[0] in DOMAIN_APPS)
    assert found == []


def test_only_integrations_imports_the_marketplace_packages() -> None:
    found = imports_matching(
        APPS_OUTSIDE_INTEGRATIONS,
        lambda module: any(module == p or module.startswith(p + ".") for p in MARKETPLACE_PACKAGES),
    )
    assert found == []


def test_the_check_sees_function_level_and_from_imports() -> None:
    """The checker itself: a nested import and a `from integrations import ozon` are both caught."""
    tree = ast.parse("def f():\n    from analytics.models import X\nfrom integrations import ozon\n")
    modules = {module for _, module in imported_modules(tree)}
    assert {"analytics.models", "integrations.ozon"} <= modules
