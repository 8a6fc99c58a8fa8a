"""Who the API lets in: tokens, sessions (with CSRF on writes), and nobody else."""

import json
from datetime import timedelta

import pytest
from django.test import Client, RequestFactory
from django.utils import timezone

from models_app.api.authentication import user_from_request
from models_app.models import AccessToken, RegisteredModel
from models_app.services import create_access_token, revoke_access_token

MODELS = "/api/v1/models/"


def assert_error(response, status, code):
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def test_it_answers_401_json_without_a_token_instead_of_a_login_redirect(client, db):
    response = client.get(MODELS)

    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer mr_nothing_here", "Bearer", "Bearer two parts", "bearer mr_abc_def"],
)
def test_it_refuses_an_unknown_or_malformed_token_with_401(client, contributor, header):
    response = client.get(MODELS, headers={"Authorization": header})

    assert_error(response, 401, "authentication_failed")


def test_it_refuses_a_revoked_token_with_401(client, contributor):
    token, raw = create_access_token(actor=contributor, name="CI")
    revoke_access_token(actor=contributor, token=token)

    response = client.get(MODELS, headers={"Authorization": f"Bearer {raw}"})

    assert_error(response, 401, "authentication_failed")


def test_it_refuses_an_expired_token_with_401(client, contributor):
    token, raw = create_access_token(actor=contributor, name="CI")
    AccessToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(1))

    response = client.get(MODELS, headers={"Authorization": f"Bearer {raw}"})

    assert_error(response, 401, "authentication_failed")


def test_a_valid_token_signs_its_owner_in_and_records_its_use(client, contributor):
    token, raw = create_access_token(actor=contributor, name="CI")

    response = client.get("/api/v1/me/", headers={"Authorization": f"Bearer {raw}"})

    assert response.status_code == 200
    assert response.json()["username"] == contributor.username
    assert response.json()["teams"] == [{"team": "fraud-team", "role": "contributor"}]
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_browser_session_reads_the_api(client, contributor, registered_model):
    client.force_login(contributor)

    response = client.get(MODELS)

    assert response.status_code == 200


def test_session_writes_need_the_csrf_token(contributor, team):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(contributor)
    payload = json.dumps({"name": "from-browser", "team": team.slug})

    refused = browser.post(MODELS, payload, content_type="application/json")

    assert_error(refused, 403, "permission_denied")
    assert "CSRF" in refused.json()["error"]["message"]
    assert not RegisteredModel.objects.filter(name="from-browser").exists()
    browser.get("/account/tokens/")  # any page sets the CSRF cookie
    csrf = browser.cookies["csrftoken"].value
    accepted = browser.post(
        MODELS, payload, content_type="application/json", headers={"X-CSRFToken": csrf}
    )
    assert accepted.status_code == 201


def test_token_writes_need_no_csrf_token(contributor, team, bearer):
    pipeline = Client(enforce_csrf_checks=True)

    response = pipeline.post(
        MODELS,
        {"name": "from-pipeline", "team": team.slug},
        content_type="application/json",
        headers=bearer(contributor),
    )

    assert response.status_code == 201


def test_an_unknown_api_path_is_a_json_404(client, as_contributor):
    response = client.get("/api/v1/no-such-thing/", headers=as_contributor)

    assert_error(response, 404, "not_found")


def test_user_from_request_serves_views_outside_drf(contributor):
    _, raw = create_access_token(actor=contributor, name="mlflow")
    factory = RequestFactory()

    assert user_from_request(factory.get("/", HTTP_AUTHORIZATION=f"Bearer {raw}")) == contributor
    assert user_from_request(factory.get("/")) is None
    assert user_from_request(factory.get("/", HTTP_AUTHORIZATION="Bearer")) is None
    assert user_from_request(factory.get("/", HTTP_AUTHORIZATION=f"Basic {raw}")) is None
    assert user_from_request(factory.get("/", HTTP_AUTHORIZATION=f"Bearer {raw}x")) is None
