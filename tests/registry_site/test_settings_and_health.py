import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages

from registry_site.settings import envbool, envint

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_healthz_answers_ok_without_login(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "artifact_storage": "ok"}


@pytest.mark.django_db
def test_healthz_reports_unavailable_when_artifact_storage_fails(client, monkeypatch):
    def broken_exists(name):
        raise OSError("bucket unreachable")

    monkeypatch.setattr(storages["artifacts"], "exists", broken_exists)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"]["artifact_storage"] == "error: OSError"


@pytest.mark.django_db
def test_healthz_is_never_cached(client):
    response = client.get("/healthz")

    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_answers_plain_http_probes_when_https_is_enforced(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/healthz").status_code == 200
    redirected = client.get("/accounts/login/")
    assert redirected.status_code == 301
    assert redirected.url.startswith("https://")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/models/",
        "/models/fraud-detector/",
        "/models/fraud-detector/versions/1/",
        "/audit/",
    ],
)
def test_it_sends_anonymous_users_to_the_login_page(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response.url == f"/accounts/login/?next={quote(path)}"


@pytest.mark.django_db
def test_the_admin_sends_anonymous_users_to_its_login(client):
    response = client.get("/admin/")

    assert response.status_code == 302
    assert response.url == "/admin/login/?next=/admin/"


@pytest.mark.django_db
def test_the_login_page_renders_for_anonymous_users(client):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert b'name="password"' in response.content


@pytest.mark.parametrize("raw", ["maybe", "2", "enabled"])
def test_envbool_refuses_malformed_values(monkeypatch, raw):
    monkeypatch.setenv("REGISTRY_TEST_FLAG", raw)

    with pytest.raises(ImproperlyConfigured, match="REGISTRY_TEST_FLAG"):
        envbool("REGISTRY_TEST_FLAG", "false")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("TRUE", True), (" yes ", True), ("on", True), ("0", False), ("off", False)],
)
def test_envbool_reads_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("REGISTRY_TEST_FLAG", raw)

    assert envbool("REGISTRY_TEST_FLAG", "false") is expected


def test_envbool_falls_back_to_its_default(monkeypatch):
    monkeypatch.delenv("REGISTRY_TEST_FLAG", raising=False)

    assert envbool("REGISTRY_TEST_FLAG", "true") is True


@pytest.mark.parametrize("raw", ["ten", "1.5", "", "1e6"])
def test_envint_refuses_malformed_values(monkeypatch, raw):
    monkeypatch.setenv("REGISTRY_TEST_NUMBER", raw)

    with pytest.raises(ImproperlyConfigured, match="REGISTRY_TEST_NUMBER"):
        envint("REGISTRY_TEST_NUMBER", "0")


def test_envint_reads_whole_numbers_and_defaults(monkeypatch):
    monkeypatch.setenv("REGISTRY_TEST_NUMBER", "536870912")
    assert envint("REGISTRY_TEST_NUMBER", "0") == 536870912

    monkeypatch.delenv("REGISTRY_TEST_NUMBER")
    assert envint("REGISTRY_TEST_NUMBER", "25") == 25


def _import_settings(tmp_path, **env):
    """Import the settings module in a fresh interpreter with exactly these variables set."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE"}
    }
    clean["REGISTRY_VAR_DIR"] = str(tmp_path)
    clean.update(env)
    return subprocess.run(  # noqa: S603 - fixed argv, our own interpreter
        [sys.executable, "-c", "import registry_site.settings"],
        cwd=PROJECT_ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_settings_refuse_to_load_in_production_without_a_secret_key(tmp_path):
    result = _import_settings(tmp_path, DEBUG="false", ALLOWED_HOSTS="registry.example.com")

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY must be set" in result.stderr


def test_settings_refuse_to_load_in_production_without_allowed_hosts(tmp_path):
    result = _import_settings(tmp_path, DEBUG="false", SECRET_KEY="x" * 60)

    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_settings_load_in_production_when_secret_key_and_hosts_are_given(tmp_path):
    result = _import_settings(
        tmp_path, DEBUG="false", SECRET_KEY="x" * 60, ALLOWED_HOSTS="registry.example.com"
    )

    assert result.returncode == 0, result.stderr


def test_settings_refuse_a_malformed_debug_flag(tmp_path):
    result = _import_settings(tmp_path, DEBUG="perhaps")

    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr
