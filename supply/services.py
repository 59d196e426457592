"""Suppliers and the products bought from them: every change in one transaction with its audit row."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from catalog.models import Product
from core.audit import audit_record, diff
from supply.models import Supplier, SupplierProduct

SUPPLIER_FIELDS = ("name", "contact", "email", "phone", "lead_time_days", "min_order_amount", "notes")
TERM_FIELDS = ("lead_time_days", "min_order_qty", "pack_size", "purchase_price", "is_primary")


class SupplyError(ValueError):
    pass


@transaction.atomic
def save_supplier(supplier: Supplier, user: Any) -> Supplier:
    created = supplier.pk is None
    before = {} if created else Supplier.objects.filter(pk=supplier.pk).values(*SUPPLIER_FIELDS).first() or {}
    supplier.full_clean()
    supplier.save()
    old, new = diff(before, {name: getattr(supplier, name) for name in SUPPLIER_FIELDS})
    audit_record(
        action="supplier.created" if created else "supplier.updated", actor=user, obj=supplier,
        details={"name": supplier.name}, old=None if created else old or None, new=new or None,
    )
    return supplier


@transaction.atomic
def set_product_terms(supplier: Supplier, article: str, terms: dict[str, Any], user: Any) -> SupplierProduct:
    """Add a product (by the seller's article) to a supplier, or change its terms. Marking it the main
    supplier takes that role from the product's previous main supplier."""
    product = Product.objects.filter(article__iexact=article.strip()).first()
    if product is None:
        raise SupplyError(_("No product with the article %(article)s.") % {"article": article})
    row = SupplierProduct.objects.select_for_update().filter(supplier=supplier, product=product).first()
    created = row is None
    row = row or SupplierProduct(supplier=supplier, product=product)
    before = {} if created else {name: getattr(row, name) for name in TERM_FIELDS}
    for name, value in terms.items():
        if name not in TERM_FIELDS:
            raise SupplyError(f"unknown term {name!r}")
        setattr(row, name, value)
    if row.is_primary:
        SupplierProduct.objects.filter(product=product, is_primary=True).exclude(pk=row.pk).update(is_primary=False)
    row.full_clean(exclude=["supplier", "product"])
    row.save()
    old, new = diff(before, {name: getattr(row, name) for name in TERM_FIELDS})
    audit_record(
        action="supplier.product_set", actor=user, obj=supplier,
        details={"article": product.article, "created": created}, old=old or None, new=new or None,
    )
    return row


@transaction.atomic
def remove_product(row: SupplierProduct, user: Any) -> None:
    audit_record(
        action="supplier.product_removed", actor=user, obj=row.supplier, details={"article": row.product.article}
    )
    row.delete()
