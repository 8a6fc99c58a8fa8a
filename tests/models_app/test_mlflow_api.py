"""MLflow's Model Registry REST API at /api/2.0/mlflow/: shapes, errors and permissions."""

import base64
import json
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from models_app.models import (
    Alias,
    Application,
    AuditEvent,
    Dependency,
    ModelVersion,
    RegisteredModel,
    Tag,
)
from models_app.services import create_access_token, revoke_access_token
from tests.factories import (
    add_member,
    make_alias,
    make_deployment,
    make_environment,
    make_model,
    make_team,
    make_version,
)

BASE = "/api/2.0/mlflow/"


class Api:
    """Calls the API as one user, the way the MLflow client does: GET with query
    parameters, every other method with a JSON body."""

    def __init__(self, client, user=None, *, headers=None):
        self.client = client
        if headers is None and user is not None:
            _, raw = create_access_token(actor=user, name="mlflow test")
            headers = {"Authorization": f"Bearer {raw}"}
        self.headers = headers or {}

    def call(self, method, endpoint, body=None):
        url = BASE + endpoint
        if method == "GET":
            return self.client.get(url, body or {}, headers=self.headers)
        send = getattr(self.client, method.lower())
        data = json.dumps(body or {})
        return send(url, data=data, content_type="application/json", headers=self.headers)

    def ok(self, method, endpoint, body=None):
        response = self.call(method, endpoint, body)
        assert response.status_code == 200, response.content
        return response.json()

    def error(self, method, endpoint, body, status, error_code):
        response = self.call(method, endpoint, body)
        assert response.status_code == status, response.content
        data = response.json()
        assert data["error_code"] == error_code
        assert data["message"]
        return data["message"]


@pytest.fixture
def as_contributor(client, contributor):
    return Api(client, contributor)


@pytest.fixture
def as_viewer(client, viewer):
    return Api(client, viewer)


@pytest.fixture
def as_outsider(client, outsider):
    return Api(client, outsider)


def _now_ms():
    return int(time.time() * 1000)


# --- authentication and protocol -----------------------------------------------------------


def test_it_answers_401_in_mlflow_format_without_a_token(client, registered_model):
    response = client.get(BASE + "registered-models/get", {"name": registered_model.name})

    assert response.status_code == 401
    assert response.json()["error_code"] == "UNAUTHENTICATED"
    assert "MLFLOW_TRACKING_TOKEN" in response.json()["message"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_answers_401_for_a_revoked_token(client, contributor, registered_model):
    token, raw = create_access_token(actor=contributor, name="old")
    revoke_access_token(actor=contributor, token=token)
    api = Api(client, headers={"Authorization": f"Bearer {raw}"})

    api.error("GET", "registered-models/get", {"name": "fraud-detector"}, 401, "UNAUTHENTICATED")


def test_it_ignores_the_session_cookie(client, contributor, registered_model):
    client.force_login(contributor)

    response = client.get(BASE + "registered-models/get", {"name": registered_model.name})

    assert response.status_code == 401


def test_it_accepts_basic_auth_with_the_token_as_password(client, contributor, registered_model):
    _, raw = create_access_token(actor=contributor, name="basic")
    basic = base64.b64encode(f"carol:{raw}".encode()).decode()
    api = Api(client, headers={"Authorization": f"Basic {basic}"})

    data = api.ok("GET", "registered-models/get", {"name": "fraud-detector"})

    assert data["registered_model"]["name"] == "fraud-detector"


def test_it_refuses_basic_auth_that_names_another_user(client, contributor, registered_model):
    _, raw = create_access_token(actor=contributor, name="basic")
    basic = base64.b64encode(f"mallory:{raw}".encode()).decode()
    api = Api(client, headers={"Authorization": f"Basic {basic}"})

    api.error("GET", "registered-models/get", {"name": "fraud-detector"}, 401, "UNAUTHENTICATED")


def test_it_answers_405_for_a_method_the_endpoint_does_not_take(as_contributor):
    response = as_contributor.call("GET", "registered-models/create", {"name": "x"})

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["error_code"] == "ENDPOINT_NOT_FOUND"


def test_it_says_the_tracking_api_is_not_served(as_contributor):
    as_contributor.error("GET", "runs/get", {"run_id": "abc"}, 404, "ENDPOINT_NOT_FOUND")


def test_it_refuses_a_body_that_is_not_a_json_object(client, contributor):
    api = Api(client, contributor)
    response = client.post(
        BASE + "registered-models/create",
        data="[1, 2]",
        content_type="application/json",
        headers=api.headers,
    )

    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


# --- registered-models/create --------------------------------------------------------------


def test_create_registers_a_model_in_the_users_only_team(as_contributor, contributor, team):
    before = _now_ms()
    data = as_contributor.ok(
        "POST",
        "registered-models/create",
        {
            "name": "churn-model",
            "description": "Predicts churn.",
            "tags": [{"key": "tabular", "value": ""}, {"key": "Owner", "value": "Risk Team"}],
        },
    )["registered_model"]

    model = RegisteredModel.objects.get(name="churn-model")
    assert model.team == team
    assert model.created_by == contributor
    assert model.description == "Predicts churn."
    assert list(model.tags.values_list("name", flat=True)) == ["tabular"]
    assert model.properties == {"Owner": "Risk Team"}
    assert data["name"] == "churn-model"
    assert data["user_id"] == "carol"
    assert data["latest_versions"] == [] and data["aliases"] == []
    assert data["tags"] == [
        {"key": "Owner", "value": "Risk Team"},
        {"key": "tabular", "value": ""},
    ]
    assert isinstance(data["creation_timestamp"], int)
    assert before <= data["creation_timestamp"] <= _now_ms()
    event = AuditEvent.objects.get(action="models_app.model.created")
    assert event.actor == contributor
    assert event.after["tags"] == ["tabular"]
    assert event.after["properties"] == {"Owner": "Risk Team"}


def test_create_puts_the_model_in_the_team_named_by_the_team_tag(client, contributor, other_team):
    add_member(contributor, other_team, "contributor")
    api = Api(client, contributor)

    data = api.ok(
        "POST",
        "registered-models/create",
        {"name": "vision-model", "tags": [{"key": "team", "value": "vision-team"}]},
    )

    model = RegisteredModel.objects.get(name="vision-model")
    assert model.team == other_team
    # The team tag chose the team; it is not kept as a tag as well.
    assert data["registered_model"]["tags"] == []
    assert model.properties == {}


def test_create_asks_which_team_when_the_user_contributes_to_several(
    client, contributor, other_team
):
    add_member(contributor, other_team, "contributor")
    api = Api(client, contributor)

    message = api.error(
        "POST", "registered-models/create", {"name": "m"}, 400, "INVALID_PARAMETER_VALUE"
    )

    assert "team=<slug>" in message
    assert "fraud-team" in message and "vision-team" in message
    assert not RegisteredModel.objects.filter(name="m").exists()


def test_create_refuses_an_unknown_team(as_contributor):
    message = as_contributor.error(
        "POST",
        "registered-models/create",
        {"name": "m", "tags": [{"key": "team", "value": "nope"}]},
        400,
        "INVALID_PARAMETER_VALUE",
    )

    assert "nope" in message


def test_create_refuses_a_viewer_with_permission_denied(as_viewer):
    as_viewer.error("POST", "registered-models/create", {"name": "m"}, 403, "PERMISSION_DENIED")
    as_viewer.error(
        "POST",
        "registered-models/create",
        {"name": "m", "tags": [{"key": "team", "value": "fraud-team"}]},
        403,
        "PERMISSION_DENIED",
    )

    assert not RegisteredModel.objects.filter(name="m").exists()


def test_create_refuses_a_taken_name_with_resource_already_exists(as_contributor, registered_model):
    as_contributor.error(
        "POST",
        "registered-models/create",
        {"name": "fraud-detector"},
        400,
        "RESOURCE_ALREADY_EXISTS",
    )


def test_create_refuses_a_name_that_is_not_slug_like(as_contributor):
    message = as_contributor.error(
        "POST", "registered-models/create", {"name": "My Model"}, 400, "INVALID_PARAMETER_VALUE"
    )

    assert "lower-case" in message


def test_create_requires_a_name(as_contributor):
    message = as_contributor.error(
        "POST", "registered-models/create", {}, 400, "INVALID_PARAMETER_VALUE"
    )

    assert "'name'" in message


# --- registered-models/get, rename, update, delete -----------------------------------------


def test_get_returns_latest_versions_tags_and_aliases(as_contributor, registered_model):
    make_version(registered_model, source_uri="s3://b/1")
    v2 = make_version(registered_model, source_uri="s3://b/2")
    make_alias(registered_model, "champion", v2)
    registered_model.tags.add(Tag.objects.create(name="tabular"))
    RegisteredModel.objects.filter(pk=registered_model.pk).update(properties={"owner": "risk"})

    data = as_contributor.ok("GET", "registered-models/get", {"name": "fraud-detector"})[
        "registered_model"
    ]

    assert data["aliases"] == [{"alias": "champion", "version": "2"}]
    assert data["tags"] == [{"key": "owner", "value": "risk"}, {"key": "tabular", "value": ""}]
    [latest] = data["latest_versions"]
    assert latest["version"] == "2"
    assert latest["current_stage"] == "None"
    assert latest["aliases"] == ["champion"]
    assert data["last_updated_timestamp"] >= data["creation_timestamp"]


def test_get_hides_a_restricted_model_from_an_outsider(as_outsider, client, contributor):
    make_model("secret-scorer", team=contributor.memberships.get().team, restricted=True)

    as_outsider.error(
        "GET", "registered-models/get", {"name": "secret-scorer"}, 404, "RESOURCE_DOES_NOT_EXIST"
    )
    assert Api(client, contributor).ok("GET", "registered-models/get", {"name": "secret-scorer"})


def test_rename_is_refused_because_names_are_immutable(as_contributor, registered_model):
    message = as_contributor.error(
        "POST",
        "registered-models/rename",
        {"name": "fraud-detector", "new_name": "fraud-v2"},
        400,
        "INVALID_PARAMETER_VALUE",
    )

    assert "cannot change" in message
    assert RegisteredModel.objects.filter(name="fraud-detector").exists()


def test_rename_of_a_restricted_model_is_not_found_for_an_outsider(as_outsider, restricted_model):
    as_outsider.error(
        "POST",
        "registered-models/rename",
        {"name": "secret-scorer", "new_name": "x"},
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_update_changes_the_description_through_the_service(
    as_contributor, contributor, registered_model
):
    data = as_contributor.ok(
        "PATCH", "registered-models/update", {"name": "fraud-detector", "description": "New."}
    )

    registered_model.refresh_from_db()
    assert registered_model.description == "New."
    assert data["registered_model"]["description"] == "New."
    event = AuditEvent.objects.get(action="models_app.model.updated")
    assert event.actor == contributor
    assert event.after == {"description": "New."}


def test_update_refuses_a_viewer(as_viewer, registered_model):
    as_viewer.error(
        "PATCH",
        "registered-models/update",
        {"name": "fraud-detector", "description": "x"},
        403,
        "PERMISSION_DENIED",
    )

    registered_model.refresh_from_db()
    assert registered_model.description == ""


def test_update_of_a_restricted_model_is_not_found_for_an_outsider(as_outsider, restricted_model):
    as_outsider.error(
        "PATCH",
        "registered-models/update",
        {"name": "secret-scorer", "description": "x"},
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_delete_archives_the_model(as_contributor, contributor, registered_model):
    as_contributor.ok("DELETE", "registered-models/delete", {"name": "fraud-detector"})

    registered_model.refresh_from_db()
    assert registered_model.is_archived
    event = AuditEvent.objects.get(action="models_app.model.archived")
    assert event.actor == contributor
    assert "MLflow" in event.after["reason"]
    # Still readable by name, no longer in searches, and its name stays taken.
    assert as_contributor.ok("GET", "registered-models/get", {"name": "fraud-detector"})
    assert as_contributor.ok("GET", "registered-models/search")["registered_models"] == []
    message = as_contributor.error(
        "POST",
        "registered-models/create",
        {"name": "fraud-detector"},
        400,
        "RESOURCE_ALREADY_EXISTS",
    )
    assert "archived" in message


def test_delete_refuses_a_viewer(as_viewer, registered_model):
    as_viewer.error(
        "DELETE", "registered-models/delete", {"name": "fraud-detector"}, 403, "PERMISSION_DENIED"
    )

    registered_model.refresh_from_db()
    assert not registered_model.is_archived


# --- registered-models/search --------------------------------------------------------------


def _names(data):
    return [model["name"] for model in data["registered_models"]]


def test_search_filters_by_name_like_and_pages(as_contributor, team):
    for name in ["fraud-a", "fraud-b", "fraud-c", "churn"]:
        make_model(name, team=team)

    first = as_contributor.ok(
        "GET", "registered-models/search", {"filter": "name LIKE 'fraud-%'", "max_results": 2}
    )
    second = as_contributor.ok(
        "GET",
        "registered-models/search",
        {
            "filter": "name LIKE 'fraud-%'",
            "max_results": 2,
            "page_token": first["next_page_token"],
        },
    )

    assert _names(first) == ["fraud-a", "fraud-b"]
    assert _names(second) == ["fraud-c"]
    assert "next_page_token" not in second


def test_search_leaves_out_restricted_models_for_an_outsider(
    as_outsider, registered_model, restricted_model
):
    assert _names(as_outsider.ok("GET", "registered-models/search")) == ["fraud-detector"]


def test_search_keeps_untagged_models_under_the_clients_prompt_filter(
    as_contributor, registered_model, team
):
    prompt = make_model("a-prompt", team=team, properties={"mlflow.prompt.is_prompt": "true"})

    data = as_contributor.ok(
        "GET",
        "registered-models/search",
        {"filter": "tag.`mlflow.prompt.is_prompt` != 'true'"},
    )

    assert _names(data) == ["fraud-detector"]
    assert prompt.name not in _names(data)


def test_search_filters_by_tag_values_and_value_less_tags(as_contributor, team):
    make_model("a", team=team, properties={"owner": "risk"})
    make_model("b", team=team, properties={"owner": "growth"})
    tagged = make_model("c", team=team)
    tagged.tags.add(Tag.objects.create(name="gpu"))

    by_value = as_contributor.ok(
        "GET", "registered-models/search", {"filter": "tags.owner = 'risk'"}
    )
    by_like = as_contributor.ok(
        "GET", "registered-models/search", {"filter": "tags.owner ILIKE 'G%'"}
    )
    value_less = as_contributor.ok("GET", "registered-models/search", {"filter": "tags.gpu = ''"})

    assert _names(by_value) == ["a"]
    assert _names(by_like) == ["b"]
    assert _names(value_less) == ["c"]


def test_search_orders_by_name_descending(as_contributor, team):
    for name in ["a", "b", "c"]:
        make_model(name, team=team)

    data = as_contributor.ok("GET", "registered-models/search", {"order_by": ["name DESC"]})

    assert _names(data) == ["c", "b", "a"]


@pytest.mark.parametrize(
    "params",
    [
        {"filter": "name = 'a' OR name = 'b'"},
        {"filter": "description = 'x'"},
        {"filter": "name LIKE"},
        {"order_by": ["colour ASC"]},
        {"max_results": 0},
        {"max_results": 5000},
        {"page_token": "not-a-token"},
    ],
)
def test_search_refuses_what_it_cannot_read(as_contributor, params):
    as_contributor.error("GET", "registered-models/search", params, 400, "INVALID_PARAMETER_VALUE")


def test_search_query_count_does_not_grow_with_models(
    as_contributor, team, django_assert_max_num_queries
):
    def build(count):
        for _ in range(count):
            model = make_model(team=team)
            model.tags.add(Tag.objects.get_or_create(name="tabular")[0])
            version = make_version(model)
            make_alias(model, "champion", version)

    build(3)
    as_contributor.ok("GET", "registered-models/search")  # the token's first use is recorded
    with CaptureQueriesContext(connection) as few:
        as_contributor.ok("GET", "registered-models/search")
    build(10)
    with CaptureQueriesContext(connection) as many:
        data = as_contributor.ok("GET", "registered-models/search")

    assert len(data["registered_models"]) == 13
    assert len(many) == len(few)
    # token, models, their tags and aliases; live deployments, newest retired and newest other
    # version per model; those versions, their tags, aliases and stages.
    with django_assert_max_num_queries(11):
        as_contributor.ok("GET", "registered-models/search")


# --- registered-models/get-latest-versions -------------------------------------------------


def test_latest_versions_reports_stages_from_deployments_and_retirement(
    as_contributor, registered_model
):
    v1 = make_version(registered_model)
    v2 = make_version(registered_model)
    make_version(registered_model)
    ModelVersion.objects.filter(pk=v1.pk).update(retired_at=timezone.now())
    make_deployment(v2, make_environment("production"))

    data = as_contributor.ok(
        "POST", "registered-models/get-latest-versions", {"name": "fraud-detector"}
    )
    only_production = as_contributor.ok(
        "GET",
        "registered-models/get-latest-versions",
        {"name": "fraud-detector", "stages": ["production"]},
    )

    stages = {mv["current_stage"]: mv["version"] for mv in data["model_versions"]}
    assert stages == {"Archived": "1", "Production": "2", "None": "3"}
    assert [mv["version"] for mv in only_production["model_versions"]] == ["2"]


def test_latest_versions_refuses_an_unknown_stage(as_contributor, registered_model):
    as_contributor.error(
        "POST",
        "registered-models/get-latest-versions",
        {"name": "fraud-detector", "stages": ["Canary"]},
        400,
        "INVALID_PARAMETER_VALUE",
    )


# --- registered-models/set-tag, delete-tag -------------------------------------------------


def test_model_tags_map_to_registry_tags_or_properties(
    as_contributor, contributor, registered_model
):
    body = {"name": "fraud-detector"}
    as_contributor.ok("POST", "registered-models/set-tag", {**body, "key": "gpu", "value": ""})
    as_contributor.ok(
        "POST", "registered-models/set-tag", {**body, "key": "Team Lead", "value": "Ann"}
    )

    registered_model.refresh_from_db()
    assert list(registered_model.tags.values_list("name", flat=True)) == ["gpu"]
    assert registered_model.properties == {"Team Lead": "Ann"}

    # Giving the registry tag a value moves it to the properties, and nothing is kept twice.
    as_contributor.ok("POST", "registered-models/set-tag", {**body, "key": "gpu", "value": "a100"})
    registered_model.refresh_from_db()
    assert registered_model.tags.count() == 0
    assert registered_model.properties == {"Team Lead": "Ann", "gpu": "a100"}

    as_contributor.ok("DELETE", "registered-models/delete-tag", {**body, "key": "Team Lead"})
    registered_model.refresh_from_db()
    assert registered_model.properties == {"gpu": "a100"}
    events = AuditEvent.objects.filter(action="models_app.model.updated").order_by("sequence")
    assert events.count() == 4
    assert events[2].before == {"tags": ["gpu"], "properties": {}}
    assert events[2].after == {"tags": [], "properties": {"gpu": "a100"}}
    assert events[3].actor == contributor


def test_deleting_a_missing_model_tag_is_not_found(as_contributor, registered_model):
    as_contributor.error(
        "DELETE",
        "registered-models/delete-tag",
        {"name": "fraud-detector", "key": "nope"},
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_setting_a_model_tag_refuses_a_viewer(as_viewer, registered_model):
    as_viewer.error(
        "POST",
        "registered-models/set-tag",
        {"name": "fraud-detector", "key": "k", "value": "v"},
        403,
        "PERMISSION_DENIED",
    )

    registered_model.refresh_from_db()
    assert registered_model.properties == {}


# --- registered-models/alias ---------------------------------------------------------------


def test_alias_is_set_read_and_deleted(as_contributor, contributor, registered_model):
    make_version(registered_model)
    make_version(registered_model)
    body = {"name": "fraud-detector", "alias": "Champion"}

    as_contributor.ok("POST", "registered-models/alias", {**body, "version": "1"})
    by_alias = as_contributor.ok("GET", "registered-models/alias", body)["model_version"]

    assert Alias.objects.get(model=registered_model, name="champion").version.version == 1
    assert by_alias["version"] == "1"
    assert by_alias["aliases"] == ["champion"]

    as_contributor.ok("DELETE", "registered-models/alias", body)

    assert not Alias.objects.filter(model=registered_model).exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="models_app.alias.")
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions == ["models_app.alias.set", "models_app.alias.deleted"]
    as_contributor.error("GET", "registered-models/alias", body, 404, "RESOURCE_DOES_NOT_EXIST")
    as_contributor.error("DELETE", "registered-models/alias", body, 404, "RESOURCE_DOES_NOT_EXIST")


def test_alias_refuses_a_reserved_name_or_a_missing_version(as_contributor, registered_model):
    make_version(registered_model)
    body = {"name": "fraud-detector"}

    as_contributor.error(
        "POST",
        "registered-models/alias",
        {**body, "alias": "latest", "version": "1"},
        400,
        "INVALID_PARAMETER_VALUE",
    )
    as_contributor.error(
        "POST",
        "registered-models/alias",
        {**body, "alias": "champion", "version": "9"},
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_alias_writes_follow_the_web_permissions(as_viewer, as_outsider, registered_model):
    make_version(registered_model)
    restricted = make_model("secret-scorer", team=registered_model.team, restricted=True)
    make_version(restricted)

    as_viewer.error(
        "POST",
        "registered-models/alias",
        {"name": "fraud-detector", "alias": "champion", "version": "1"},
        403,
        "PERMISSION_DENIED",
    )
    as_outsider.error(
        "POST",
        "registered-models/alias",
        {"name": "secret-scorer", "alias": "champion", "version": "1"},
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    assert not Alias.objects.exists()


# --- model-versions/create -----------------------------------------------------------------


def test_create_version_registers_the_next_version(as_contributor, contributor, registered_model):
    body = {
        "name": "fraud-detector",
        "source": "s3://bucket/run/artifacts/model",
        "run_id": "0123abcd",
        "run_link": "https://tracking.example/runs/0123abcd",
        "description": "First try.",
        "tags": [{"key": "validated", "value": ""}, {"key": "framework", "value": "sklearn"}],
    }

    first = as_contributor.ok("POST", "model-versions/create", body)["model_version"]
    second = as_contributor.ok("POST", "model-versions/create", body)["model_version"]

    assert (first["version"], second["version"]) == ("1", "2")
    assert first["status"] == "READY"
    assert first["current_stage"] == "None"
    assert first["source"] == "s3://bucket/run/artifacts/model"
    assert first["run_id"] == "0123abcd"
    assert first["user_id"] == "carol"
    assert first["tags"] == [
        {"key": "framework", "value": "sklearn"},
        {"key": "validated", "value": ""},
    ]
    version = ModelVersion.objects.get(model=registered_model, version=1)
    assert version.source_uri == "s3://bucket/run/artifacts/model"
    assert version.run_id == "0123abcd"
    assert version.run_link == "https://tracking.example/runs/0123abcd"
    assert version.description == "First try."
    assert version.created_by == contributor
    assert list(version.tags.values_list("name", flat=True)) == ["validated"]
    assert version.properties == {"framework": "sklearn"}
    event = AuditEvent.objects.filter(action="models_app.version.registered").first()
    assert event.after["source_uri"] == "s3://bucket/run/artifacts/model"
    assert event.after["run_id"] == "0123abcd"


def test_create_version_keeps_the_logged_model_id(as_contributor, registered_model):
    data = as_contributor.ok(
        "POST",
        "model-versions/create",
        {"name": "fraud-detector", "source": "models:/m-123", "model_id": "m-123"},
    )

    assert {"key": "mlflow.model_id", "value": "m-123"} in data["model_version"]["tags"]


def test_create_version_follows_the_web_permissions(as_viewer, as_outsider, registered_model):
    make_model("secret-scorer", team=registered_model.team, restricted=True)

    as_viewer.error(
        "POST",
        "model-versions/create",
        {"name": "fraud-detector", "source": "s3://b/m"},
        403,
        "PERMISSION_DENIED",
    )
    as_outsider.error(
        "POST",
        "model-versions/create",
        {"name": "secret-scorer", "source": "s3://b/m"},
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    assert not ModelVersion.objects.exists()


def test_create_version_refuses_an_archived_model_or_a_missing_source(
    as_contributor, registered_model
):
    as_contributor.error(
        "POST", "model-versions/create", {"name": "fraud-detector"}, 400, "INVALID_PARAMETER_VALUE"
    )
    RegisteredModel.objects.filter(pk=registered_model.pk).update(archived_at=timezone.now())
    message = as_contributor.error(
        "POST",
        "model-versions/create",
        {"name": "fraud-detector", "source": "s3://b/m"},
        400,
        "INVALID_PARAMETER_VALUE",
    )

    assert "archived" in message


# --- model-versions/get, update, delete, transition-stage, get-download-uri ----------------


def test_get_version_returns_its_fields(as_contributor, registered_model):
    version = make_version(registered_model, source_uri="s3://b/m", run_id="r1")

    data = as_contributor.ok(
        "GET", "model-versions/get", {"name": "fraud-detector", "version": "1"}
    )["model_version"]

    assert data["name"] == "fraud-detector"
    assert data["version"] == "1"
    assert data["source"] == "s3://b/m"
    assert data["run_id"] == "r1"
    created_ms = int(version.created_at.timestamp() * 1000)
    assert data["creation_timestamp"] == created_ms == data["last_updated_timestamp"]


def test_get_version_refuses_a_bad_or_missing_number(as_contributor, registered_model):
    as_contributor.error(
        "GET",
        "model-versions/get",
        {"name": "fraud-detector", "version": "one"},
        400,
        "INVALID_PARAMETER_VALUE",
    )
    as_contributor.error(
        "GET",
        "model-versions/get",
        {"name": "fraud-detector", "version": "3"},
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_get_version_of_a_restricted_model_is_not_found_for_an_outsider(
    as_outsider, restricted_model
):
    make_version(restricted_model)

    as_outsider.error(
        "GET",
        "model-versions/get",
        {"name": "secret-scorer", "version": "1"},
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_update_version_changes_the_description(as_contributor, as_viewer, registered_model):
    version = make_version(registered_model)
    body = {"name": "fraud-detector", "version": "1", "description": "Better."}

    as_viewer.error("PATCH", "model-versions/update", body, 403, "PERMISSION_DENIED")
    data = as_contributor.ok("PATCH", "model-versions/update", body)

    version.refresh_from_db()
    assert version.description == "Better."
    assert data["model_version"]["description"] == "Better."
    event = AuditEvent.objects.get(action="models_app.version.card_updated")
    assert event.after == {"description": "Better."}


def test_delete_version_retires_it(as_contributor, registered_model):
    make_version(registered_model)
    make_version(registered_model)

    as_contributor.ok("DELETE", "model-versions/delete", {"name": "fraud-detector", "version": 1})

    retired = ModelVersion.objects.get(model=registered_model, version=1)
    assert retired.retired_at is not None
    assert AuditEvent.objects.filter(action="models_app.version.retired").exists()
    data = as_contributor.ok("GET", "model-versions/get", {"name": "fraud-detector", "version": 1})
    assert data["model_version"]["current_stage"] == "Archived"
    found = as_contributor.ok("GET", "model-versions/search", {"filter": "name='fraud-detector'"})
    assert [mv["version"] for mv in found["model_versions"]] == ["2"]


def test_delete_version_is_refused_while_an_application_depends_on_it(
    as_contributor, registered_model, team
):
    version = make_version(registered_model)
    application = Application.objects.create(slug="checkout", name="Checkout", owner_team=team)
    Dependency.objects.create(
        application=application, model=registered_model, pinned_version=version
    )

    message = as_contributor.error(
        "DELETE",
        "model-versions/delete",
        {"name": "fraud-detector", "version": "1"},
        409,
        "RESOURCE_CONFLICT",
    )

    assert "Checkout" in message
    version.refresh_from_db()
    assert version.retired_at is None


def test_delete_version_refuses_a_viewer(as_viewer, registered_model):
    version = make_version(registered_model)

    as_viewer.error(
        "DELETE",
        "model-versions/delete",
        {"name": "fraud-detector", "version": "1"},
        403,
        "PERMISSION_DENIED",
    )

    version.refresh_from_db()
    assert version.retired_at is None


def test_transition_stage_is_refused_with_a_pointer_to_approvals(as_contributor, registered_model):
    make_version(registered_model)

    message = as_contributor.error(
        "POST",
        "model-versions/transition-stage",
        {
            "name": "fraud-detector",
            "version": "1",
            "stage": "Production",
            "archive_existing_versions": False,
        },
        400,
        "INVALID_PARAMETER_VALUE",
    )

    assert "approval" in message
    assert "alias" in message


def test_download_uri_is_the_versions_source(as_contributor, registered_model):
    make_version(registered_model, source_uri="s3://bucket/run/artifacts/model")

    data = as_contributor.ok(
        "GET", "model-versions/get-download-uri", {"name": "fraud-detector", "version": "1"}
    )

    assert data == {"artifact_uri": "s3://bucket/run/artifacts/model"}


# --- model-versions/search -----------------------------------------------------------------


def _versions(data):
    return [(mv["name"], mv["version"]) for mv in data["model_versions"]]


def test_search_versions_filters_by_name_run_id_number_and_tag(as_contributor, team):
    a = make_model("a", team=team)
    b = make_model("b", team=team)
    make_version(a, run_id="r1")
    make_version(a, run_id="r2", properties={"validated": "yes"})
    make_version(b, run_id="r3")

    def search(text, **extra):
        return _versions(
            as_contributor.ok(
                "GET",
                "model-versions/search",
                {"filter": text, "order_by": ["name ASC", "version_number ASC"], **extra},
            )
        )

    assert search("name='a'") == [("a", "1"), ("a", "2")]
    assert search("run_id IN ('r1', 'r3')") == [("a", "1"), ("b", "1")]
    assert search("name = 'a' AND version_number > 1") == [("a", "2")]
    assert search("tags.validated = 'yes'") == [("a", "2")]
    assert search("run_id != 'r1'") == [("a", "2"), ("b", "1")]


def test_search_versions_pages_and_leaves_out_restricted_models(
    as_outsider, registered_model, restricted_model
):
    for _ in range(3):
        make_version(registered_model)
    make_version(restricted_model)

    first = as_outsider.ok("GET", "model-versions/search", {"max_results": 2})
    second = as_outsider.ok(
        "GET", "model-versions/search", {"max_results": 2, "page_token": first["next_page_token"]}
    )

    found = _versions(first) + _versions(second)
    assert sorted(found) == [
        ("fraud-detector", "1"),
        ("fraud-detector", "2"),
        ("fraud-detector", "3"),
    ]
    assert "next_page_token" not in second


def test_search_versions_query_count_does_not_grow_with_versions(
    as_contributor, registered_model, django_assert_max_num_queries
):
    def build(count):
        for _ in range(count):
            version = make_version(registered_model)
            version.tags.add(Tag.objects.get_or_create(name="cnn")[0])

    build(2)
    as_contributor.ok("GET", "model-versions/search")  # the token's first use is recorded
    with CaptureQueriesContext(connection) as few:
        as_contributor.ok("GET", "model-versions/search")
    build(10)
    with CaptureQueriesContext(connection) as many:
        data = as_contributor.ok("GET", "model-versions/search")

    assert len(data["model_versions"]) == 12
    assert len(many) == len(few)
    # token, versions, their tags, aliases and stages.
    with django_assert_max_num_queries(5):
        as_contributor.ok("GET", "model-versions/search")


# --- model-versions/set-tag, delete-tag ----------------------------------------------------


def test_version_tags_are_set_and_deleted(as_contributor, as_viewer, contributor, registered_model):
    version = make_version(registered_model)
    body = {"name": "fraud-detector", "version": "1"}

    as_viewer.error(
        "POST",
        "model-versions/set-tag",
        {**body, "key": "k", "value": "v"},
        403,
        "PERMISSION_DENIED",
    )
    as_contributor.ok("POST", "model-versions/set-tag", {**body, "key": "eval", "value": "ok"})
    as_contributor.ok("POST", "model-versions/set-tag", {**body, "key": "cnn", "value": ""})

    version.refresh_from_db()
    assert version.properties == {"eval": "ok"}
    assert list(version.tags.values_list("name", flat=True)) == ["cnn"]

    as_contributor.ok("DELETE", "model-versions/delete-tag", {**body, "key": "cnn"})
    as_contributor.error(
        "DELETE",
        "model-versions/delete-tag",
        {**body, "key": "cnn"},
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )

    assert version.tags.count() == 0
    events = AuditEvent.objects.filter(action="models_app.version.card_updated")
    assert events.count() == 3
    assert all(event.actor == contributor for event in events)


def test_a_superuser_with_several_teams_chooses_one_by_tag(client, superuser):
    make_team("one")
    make_team("two")
    api = Api(client, superuser)

    api.error("POST", "registered-models/create", {"name": "m"}, 400, "INVALID_PARAMETER_VALUE")
    api.ok(
        "POST",
        "registered-models/create",
        {"name": "m", "tags": [{"key": "team", "value": "two"}]},
    )

    assert RegisteredModel.objects.get(name="m").team.slug == "two"


def test_an_outsider_sees_unrestricted_models_but_cannot_write_them(as_outsider, registered_model):
    assert as_outsider.ok("GET", "registered-models/get", {"name": "fraud-detector"})
    as_outsider.error(
        "PATCH",
        "registered-models/update",
        {"name": "fraud-detector", "description": "x"},
        403,
        "PERMISSION_DENIED",
    )
