"""FBS/DBS order actions: the write side the order pages call (assemble, hand over, cancel, labels,
WB supplies), over a selection of orders from any accounts, with a result per order.

Synchronous calls, not outbox rows. An outbox row is for a change we own and the marketplace
merely has to learn (a price, an answer): it may wait, be batched and retried, and a read-back
confirms it. Packing a posting, closing a supply or printing a label is the marketplace's own
state move that the manager is standing at the packing table for: the answer (a refusal with
the marketplace's reason, the supply id, the label PDF) is needed now, and a retry hours later
would be wrong (the parcel is gone, the order cancelled). So each action calls the adapter at once
and returns per-order results; transient errors are retried by the adapter's HTTP core. What the
outbox gives besides — who did what, when — is recorded here: every applied or refused item is
an audit event, and an applied status move is a status history row (source "manual").

Analysts may not act (core.roles.EDITORS); the check is here, so every caller gets it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record
from core.roles import EDITORS, has_role
from integrations.base import (
    ActionResult,
    CancelReason,
    FulfilmentAction,
    FulfilmentClient,
    FulfilmentRequest,
    MarketplaceError,
    ShipmentLine,
    WriteStatus,
)
from integrations.models import MarketplaceAccount
from orders import status as status_machine
from orders.labels import LabelFormatError, merge_labels
from orders.models import Order, OrderStatus, OrderStatusChange, Scheme

ClientFor = Callable[[MarketplaceAccount], FulfilmentClient]
ACTIONABLE_SCHEMES = frozenset({Scheme.FBS, Scheme.DBS, Scheme.EXPRESS})
NOT_SELLER_SHIPPED = _("The marketplace ships this order from its own warehouse (FBO): nothing to do here")
NOT_IN_STATUS = _("Not possible for an order in status “%(status)s”")
ACTION_LABELS = {
    FulfilmentAction.ASSEMBLE: _("Assemble"),
    FulfilmentAction.HAND_OVER: _("Hand over to delivery"),
    FulfilmentAction.LABEL: _("Labels"),
    FulfilmentAction.CANCEL: _("Cancel the order"),
    FulfilmentAction.CREATE_SUPPLY: _("Create a supply"),
    FulfilmentAction.DELIVER_SUPPLY: _("Hand the supply over"),
}


@dataclass(frozen=True)
class ItemResult:
    """What happened to one selected order."""

    order_id: int | None
    external_id: str
    status: str  # WriteStatus value: "applied" | "rejected"
    message: str = ""
    new_status: str = ""  # canonical status after the action, when it moved
    remote_ref: str = ""  # WB: the supply id

    @property
    def applied(self) -> bool:
        return self.status == WriteStatus.APPLIED


@dataclass
class LabelBundle:
    """The labels of the selection merged into one PDF, and the per-order results."""

    pdf: bytes
    pages: int
    results: list[ItemResult] = field(default_factory=list)


def _default_client(account: MarketplaceAccount) -> FulfilmentClient:
    from integrations.registry import get_fulfilment_client

    return get_fulfilment_client(account)


def _require_editor(user: Any) -> None:
    if not has_role(user, EDITORS):
        raise PermissionDenied(_("Only managers and administrators may act on orders"))


# ---------------------------------------------------------------------------------------------
# The capability map the order pages show


def capabilities() -> dict[str, dict[str, str]]:
    """marketplace -> action -> why it is impossible through the API ("" = possible). Read from the
    adapters themselves, so the page and the refusals never disagree; in the active language."""
    from integrations.base import AccountConfig
    from integrations.registry import FULFILMENT_ADAPTERS, fulfilment_class

    answer: dict[str, dict[str, str]] = {}
    for marketplace in FULFILMENT_ADAPTERS:
        client = fulfilment_class(marketplace)(AccountConfig(marketplace, "capabilities", {}))
        try:
            refused = client.unsupported()
        finally:
            client.close()
        answer[marketplace] = {str(action): refused.get(action, "") for action in FulfilmentAction}
    return answer


def scheme_limits() -> dict[str, dict[str, dict[str, str]]]:
    """marketplace -> scheme -> action -> why the API offers it not for that scheme (YM hands over
    DBS orders only; WB's DBS tasks are not built); in the active language."""
    from integrations.base import AccountConfig
    from integrations.registry import FULFILMENT_ADAPTERS, fulfilment_class

    answer: dict[str, dict[str, dict[str, str]]] = {}
    for marketplace in FULFILMENT_ADAPTERS:
        client = fulfilment_class(marketplace)(AccountConfig(marketplace, "capabilities", {}))
        try:
            limits = getattr(client, "scheme_limits", None)
            answer[marketplace] = limits() if limits else {}
        finally:
            client.close()
    return answer


# Statuses in which an action makes sense, to offer it on the page; the marketplace has the last word.
ACTION_STATUSES: dict[str, frozenset[str]] = {
    FulfilmentAction.ASSEMBLE: frozenset({OrderStatus.NEW, OrderStatus.PROCESSING}),
    FulfilmentAction.LABEL: frozenset({OrderStatus.PROCESSING, OrderStatus.READY_TO_SHIP}),
    FulfilmentAction.HAND_OVER: frozenset({OrderStatus.READY_TO_SHIP}),
    FulfilmentAction.CANCEL: frozenset({OrderStatus.NEW, OrderStatus.PROCESSING, OrderStatus.READY_TO_SHIP}),
}


def actions_for(
    order: Order, table: Mapping[str, Mapping[str, str]] | None = None,
    schemes: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None,
) -> dict[str, str]:
    """The order actions for one order: action -> why not ("" = offer it). `table` is
    capabilities() and `schemes` scheme_limits(), passed in when a page shows many orders."""
    table = capabilities() if table is None else table
    by_scheme = (scheme_limits() if schemes is None else schemes).get(order.account.marketplace, {})
    answer = {}
    for action, statuses in ACTION_STATUSES.items():
        if order.scheme not in ACTIONABLE_SCHEMES:
            answer[str(action)] = str(NOT_SELLER_SHIPPED)
        elif table.get(order.account.marketplace, {}).get(action):
            answer[str(action)] = table[order.account.marketplace][action]
        elif by_scheme.get(order.scheme, {}).get(action):
            answer[str(action)] = by_scheme[order.scheme][action]
        elif order.status not in statuses:
            answer[str(action)] = str(NOT_IN_STATUS % {"status": order.get_status_display()})
        else:
            answer[str(action)] = ""
    return answer


# ---------------------------------------------------------------------------------------------
# Actions on a selection


def assemble(
    user: Any, orders: Iterable[Order], *, packages: Mapping[int, Sequence[Sequence[tuple[str, int]]]] | None = None,
    supply_id: str = "", client_for: ClientFor = _default_client,
) -> list[ItemResult]:
    """Packs each order (Ozon: ship with packages; WB: into the supply `supply_id`, a new one when
    empty; YM: the box layout, then READY_TO_SHIP). `packages`: order id -> boxes of (line key,
    quantity); an order not in it goes in one box with all its lines."""

    def build(order: Order, request: FulfilmentRequest) -> FulfilmentRequest:
        boxes = (packages or {}).get(order.pk)
        if boxes:
            request = _replace(request, packages=tuple(tuple(ShipmentLine(k, q) for k, q in box) for box in boxes))
        return _replace(request, supply_id=supply_id)

    results = _run(user, FulfilmentAction.ASSEMBLE, orders, client_for, build, lambda c, r: c.assemble(r))
    if not supply_id:
        _note_new_supplies(user, results)
    return results


def add_to_supply(
    user: Any, orders: Iterable[Order], *, supply_id: str = "", client_for: ClientFor = _default_client,
) -> list[ItemResult]:
    """WB only: the selected tasks into the supply `supply_id`, or into a new one (per account) when
    empty. Orders of marketplaces without supplies are refused with the reason, nothing sent for them."""

    def build(order: Order, request: FulfilmentRequest) -> FulfilmentRequest:
        return _replace(request, supply_id=supply_id)

    results = _run(user, FulfilmentAction.ASSEMBLE, orders, client_for, build, lambda c, r: c.assemble(r),
                   gate=FulfilmentAction.CREATE_SUPPLY)
    if not supply_id:
        _note_new_supplies(user, results)
    return results


def _note_new_supplies(user: Any, results: Sequence[ItemResult]) -> None:
    """A supply the adapter opened on its own is recorded like one created on purpose, so the
    shipping desk offers it for more tasks and for delivery (open_supplies)."""
    applied = {r.order_id: r.remote_ref for r in results if r.applied and r.remote_ref and r.order_id}
    if not applied:
        return
    accounts = dict(Order.objects.filter(pk__in=list(applied)).values_list("pk", "account_id"))
    seen: set[tuple[int, str]] = set()
    for order_id, supply in applied.items():
        seen.add((accounts[order_id], supply))
    by_pk = MarketplaceAccount.objects.in_bulk([account for account, _ in seen])
    for account_id, supply in sorted(seen):
        audit_record(action="orders.create_supply", actor=user, obj=by_pk[account_id],
                     details={"supply_id": supply, "name": ""})


@dataclass(frozen=True)
class OpenSupply:
    account: MarketplaceAccount
    supply_id: str
    created_at: datetime

    @property
    def value(self) -> str:
        """How a form names it: "<account pk>:<supply id>"."""
        return f"{self.account.pk}:{self.supply_id}"


def open_supplies(days: int = 14, limit: int = 50) -> list[OpenSupply]:
    """WB supplies opened from here in the last `days` and not delivered from here since, newest first:
    two reads of the audit trail's (action, created_at) index."""
    from django.utils import timezone

    from core.models import AuditEvent

    since = timezone.now() - timedelta(days=days)
    events = AuditEvent.objects.filter(created_at__gte=since, object_type="integrations.marketplaceaccount")
    delivered = {(e.object_id, e.details.get("supply_id")) for e in
                 events.filter(action="orders.deliver_supply").only("object_id", "details")}
    created: dict[tuple[str, str], datetime] = {}
    for event in events.filter(action="orders.create_supply").only("object_id", "details", "created_at")[:limit]:
        key = (event.object_id, str(event.details.get("supply_id") or ""))
        if key[1] and key not in delivered:
            created.setdefault(key, event.created_at)
    accounts = MarketplaceAccount.objects.in_bulk([int(account) for account, _ in created])
    return [OpenSupply(accounts[int(a)], supply, at) for (a, supply), at in created.items() if int(a) in accounts]


def hand_over(user: Any, orders: Iterable[Order], *, client_for: ClientFor = _default_client) -> list[ItemResult]:
    return _run(user, FulfilmentAction.HAND_OVER, orders, client_for, None, lambda c, r: c.hand_over(r))


def cancel(
    user: Any, orders: Iterable[Order], *, reason: str, message: str = "", client_for: ClientFor = _default_client,
) -> list[ItemResult]:
    reason = CancelReason(reason)
    if reason == CancelReason.OTHER and not message.strip():
        raise ValueError(_("Describe the reason when it is “other”"))

    def build(order: Order, request: FulfilmentRequest) -> FulfilmentRequest:
        return _replace(request, reason=str(reason), message=message.strip())

    return _run(user, FulfilmentAction.CANCEL, orders, client_for, build, lambda c, r: c.cancel(r))


def labels(user: Any, orders: Iterable[Order], *, client_for: ClientFor = _default_client) -> LabelBundle:
    """Every selected order's labels in one PDF (in the order of the selection)."""
    _require_editor(user)
    selected = _selection(orders)
    results: dict[int, ItemResult] = {}
    files: dict[int, tuple[bytes, str]] = {}
    for account, group in _by_account(selected, results, FulfilmentAction.LABEL).items():
        requests = {_key(order): (order, _request(order)) for order in group}
        client = client_for(account)
        try:
            answers = client.labels([request for _, request in requests.values()])
        except MarketplaceError as exc:
            results.update({o.pk: _refused(o, exc.message) for o in group})
            continue
        finally:
            client.close()
        for answer in answers:
            order, _request_sent = requests[answer.key]
            if answer.status == WriteStatus.APPLIED:
                files[order.pk] = (answer.content, answer.content_type)
                results[order.pk] = ItemResult(order.pk, order.external_id, WriteStatus.APPLIED)
            else:
                results[order.pk] = _refused(order, answer.message)
    printable = []
    for order in selected:
        if order.pk in files:
            try:
                merge_labels([files[order.pk]])  # each file on its own first: one bad file spoils no other
            except (LabelFormatError, ValueError) as exc:
                results[order.pk] = _refused(order, str(exc))
                continue
            printable.append(files[order.pk])
    pdf, pages = merge_labels(printable) if printable else (b"", 0)
    ordered = [results[o.pk] for o in selected]
    _audit_all(user, FulfilmentAction.LABEL, selected, ordered)
    return LabelBundle(pdf=pdf, pages=pages, results=ordered)


# ---------------------------------------------------------------------------------------------
# WB supplies


def create_supply(user: Any, account: MarketplaceAccount, name: str, *, client_for: ClientFor = _default_client) -> str:
    _require_editor(user)
    client = client_for(account)
    try:
        supply_id = client.create_supply(name)  # MarketplaceError (WB's refusal, no supplies elsewhere) goes up
    finally:
        client.close()
    audit_record(action="orders.create_supply", actor=user, obj=account, details={"supply_id": supply_id,
                                                                                 "name": name})
    return supply_id


def deliver_supply(
    user: Any, account: MarketplaceAccount, supply_id: str, *, client_for: ClientFor = _default_client,
) -> list[ItemResult]:
    """Closes a WB supply; each of its tasks we know gets its status move and history row."""
    _require_editor(user)
    client = client_for(account)
    try:
        answers = client.deliver_supply(supply_id)
    except MarketplaceError as exc:  # WB refused (already delivered, empty) or no supplies there
        refused = ItemResult(None, supply_id, WriteStatus.REJECTED, exc.message, remote_ref=supply_id)
        audit_record(action="orders.deliver_supply_refused", actor=user, obj=account,
                     details={"supply_id": supply_id, "message": exc.message})
        return [refused]
    finally:
        client.close()
    known = {o.external_id: o for o in Order.objects.filter(account=account, external_id__in=[a.key for a in answers])}
    results = []
    for answer in answers:
        order = known.get(answer.key)
        results.append(_record(order, answer) if order is not None else ItemResult(
            None, answer.key, answer.status, answer.message, answer.order_status, answer.remote_ref))
    audit_record(action="orders.deliver_supply", actor=user, obj=account,
                 details={"supply_id": supply_id, "orders": [r.external_id for r in results]})
    return results


# ---------------------------------------------------------------------------------------------
# Plumbing


def _replace(request: FulfilmentRequest, **changes: Any) -> FulfilmentRequest:
    from dataclasses import replace

    return replace(request, **changes)


def _selection(orders: Iterable[Order]) -> list[Order]:
    """The selected orders fresh from the database, in the selection's order, with what is sent."""
    wanted = [o.pk for o in orders]
    found = Order.objects.filter(pk__in=wanted).select_related("account").prefetch_related("lines").in_bulk()
    return [found[pk] for pk in dict.fromkeys(wanted) if pk in found]


def _key(order: Order) -> str:
    return str(order.pk)


def _request(order: Order) -> FulfilmentRequest:
    lines = tuple(ShipmentLine(line.line_key, line.quantity) for line in order.lines.all())
    return FulfilmentRequest(_key(order), order.external_id, order.scheme, lines)


def _refused(order: Order, message: Any) -> ItemResult:
    return ItemResult(order.pk, order.external_id, WriteStatus.REJECTED, str(message))


def _by_account(
    orders: Sequence[Order], results: dict[int, ItemResult], action: FulfilmentAction
) -> dict[MarketplaceAccount, list[Order]]:  # `action`: the one the marketplace must offer
    """The actionable orders grouped by account; the others get their refusal in `results`."""
    groups: dict[MarketplaceAccount, list[Order]] = {}
    unsupported = capabilities()
    for order in orders:
        reason = unsupported.get(order.account.marketplace, {}).get(action, "")
        if order.scheme not in ACTIONABLE_SCHEMES:
            results[order.pk] = _refused(order, NOT_SELLER_SHIPPED)
        elif reason:
            results[order.pk] = _refused(order, reason)
        else:
            groups.setdefault(order.account, []).append(order)
    return groups


def _run(
    user: Any,
    action: FulfilmentAction,
    orders: Iterable[Order],
    client_for: ClientFor,
    build: Callable[[Order, FulfilmentRequest], FulfilmentRequest] | None,
    send: Callable[[FulfilmentClient, list[FulfilmentRequest]], list[ActionResult]],
    *, gate: FulfilmentAction | None = None,
) -> list[ItemResult]:
    """`gate`: the capability the marketplace must have, when not `action` itself (WB supplies)."""
    _require_editor(user)
    selected = _selection(orders)
    results: dict[int, ItemResult] = {}
    for account, group in _by_account(selected, results, gate or action).items():
        by_key = {_key(order): order for order in group}
        requests = [build(order, _request(order)) if build else _request(order) for order in group]
        client = client_for(account)
        try:
            answers = send(client, requests)
        except MarketplaceError as exc:  # the whole call failed (auth, the marketplace down after retries)
            results.update({o.pk: _refused(o, exc.message) for o in group})
            continue
        finally:
            client.close()
        for answer in answers:
            results[by_key[answer.key].pk] = _record(by_key[answer.key], answer)
    ordered = [results[o.pk] for o in selected]
    _audit_all(user, action, selected, ordered)
    return ordered


def _record(order: Order, answer: ActionResult) -> ItemResult:
    """An applied move changes the order's status (if the status machine allows it) and writes its
    history row; the next sync brings the marketplace's raw status."""
    result = ItemResult(order.pk, order.external_id, answer.status, answer.message, "", answer.remote_ref)
    if answer.status != WriteStatus.APPLIED or not answer.order_status:
        return result
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        new_status = status_machine.resolve(locked.status, answer.order_status)
        if new_status != locked.status:
            now = datetime.now(UTC)
            OrderStatusChange.objects.create(
                order=locked, from_status=locked.status, to_status=new_status, raw_status=answer.raw_status[:64],
                changed_at=now, source=OrderStatusChange.Source.MANUAL,
            )
            Order.objects.filter(pk=locked.pk).update(status=new_status, status_changed_at=now)
    return ItemResult(order.pk, order.external_id, answer.status, answer.message, new_status, answer.remote_ref)


def _audit_all(user: Any, action: FulfilmentAction, orders: Sequence[Order], results: Sequence[ItemResult]) -> None:
    for order, result in zip(orders, results, strict=True):
        details = {"marketplace": order.account.marketplace, "result": result.status, "message": result.message}
        if result.new_status:
            details["status"] = result.new_status
        if result.remote_ref:
            details["supply_id"] = result.remote_ref
        audit_record(action=f"orders.{action}", actor=user, obj=order, details=details)
