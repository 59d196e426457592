"""Contract checking: does an HTTP exchange conform to the marketplace's official OpenAPI spec?

    checker = ContractChecker.for_marketplace("ozon")          # loads the spec once per process
    checker.operation_key(request)                             # "POST /v3/product/list" or None
    checker.check_exchange(request, response)                  # [] when both sides conform

    rec = RecordingTransport(SandboxTransport(app))            # records (request, response) pairs
    for request, response in rec.exchanges: ...

Both the adapters (their requests) and the sandbox (its responses) are judged against the same
documents, so a request the real API would refuse, or an answer the real API would never give,
shows up as a violation naming the operation and the JSON path.

OpenAPI 3.0 schemas are validated as JSON Schema Draft 4 (their base), with `nullable` honoured,
`format` not asserted, and `example`, `x-*`, `discriminator`, `readOnly` ignored (unknown keywords).
One extension is honoured: `x-aliases` on a query parameter (YM's pageToken / page_token) declares
the other names the same parameter may be sent under.
"""

from __future__ import annotations

import json
import re
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl, unquote

import httpx
from jsonschema import Draft4Validator
from jsonschema.exceptions import UnknownType, ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import extend
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT4

from integrations.sandbox.contract_specs import (
    SPEC_FILES,
    DocumentStore,
    Node,
    Operation,
    load_operations,
    resolve,
    specs_dir,
    template_params,
)

MARKETPLACES = tuple(SPEC_FILES)

# Spots where an official spec is itself broken. Key: "<file relative to the specs folder>#<JSON pointer>";
# the schema at that spot is replaced by an accept-anything schema when the file is loaded, so the
# checker skips exactly that spot and nothing around it. Found by test_specs_are_sound_apart_from_known_defects.
KNOWN_SPEC_DEFECTS: dict[str, str] = {
    "ozon/swagger.json#/components/schemas/DetailsOthers/properties/items/items":
        "`items: null`: the array's element schema is missing",
    "ozon/swagger.json#/components/schemas/DetailsReturns/properties/items/items":
        "`items: null`: the array's element schema is missing",
    "ozon/swagger.json#/components/schemas/DetailsServices/properties/items/items":
        "`items: null`: the array's element schema is missing",
    "ozon/swagger.json#/components/schemas/FinanceCashFlowStatementListResponseDetails/properties/payments/items":
        "`items: null`: the array's element schema is missing",
    "ozon/swagger.json#/components/schemas/ReportListRequestReportType/enum":
        "`enum: null`",
    "ozon/swagger.json#/components/schemas/commonLanguage/enum":
        "`enum: null`",
    "ozon/swagger.json#/components/schemas/compensationReportLanguage/enum":
        "`enum: null`",
    "ozon/swagger.json#/components/schemas/productv4GetProductAttributesV4ResponseResult/properties/barcodes/type":
        "`type: 'array of strings'` is not a JSON Schema type",
    "ozon/swagger.json#/components/schemas/productv4GetProductAttributesV4ResponseResult/properties/images/type":
        "`type: 'array of strings'` is not a JSON Schema type",
    "ozon/swagger.json#/components/schemas/reportCreateCompanyPostingsReportRequestFilter/properties/is_express/type":
        "`type: 'bool'` is not a JSON Schema type",
    "ozon/swagger.json#/components/schemas/reportLanguage/enum":
        "`enum: null`",
    "ozon/swagger.json#/components/schemas/v1AnalyticsManageStocksRequest/properties/limit/required":
        "`required: true` on a property (the parent's `required` list is what counts)",
    "ozon/swagger.json#/components/schemas/v1AnalyticsManageStocksRequest/properties/offset/required":
        "`required: true` on a property (the parent's `required` list is what counts)",
    "ozon/swagger.json#/components/schemas/v1CarriageApproveRequest/properties/carriage_id/required":
        "`required: true` on a property (the parent's `required` list is what counts)",
    "ozon/swagger.json#/components/schemas/v1DraftGetWarehouseFboListRequest/properties/search/required":
        "`required: true` on a property (the parent's `required` list is what counts)",
    "ozon/swagger.json#/components/schemas/v1QuestionAnswerListRequest/properties/last_id/type":
        "`type: null`",
    "ozon/swagger.json#/components/schemas/v1QuestionAnswerListResponseAnswers/properties/published_at/type":
        "`type: 'timestamp'` is not a JSON Schema type",
    "ozon/swagger.json#/components/schemas/v1QuestionInfoResponse/properties/published_at/type":
        "`type: 'timestamp'` is not a JSON Schema type",
    "ozon/swagger.json#/components/schemas/v1QuestionInfoResponse/properties/status/type":
        "`type: 'enum'` is not a JSON Schema type",
    "ozon/swagger.json#/components/schemas/v1QuestionListResponseQuestions/properties/published_at/type":
        "`type: 'timestamp'` is not a JSON Schema type",
    "ozon/swagger.json#/components/schemas/v1QuestionListResponseQuestions/properties/status/type":
        "`type: 'enum'` is not a JSON Schema type",
    "ozon/swagger.json#/components/schemas/v2PostingFBSActGetPostingsRequest/properties/id/type":
        "`type: 'int'` is not a JSON Schema type",
    "ozon/swagger.json#/components/schemas/v2PostingFBSActListResult/properties/containers_count/type":
        "`type: 'int'` is not a JSON Schema type",
    "ozon/swagger.json#/components/schemas/v2PostingFBSActListResult/properties/delivery_method_id/type":
        "`type: 'int'` is not a JSON Schema type",
    "ozon/swagger.json#/components/schemas/v2PostingFBSActListResult/properties/id/type":
        "`type: 'int'` is not a JSON Schema type",
    "ozon/swagger.json#/components/schemas/v2WarehouseListV2Request/properties/limit/required":
        "`required: true` on a property (the parent's `required` list is what counts)",
    "ozon/swagger.json#/components/schemas/v3FinanceCashFlowStatementListResponseResult/properties/details/items":
        "`items: null`: the array's element schema is missing",
    "ozon/swagger.json#/paths/~1v1~1analytics~1average-delivery-time~1summary/post/requestBody":
        "`requestBody: null`; any body is accepted for this operation",
    "ozon/swagger.json#/paths/~1v1~1fbp~1warehouse~1list/post/requestBody":
        "`requestBody: null`; any body is accepted for this operation",
    "ozon/swagger.json#/paths/~1v1~1product~1certificate~1create/post/requestBody/content/multipart~1form-data/schema/properties/files/items":
        "Swagger 2 `type: file` inside an OpenAPI 3 multipart schema",
    "ozon/swagger.json#/components/schemas/CarriageDeliveryListV2RequestFilter/properties/departure_date/pattern":
        "`pattern` 'YYYY-MM-DD' is a human placeholder, not a regex",
    "ozon/swagger.json#/components/schemas/GetDiscountTaskListV2ResponseTask/properties/edited_till/pattern":
        "`pattern` 'YYYY-MM-DD' is a human placeholder, not a regex",
    "ozon/swagger.json#/components/schemas/posting.v4.PostingFbsListRequest.Filter/properties/since/pattern":
        "`pattern` 'YYYY-MM-DDThh:mm:ssZ' is a human placeholder, not a regex",
    "ozon/swagger.json#/components/schemas/posting.v4.PostingFbsListRequest.Filter/properties/to/pattern":
        "`pattern` 'YYYY-MM-DDThh:mm:ssZ' is a human placeholder, not a regex",
    "ozon/swagger.json#/components/schemas/posting.v4.PostingFbsListResponse.Postings.Tariffication/properties/next_tariff_starts_at/pattern":
        "`pattern` 'YYYY-MM-DDThh:mm:ss.mcsZ' is a human placeholder, not a regex",
    "ozon/swagger.json#/components/schemas/posting.v4.PostingFbsUnfulfilledListRequest.Filter/properties/cutoff_from/pattern":
        "`pattern` 'YYYY-MM-DDThh:mm:ss.mcsZ' is a human placeholder, not a regex",
    "ozon/swagger.json#/components/schemas/posting.v4.PostingFbsUnfulfilledListRequest.Filter/properties/cutoff_to/pattern":
        "`pattern` 'YYYY-MM-DDThh:mm:ss.mcsZ' is a human placeholder, not a regex",
    "ozon/swagger.json#/components/schemas/posting.v4.PostingFbsUnfulfilledListResponse.Postings.Tariffication/properties/next_tariff_starts_at/pattern":
        "`pattern` 'YYYY-MM-DDThh:mm:ss.mcsZ' is a human placeholder, not a regex",
    "ozon/swagger.json#/components/schemas/v1DeliveryCheckRequest/properties/client_phone/pattern":
        "`pattern` '7XXXXXXXXXX' is a human placeholder, not a regex",
    "ozon/swagger.json#/components/schemas/v1UpdateWarehouseFBSRequest/properties/phone/pattern":
        "`pattern` '+7(XXX)XXX-XX-XX' is a human placeholder and not even a valid regex",
    "ozon/swagger.json#/components/schemas/v3Addressee/properties/phone/pattern":
        "`pattern` '+7(XXX)XXX-XX-XX' is a human placeholder, not a regex",
}

_MAX_ERRORS_PER_PART = 8
_MESSAGE_LIMIT = 300


# ---------------------------------------------------------------------------------------------
# OpenAPI 3.0 flavour of Draft 4


def _allow_null(keyword: Callable[..., Any]) -> Callable[..., Iterator[ValidationError]]:
    """`nullable: true` lets null through every keyword of that schema (OpenAPI 3.0 semantics)."""

    def check(validator: Any, value: Any, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
        if instance is None and schema.get("nullable") is True:
            return
        errors = keyword(validator, value, instance, schema)
        if errors:
            yield from errors

    return check


OpenAPI30Validator: type[Validator] = extend(
    Draft4Validator,
    validators={name: _allow_null(fn) for name, fn in Draft4Validator.VALIDATORS.items()},
)


# ---------------------------------------------------------------------------------------------
# The checker


class ContractChecker:
    """Checks exchanges against one marketplace's spec. Thread-safe; build via for_marketplace()."""

    _instances: ClassVar[dict[tuple[str, str], ContractChecker]] = {}
    _instances_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, marketplace: str, root: Path | None = None) -> None:
        if marketplace not in SPEC_FILES:
            raise ValueError(f"unknown marketplace {marketplace!r}; expected one of {', '.join(SPEC_FILES)}")
        self.marketplace = marketplace
        self.root = (root or specs_dir()).resolve()
        self.store = DocumentStore(patch=self._patch_known_defects)
        self.operations: list[Operation] = load_operations(self.store, self.root, marketplace)
        self._resources: dict[str, Resource[Any]] = {}
        self._registry: Registry[Any] = Registry(retrieve=self._retrieve)  # type: ignore[call-arg]
        self._validators: dict[str, Validator] = {}
        self._lock = threading.Lock()

    @classmethod
    def for_marketplace(cls, marketplace: str) -> ContractChecker:
        """One checker per marketplace and specs folder per process (loading takes about a second)."""
        key = (marketplace, str(specs_dir()))
        with cls._instances_lock:
            if key not in cls._instances:
                cls._instances[key] = cls(marketplace, Path(key[1]))
            return cls._instances[key]

    # ---- matching ------------------------------------------------------------------------
    def official_path(self, url: httpx.URL) -> tuple[str, str | None]:
        """(the marketplace's own path, the host when the URL is the official one rather than the sandbox)."""
        raw = url.raw_path.decode("ascii").partition("?")[0]
        marker = f"/{self.marketplace}"
        at = raw.find(marker + "/")
        if at < 0 and raw.endswith(marker):
            at = len(raw) - len(marker)
        if at >= 0:
            return raw[at + len(marker) :] or "/", None
        return raw, url.host

    def find_operation(self, request: httpx.Request) -> tuple[Operation, dict[str, str]] | None:
        path, host = self.official_path(request.url)
        method = request.method.upper()
        found: tuple[Operation, dict[str, str]] | None = None
        for operation in self.operations:
            if operation.method != method:
                continue
            match = operation.regex.match(path)
            if match is None:
                continue
            if host is None or not operation.servers or host in operation.servers:
                return operation, template_params(operation, match)
            found = found or (operation, template_params(operation, match))
        return found

    def operation_key(self, request: httpx.Request) -> str | None:
        found = self.find_operation(request)
        return found[0].key if found else None

    # ---- checking ------------------------------------------------------------------------
    def check_exchange(self, request: httpx.Request, response: httpx.Response) -> list[str]:
        """Every way the request or the response departs from the spec; [] when both conform."""
        found = self.find_operation(request)
        if found is None:
            return [self._unknown_operation(request)]
        operation, path_params = found
        problems = self._check_request(operation, path_params, request)
        problems += self._check_response(operation, response)
        return [f"{operation.key}: {problem}" for problem in problems]

    def check_request(self, request: httpx.Request) -> list[str]:
        found = self.find_operation(request)
        if found is None:
            return [self._unknown_operation(request)]
        operation, path_params = found
        return [f"{operation.key}: {p}" for p in self._check_request(operation, path_params, request)]

    def _unknown_operation(self, request: httpx.Request) -> str:
        path, _ = self.official_path(request.url)
        others = sorted({op.method for op in self.operations if op.regex.match(path)})
        if others:
            return f"{request.method} {path}: method not in the spec (the path allows {', '.join(others)})"
        return f"{request.method} {path}: no such operation in the {self.marketplace} spec"

    # request ------------------------------------------------------------------------------
    def _check_request(self, operation: Operation, path_params: dict[str, str], request: httpx.Request) -> list[str]:
        problems = self._check_security(operation, request)
        query = _query_values(request.url)
        declared_query: set[str] = set()
        for param in self._parameters(operation):
            name, where = param.value.get("name", ""), param.value.get("in", "")
            required = bool(param.value.get("required")) or where == "path"
            if where == "query":
                # `x-aliases` (YM): the same parameter under other names (pageToken / page_token).
                names = list(dict.fromkeys([name, *(param.value.get("x-aliases") or ())]))
                declared_query.update(names)
                sent = [n for n in names if n in query]
                if len(sent) > 1:
                    problems.append(f"query parameter {name!r} sent under several of its names ({', '.join(sent)})")
                    continue
                values = query.get(sent[0]) if sent else None
            elif where == "header":
                header = request.headers.get(name)
                values = None if header is None else [header]
            elif where == "path":
                values = [path_params[name]] if name in path_params else None
            else:  # cookies: the adapters send none
                continue
            if not values:
                if required:
                    problems.append(f"missing required {where} parameter {name!r}")
                continue
            if "schema" in param.value:
                problems += self._check_parameter(param, values, f"{where} parameter {name!r}")
        for name in query.keys() - declared_query:
            problems.append(f"query parameter {name!r} is not declared")
        problems += self._check_request_body(operation, request)
        return problems

    def _parameters(self, operation: Operation) -> list[Node]:
        """Path-item parameters overridden by the operation's own (same name and location)."""
        merged: dict[tuple[str, str], Node] = {}
        for owner in (operation.path_item, operation.node):
            for index in range(len(owner.value.get("parameters") or [])):
                param = resolve(self.store, owner.child("parameters", index))
                merged[(param.value.get("name", ""), param.value.get("in", ""))] = param
        return list(merged.values())

    def _check_security(self, operation: Operation, request: httpx.Request) -> list[str]:
        requirements = operation.node.value.get("security", operation.document.value.get("security"))
        if not requirements:
            return []
        schemes = (operation.document.value.get("components") or {}).get("securitySchemes") or {}
        query = _query_values(request.url)
        wanted = []
        for alternative in requirements:
            names = []
            for scheme_name in alternative:
                scheme = schemes.get(scheme_name) or {}
                if scheme.get("type") == "apiKey":
                    where, name = scheme.get("in", "header"), scheme.get("name", "")
                else:  # http / oauth2 / openIdConnect all travel in Authorization
                    where, name = "header", "Authorization"
                present = request.headers.get(name) if where == "header" else query.get(name)
                if where == "cookie" or present:
                    continue
                names.append(f"{where} {name}")
            if not names:
                return []
            wanted.append(" + ".join(names))
        return [f"no credentials: expected {' or '.join(wanted)}"]

    def _check_parameter(self, param: Node, values: list[str], label: str) -> list[str]:
        schema_node = param.child("schema")
        resolved = resolve(self.store, schema_node)
        schema = resolved.value
        if schema.get("type") == "array":
            # Repeated (explode) or comma-separated: YM and WB describe the latter in prose while their
            # schemas keep the OpenAPI default, so both spellings are taken.
            separator = " " if param.value.get("style") == "spaceDelimited" else ","
            values = [part for value in values for part in value.split(separator)]
            item_schema = resolve(self.store, Node(resolved.uri, "", schema.get("items") or {})).value
            instance: Any = [_coerce(value, item_schema) for value in values]
        else:
            if len(values) > 1:
                return [f"{label} repeated {len(values)} times but is not an array"]
            instance = _coerce(values[0], schema)
        return self._validate(schema_node, instance, label)

    def _check_request_body(self, operation: Operation, request: httpx.Request) -> list[str]:
        body = request.read()
        if "requestBody" not in operation.node.value:
            return ["a body is sent but the operation takes none"] if body else []
        request_body = resolve(self.store, operation.node.child("requestBody"))
        if not body:
            return ["the required request body is missing"] if request_body.value.get("required") else []
        return self._check_body(request_body, request.headers.get("content-type", ""), body, "request body")

    # response -----------------------------------------------------------------------------
    def _check_response(self, operation: Operation, response: httpx.Response) -> list[str]:
        responses = resolve(self.store, operation.node.child("responses"))
        status = str(response.status_code)
        declared = {str(code): code for code in responses.value}
        key = declared.get(status) or declared.get(f"{status[0]}XX") or declared.get(f"{status[0]}xx")
        key = key or declared.get("default")
        if key is None:
            if response.status_code >= 500 and not any(code.startswith("5") for code in declared):
                # Any server may fail (RFC 9110); most WB methods simply list no 5xx at all.
                return []
            return [f"response status {status} is not declared (declared: {', '.join(sorted(declared))})"]
        body = response.read()
        if response.status_code in (204, 304) and body:
            return [f"response {status} must have no body, got {len(body)} bytes"]
        if not body:
            return []
        response_node = resolve(self.store, responses.child(str(key)))
        return self._check_body(
            response_node, response.headers.get("content-type", ""), body, f"response {status} body"
        )

    # bodies -------------------------------------------------------------------------------
    def _check_body(self, owner: Node, content_type: str, body: bytes, label: str) -> list[str]:
        content = owner.value.get("content") or {}
        if not content:
            return [f"{label}: a body is sent but the spec declares no content for it"]
        media_type = content_type.split(";")[0].strip().lower()
        declared = _match_media_type(media_type, content)
        if declared is None:
            shown = media_type or "(none)"
            return [f"{label}: content type {shown!r} is not declared (declared: {', '.join(content)})"]
        media = owner.child("content", declared)
        if "schema" not in media.value or not _is_json(media_type or declared):
            return []
        try:
            instance = json.loads(body)
        except ValueError as exc:
            return [f"{label}: not valid JSON ({exc})"]
        return self._validate(media.child("schema"), instance, label)

    # undeclared fields ------------------------------------------------------------------------
    def undeclared_fields(self, request: httpx.Request, response: httpx.Response) -> list[str]:
        """JSON fields sent (request) or answered (response) that the spec's schemas do not name.

        OpenAPI objects accept extra fields, so check_exchange lets them pass; but a field the real
        API does not know is silently ignored (request) or never arrives (response): an adapter
        relying on it breaks in production. Objects that allow additionalProperties are skipped."""
        found = self.find_operation(request)
        if found is None:
            return []
        operation, _ = found
        problems: list[str] = []
        if "requestBody" in operation.node.value and request.content:
            schema = self._body_schema(resolve(self.store, operation.node.child("requestBody")), request.headers)
            if schema is not None:
                problems += [f"request body: {p}" for p in self._extra_fields(schema, request.content)]
        responses = resolve(self.store, operation.node.child("responses"))
        status = str(response.status_code)
        if status in responses.value and response.content:
            schema = self._body_schema(resolve(self.store, responses.child(status)), response.headers)
            if schema is not None:
                problems += [f"response {status} body: {p}" for p in self._extra_fields(schema, response.content)]
        return [f"{operation.key}: {problem}" for problem in problems]

    def _body_schema(self, owner: Node, headers: httpx.Headers) -> Node | None:
        content = owner.value.get("content") or {}
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        declared = _match_media_type(media_type, content)
        if declared is None or not _is_json(media_type) or "schema" not in content[declared]:
            return None
        return owner.child("content", declared, "schema")

    def _extra_fields(self, schema: Node, body: bytes) -> list[str]:
        try:
            instance = json.loads(body)
        except ValueError:
            return []
        extras: list[str] = []
        self._walk_fields([schema], instance, "$", extras)
        return extras

    def _walk_fields(self, schemas: list[Node], instance: Any, path: str, extras: list[str]) -> None:
        branches = self._branches(schemas, instance)
        if isinstance(instance, dict):
            properties: dict[str, list[Node]] = {}
            open_object = not any("properties" in b.value for b in branches)
            for branch in branches:
                if branch.value.get("additionalProperties", False) is not False or "patternProperties" in branch.value:
                    open_object = True
                for name in branch.value.get("properties") or {}:
                    properties.setdefault(name, []).append(branch.child("properties", name))
            for key, value in instance.items():
                if key in properties:
                    self._walk_fields(properties[key], value, f"{path}.{key}", extras)
                elif not open_object:
                    extras.append(f"{path}.{key} is not in the spec")
        elif isinstance(instance, list):
            items = [b.child("items") for b in branches if isinstance(b.value.get("items"), dict)]
            if items:
                for index, value in enumerate(instance):
                    self._walk_fields(items, value, f"{path}[{index}]", extras)

    def _branches(self, schemas: list[Node], instance: Any) -> list[Node]:
        """The schemas that apply to the instance: $refs followed, allOf flattened, and of anyOf/oneOf
        the branches it validates against (all of them when none does)."""
        out: list[Node] = []
        stack = list(schemas)
        while stack:
            node = resolve(self.store, stack.pop())
            if not isinstance(node.value, dict):
                continue
            out.append(node)
            stack += [node.child("allOf", i) for i in range(len(node.value.get("allOf") or []))]
            for keyword in ("anyOf", "oneOf"):
                options = [node.child(keyword, i) for i in range(len(node.value.get(keyword) or []))]
                matching = [o for o in options if self._validator(o.ref).is_valid(instance)]
                stack += matching or options
        return out

    # schema validation ----------------------------------------------------------------------
    def _validate(self, schema: Node, instance: Any, label: str) -> list[str]:
        try:
            errors = sorted(self._validator(schema.ref).iter_errors(instance), key=lambda e: list(e.absolute_path))
        except (Unresolvable, UnknownType, TypeError, KeyError, AttributeError) as exc:
            # The spec itself is broken here: say where, so it can be listed in KNOWN_SPEC_DEFECTS.
            where = self._relative(schema)
            return [f"{label}: the spec's schema at {where} cannot be used ({type(exc).__name__}: {exc})"]
        problems = [_describe(error, label) for error in errors[:_MAX_ERRORS_PER_PART]]
        if len(errors) > _MAX_ERRORS_PER_PART:
            problems.append(f"{label}: ... and {len(errors) - _MAX_ERRORS_PER_PART} more")
        return problems

    def _validator(self, ref: str) -> Validator:
        validator = self._validators.get(ref)
        if validator is None:
            validator = OpenAPI30Validator({"$ref": ref}, registry=self._registry)
            with self._lock:
                self._validators[ref] = validator
        return validator

    def _retrieve(self, uri: str) -> Resource[Any]:
        resource = self._resources.get(uri)
        if resource is None:
            resource = DRAFT4.create_resource(self.store.get(uri))
            with self._lock:
                self._resources[uri] = resource
        return resource

    def _relative(self, node: Node) -> str:
        path = Path(unquote(node.uri.removeprefix("file://")))
        try:
            return f"{path.relative_to(self.root)}#{node.pointer}"
        except ValueError:
            return node.ref

    def _patch_known_defects(self, uri: str, document: Any) -> None:
        """Drop each known broken value (a broken request body becomes "any body")."""
        relative = self._relative(Node(uri, "", None)).rstrip("#")
        for location in KNOWN_SPEC_DEFECTS:
            file, _, pointer = location.partition("#")
            if file != relative or not pointer:
                continue
            *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
            owner = document
            for part in parents:
                owner = owner[part]
            if last in _PERMISSIVE:
                owner[last] = _PERMISSIVE[last]
            else:
                owner.pop(last, None)

    # ---- self-check of the spec ------------------------------------------------------------
    def audit(self) -> list[str]:
        """Places where the spec cannot be used for checking: dangling $refs, schemas that are not
        valid Draft 4 (bad `type`, `required: true`, `enum: null`, ...), operations whose parts do
        not resolve. Known defects are already patched out, so a sound spec gives []."""
        auditor = _SpecAuditor(self)
        for operation in self.operations:
            auditor.audit_operation(operation)
        return sorted(auditor.problems)


# A value the checker puts in place of a known broken one; any other broken value is dropped.
_PERMISSIVE: dict[str, Any] = {"requestBody": {"content": {"*/*": {}}}}
# Keywords that only annotate: a broken one changes nothing about what validates.
_ANNOTATIONS = {"description", "title", "example", "default", "externalDocs"}
_DRAFT4_META = Draft4Validator(Draft4Validator.META_SCHEMA)


class _SpecAuditor:
    def __init__(self, checker: ContractChecker) -> None:
        self.checker = checker
        self.store = checker.store
        self.problems: set[str] = set()
        self._seen: set[str] = set()

    def audit_operation(self, operation: Operation) -> None:
        for key in ("parameters", "requestBody", "responses"):
            if key in operation.node.value and operation.node.value[key] is None:
                self.problems.add(f"{self.checker._relative(operation.node.child(key))}: null")
                return
        try:
            roots = list(self._schema_roots(operation))
        except (KeyError, TypeError, AttributeError, IndexError, OSError) as exc:
            self.problems.add(f"{operation.key}: does not resolve ({type(exc).__name__}: {exc})")
            return
        for root in roots:
            self._audit_schema(root)

    def _schema_roots(self, operation: Operation) -> Iterator[Node]:
        for owner in (operation.path_item, operation.node):
            for index in range(len(owner.value.get("parameters") or [])):
                param = resolve(self.store, owner.child("parameters", index))
                if "schema" in param.value:
                    yield param.child("schema")
        bodies = []
        if "requestBody" in operation.node.value:
            bodies.append(resolve(self.store, operation.node.child("requestBody")))
        responses = resolve(self.store, operation.node.child("responses"))
        bodies += [resolve(self.store, responses.child(code)) for code in responses.value]
        for body in bodies:
            for media_type, media in (body.value.get("content") or {}).items():
                if "schema" in media:
                    yield body.child("content", media_type, "schema")

    def _audit_schema(self, root: Node) -> None:
        """Meta-validate each schema reached once, following $refs into other schemas and files."""
        stack = [root]
        while stack:
            node = stack.pop()
            if isinstance(node.value, dict) and isinstance(node.value.get("$ref"), str):
                try:
                    node = resolve(self.store, node)
                except (KeyError, IndexError, OSError, ValueError) as exc:
                    self.problems.add(f"{self.checker._relative(node)}: dangling $ref ({type(exc).__name__}: {exc})")
                    continue
            if node.ref in self._seen:
                continue
            self._seen.add(node.ref)
            if node is root or node.pointer == "" or "$ref" not in node.value:
                self._meta_check(node)
            stack += _nested_refs(node)

    def _meta_check(self, schema: Node) -> None:
        for pattern in _patterns(schema):
            try:
                with warnings.catch_warnings():  # some spec regexes draw FutureWarnings; only errors count
                    warnings.simplefilter("ignore")
                    re.compile(pattern.value)
            except re.error as exc:
                self.problems.add(f"{self.checker._relative(pattern)}: pattern is not a regex ({exc})")
                continue
            if _PLACEHOLDER.search(pattern.value):
                self.problems.add(f"{self.checker._relative(pattern)}: pattern {pattern.value!r} is a placeholder")
        for error in _DRAFT4_META.iter_errors(schema.value):
            path = [str(part) for part in error.absolute_path]
            if path and (path[-1] in _ANNOTATIONS or (path[-1] == "required" and error.validator == "minItems")):
                continue
            where = Node(schema.uri, "/".join([schema.pointer, *map(_escape, path)]), None)
            self.problems.add(f"{self.checker._relative(where)}: {error.message[:_MESSAGE_LIMIT]}")


# A human template ("YYYY-MM-DD", "+7(XXX)...") written where a regular expression belongs.
_PLACEHOLDER = re.compile(r"YYYY|XXX|hh:mm")


def _patterns(schema: Node) -> Iterator[Node]:
    """The `pattern` keywords of a schema and its inline subschemas ($refs are audited on their own)."""
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node.value, dict):
            if "$ref" in node.value and node is not schema:
                continue
            for key, child in node.value.items():
                if key == "pattern" and isinstance(child, str) and not node.pointer.endswith("/properties"):
                    yield node.child(key)
                elif isinstance(child, (dict, list)) and key not in ("example", "examples"):
                    stack.append(node.child(key))
        elif isinstance(node.value, list):
            stack += [node.child(i) for i, child in enumerate(node.value) if isinstance(child, (dict, list))]


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _nested_refs(node: Node) -> list[Node]:
    """Every {"$ref": ...} inside a schema (examples and x- extensions skipped: they are data)."""
    found: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        value = current.value
        if isinstance(value, dict):
            if current is not node and isinstance(value.get("$ref"), str):
                found.append(current)
                continue
            for key, child in value.items():
                in_properties = current.pointer.endswith("/properties")
                if not in_properties and (key in ("example", "examples") or str(key).startswith("x-")):
                    continue
                if isinstance(child, (dict, list)):
                    stack.append(current.child(key))
        elif isinstance(value, list):
            stack += [current.child(i) for i, child in enumerate(value) if isinstance(child, (dict, list))]
    return found


# ---------------------------------------------------------------------------------------------
# Helpers


def _query_values(url: httpx.URL) -> dict[str, list[str]]:
    raw = url.query.decode("ascii") if isinstance(url.query, bytes) else url.query
    values: dict[str, list[str]] = {}
    for name, value in parse_qsl(raw, keep_blank_values=True):
        values.setdefault(name, []).append(value)
    return values


_INTEGER = re.compile(r"[-+]?\d+")
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _coerce(value: str, schema: dict[str, Any]) -> Any:
    """A query/path/header string as the typed value its schema describes (left as is if it is not one)."""
    kind = schema.get("type")
    if kind == "integer" and _INTEGER.fullmatch(value):
        return int(value)
    if kind == "number" and _NUMBER.fullmatch(value):
        number = float(value)
        return int(number) if number.is_integer() and "." not in value else number
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json") or media_type == "*/*"


def _match_media_type(media_type: str, content: dict[str, Any]) -> str | None:
    lowered = {str(key).lower().split(";")[0].strip(): key for key in content}
    for candidate in (media_type, media_type.split("/")[0] + "/*", "*/*"):
        if candidate in lowered:
            return str(lowered[candidate])
    return None


def _describe(error: ValidationError, label: str) -> str:
    message = error.message
    if len(message) > _MESSAGE_LIMIT:
        message = message[:_MESSAGE_LIMIT] + "..."
    return f"{label}: {error.json_path}: {message}"


# ---------------------------------------------------------------------------------------------
# Recording


class RecordingTransport(httpx.BaseTransport):
    """Wraps a transport and keeps every (request, response) pair, bodies read, for checking later."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        response = self.inner.handle_request(request)
        try:
            if isinstance(response.stream, httpx.ByteStream):  # built in-process from bytes: re-iterable
                raw = b"".join(response.stream)
            else:
                raw = b"".join(response.iter_raw())
        finally:
            response.close()
        # Two copies over the same raw bytes: one goes back to the client, one stays here.
        recorded = httpx.Response(response.status_code, headers=response.headers, stream=httpx.ByteStream(raw),
                                  request=request, extensions=dict(response.extensions))
        recorded.read()
        with self._lock:
            self.exchanges.append((request, recorded))
        return httpx.Response(response.status_code, headers=response.headers, stream=httpx.ByteStream(raw),
                              request=request, extensions=dict(response.extensions))

    def close(self) -> None:
        self.inner.close()

    def clear(self) -> None:
        with self._lock:
            self.exchanges.clear()


def check_all(checker: ContractChecker, exchanges: Iterable[tuple[httpx.Request, httpx.Response]]) -> list[str]:
    """All violations of a recorded conversation, each once (the same fault repeats across pages)."""
    seen: dict[str, None] = {}
    for request, response in exchanges:
        for problem in checker.check_exchange(request, response):
            seen.setdefault(problem, None)
    return list(seen)
