"""The OpenAPI schema and its docs page, served without any CDN."""

import io

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command


def test_the_schema_describes_the_api_and_its_token_scheme(client, as_viewer):
    response = client.get("/api/schema/", {"format": "json"}, headers=as_viewer)

    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/models/{name}/versions/{number}/metrics/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["accessToken"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "mr_<prefix>_<secret>",
        "description": "A personal access token from Account → API tokens.",
    }
    upload = schema["paths"]["/api/v1/models/{name}/versions/{number}/artifacts/"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]


def test_the_schema_needs_a_signed_in_caller(client, db):
    response = client.get("/api/schema/")

    assert response.status_code == 401


def test_the_schema_generates_without_warnings(db):
    out = io.StringIO()

    # --fail-on-warn turns any warning (an undocumented field, a name collision) into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=out, stderr=io.StringIO())

    assert out.getvalue().startswith("openapi: 3")


def test_the_docs_page_loads_swagger_from_the_installed_sidecar(client, viewer):
    client.force_login(viewer)

    response = client.get("/api/docs/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    assert "/api/schema/" in page


def test_the_docs_page_signs_people_in_first(client, db):
    response = client.get("/api/docs/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    "asset", ["swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui-dist/swagger-ui.css"]
)
def test_the_sidecar_assets_are_found_by_staticfiles(asset):
    assert finders.find(f"drf_spectacular_sidecar/{asset}")
