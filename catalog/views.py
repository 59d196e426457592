from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from catalog import checks, services
from catalog.exports import LISTING_EXPORT_LIMIT
from catalog.filters import PROBLEM_CHOICES, STOCK_CHOICES, ListingFilter, ProductFilter
from catalog.forms import (
    BULK_ACTIONS,
    AttributeField,
    BulkForm,
    CardMediaForm,
    LinkCardForm,
    LinkProductForm,
    ListingContentForm,
    attribute_fields,
)
from catalog.models import CategoryAttribute, Listing, Product
from catalog.selectors import (
    LISTING_SORTS,
    LOW_STOCK,
    PRODUCT_SORTS,
    card_history,
    card_rows,
    content_results,
    listing_list,
    product_get,
    product_list,
    product_rows,
    recent_changes,
    unlinked_listing_count,
)
from catalog.statuses import STATE_CHOICES
from catalog.stock_selectors import stock_by_size
from core.filters import filter_context
from core.pagination import keyset_page
from core.roles import EDITORS, EVERYONE, has_role, require_role
from integrations.models import OutboxChange
from reviews.models import Question, Review

# The filter bar's brand and category suggestions: a scan of the catalogue, so cached for a while.
SUGGESTIONS_SECONDS = 300


@require_role(*EVERYONE)
def listings(request: HttpRequest) -> HttpResponse:
    filterset = ListingFilter(request.GET, queryset=listing_list())
    context = filter_context(filterset)
    product_id = context["filters"].get("product")
    page = keyset_page(request, filterset.qs, LISTING_SORTS)
    context.update(
        page=page,
        rows=page.rows,
        product=product_get(int(product_id)) if product_id else None,
        unlinked=unlinked_listing_count(),
        export_limit=LISTING_EXPORT_LIMIT,
    )
    return render(request, "catalog/listing_list.html", context)


def _suggestions() -> dict[str, list[str]]:
    def read() -> dict[str, list[str]]:
        brands = Product.objects.exclude(brand="").order_by("brand").values_list("brand", flat=True).distinct()
        categories = (
            Listing.objects.exclude(category="").order_by("category").values_list("category", flat=True).distinct()
        )
        return {"brands": list(brands[:300]), "categories": list(categories[:300])}

    return cache.get_or_set("catalog:filter-suggestions", read, SUGGESTIONS_SECONDS)  # type: ignore[no-any-return]


@require_role(*EVERYONE)
def products(request: HttpRequest) -> HttpResponse:
    filterset = ProductFilter(request.GET, queryset=product_list())
    context = filter_context(filterset)
    page = keyset_page(request, filterset.qs, PRODUCT_SORTS)
    context.update(
        page=page,
        rows=product_rows(page.rows),
        states=STATE_CHOICES,
        problems=PROBLEM_CHOICES,
        stocks=STOCK_CHOICES,
        low_stock=LOW_STOCK,
        unlinked=unlinked_listing_count(),
        bulk_actions=BULK_ACTIONS,
        can_edit=has_role(request.user, EDITORS),
        **_suggestions(),
    )
    return render(request, "catalog/product_list.html", context)


def _back(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


@require_POST
@require_role(*EDITORS)
def products_bulk(request: HttpRequest) -> HttpResponse:
    form = BulkForm(request.POST)
    back = _back(request, reverse("catalog:products"))
    if not form.is_valid():
        messages.error(request, _("Select products and an action."))
        return redirect(back)
    cards = list(
        Listing.objects.filter(product_id__in=form.cleaned_data["products"]).select_related("account").order_by("id")
    )
    if not cards:
        messages.error(request, _("The selected products have no marketplace cards."))
        return redirect(back)
    if form.cleaned_data["action"] == "resend_content":
        services.resend_listing_content(cards, request.user)
        text = ngettext(
            "Content of %(count)d card is queued for sending; each product page shows its result.",
            "Content of %(count)d cards is queued for sending; each product page shows its result.",
            len(cards),
        )
    else:
        services.unlink_listings(cards, request.user)
        text = ngettext(
            "%(count)d card is unlinked from its product.", "%(count)d cards are unlinked from their products.",
            len(cards),
        )
    messages.success(request, text % {"count": len(cards)})
    return redirect(back)


def _dictionaries(listings: Sequence[Listing]) -> dict[int, list[AttributeField]]:
    """Each card's category characteristics (catalog.CategoryAttribute), in one query."""
    pairs = {(x.account.marketplace, x.category_id) for x in listings if x.category_id}
    if not pairs:
        return {}
    match = Q()
    for marketplace, category_id in pairs:
        match |= Q(category__marketplace=marketplace, category__external_id=category_id)
    by_category: dict[tuple[str, str], list[AttributeField]] = {}
    rows = CategoryAttribute.objects.filter(match).order_by("-required", "name").values_list(
        "category__marketplace", "category__external_id", "external_id", "name", "required", "max_length"
    )
    for marketplace, category_id, external_id, name, required, max_length in rows:
        by_category.setdefault((marketplace, category_id), []).append(
            AttributeField(external_id, name, required, max_length)
        )
    return {x.pk: by_category.get((x.account.marketplace, x.category_id), []) for x in listings}


def _media_form(listing: Listing, dictionary: list[AttributeField], pending: dict[str, Any] | None,
                data: Any = None) -> CardMediaForm:
    return CardMediaForm(data, listing=listing, attributes=attribute_fields(listing, dictionary), pending=pending)


def _card_context(
    listings: list[Listing], request: HttpRequest, draft: tuple[ListingContentForm, list[checks.Problem]] | None = None,
    media_draft: tuple[CardMediaForm, list[checks.Problem]] | None = None,
) -> dict[str, Any]:
    """The cards of a page. `draft` / `media_draft`: a refused edit (its bound form and the problems
    that stopped it), shown in place of its card's form."""
    can_edit = has_role(request.user, EDITORS)
    dictionaries = _dictionaries(listings) if can_edit else {}
    ids = [listing.pk for listing in listings]
    stock = stock_by_size(listings)
    results = content_results(ids)
    reviews = dict(
        Review.objects.filter(listing_id__in=ids).order_by().values("listing_id").annotate(n=Count("id"))
        .values_list("listing_id", "n")
    )
    questions = dict(
        Question.objects.filter(listing_id__in=ids).order_by().values("listing_id").annotate(n=Count("id"))
        .values_list("listing_id", "n")
    )
    cards = []
    for row in card_rows(listings):
        listing = row.listing
        waiting = results[listing.pk].awaiting_readback
        pending = waiting.payload if waiting is not None else None
        form = ListingContentForm(listing=listing, pending=pending) if can_edit else None
        media_form = _media_form(listing, dictionaries.get(listing.pk, []), pending) if can_edit else None
        draft_problems: list[dict[str, Any]] = []
        media_problems: list[dict[str, Any]] = []
        if draft is not None and draft[0].listing.pk == listing.pk:
            form = draft[0]
            draft_problems = [{**p.as_dict(), "message": p.message} for p in draft[1]]
        if media_draft is not None and media_draft[0].listing.pk == listing.pk:
            media_form = media_draft[0]
            media_problems = [{**p.as_dict(), "message": p.message} for p in media_draft[1]]
        check = getattr(listing, "quality_check", None)  # select_related: None when never checked
        cards.append({
            "row": row,
            "listing": listing,
            "stock": stock.get(listing.pk, []),
            "results": results[listing.pk],
            "form": form,
            "draft_problems": draft_problems,
            "media_form": media_form,
            "media_problems": media_problems,
            "check": check,
            "fixes": checks.fixes(check),
            "pending": pending,
            "reviews": reviews.get(listing.pk, 0),
            "questions": questions.get(listing.pk, 0),
        })
    return {
        "cards": cards,
        "history": card_history(ids, recent_changes(ids)),
        "can_edit": can_edit,
        "low_stock": LOW_STOCK,
    }


def _product_cards(product: Product) -> list[Listing]:
    cards = product.listings.select_related("account", "price", "quality_check")
    return list(cards.order_by("account__marketplace", "account__name", "id"))


@require_role(*EVERYONE)
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product, pk=pk)
    context = _card_context(_product_cards(product), request)
    context.update(product=product, link_form=LinkCardForm() if context["can_edit"] else None)
    return render(request, "catalog/product_detail.html", context)


@require_role(*EVERYONE)
def card_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A card's page: its product's page when linked, else the card alone with a form to link it."""
    listing = get_object_or_404(Listing.objects.select_related("account", "price", "quality_check"), pk=pk)
    if listing.product_id:
        return redirect(f"{reverse('catalog:product', args=[listing.product_id])}#card-{listing.pk}")
    context = _card_context([listing], request)
    context.update(product=None, listing=listing, link_form=LinkProductForm() if context["can_edit"] else None)
    return render(request, "catalog/product_detail.html", context)


def _card_page(listing: Listing) -> str:
    if listing.product_id:
        return f"{reverse('catalog:product', args=[listing.product_id])}#card-{listing.pk}"
    return reverse("catalog:card", args=[listing.pk])


# The rules an edit of the title and description can break or fix. The form does not change attributes
# or images, so their problems (shown with the card's score) do not stop a title or description push.
EDITED_RULES = frozenset({
    "title_empty", "title_too_long", "title_length_recommended", "description_too_long", "forbidden_words",
    "contacts", "duplicate_title",
})


def _draft_problems(listing: Listing, form: ListingContentForm) -> list[checks.Problem]:
    """The listing checks of the card as the form would leave it."""
    return checks.check_listing_draft(
        listing, " ".join(form.cleaned_data["title"].split()), form.cleaned_data["description"],
        listing.attributes or [], listing.images or [],
    )


def _refused_edit(
    request: HttpRequest, listing: Listing, form: ListingContentForm | CardMediaForm, problems: list[checks.Problem]
) -> HttpResponse:
    """The page again with the edit in its form and the problems that stop it next to it; nothing sent."""
    rules = MEDIA_RULES if isinstance(form, CardMediaForm) else EDITED_RULES
    edited = sorted((p for p in problems if p.rule in rules), key=lambda p: p.severity != checks.ERROR)
    listing = Listing.objects.select_related("account", "price", "quality_check").get(pk=listing.pk)
    form.listing = listing
    drafts: dict[str, Any] = (
        {"media_draft": (form, edited)} if isinstance(form, CardMediaForm) else {"draft": (form, edited)}
    )
    product = listing.product
    if product is not None:
        listings = [listing if card.pk == listing.pk else card for card in _product_cards(product)]
        context = _card_context(listings, request, **drafts)
        context.update(product=product, link_form=LinkCardForm() if context["can_edit"] else None)
    else:
        context = _card_context([listing], request, **drafts)
        context.update(product=None, listing=listing, link_form=LinkProductForm() if context["can_edit"] else None)
    messages.error(
        request, _("Card %(article)s is not sent: fix the problems shown next to its form.")
        % {"article": listing.offer_id},
    )
    return render(request, "catalog/product_detail.html", context, status=422)


@require_POST
@require_role(*EDITORS)
def card_content(request: HttpRequest, pk: int) -> HttpResponse:
    listing = get_object_or_404(Listing.objects.select_related("account"), pk=pk)
    waiting = content_results([listing.pk])[listing.pk].awaiting_readback
    form = ListingContentForm(request.POST, listing=listing, pending=waiting.payload if waiting else None)
    if form.is_valid():
        values = form.changed_values()
        if not values:
            messages.info(request, _("Nothing changed: the card already has this title and description."))
            return HttpResponseRedirect(_card_page(listing))
        problems = _draft_problems(listing, form)
        refused = checks.blocking(p for p in problems if p.rule in EDITED_RULES)
        if refused:
            return _refused_edit(request, listing, form, problems)
        if _queue_edit(request, listing, form, values, problems, EDITED_RULES):
            return HttpResponseRedirect(_card_page(listing))
    return _back_with_errors(request, listing, form)


def _queue_edit(
    request: HttpRequest, listing: Listing, form: Any, values: dict[str, Any], problems: Any, rules: frozenset[str]
) -> bool:
    """Send an edit through the service; say it is queued and which rules still warn. False: refused."""
    try:
        services.update_listing_content(listing, user=request.user, **values)
    except services.CatalogChangeError as error:
        form.add_error(None, str(error))
        return False
    messages.success(
        request, _("The change to card %(article)s is queued; its result appears below the form.")
        % {"article": listing.offer_id},
    )
    for problem in problems:
        if problem.rule in rules:
            messages.warning(request, f"{listing.offer_id}: {problem.message} ({problem.source})")
    return True


def _back_with_errors(request: HttpRequest, listing: Listing, form: Any) -> HttpResponse:
    for error in form.errors.values():
        messages.error(request, f"{listing.offer_id}: {' '.join(error)}")
    return HttpResponseRedirect(_card_page(listing))


# The rules an edit of the characteristics and photos can break or fix.
MEDIA_RULES = frozenset({"required_attributes", "attribute_too_long", "images_too_few", "images_too_many",
                         "image_format"})


@require_POST
@require_role(*EDITORS)
def card_media(request: HttpRequest, pk: int) -> HttpResponse:
    """The card's characteristics and photos: checked by the listing rules, then sent through the outbox."""
    listing = get_object_or_404(Listing.objects.select_related("account"), pk=pk)
    waiting = content_results([listing.pk])[listing.pk].awaiting_readback
    pending = waiting.payload if waiting else None
    form = _media_form(listing, _dictionaries([listing]).get(listing.pk, []), pending, request.POST)
    if form.is_valid():
        values = form.changed_values()
        if not values:
            messages.info(request, _("Nothing changed: the card already has these characteristics and photos."))
            return HttpResponseRedirect(_card_page(listing))
        attributes, images = form.proposed()
        source = pending or {"title": listing.title, "description": listing.description}
        problems = checks.check_listing_draft(
            listing, str(source.get("title") or ""), str(source.get("description") or ""),
            [{"id": i, "name": n, "value": v} for i, n, v in attributes], images,
        )
        if checks.blocking(p for p in problems if p.rule in MEDIA_RULES):
            return _refused_edit(request, listing, form, problems)
        if _queue_edit(request, listing, form, values, problems, MEDIA_RULES):
            return HttpResponseRedirect(_card_page(listing))
    return _back_with_errors(request, listing, form)


@require_GET
@require_role(*EVERYONE)
def card_results(request: HttpRequest, pk: int) -> HttpResponse:
    """The card's result panel alone: htmx polls it while a change is under way."""
    return _results_panel(request, get_object_or_404(Listing, pk=pk))


def _results_panel(request: HttpRequest, listing: Listing) -> HttpResponse:
    context = {
        "listing": listing,
        "results": content_results([listing.pk])[listing.pk],
        "can_edit": has_role(request.user, EDITORS),
        "out_of_band": True,  # a partial: it also updates the history's badges of these changes
    }
    return render(request, "catalog/_card_results.html", context)


@require_POST
@require_role(*EDITORS)
def change_retry(request: HttpRequest, pk: int) -> HttpResponse:
    change = get_object_or_404(OutboxChange, pk=pk)
    listing = get_object_or_404(Listing, pk=change.listing_id) if change.listing_id else None
    if listing is None:
        messages.error(request, _("This change belongs to no card."))
        return redirect("catalog:products")
    try:
        services.retry_content_change(change, request.user)
    except services.CatalogChangeError as error:
        messages.error(request, str(error))
    if request.headers.get("HX-Request"):
        return _results_panel(request, listing)
    return HttpResponseRedirect(_card_page(listing))


@require_POST
@require_role(*EDITORS)
def card_unlink(request: HttpRequest, pk: int) -> HttpResponse:
    listing = get_object_or_404(Listing, pk=pk)
    product_id = listing.product_id
    services.link_listing_to_product(listing, None, request.user)
    messages.success(
        request, _("Card %(article)s is unlinked; the automatic linking will leave it alone.")
        % {"article": listing.offer_id},
    )
    if product_id:
        return redirect("catalog:product", pk=product_id)
    return redirect("catalog:card", pk=listing.pk)


@require_POST
@require_role(*EDITORS)
def product_link_card(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product, pk=pk)
    form = LinkCardForm(request.POST)
    if form.is_valid():
        listing = form.cleaned_data["card"]
        services.link_listing_to_product(listing, product, request.user)
        messages.success(
            request, _("Card %(article)s (%(account)s) is linked to this product by hand.")
            % {"article": listing.offer_id, "account": listing.account.name},
        )
    else:
        messages.error(request, " ".join(form.errors.get("card", [])))
    return redirect("catalog:product", pk=product.pk)


@require_POST
@require_role(*EDITORS)
def card_link_product(request: HttpRequest, pk: int) -> HttpResponse:
    listing = get_object_or_404(Listing, pk=pk)
    form = LinkProductForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("article", [])))
        return redirect("catalog:card", pk=listing.pk)
    product = form.cleaned_data["article"]
    services.link_listing_to_product(listing, product, request.user)
    messages.success(request, _("The card is linked to product %(article)s by hand.") % {"article": product.article})
    return redirect(f"{reverse('catalog:product', args=[product.pk])}#card-{listing.pk}")
