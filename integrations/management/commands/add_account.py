"""Connect a marketplace account without prompts; re-running with the same --name updates it.

add_account ozon --name NAME --client-id ID --api-key KEY [--base-url URL]
    [--performance-client-id ID --performance-client-secret SECRET]   (Ozon Performance API: ad statistics)
add_account wildberries --name NAME --token TOKEN [--base-url URL]
add_account yandex_market --name NAME --api-key KEY --business-id ID [--campaign-ids 1,2] [--base-url URL]
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.models import Marketplace
from integrations.accounts import AccountError, account_upsert


def _campaign_ids(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise CommandError("--campaign-ids must be comma-separated numbers.") from exc


class Command(BaseCommand):
    help = "Create or update a marketplace account (credentials are stored encrypted)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("marketplace", choices=Marketplace.values)
        parser.add_argument("--name", required=True)
        parser.add_argument("--client-id", help="Ozon Client-Id.")
        parser.add_argument("--api-key", help="Ozon or Yandex Market API key.")
        parser.add_argument("--token", help="Wildberries API token.")
        parser.add_argument("--business-id", help="Yandex Market business (cabinet) id.")
        parser.add_argument("--campaign-ids", help="Yandex Market campaign ids, comma-separated (optional).")
        parser.add_argument("--base-url", help="API host override (sandbox or proxy).")
        parser.add_argument("--performance-client-id", help="Ozon Performance API client id (ad statistics).")
        parser.add_argument("--performance-client-secret", help="Ozon Performance API client secret.")
        parser.add_argument("--disabled", action="store_true", help="Store the account with syncing switched off.")

    def handle(self, *args: Any, **options: Any) -> None:
        marketplace = Marketplace(options["marketplace"])
        if marketplace is Marketplace.WILDBERRIES:
            secret = options["token"]
            if options["api_key"]:
                raise CommandError("Wildberries uses --token, not --api-key.")
        else:
            secret = options["api_key"]
            if options["token"]:
                raise CommandError(f"{marketplace.label} uses --api-key, not --token.")
        fields: dict[str, Any] = {
            "client_id": options["client_id"],
            "business_id": options["business_id"],
            "base_url": options["base_url"],
            "campaign_ids": _campaign_ids(options["campaign_ids"]) if options["campaign_ids"] else None,
        }
        if options["disabled"]:
            fields["enabled"] = False
        extra_secrets = {
            "performance_client_id": options["performance_client_id"] or "",
            "performance_client_secret": options["performance_client_secret"] or "",
        }
        if marketplace is not Marketplace.OZON and any(extra_secrets.values()):
            raise CommandError("--performance-client-id/--performance-client-secret are for Ozon accounts.")
        try:
            result = account_upsert(marketplace=marketplace, name=options["name"], secret=secret, fields=fields,
                                    extra_secrets={k: v for k, v in extra_secrets.items() if v})
        except AccountError as exc:
            raise CommandError(str(exc)) from exc
        account = result.account
        if result.created:
            verb = "Created"
        else:
            verb = "Updated" if result.key_changed or result.changed_fields else "Unchanged"
        line = (
            f"{verb} account #{account.pk} {account.name} ({account.get_marketplace_display()}), "
            f"key {account.credentials_hint}"
        )
        if account.token_expires_at:
            line += f", token expires {account.token_expires_at:%Y-%m-%d}"
        self.stdout.write(line)
