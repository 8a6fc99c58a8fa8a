"""/api/v1/models/: the catalogue, registering models, editing, archiving."""

import pytest

from models_app.models import AuditEvent, RegisteredModel, Tag
from tests.factories import add_member, make_model, make_user, make_version
from tests.models_app.api.test_authentication import assert_error

MODELS = "/api/v1/models/"


def url(name, *rest):
    return "/".join([MODELS.rstrip("/"), name, *rest]) + "/"


# --- list ----------------------------------------------------------------------------------


def test_the_list_hides_restricted_models_from_outsiders(
    client, registered_model, restricted_model, as_outsider, as_viewer
):
    outsider_sees = client.get(MODELS, headers=as_outsider).json()
    member_sees = client.get(MODELS, headers=as_viewer).json()

    assert [m["name"] for m in outsider_sees["results"]] == ["fraud-detector"]
    assert [m["name"] for m in member_sees["results"]] == ["fraud-detector", "secret-scorer"]
    assert member_sees["count"] == 2


def test_the_list_takes_the_catalogue_filters(client, team, other_team, as_contributor):
    make_model("churn", team=team, task="classification", risk_tier="high")
    make_model("demand", team=other_team, task="forecasting")
    archived = make_model("old-churn", team=team, task="classification")
    archived.archived_at = archived.created_at
    archived.save()

    def names(**params):
        response = client.get(MODELS, params, headers=as_contributor)
        assert response.status_code == 200
        return [m["name"] for m in response.json()["results"]]

    assert names(task="classification") == ["churn"]
    assert names(team="vision-team") == ["demand"]
    assert names(risk="high") == ["churn"]
    assert names(q="dem") == ["demand"]
    assert names(status="archived") == ["old-churn"]
    assert names(status="all", sort="-name") == ["old-churn", "demand", "churn"]


def test_a_bad_filter_value_is_a_400_naming_the_parameter(client, as_contributor, db):
    response = client.get(MODELS, {"risk": "extreme"}, headers=as_contributor)

    error = assert_error(response, 400, "invalid_choice")
    assert error["field"] == "risk"


def test_the_list_is_paginated(client, team, as_contributor):
    for number in range(3):
        make_model(f"model-{number}", team=team)

    response = client.get(MODELS, {"page_size": 2, "page": 2}, headers=as_contributor).json()

    assert response["count"] == 3
    assert [m["name"] for m in response["results"]] == ["model-2"]
    assert response["previous"] is not None and response["next"] is None


def test_the_list_costs_the_same_queries_however_many_models(
    client, team, as_contributor, django_assert_max_num_queries, django_assert_num_queries
):
    def add_models(count):
        for _ in range(count):
            model = make_model(team=team, responsible=make_user(), created_by=make_user())
            model.tags.add(Tag.objects.get_or_create(name=f"tag-{model.pk}")[0])

    add_models(3)
    client.get(MODELS, headers=as_contributor)  # token's last_used_at written once
    # token lookup, tag choices of the filter, count, page of models, their tags
    with django_assert_max_num_queries(6) as first:
        assert client.get(MODELS, headers=as_contributor).status_code == 200
    # Each request resets the connection's query log, so count now.
    expected = len(first.captured_queries)
    add_models(5)
    with django_assert_num_queries(expected):
        response = client.get(MODELS, headers=as_contributor)
    assert response.json()["count"] == 8


# --- create --------------------------------------------------------------------------------


def test_a_contributor_registers_a_model(client, team, contributor, as_contributor):
    payload = {
        "name": "fraud-v2",
        "team": team.slug,
        "display_name": "Fraud v2",
        "task": "classification",
        "risk_tier": "high",
        "responsible": contributor.username,
        "tags": ["Payments", "tabular"],
    }

    response = client.post(MODELS, payload, content_type="application/json", headers=as_contributor)

    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "fraud-v2"
    assert body["tags"] == ["payments", "tabular"]
    assert body["responsible"] == contributor.username
    assert body["created_by"] == contributor.username
    assert response["Location"].endswith("/api/v1/models/fraud-v2/")
    model = RegisteredModel.objects.get(name="fraud-v2")
    assert model.risk_tier == "high"
    assert AuditEvent.objects.filter(action="models_app.model.created", model_name="fraud-v2")


def test_a_duplicate_name_is_a_409(client, registered_model, team, as_contributor):
    response = client.post(
        MODELS,
        {"name": registered_model.name, "team": team.slug},
        content_type="application/json",
        headers=as_contributor,
    )

    error = assert_error(response, 409, "duplicate")
    assert error["field"] == "name"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "Bad Name", "team": "fraud-team"}, "name"),
        ({"name": "ok-name", "team": "no-such-team"}, "team"),
        ({"name": "ok-name", "team": "fraud-team", "risk_tier": "extreme"}, "risk_tier"),
        ({"name": "ok-name", "team": "fraud-team", "tags": ["not a tag!"]}, "tags"),
        ({"name": "ok-name", "team": "fraud-team", "colour": "red"}, "colour"),
        ({"team": "fraud-team"}, "name"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, team, as_contributor, payload, field):
    response = client.post(MODELS, payload, content_type="application/json", headers=as_contributor)

    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert not RegisteredModel.objects.filter(name="ok-name").exists()


@pytest.mark.parametrize(
    "body", ["{not json", "[1, 2]", '"a string"', '{"name": NaN, "team": "fraud-team"}']
)
def test_malformed_json_is_a_400(client, team, as_contributor, body):
    response = client.post(MODELS, body, content_type="application/json", headers=as_contributor)

    assert response.status_code == 400
    assert response.json()["error"]["message"]


def test_a_viewer_cannot_register_a_model_in_the_team(client, team, as_viewer):
    response = client.post(
        MODELS,
        {"name": "nope", "team": team.slug},
        content_type="application/json",
        headers=as_viewer,
    )

    assert_error(response, 403, "permission_denied")


def test_a_form_body_is_refused_with_415(client, team, as_contributor):
    response = client.post(MODELS, {"name": "x", "team": team.slug}, headers=as_contributor)

    assert_error(response, 415, "unsupported_media_type")


# --- one model -----------------------------------------------------------------------------


def test_one_model_with_its_aliases(client, registered_model, as_viewer):
    version = make_version(registered_model)
    registered_model.aliases.create(name="champion", version=version)

    response = client.get(url("fraud-detector"), headers=as_viewer)

    assert response.status_code == 200
    assert response.json()["aliases"][0]["name"] == "champion"
    assert response.json()["aliases"][0]["version"] == 1


def test_a_restricted_model_is_404_for_outsiders_like_a_missing_one(
    client, restricted_model, as_outsider
):
    hidden = client.get(url("secret-scorer"), headers=as_outsider)
    missing = client.get(url("no-such-model"), headers=as_outsider)

    assert_error(hidden, 404, "not_found")
    assert hidden.json()["error"]["message"] == "There is no model 'secret-scorer'."
    assert missing.status_code == 404


def test_a_contributor_edits_a_model(client, registered_model, as_contributor):
    response = client.patch(
        url("fraud-detector"),
        {"description": "Scores card payments.", "tags": ["payments"]},
        content_type="application/json",
        headers=as_contributor,
    )

    assert response.status_code == 200
    assert response.json()["description"] == "Scores card payments."
    registered_model.refresh_from_db()
    assert registered_model.description == "Scores card payments."
    assert list(registered_model.tags.values_list("name", flat=True)) == ["payments"]
    assert AuditEvent.objects.filter(action="models_app.model.updated").count() == 1


def test_the_name_and_team_cannot_be_changed(client, registered_model, as_contributor):
    response = client.patch(
        url("fraud-detector"), {"name": "renamed"}, content_type="application/json",
        headers=as_contributor,
    )  # fmt: skip

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "name"


def test_write_permissions_follow_the_web(
    client, registered_model, restricted_model, as_viewer, as_outsider
):
    viewer = client.patch(
        url("fraud-detector"), {"description": "x"}, content_type="application/json",
        headers=as_viewer,
    )  # fmt: skip
    outsider_public = client.patch(
        url("fraud-detector"), {"description": "x"}, content_type="application/json",
        headers=as_outsider,
    )  # fmt: skip
    outsider_restricted = client.patch(
        url("secret-scorer"), {"description": "x"}, content_type="application/json",
        headers=as_outsider,
    )  # fmt: skip

    assert_error(viewer, 403, "permission_denied")
    assert_error(outsider_public, 403, "permission_denied")
    assert_error(outsider_restricted, 404, "not_found")
    registered_model.refresh_from_db()
    assert registered_model.description == ""


def test_archive_and_restore(client, registered_model, as_contributor):
    archived = client.post(
        url("fraud-detector", "archive"), {"reason": "replaced"}, content_type="application/json",
        headers=as_contributor,
    )  # fmt: skip
    again = client.post(
        url("fraud-detector", "archive"), content_type="application/json", headers=as_contributor
    )
    restored = client.post(
        url("fraud-detector", "restore"), content_type="application/json", headers=as_contributor
    )

    assert archived.status_code == 200 and archived.json()["archived"] is True
    assert again.status_code == 400
    assert "already archived" in again.json()["error"]["message"]
    assert restored.status_code == 200 and restored.json()["archived"] is False


def test_a_viewer_cannot_archive(client, registered_model, as_viewer):
    response = client.post(url("fraud-detector", "archive"), headers=as_viewer)

    assert_error(response, 403, "permission_denied")


def test_a_superuser_sees_and_changes_every_model(client, restricted_model, superuser, bearer):
    response = client.patch(
        url("secret-scorer"), {"restricted": False}, content_type="application/json",
        headers=bearer(superuser),
    )  # fmt: skip

    assert response.status_code == 200
    assert response.json()["restricted"] is False


def test_a_second_team_member_sees_the_restricted_model(client, restricted_model, team, bearer):
    member = make_user("mia")
    add_member(member, team, "viewer")

    assert client.get(url("secret-scorer"), headers=bearer(member)).status_code == 200
