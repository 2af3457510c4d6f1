"""The OpenAPI schema generates cleanly for every view, and its docs need no CDN."""

import re
from io import StringIO

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

API_PATHS = [
    "/api/v1/auth/token/", "/api/v1/auth/logout/",
    "/api/v1/accounts/", "/api/v1/accounts/{id}/", "/api/v1/accounts/{id}/unlock/",
    "/api/v1/accounts/me/", "/api/v1/accounts/me/password/",
    "/api/v1/branches/", "/api/v1/branches/{id}/",
    "/api/v1/group-customers/", "/api/v1/group-customers/{id}/",
    "/api/v1/group-customers/{id}/verify/", "/api/v1/group-customers/{id}/suspend/",
    "/api/v1/group-customers/{id}/resume/", "/api/v1/group-customers/{id}/close/",
    "/api/v1/group-customers/{id}/roster/",
    "/api/v1/departments/", "/api/v1/departments/{id}/",
    "/api/v1/members/", "/api/v1/members/{id}/", "/api/v1/members/{id}/suspend/",
    "/api/v1/members/{id}/resume/", "/api/v1/members/{id}/depart/",
    "/api/v1/integrators/", "/api/v1/integrators/{id}/",
    "/api/v1/vendors/", "/api/v1/vendors/{id}/",
    "/api/v1/audit-records/", "/api/v1/audit-records/{id}/",
    # Wallet ledger
    "/api/v1/wallet/accounts/", "/api/v1/wallet/accounts/{id}/",
    "/api/v1/wallet/transfers/", "/api/v1/wallet/transfers/{id}/",
    "/api/v1/wallet/transfers/{id}/reverse/",
    "/api/v1/wallet/merchants/", "/api/v1/wallet/merchants/{id}/",
    "/api/v1/wallet/merchants/{id}/daily-statement/",
    "/api/v1/wallet/spending-policies/", "/api/v1/wallet/top-ups/", "/api/v1/wallet/refunds/",
    "/api/v1/wallet/subsidy-grants/", "/api/v1/wallet/members/{id}/statement/",
    "/api/v1/wallet/group-customers/{id}/reconciliation/",
    # Terminals: the registry, and the terminal protocol (docs/terminal-protocol.md)
    "/api/v1/terminals/", "/api/v1/terminals/{id}/", "/api/v1/terminals/{id}/disable/",
    "/api/v1/terminals/{id}/enable/", "/api/v1/terminals/{id}/enrolment-code/",
    "/api/v1/terminals/{id}/retire/", "/api/v1/terminals/{id}/rotate-secret/",
    "/terminal/v1/access", "/terminal/v1/balance", "/terminal/v1/cards/lookup",
    "/terminal/v1/credentials", "/terminal/v1/enrol", "/terminal/v1/heartbeat",
    "/terminal/v1/offline-records", "/terminal/v1/punches", "/terminal/v1/purchases",
    "/terminal/v1/time", "/terminal/v1/top-ups",
    # Implementation projects
    "/api/v1/projects/", "/api/v1/projects/export/", "/api/v1/projects/{id}/",
    "/api/v1/projects/{id}/attachments/{item_id}/", "/api/v1/projects/{id}/cancel/",
    "/api/v1/projects/{id}/checklist-items/{item_id}/", "/api/v1/projects/{id}/equipment/",
    "/api/v1/projects/{id}/events/", "/api/v1/projects/{id}/final-acceptance/sign/",
    "/api/v1/projects/{id}/procurement-orders/", "/api/v1/projects/{id}/swap-progress/",
    "/api/v1/projects/{id}/stages/{kind}/attachments/",
    "/api/v1/projects/{id}/stages/{kind}/checklist/",
    "/api/v1/projects/{id}/stages/{kind}/owner/",
    "/api/v1/projects/{id}/stages/{kind}/sign-off/",
    "/api/v1/projects/{id}/stages/{kind}/start/",
    # Service desk
    "/api/v1/service/reports/", "/api/v1/service/reports/xlsx/",
    "/api/v1/service/tickets/", "/api/v1/service/tickets/{id}/",
    "/api/v1/service/tickets/{id}/acknowledge/", "/api/v1/service/tickets/{id}/cancel/",
    "/api/v1/service/tickets/{id}/close/", "/api/v1/service/tickets/{id}/confirm/",
    "/api/v1/service/tickets/{id}/dispatch/", "/api/v1/service/tickets/{id}/escalate/",
    "/api/v1/service/tickets/{id}/integrators/", "/api/v1/service/tickets/{id}/reject/",
    "/api/v1/service/tickets/{id}/resolve/",
    "/api/v1/service/work-orders/", "/api/v1/service/work-orders/{id}/",
    "/api/v1/service/work-orders/{id}/accept/", "/api/v1/service/work-orders/{id}/arrive/",
    "/api/v1/service/work-orders/{id}/decline/", "/api/v1/service/work-orders/{id}/report/",
    # Card stock, application plans, openings, phone models, calibrations
    "/api/v1/card-stock/", "/api/v1/card-stock/{id}/", "/api/v1/card-stock/{id}/scrap/",
    "/api/v1/card-stock/receive/", "/api/v1/card-stock/assign/", "/api/v1/card-stock/return/",
    "/api/v1/card-application-plans/",
    "/api/v1/card-openings/", "/api/v1/card-openings/{id}/",
    "/api/v1/card-openings/{id}/cancel/", "/api/v1/card-openings/{id}/confirm/",
    "/api/v1/card-openings/local/",
    "/api/v1/phone-models/", "/api/v1/phone-models/{id}/",
    "/api/v1/calibrations/", "/api/v1/calibrations/{id}/",
    "/api/v1/calibrations/phone-change/",
    # Card lifecycle, credential list, notifications
    "/api/v1/cards/", "/api/v1/cards/{id}/", "/api/v1/cards/{id}/bindings/",
    "/api/v1/cards/{id}/deregister/", "/api/v1/cards/{id}/events/", "/api/v1/cards/{id}/issue/",
    "/api/v1/cards/{id}/old-sim-recovered/", "/api/v1/cards/{id}/recover/",
    "/api/v1/cards/{id}/replace/", "/api/v1/cards/{id}/report-lost/",
    "/api/v1/cards/{id}/resume/", "/api/v1/cards/{id}/suspend/", "/api/v1/cards/{id}/unreport/",
    "/api/v1/cards/applications/", "/api/v1/cards/applications/{id}/",
    "/api/v1/cards/applications/{id}/delete/", "/api/v1/cards/credentials/",
    "/api/v1/cards/group-customers/{id}/resume-cards/",
    "/api/v1/cards/group-customers/{id}/suspend-cards/",
    "/api/v1/cards/mine/", "/api/v1/cards/mine/report-lost/",
    "/api/v1/notifications/", "/api/v1/notifications/{id}/",
]


@pytest.fixture
def schema(db):
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_schema_lists_every_endpoint(schema):
    assert sorted(schema["paths"]) == sorted(API_PATHS)


def test_schema_methods_match_what_the_api_allows(schema):
    methods = {path: sorted(m for m in ops if m != "parameters")
               for path, ops in schema["paths"].items()}
    assert methods["/api/v1/group-customers/{id}/"] == ["get", "patch"]  # no DELETE, no PUT
    assert methods["/api/v1/departments/{id}/"] == ["delete", "get", "patch"]
    assert methods["/api/v1/members/{id}/"] == ["get", "patch"]
    assert methods["/api/v1/accounts/me/"] == ["get", "patch"]
    assert methods["/api/v1/group-customers/{id}/roster/"] == ["get", "post"]
    assert methods["/api/v1/audit-records/{id}/"] == ["get"]


def test_roster_is_documented_as_files(schema):
    roster = schema["paths"]["/api/v1/group-customers/{id}/roster/"]
    assert list(roster["get"]["responses"]["200"]["content"]) == [
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]
    assert list(roster["post"]["requestBody"]["content"]) == ["multipart/form-data"]
    assert sorted(roster["post"]["responses"]) == ["201", "400"]


def test_passwords_are_write_only(schema):
    components = schema["components"]["schemas"]
    assert "password" not in components["Account"]["properties"]
    assert "password" in components["AccountCreateRequest"]["properties"]


def test_schema_generates_without_warnings_and_validates(db, tmp_path):
    out = tmp_path / "schema.yaml"
    stderr = StringIO()
    # --fail-on-warn turns any warning (a view it cannot describe) into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out),
                 stderr=stderr)
    assert stderr.getvalue() == ""
    assert yaml.safe_load(out.read_text())["info"]["title"] == "OneCard API"


def test_docs_are_served_from_local_static_files(db):
    response = APIClient().get("/api/schema/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    remote = re.findall(r"""(?:src|href)=["'](?:https?:)?//[^"']+""", html)
    assert remote == []
    assert "cdn" not in html.lower()


def test_redoc_script_is_local(db):
    response = APIClient().get("/api/schema/redoc/")
    assert response.status_code == 200
    scripts = re.findall(r"""<script src=["']([^"']+)""", response.content.decode())
    assert scripts
    assert all(src.startswith("/static/drf_spectacular_sidecar/") for src in scripts)
