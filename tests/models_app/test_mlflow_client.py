"""The stock MLflow client, over real HTTP, against the registry's MLflow-compatible API."""

import os
import warnings

import pytest

# MLflow decides about telemetry when it is first imported; it must not reach the internet.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

import mlflow  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

from models_app.audit import verify_chain  # noqa: E402
from models_app.models import Alias, AuditEvent, ModelVersion, RegisteredModel  # noqa: E402
from models_app.services import create_access_token  # noqa: E402
from tests.factories import make_model, make_version  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _offline_client(monkeypatch):
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("DO_NOT_TRACK", "true")
    # A refusal must surface at once rather than after the client's back-off retries.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    for name in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def client_for(live_server, monkeypatch):
    """A stock client signed in as ``user``. The token is read from the environment on every
    request, so the last client made is the one whose user acts."""

    def make(user):
        _, raw = create_access_token(actor=user, name="pipeline")
        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", raw)
        return mlflow.MlflowClient(tracking_uri=live_server.url, registry_uri=live_server.url)

    return make


def test_a_pipeline_registers_and_reads_a_model_with_the_stock_client(client_for, contributor):
    client = client_for(contributor)

    created = client.create_registered_model(
        "churn-model", tags={"tabular": "", "owner": "Risk Team"}, description="Predicts churn."
    )
    version = client.create_model_version(
        "churn-model",
        source="s3://bucket/run/artifacts/model",
        run_id="0a1b2c3d",
        tags={"framework": "sklearn"},
        description="First candidate.",
    )
    model = client.get_registered_model("churn-model")
    found_models = client.search_registered_models(filter_string="name LIKE 'churn%'")
    found_versions = client.search_model_versions("name='churn-model'")
    client.set_registered_model_alias("churn-model", "champion", version.version)
    by_alias = client.get_model_version_by_alias("churn-model", "champion")
    client.delete_registered_model_alias("churn-model", "champion")
    updated = client.update_model_version("churn-model", version.version, "Validated candidate.")
    client.set_registered_model_tag("churn-model", "lane", "fast")
    client.set_model_version_tag("churn-model", version.version, "validated", "true")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # stages are deprecated in MLflow
        latest = client.get_latest_versions("churn-model")

    assert created.name == "churn-model"
    assert created.tags == {"tabular": "", "owner": "Risk Team"}
    assert version.version == "1"
    assert version.status == "READY"
    assert version.source == "s3://bucket/run/artifacts/model"
    assert model.description == "Predicts churn."
    assert [v.version for v in model.latest_versions] == ["1"]
    assert [m.name for m in found_models] == ["churn-model"]
    assert [(v.name, v.version, v.run_id) for v in found_versions] == [
        ("churn-model", "1", "0a1b2c3d")
    ]
    assert by_alias.version == "1" and by_alias.aliases == ["champion"]
    assert updated.description == "Validated candidate."
    assert [(v.version, v.current_stage, v.tags) for v in latest] == [
        ("1", "None", {"framework": "sklearn", "validated": "true"})
    ]
    with pytest.raises(MlflowException) as missing:
        client.get_model_version_by_alias("churn-model", "champion")
    assert missing.value.error_code == "RESOURCE_DOES_NOT_EXIST"

    row = RegisteredModel.objects.get(name="churn-model")
    assert row.team.slug == "fraud-team"
    assert row.created_by == contributor
    assert list(row.tags.values_list("name", flat=True)) == ["tabular"]
    assert row.properties == {"lane": "fast", "owner": "Risk Team"}
    version_row = ModelVersion.objects.get(model=row, version=1)
    assert version_row.source_uri == "s3://bucket/run/artifacts/model"
    assert version_row.run_id == "0a1b2c3d"
    assert version_row.description == "Validated candidate."
    assert version_row.properties == {"framework": "sklearn", "validated": "true"}
    assert not Alias.objects.filter(model=row).exists()
    events = AuditEvent.objects.filter(model_name="churn-model").order_by("sequence")
    assert [event.action for event in events] == [
        "models_app.model.created",
        "models_app.version.registered",
        "models_app.alias.set",
        "models_app.alias.deleted",
        "models_app.version.card_updated",
        "models_app.model.updated",
        "models_app.version.card_updated",
    ]
    assert {event.actor for event in events} == {contributor}
    assert verify_chain()[1] is None


def test_a_restricted_model_is_invisible_to_an_outsiders_token(
    client_for, outsider, restricted_model, registered_model
):
    make_version(restricted_model, source_uri="s3://secret/model")
    make_version(registered_model, source_uri="s3://open/model")
    client = client_for(outsider)

    with pytest.raises(MlflowException) as hidden:
        client.get_registered_model("secret-scorer")

    assert hidden.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert [m.name for m in client.search_registered_models()] == ["fraud-detector"]
    assert [v.name for v in client.search_model_versions()] == ["fraud-detector"]


def test_a_viewers_token_is_refused_on_create(client_for, viewer):
    client = client_for(viewer)

    with pytest.raises(MlflowException) as refused:
        client.create_registered_model("viewer-model")

    assert refused.value.error_code == "PERMISSION_DENIED"
    assert not RegisteredModel.objects.filter(name="viewer-model").exists()


def test_basic_auth_with_the_token_as_password_signs_in(live_server, monkeypatch, contributor):
    _, raw = create_access_token(actor=contributor, name="basic")
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "carol")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", raw)
    make_model("fraud-detector", team=contributor.memberships.get().team)
    client = mlflow.MlflowClient(tracking_uri=live_server.url, registry_uri=live_server.url)

    assert client.get_registered_model("fraud-detector").name == "fraud-detector"


def test_without_a_token_the_client_is_told_to_set_one(live_server, registered_model):
    client = mlflow.MlflowClient(tracking_uri=live_server.url, registry_uri=live_server.url)

    with pytest.raises(MlflowException) as refused:
        client.get_registered_model("fraud-detector")

    assert refused.value.error_code == "UNAUTHENTICATED"
    assert "MLFLOW_TRACKING_TOKEN" in refused.value.message
