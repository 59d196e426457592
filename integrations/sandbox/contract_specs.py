"""Loading the official marketplace OpenAPI documents and indexing their operations.

Each marketplace's spec is a set of documents addressed by file URI. Documents are read once per
process (a YAML/JSON cache) and are shared by the operation index below and by the jsonschema
registry the checker validates with, so a `$ref` resolves the same way in both places.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urldefrag, urljoin, urlsplit

import yaml

try:  # the C loader reads the YAML trees several times faster
    from yaml import CSafeLoader as _YamlLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _YamlLoader  # type: ignore[assignment]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# Entry documents per marketplace, relative to the specs folder. For WB, current files come first:
# an operation found there wins over the same path in the older set (kept for removed methods).
SPEC_FILES: dict[str, tuple[str, ...]] = {
    # The Seller API, and the excerpt of the Performance API (ads) the ads stream uses (see ozon/SOURCES.md).
    "ozon": ("ozon/swagger.json", "ozon/performance.json"),
    "wildberries": (
        "wildberries/01-general.yaml",
        "wildberries/02-items.yaml",
        "wildberries/03-orders-fbs.yaml",
        "wildberries/04-orders-dbw.yaml",
        "wildberries/05-orders-dbs.yaml",
        "wildberries/06-in-store-pickup.yaml",
        "wildberries/07-orders-fbw.yaml",
        "wildberries/08-promotion.yaml",
        "wildberries/09-communications.yaml",
        "wildberries/10-rates.yaml",
        "wildberries/11-analytics.yaml",
        "wildberries/12-reports.yaml",
        "wildberries/13-finances.yaml",
        "wildberries/previous-2025-12/12-reports.yaml",
        "wildberries/previous-2025-12/13-finances.yaml",
    ),
    "yandex_market": ("yandex-market/openapi/openapi.yaml",),
}


# The official specs, copied unchanged with their sources and licences (see its README.md).
VENDORED_SPECS_DIR = Path(__file__).resolve().parents[1] / "specs"


class SpecsNotFoundError(RuntimeError):
    """The specs folder is missing: contract tests must fail loudly, not skip."""


def specs_dir() -> Path:
    """PRILAVOK_SPECS_DIR, else the copy vendored in the repository (integrations/specs/)."""
    candidates = []
    if os.environ.get("PRILAVOK_SPECS_DIR"):
        candidates.append(Path(os.environ["PRILAVOK_SPECS_DIR"]))
    candidates.append(VENDORED_SPECS_DIR)
    for candidate in candidates:
        if (candidate / "ozon" / "swagger.json").is_file():
            return candidate
    raise SpecsNotFoundError(
        "Marketplace OpenAPI specs not found; looked in " + ", ".join(str(c) for c in candidates)
        + ". Set PRILAVOK_SPECS_DIR to the folder holding ozon/, wildberries/, yandex-market/."
    )


# ---------------------------------------------------------------------------------------------
# Documents


class DocumentStore:
    """Spec documents by file URI, each parsed once (thread-safe; the sandbox server is threaded)."""

    def __init__(self, patch: Callable[[str, Any], None] | None = None) -> None:
        self._docs: dict[str, Any] = {}
        self._patch = patch  # applied once to each document as it is parsed
        self._lock = threading.Lock()

    def get(self, uri: str) -> Any:
        doc = self._docs.get(uri)
        if doc is None:
            with self._lock:
                doc = self._docs.get(uri)
                if doc is None:
                    doc = _parse(Path(unquote(urlsplit(uri).path)))
                    if self._patch is not None:
                        self._patch(uri, doc)
                    self._docs[uri] = doc
        return doc


def _parse(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":  # Ozon's JSON holds a control character YAML refuses
        return json.loads(text)
    return yaml.load(text, Loader=_YamlLoader)


def escape_pointer_part(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True, slots=True)
class Node:
    """A spot in a spec document: its file URI and JSON pointer, plus what is there."""

    uri: str
    pointer: str
    value: Any

    @property
    def ref(self) -> str:
        """An absolute `$ref` to this spot (pointer percent-quoted, as referencing unquotes it)."""
        return f"{self.uri}#{quote(self.pointer, safe='/~')}"

    def child(self, *keys: str | int) -> Node:
        node = self
        for key in keys:
            node = Node(node.uri, f"{node.pointer}/{escape_pointer_part(str(key))}", node.value[key])
        return node


def resolve(store: DocumentStore, node: Node, depth: int = 0) -> Node:
    """Follow `$ref` chains (relative file refs included) to the node they point at."""
    if not (isinstance(node.value, dict) and "$ref" in node.value):
        return node
    if depth > 30:
        raise ValueError(f"$ref cycle at {node.ref}")
    target = urljoin(node.uri, node.value["$ref"])
    uri, fragment = urldefrag(target)
    pointer = unquote(fragment)
    value = store.get(uri)
    for part in pointer.split("/")[1:] if pointer else []:
        key = part.replace("~1", "/").replace("~0", "~")
        value = value[int(key)] if isinstance(value, list) else value[key]
    return resolve(store, Node(uri, pointer, value), depth + 1)


# ---------------------------------------------------------------------------------------------
# Operations


@dataclass(slots=True)
class Operation:
    method: str  # upper case
    path: str  # the template as in the spec: /v2/campaigns/{campaignId}/offers/stocks
    node: Node  # the operation object
    path_item: Node
    document: Node  # root of the document declaring it
    servers: tuple[str, ...]  # hosts the operation is served from ("" when the spec gives none)
    regex: re.Pattern[str] = field(repr=False, default=re.compile(""))

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def _hosts(*levels: Any) -> tuple[str, ...]:
    """The innermost `servers` list wins (operation, then path item, then document)."""
    for level in levels:
        servers = level.get("servers") if isinstance(level, dict) else None
        if servers:
            return tuple(urlsplit(s.get("url", "")).hostname or "" for s in servers)
    return ()


def _template_regex(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}/]+\})", path)
    pattern = "".join(
        f"(?P<{_group_name(p[1:-1], i)}>[^/]+)" if p.startswith("{") else re.escape(p) for i, p in enumerate(parts)
    )
    return re.compile(f"^{pattern}/?$")


def _group_name(name: str, index: int) -> str:
    # Regex group names must be identifiers; the original name is recovered via template_params.
    return f"p{index}_" + re.sub(r"\W", "_", name)


def template_params(operation: Operation, match: re.Match[str]) -> dict[str, str]:
    names = re.findall(r"\{([^}/]+)\}", operation.path)
    return {name: unquote(value) for name, value in zip(names, match.groups(), strict=True)}


def load_operations(store: DocumentStore, root: Path, marketplace: str) -> list[Operation]:
    """Every operation of the marketplace, the most specific templates first."""
    operations: list[Operation] = []
    seen: set[tuple[str, str, tuple[str, ...]]] = set()
    for relative in SPEC_FILES[marketplace]:
        uri = (root / relative).resolve().as_uri()
        document = Node(uri, "", store.get(uri))
        for path in document.value.get("paths") or {}:
            path_item = resolve(store, document.child("paths", path))
            for method in HTTP_METHODS:
                if method not in path_item.value:
                    continue
                op_node = path_item.child(method)
                servers = _hosts(op_node.value, path_item.value, document.value)
                identity = (method, path, servers)
                if identity in seen:  # the older WB set repeats current methods; the current one wins
                    continue
                seen.add(identity)
                operations.append(
                    Operation(method.upper(), path, op_node, path_item, document, servers, _template_regex(path))
                )
    # Literal segments beat templates: /orders/new must not be taken for /orders/{orderId}.
    operations.sort(key=lambda op: (op.path.count("{"), -len(op.path)))
    return operations
