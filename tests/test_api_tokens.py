"""API tokens: shown once, stored hashed, carrying the user's role; revoked or expired ones get 401."""

from __future__ import annotations

import hashlib
import io
import logging
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from core.logging import RedactSecretsFilter, redact
from core.models import ApiToken, AuditEvent
from core.roles import Role, set_role
from core.tokens import TokenError, token_issue, token_revoke, tokens_list
from reviews.models import ReplyTemplate
from tests.foundation_support import client_for, make_user

pytestmark = pytest.mark.django_db

TEMPLATES_URL = "/api/v1/reply-templates/"
NEW_TEMPLATE = {"name": "Thanks", "text": "Thank you!"}


def api(secret: str, scheme: str = "Token", **extra: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"{scheme} {secret}", **extra)


def everything_stored_about(token: ApiToken) -> str:
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    events = list(AuditEvent.objects.values("details", "old", "new", "actor_label", "object_id"))
    return f"{row} {events}"


def test_a_token_is_shown_once_and_only_its_hash_is_stored() -> None:
    admin, user = make_user(Role.ADMIN), make_user(Role.MANAGER, "integrator")

    issued = token_issue(user=user, name="1C exchange", actor=admin)

    secret, token = issued.secret, issued.token
    assert secret.startswith(f"prl_{token.prefix}_") and len(secret) > 40
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.split("_", 2)[2] not in everything_stored_about(token)
    assert "digest" in ApiToken.get_deferred_fields(tokens_list().get(pk=token.pk))  # lists never load it
    event = AuditEvent.objects.get(action="token.issued")
    assert (event.actor, event.object_id, event.details["prefix"]) == (admin, str(token.pk), token.prefix)


def test_the_issue_command_prints_the_token_once_and_records_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    make_user(Role.ANALYST, "reader")
    out = io.StringIO()

    call_command("issue_token", "reader", "--name", "sheets", "--expires-days", "30", stdout=out)

    secret = out.getvalue().strip().splitlines()[-1]
    token = ApiToken.objects.get()
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert token.expires_at is not None and token.expires_at - timezone.now() > timedelta(days=29)
    event = AuditEvent.objects.get(action="token.issued")
    assert (event.channel, event.actor_label, event.actor) == ("command", "command:issue_token", None)
    with pytest.raises(CommandError):
        call_command("issue_token", "nobody")
    with pytest.raises(CommandError):
        call_command("issue_token", "reader", "--expires-days", "0")


@pytest.mark.parametrize("scheme", ["Token", "Bearer", "bearer"])
def test_a_token_authenticates_api_requests_and_records_its_last_use(scheme: str) -> None:
    issued = token_issue(user=make_user(Role.ANALYST))

    response = api(issued.secret, scheme).get(TEMPLATES_URL)

    assert response.status_code == 200
    assert ApiToken.objects.get().last_used_at is not None


def test_a_token_carries_its_users_role() -> None:
    analyst = token_issue(user=make_user(Role.ANALYST)).secret
    manager = token_issue(user=make_user(Role.MANAGER)).secret

    assert api(analyst).post(TEMPLATES_URL, NEW_TEMPLATE).status_code == 403  # analysts read only
    assert not ReplyTemplate.objects.exists()
    assert api(analyst).get(TEMPLATES_URL).status_code == 200
    assert api(manager).get("/api/v1/accounts/").status_code == 403  # administrators only
    assert api(manager).post(TEMPLATES_URL, NEW_TEMPLATE).status_code == 201
    assert ReplyTemplate.objects.count() == 1


def test_a_demoted_user_token_loses_its_write_at_once() -> None:
    user = make_user(Role.MANAGER)
    secret = token_issue(user=user).secret
    set_role(user, Role.ANALYST)
    assert api(secret).post(TEMPLATES_URL, NEW_TEMPLATE).status_code == 403


def test_token_requests_need_no_csrf_but_session_writes_still_do() -> None:
    manager = make_user(Role.MANAGER)
    secret = token_issue(user=manager).secret

    assert api(secret, enforce_csrf_checks=True).post(TEMPLATES_URL, NEW_TEMPLATE).status_code == 201
    session = client_for(manager)
    session.handler.enforce_csrf_checks = True
    assert session.post(TEMPLATES_URL, NEW_TEMPLATE).status_code == 403


def _unusable_tokens() -> dict[str, str]:
    revoked = token_issue(user=make_user(Role.ADMIN))
    token_revoke(token_id=revoked.token.pk)
    expired = token_issue(user=make_user(Role.ADMIN), expires_days=1)
    ApiToken.objects.filter(pk=expired.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    inactive_user = make_user(Role.ADMIN)
    inactive = token_issue(user=inactive_user)
    inactive_user.is_active = False
    inactive_user.save()
    good = token_issue(user=make_user(Role.ADMIN)).secret
    return {
        "revoked": revoked.secret,
        "expired": expired.secret,
        "inactive user": inactive.secret,
        "wrong secret": good[:-4] + ("aaaa" if not good.endswith("aaaa") else "bbbb"),
        "unknown prefix": "prl_00000000_" + good.split("_", 2)[2],
        "not a token": "hello",
        "two words": "prl_x y",
    }


def test_revoked_expired_and_wrong_tokens_get_401() -> None:
    for case, secret in _unusable_tokens().items():
        response = api(secret).get(TEMPLATES_URL)
        assert response.status_code == 401, case
        assert response["WWW-Authenticate"] == "Token", case


def test_revoking_is_audited_once_and_the_command_reports_unknown_ids() -> None:
    issued = token_issue(user=make_user(Role.MANAGER))
    out = io.StringIO()

    call_command("revoke_token", str(issued.token.pk), stdout=out)
    call_command("revoke_token", str(issued.token.pk), stdout=out)  # again: nothing new

    assert ApiToken.objects.get().revoked_at is not None
    event = AuditEvent.objects.get(action="token.revoked")
    assert event.channel == "command" and event.old == {"revoked_at": None} and event.new["revoked_at"]
    assert api(issued.secret).get(TEMPLATES_URL).status_code == 401
    with pytest.raises(CommandError):
        call_command("revoke_token", "999999")
    with pytest.raises(TokenError):
        token_issue(user=make_user(Role.ADMIN), expires_days=-1)


def test_tokens_never_reach_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    secret = token_issue(user=make_user(Role.ADMIN)).secret
    for header in (f"Authorization: Token {secret}", f"authorization=Bearer {secret}", f"sent {secret} twice"):
        assert secret.split("_", 2)[2] not in redact(header)
    caplog.set_level(logging.DEBUG)
    token_revoke(token_id=ApiToken.objects.get().pk)

    api(secret).get(TEMPLATES_URL)
    logging.getLogger("prilavok.test").warning("request had Authorization: Bearer %s", secret)

    redaction = RedactSecretsFilter()  # the filter on the console handler (settings.LOGGING)
    for record in caplog.records:
        redaction.filter(record)
        assert secret.split("_", 2)[2] not in record.getMessage()


def test_an_administrator_issues_and_revokes_in_the_browser_and_sees_the_token_once() -> None:
    admin, integrator = make_user(Role.ADMIN, "boss"), make_user(Role.MANAGER, "integrator")
    client = client_for(admin)

    answer = client.post("/settings/tokens/", {"user": integrator.pk, "name": "1C", "expires_days": "30"})

    assert answer.status_code == 200 and "no-store" in answer["Cache-Control"]
    token = ApiToken.objects.get()
    page = answer.content.decode()
    secret = page.split(f"prl_{token.prefix}_", 1)[1].split("<", 1)[0]
    assert token.digest == hashlib.sha256(f"prl_{token.prefix}_{secret}".encode()).hexdigest()
    assert secret not in client.get("/settings/tokens/").content.decode()  # never again
    assert token.user == integrator and token.created_by == admin

    assert client.post(f"/settings/tokens/{token.pk}/revoke/").status_code == 302
    event = AuditEvent.objects.get(action="token.revoked")
    assert (event.actor, event.channel) == (admin, "web")
    assert api(f"prl_{token.prefix}_{secret}").get(TEMPLATES_URL).status_code == 401
    for role in (Role.MANAGER, Role.ANALYST):
        other = client_for(make_user(role))
        assert other.get("/settings/tokens/").status_code == 403
        assert other.post(f"/settings/tokens/{token.pk}/revoke/").status_code == 403
