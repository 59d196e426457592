from django.contrib import admin

from supply.models import Supplier, SupplierProduct


class SupplierProductInline(admin.TabularInline):  # type: ignore[type-arg]
    model = SupplierProduct
    raw_id_fields = ["product"]
    extra = 0


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "lead_time_days", "contact", "email", "phone"]
    search_fields = ["name"]
    inlines = [SupplierProductInline]
