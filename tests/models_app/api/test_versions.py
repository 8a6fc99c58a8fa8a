"""/api/v1/models/<name>/versions/: registering versions with lineage, reading, editing cards."""

import json

import pytest

from models_app.models import AuditEvent, Dataset, ModelVersion
from tests.factories import make_dataset, make_model, make_user, make_version
from tests.models_app.api.test_authentication import assert_error


def versions_url(name="fraud-detector"):
    return f"/api/v1/models/{name}/versions/"


def version_url(number, name="fraud-detector"):
    return f"/api/v1/models/{name}/versions/{number}/"


def post(client, url, payload, headers):
    return client.post(url, payload, content_type="application/json", headers=headers)


def test_a_contributor_registers_a_version_with_lineage_datasets_and_card(
    client, registered_model, contributor, as_contributor
):
    parent = make_version(registered_model)
    payload = {
        "framework": "xgboost",
        "framework_version": "2.1.0",
        "architecture": "gradient-boosted trees",
        "source_uri": "https://ci.example.org/runs/42",
        "hyperparameters": {"max_depth": 8, "eta": 0.05, "features": ["amount", "country"]},
        "parent": "fraud-detector:1",
        "external_base_model": "",
        "datasets": [
            {
                "role": "training",
                "name": "transactions",
                "version": "2024-06",
                "uri": "s3://data/tx/2024-06",
                "digest": "sha256:9f2c41",
            },
            {"role": "evaluation", "name": "holdout", "version": "q3"},
        ],
        "intended_use": "Score card payments.",
        "limitations": "Not for bank transfers.",
        "ethical_considerations": "Checked for bias by country.",
        "tags": ["tabular"],
    }

    response = post(client, versions_url(), payload, as_contributor)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["version"] == 2
    assert body["parent"] == "fraud-detector:1"
    assert body["hyperparameters"]["eta"] == 0.05
    assert body["model_card_complete"] is True
    assert [(d["role"], d["name"]) for d in body["datasets"]] == [
        ("evaluation", "holdout"),
        ("training", "transactions"),
    ]
    assert response["Location"].endswith(version_url(2))
    version = ModelVersion.objects.get(model=registered_model, version=2)
    assert version.parent == parent
    assert version.created_by == contributor
    assert Dataset.objects.get(name="transactions").digest == "sha256:9f2c41"
    assert AuditEvent.objects.filter(action="models_app.version.registered").count() == 1


def test_a_parent_number_alone_means_this_model(client, registered_model, as_contributor):
    make_version(registered_model)

    response = post(client, versions_url(), {"parent": "1"}, as_contributor)

    assert response.json()["parent"] == "fraud-detector:1"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"parent": "no-such-model:1"}, "parent"),
        ({"parent": "fraud-detector:nine"}, "parent"),
        ({"datasets": [{"role": "testing", "name": "x"}]}, "datasets.0.role"),
        ({"datasets": [{"version": "1"}]}, "datasets.0.name"),
        ({"hyperparameters": [1, 2]}, "hyperparameters"),
        ({"framework": "cobol"}, "framework"),
        ({"tags": "not-a-list"}, "tags"),
        ({"frameworks": "pytorch"}, "frameworks"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    client, registered_model, as_contributor, payload, field
):
    make_version(registered_model)

    response = post(client, versions_url(), payload, as_contributor)

    assert response.status_code == 400, response.json()
    assert response.json()["error"]["field"] == field
    assert registered_model.versions.count() == 1


def test_a_parent_in_a_restricted_model_the_author_cannot_see_is_refused(
    client, registered_model, restricted_model, outsider, bearer, other_team
):
    make_version(restricted_model)
    theirs = make_model("vision", team=other_team)

    response = post(client, versions_url("vision"), {"parent": "secret-scorer:1"}, bearer(outsider))

    error = assert_error(response, 400, "invalid")
    assert error["message"] == "There is no version 'secret-scorer:1' that you can see."
    assert theirs.versions.count() == 0


def test_non_finite_hyperparameters_are_refused(client, registered_model, as_contributor):
    body = '{"hyperparameters": {"optimiser": {"lr": 1e999}}}'

    response = client.post(
        versions_url(), body, content_type="application/json", headers=as_contributor
    )

    error = assert_error(response, 400, "invalid")
    assert error["field"] == "hyperparameters"
    assert "hyperparameters.optimiser.lr" in error["message"]


def test_a_nan_in_json_is_refused_as_malformed(client, registered_model, as_contributor):
    response = client.post(
        versions_url(),
        '{"hyperparameters": {"lr": NaN}}',
        content_type="application/json",
        headers=as_contributor,
    )

    assert_error(response, 400, "parse_error")


def test_registering_into_an_archived_model_is_refused(client, registered_model, as_contributor):
    registered_model.archived_at = registered_model.created_at
    registered_model.save()

    response = post(client, versions_url(), {}, as_contributor)

    assert response.status_code == 400
    assert "archived" in response.json()["error"]["message"]


def test_registration_permissions_follow_the_web(
    client, registered_model, restricted_model, as_viewer, as_outsider
):
    assert_error(post(client, versions_url(), {}, as_viewer), 403, "permission_denied")
    assert_error(post(client, versions_url(), {}, as_outsider), 403, "permission_denied")
    assert_error(post(client, versions_url("secret-scorer"), {}, as_outsider), 404, "not_found")
    assert ModelVersion.objects.count() == 0


def test_a_viewer_reads_versions_newest_first(client, registered_model, as_viewer):
    make_version(registered_model)
    make_version(registered_model, framework="pytorch")

    response = client.get(versions_url(), headers=as_viewer)

    assert response.status_code == 200
    assert [v["version"] for v in response.json()["results"]] == [2, 1]
    assert response.json()["results"][0]["framework"] == "pytorch"


def test_one_version(client, registered_model, as_viewer):
    make_version(registered_model, intended_use="Payments")

    response = client.get(version_url(1), headers=as_viewer)
    missing = client.get(version_url(9), headers=as_viewer)

    assert response.status_code == 200
    assert response.json()["intended_use"] == "Payments"
    assert response.json()["web_url"] == "http://testserver/models/fraud-detector/versions/1/"
    assert_error(missing, 404, "not_found")


def test_a_parent_in_a_restricted_model_is_not_named_to_outsiders(
    client, registered_model, restricted_model, as_outsider, as_viewer
):
    hidden_parent = make_version(restricted_model)
    make_version(registered_model, parent=hidden_parent)

    outsider = client.get(version_url(1), headers=as_outsider).json()
    member = client.get(version_url(1), headers=as_viewer).json()

    assert outsider["parent"] is None
    assert "secret-scorer" not in json.dumps(outsider)
    assert member["parent"] == "secret-scorer:1"


def test_the_version_list_costs_the_same_queries_however_many_versions(
    client, registered_model, as_contributor, django_assert_max_num_queries,
    django_assert_num_queries,
):  # fmt: skip
    def add_versions(count):
        for _ in range(count):
            version = make_version(
                registered_model, created_by=make_user(), parent=registered_model.versions.first()
            )
            version.tags.create(name=f"tag-{version.pk}")
            version.dataset_links.create(dataset=make_dataset(), role="training")

    add_versions(2)
    client.get(versions_url(), headers=as_contributor)
    # token, model, count, page of versions (+creator, parent), tags, dataset links (+dataset)
    with django_assert_max_num_queries(7) as first:
        assert client.get(versions_url(), headers=as_contributor).status_code == 200
    # Each request resets the connection's query log, so count now.
    expected = len(first.captured_queries)
    add_versions(4)
    with django_assert_num_queries(expected):
        response = client.get(versions_url(), headers=as_contributor)
    assert response.json()["count"] == 6


def test_a_contributor_edits_the_model_card(client, registered_model, as_contributor):
    make_version(registered_model)

    response = client.patch(
        version_url(1),
        {"limitations": "Only EUR payments.", "tags": ["eur"]},
        content_type="application/json",
        headers=as_contributor,
    )

    assert response.status_code == 200
    assert response.json()["limitations"] == "Only EUR payments."
    assert response.json()["tags"] == ["eur"]
    assert AuditEvent.objects.filter(action="models_app.version.card_updated").count() == 1


def test_the_card_edit_refuses_other_fields_and_viewers(
    client, registered_model, as_contributor, as_viewer
):
    make_version(registered_model)

    framework = client.patch(
        version_url(1), {"framework": "onnx"}, content_type="application/json",
        headers=as_contributor,
    )  # fmt: skip
    viewer = client.patch(
        version_url(1), {"limitations": "x"}, content_type="application/json", headers=as_viewer
    )

    assert framework.status_code == 400
    assert framework.json()["error"]["field"] == "framework"
    assert_error(viewer, 403, "permission_denied")
