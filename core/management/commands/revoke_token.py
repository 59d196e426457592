"""Revoke an API token by its id; requests with it are refused (401) from now on."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.request_context import command_context
from core.tokens import TokenError, token_revoke


class Command(BaseCommand):
    help = "Revoke the API token with this id."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("token_id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        with command_context("revoke_token"):
            try:
                token = token_revoke(token_id=options["token_id"])
            except TokenError as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(f"Token #{token.pk} ({token.prefix}) of {token.user.get_username()} is revoked.")
