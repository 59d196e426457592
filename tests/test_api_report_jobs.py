"""Report jobs through the API (issue 15): any role requests a profit or ABC file with validated parameters,
follows its status and progress in a cursor-paged list of its own jobs, and downloads the finished file."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal as D
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from analytics.models import ReportJob
from core.roles import Role
from core.tokens import token_issue
from tests.foundation_support import compile_translations, make_user
from tests.test_analytics_reports import dataset  # noqa: F401  (the fixed data set)

pytestmark = pytest.mark.django_db

JOBS = "/api/v1/report-jobs/"


def _client(role: Role, name: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {token_issue(user=make_user(role, name), name='tests').secret}")


def test_an_analyst_requests_a_report_follows_it_and_downloads_the_file(
    dataset: dict[str, Any], django_capture_on_commit_callbacks: Any, eager_celery: None,  # noqa: F811
) -> None:
    compile_translations()
    analyst = _client(Role.ANALYST, "anna")
    start = (timezone.localdate() - timedelta(days=120)).isoformat()
    end = timezone.localdate().isoformat()
    body = {"kind": "profit", "format": "csv", "params": {"start": start, "end": end, "by": "marketplace"}}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        created = analyst.post(JOBS, body, content_type="application/json")
    assert created.status_code == 201 and len(callbacks) == 1
    job = created.json()
    assert (job["kind"], job["format"], job["params"]) == ("profit", "csv", {"start": start, "end": end,
                                                                            "by": "marketplace"})
    assert (job["status"], job["download"]) == ("pending", None)  # as created, before the task ran
    listed = analyst.get(JOBS).json()["results"]
    assert [(j["id"], j["status"], j["progress"]) for j in listed] == [(job["id"], "done", 100)]
    done = analyst.get(f"{JOBS}{job['id']}/").json()
    assert done["download"].endswith(f"/api/v1/report-jobs/{job['id']}/download/")
    download = analyst.get(done["download"])
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert download["Content-Disposition"] == f'attachment; filename="{done["filename"]}"'
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig")), delimiter=";"))
    header = rows[0]
    assert rows[1][0] == "ozon" and D(rows[-1][header.index("Прибыль")].replace(",", ".")) == D("745.24")
    # Someone else's job is not found, its file neither.
    other = _client(Role.MANAGER, "boris")
    assert other.get(f"{JOBS}{job['id']}/").status_code == 404
    assert other.get(f"{JOBS}{job['id']}/download/").status_code == 404
    assert other.get(JOBS).json()["results"] == []


def test_parameters_are_validated_and_errors_name_the_field() -> None:
    client = _client(Role.ANALYST, "anna")

    def errors(body: dict[str, Any]) -> dict[str, Any]:
        response = client.post(JOBS, body, content_type="application/json")
        assert response.status_code == 400, response.content
        return dict(response.json())

    assert set(errors({})) == {"kind", "format"}
    assert set(errors({"kind": "pie", "format": "pdf"})) == {"kind", "format"}
    assert set(errors({"kind": "profit", "format": "xlsx", "params": {"start": "2026-01-10"}})["params"]) == {"end"}
    assert set(errors({"kind": "profit", "format": "xlsx", "params": {"start": "2026-02-10",
                                                                      "end": "2026-01-10"}})["params"]) == {"end"}
    assert set(errors({"kind": "profit", "format": "xlsx", "params": {"start": "2020-01-01",
                                                                      "end": "2026-01-10"}})["params"]) == {"end"}
    assert set(errors({"kind": "profit", "format": "xlsx", "params": {"days": 45}})["params"]) == {"days"}
    assert set(errors({"kind": "profit", "format": "xlsx", "params": {"measure": "profit"}})["params"]) == {"measure"}
    assert set(errors({"kind": "abc", "format": "csv", "params": {"by": "brand", "cell": "AX"}})["params"]) == {"by"}
    assert set(errors({"kind": "abc", "format": "csv", "params": {"cell": "QQ"}})["params"]) == {"cell"}
    assert not ReportJob.objects.exists()
    ok = client.post(JOBS, {"kind": "abc", "format": "xlsx", "params": {"days": 90, "measure": "profit",
                                                                        "cell": "ax"}},
                     content_type="application/json")
    assert ok.status_code == 201 and ok.json()["params"] == {"days": "90", "measure": "profit", "cell": "AX"}


def test_the_list_pages_by_cursor_newest_first_and_a_file_not_ready_is_a_conflict() -> None:
    user = make_user(Role.MANAGER, "mila")
    client = Client(HTTP_AUTHORIZATION=f"Token {token_issue(user=user, name='tests').secret}")
    jobs = [ReportJob.objects.create(user=user, kind="profit", fmt="xlsx", params={"days": "7"}) for _ in range(3)]
    first = client.get(JOBS, {"page_size": 2}).json()
    assert [j["id"] for j in first["results"]] == [jobs[2].pk, jobs[1].pk] and first["next"]
    second = client.get(first["next"]).json()
    assert [j["id"] for j in second["results"]] == [jobs[0].pk] and second["next"] is None
    assert client.get(JOBS, {"status": "done"}).json()["results"] == []
    response = client.get(f"{JOBS}{jobs[0].pk}/download/")
    assert response.status_code == 409 and response.json()["status"] == "pending"
