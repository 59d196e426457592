"""Issue an API token for a user; the token is printed once and cannot be shown again."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.request_context import command_context
from core.tokens import TokenError, token_issue


class Command(BaseCommand):
    help = "Issue an API token for USER (it acts with the user's role). The token is shown only now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the token is for, e.g. '1C exchange'")
        parser.add_argument("--expires-days", type=int, default=None, help="expire after N days (default: never)")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}.")
        with command_context("issue_token"):
            try:
                issued = token_issue(user=user, name=options["name"], expires_days=options["expires_days"])
            except TokenError as exc:
                raise CommandError(str(exc)) from exc
        token = issued.token
        expiry = f", expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else ""
        self.stdout.write(f"Token #{token.pk} for {user.get_username()}{expiry}. Store it now; it is not shown again:")
        self.stdout.write(issued.secret)
