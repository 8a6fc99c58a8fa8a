"""Registering a version and editing its card through the pages, and who may use the forms."""

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from models_app.forms import parse_dataset_lines
from models_app.models import ModelVersion, RegisteredModel
from tests.factories import make_model, make_version
from tests.models_app.ledger import assert_chain_intact, last_event, row_counts


def create_url(model):
    return reverse("models_app:version_create", args=[model.name])


def version_data(**overrides):
    data = {
        "framework": "xgboost",
        "framework_version": "2.1.0",
        "architecture": "Gradient-boosted trees",
        "description": "Retrained on June data.",
        "source_uri": "https://ci.example.com/runs/1",
        "hyperparameters": "",
        "parent": "",
        "external_base_model": "",
        "datasets": "",
        "intended_use": "",
        "limitations": "",
        "ethical_considerations": "",
        "tags": "",
    }
    data.update(overrides)
    return data


# --- registering ---------------------------------------------------------------------------


def test_it_registers_a_version_with_lineage_datasets_and_hyperparameters(
    client, contributor, registered_model
):
    parent = make_version(registered_model)
    client.force_login(contributor)

    response = client.post(
        create_url(registered_model),
        version_data(
            parent="fraud-detector:1",
            hyperparameters='{"max_depth": 8, "eta": 0.05, "features": ["amount", "mcc"]}',
            datasets=(
                "# what it learnt from\n"
                "training payments 2024-06 s3://data/payments/2024-06 sha256:aa11\n"
                "\n"
                "validation payments 2024-07\n"
                "evaluation holdout - s3://data/holdout\n"
            ),
            intended_use="Flags card payments for review.",
            limitations="Not for wire transfers.",
            ethical_considerations="Checked for disparate impact by region.",
            tags="tabular, Candidate",
        ),
    )

    version = ModelVersion.objects.get(model=registered_model, version=2)
    assert response.status_code == 302
    assert response["Location"] == version.get_absolute_url()
    assert version.parent == parent
    assert version.created_by == contributor
    assert version.framework == "xgboost"
    assert version.hyperparameters == {"max_depth": 8, "eta": 0.05, "features": ["amount", "mcc"]}
    assert version.model_card_complete
    links = {
        (link.role, link.dataset.name, link.dataset.version, link.dataset.uri, link.dataset.digest)
        for link in version.dataset_links.select_related("dataset")
    }
    assert links == {
        ("training", "payments", "2024-06", "s3://data/payments/2024-06", "sha256:aa11"),
        ("validation", "payments", "2024-07", "", ""),
        ("evaluation", "holdout", "", "s3://data/holdout", ""),
    }
    assert sorted(version.tags.values_list("name", flat=True)) == ["candidate", "tabular"]
    assert last_event().action == "models_app.version.registered"
    assert_chain_intact()
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Registered fraud-detector v2."
    ]


def test_a_bare_number_names_a_parent_of_the_same_model(client, contributor, registered_model):
    make_version(registered_model)
    parent = make_version(registered_model)
    client.force_login(contributor)

    client.post(create_url(registered_model), version_data(parent="v2"))

    assert ModelVersion.objects.get(model=registered_model, version=3).parent == parent


def test_a_parent_may_be_a_version_of_another_visible_model(
    client, contributor, registered_model, other_team
):
    base = make_version(make_model("public-base", team=other_team))
    client.force_login(contributor)

    client.post(create_url(registered_model), version_data(parent="public-base:1"))

    assert ModelVersion.objects.get(model=registered_model, version=1).parent == base


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("hyperparameters", '{"max_depth": 8,', "This is not valid JSON"),
        ("hyperparameters", "[1, 2]", "must be a JSON object"),
        ("hyperparameters", '{"lr": NaN}', "NaN is not allowed"),
        ("hyperparameters", '{"lr": 1e999}', "too large a number"),
        ("parent", "fraud-detector:7", "There is no version"),
        ("parent", "fraud-detector:latest", "is not of the form model-name:version"),
        ("datasets", "training payments\ntesting holdout", "Line 2: &#x27;testing&#x27; is not"),
        ("datasets", "training", "Line 1: give at least a role and a name"),
        ("datasets", "training a b c d e", "Line 1: 6 parts"),
        ("datasets", "training a 1\nevaluation b\ntraining a 1", "Line 3 repeats line 1"),
        ("datasets", "training " + "n" * 201, "Line 1: the name is longer than 200"),
        ("tags", "ok, Not Valid!", "is not valid"),
        ("framework", "caffe", "Select a valid choice"),
    ],
)
def test_a_bad_field_is_a_form_error_and_nothing_is_registered(
    client, contributor, registered_model, field, value, message
):
    client.force_login(contributor)
    before = row_counts()

    response = client.post(create_url(registered_model), version_data(**{field: value}))

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert message in response.content.decode()
    assert row_counts() == before
    registered_model.refresh_from_db()
    assert registered_model.latest_version == 0


def test_a_parent_in_a_model_the_user_cannot_see_is_refused(
    client, contributor, registered_model, other_team
):
    make_version(make_model("vision-secret", team=other_team, restricted=True))
    client.force_login(contributor)

    response = client.post(create_url(registered_model), version_data(parent="vision-secret:1"))

    assert response.status_code == 200
    assert "There is no version" in response.content.decode()
    assert not ModelVersion.objects.filter(model=registered_model).exists()


def test_a_refusal_from_the_service_is_shown_on_the_form(client, contributor, registered_model):
    registered_model.archived_at = timezone.now()
    registered_model.save()
    client.force_login(contributor)

    response = client.post(create_url(registered_model), version_data())

    assert response.status_code == 200
    assert "is archived" in str(response.context["form"].non_field_errors())
    assert not ModelVersion.objects.exists()


def test_the_form_suggests_this_models_versions_as_parents(client, contributor, registered_model):
    make_version(registered_model)
    make_version(registered_model)
    client.force_login(contributor)

    content = client.get(create_url(registered_model)).content.decode()

    assert '<option value="fraud-detector:2">' in content
    assert '<option value="fraud-detector:1">' in content


def test_dataset_lines_keep_their_parts_in_order():
    assert parse_dataset_lines("Training  tx  -  s3://x\n# note\n") == [
        {"role": "training", "name": "tx", "version": "", "uri": "s3://x"}
    ]


# --- editing the card ----------------------------------------------------------------------


def test_it_edits_the_model_card_and_records_it(client, contributor, registered_model):
    version = make_version(registered_model, limitations="Old text.")
    client.force_login(contributor)
    url = reverse("models_app:version_edit", args=[registered_model.name, 1])

    form_page = client.get(url)
    response = client.post(
        url,
        {
            "description": "New **description**.",
            "intended_use": "Fraud review.",
            "limitations": "Not for wires.",
            "ethical_considerations": "",
            "tags": "reviewed",
        },
    )

    assert "Old text." in form_page.content.decode()
    assert response.status_code == 302
    assert response["Location"] == version.get_absolute_url()
    version.refresh_from_db()
    assert version.limitations == "Not for wires."
    assert version.description == "New **description**."
    assert list(version.tags.values_list("name", flat=True)) == ["reviewed"]
    event = last_event()
    assert event.action == "models_app.version.card_updated"
    assert event.before["limitations"] == "Old text."
    assert event.after["tags"] == ["reviewed"]


# --- who may use the write pages -----------------------------------------------------------


def _post_args(view):
    """URL name and a valid POST for each write page of a version of secret-scorer."""
    if view == "version_create":
        return ["secret-scorer"], version_data()
    if view == "version_edit":
        return ["secret-scorer", 1], {"description": "", "limitations": "Changed."}
    if view == "metrics_log":
        return ["secret-scorer", 1], {"metrics": "accuracy 0.9"}
    files = {"file": SimpleUploadedFile("model.bin", b"weights", "application/octet-stream")}
    return ["secret-scorer", 1], {"path": "", "kind": "weights", **files}


def _state(model):
    version = model.versions.get(version=1)
    return {
        **row_counts(),
        "limitations": version.limitations,
        "latest_version": RegisteredModel.objects.get(pk=model.pk).latest_version,
    }


WRITE_VIEWS = ["version_create", "version_edit", "metrics_log", "artifact_upload"]


@pytest.fixture
def restricted_version(restricted_model):
    return make_version(restricted_model, limitations="Original.")


@pytest.mark.parametrize("view", WRITE_VIEWS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_visitors_are_sent_to_sign_in(client, restricted_version, view, method):
    args, data = _post_args(view)
    before = _state(restricted_version.model)

    response = getattr(client, method)(reverse(f"models_app:{view}", args=args), data)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert _state(restricted_version.model) == before


@pytest.mark.parametrize("view", WRITE_VIEWS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_outsiders_get_404_on_a_restricted_model(
    client, outsider, restricted_version, view, method
):
    args, data = _post_args(view)
    before = _state(restricted_version.model)
    client.force_login(outsider)

    response = getattr(client, method)(reverse(f"models_app:{view}", args=args), data)

    assert response.status_code == 404
    assert _state(restricted_version.model) == before


@pytest.mark.parametrize("view", WRITE_VIEWS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_viewers_get_403_and_nothing_changes(client, viewer, restricted_version, view, method):
    args, data = _post_args(view)
    before = _state(restricted_version.model)
    client.force_login(viewer)

    response = getattr(client, method)(reverse(f"models_app:{view}", args=args), data)

    assert response.status_code == 403
    assert _state(restricted_version.model) == before


@pytest.mark.parametrize("view", WRITE_VIEWS)
def test_contributors_can_use_every_write_page(client, contributor, restricted_version, view):
    args, data = _post_args(view)
    before = _state(restricted_version.model)
    client.force_login(contributor)
    url = reverse(f"models_app:{view}", args=args)

    assert client.get(url).status_code == 200
    response = client.post(url, data)

    assert response.status_code == 302
    after = _state(restricted_version.model)
    assert after != before
    assert after["AuditEvent"] == before["AuditEvent"] + 1


def test_a_superuser_can_register_versions_in_any_team(client, superuser, restricted_model):
    client.force_login(superuser)

    response = client.post(create_url(restricted_model), version_data())

    assert response.status_code == 302
    assert restricted_model.versions.count() == 1


def test_write_pages_of_an_unknown_version_are_404(client, contributor, registered_model):
    client.force_login(contributor)

    for view in ["version_edit", "metrics_log", "artifact_upload"]:
        url = reverse(f"models_app:{view}", args=[registered_model.name, 5])
        assert client.get(url).status_code == 404
