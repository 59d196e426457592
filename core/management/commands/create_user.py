"""Create or update a user with a role, without prompts (used by the run script for the demo admin)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from core.audit import audit_record
from core.request_context import command_context
from core.roles import Role, role_of, set_role


class Command(BaseCommand):
    help = "Create a user with a role, or update the role and password of an existing one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[r.value for r in Role])
        parser.add_argument("--password", required=True)
        parser.add_argument("--email", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        with command_context("create_user"), transaction.atomic():
            self._create_or_update(options)

    def _create_or_update(self, options: dict[str, Any]) -> None:
        user_model = get_user_model()
        username, role = options["username"], Role(options["role"])
        if not options["password"]:
            raise CommandError("--password must not be empty.")
        user, created = user_model.objects.get_or_create(username=username)
        old_role = None if created else role_of(user)
        user.set_password(options["password"])
        user.is_active = True
        if options["email"]:
            user.email = options["email"]
        user.save()
        set_role(user, role)
        audit_record(
            action="user.created" if created else "user.updated",
            obj=user,
            details={"username": username},
            old=None if created else {"role": old_role.value if old_role else None},
            new={"role": role.value, "is_active": True},
        )
        self.stdout.write(f"{'Created' if created else 'Updated'} user {username} with role {role.value}.")
