"""Concurrent writers against the real database.

SQLite serialises every writer, so these only prove something on PostgreSQL, where row locks
are what keeps version numbers and the audit chain in order.
"""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages

from models_app.models import Artifact, AuditChainHead, AuditEvent, ModelVersion, RegisteredModel
from models_app.services import (
    attach_artifact,
    create_model,
    log_metrics,
    open_verified_artifact,
    register_version,
)
from tests.concurrency import run_at_once, skip_unless_postgresql
from tests.models_app.ledger import assert_chain_intact, stored_names

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgresql_only():
    skip_unless_postgresql()


@pytest.fixture
def disk_artifacts(settings, tmp_path):
    # Several threads share the storage; the file system is safe for that, InMemoryStorage
    # is not.
    settings.STORAGES = {
        **settings.STORAGES,
        "artifacts": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path, "base_url": None},
        },
    }
    storages._storages.pop("artifacts", None)
    yield storages["artifacts"]
    storages._storages.pop("artifacts", None)


def assert_linear_chain(expected_events: int) -> None:
    assert_chain_intact(expected_events=expected_events)
    previous = list(AuditEvent.objects.values_list("previous_hash", flat=True))
    assert len(set(previous)) == len(previous), "two events claim the same predecessor"


def test_twenty_concurrent_registrations_get_numbers_one_to_twenty(contributor, team):
    model = create_model(actor=contributor, name="contended", team=team)

    def register(index: int) -> int:
        fresh = RegisteredModel.objects.get(pk=model.pk)
        return register_version(actor=contributor, model=fresh, source_uri=f"run-{index}").version

    numbers, errors = run_at_once(*[lambda i=i: register(i) for i in range(20)])

    assert errors == []
    assert sorted(numbers) == list(range(1, 21))
    stored = ModelVersion.objects.filter(model=model).values_list("version", flat=True)
    assert sorted(stored) == list(range(1, 21))
    model.refresh_from_db()
    assert model.latest_version == 20
    assert AuditEvent.objects.filter(action="models_app.version.registered").count() == 20
    assert_linear_chain(expected_events=21)


def test_concurrent_metrics_and_uploads_keep_the_chain_linear(contributor, team, disk_artifacts):
    versions = []
    for index in range(10):
        model = create_model(actor=contributor, name=f"busy-{index}", team=team)
        versions.append(register_version(actor=contributor, model=model))
    shared = b"the same base weights in every model" * 64

    def log_and_upload(index: int) -> None:
        version = ModelVersion.objects.select_related("model").get(pk=versions[index].pk)
        log_metrics(
            actor=contributor,
            version=version,
            metrics=[{"key": "auc", "value": 0.8 + index / 100}, {"key": "latency ms", "value": 9}],
        )
        attach_artifact(
            actor=contributor, version=version, path="weights.bin", content=ContentFile(shared)
        )
        attach_artifact(
            actor=contributor,
            version=version,
            path="config.json",
            content=ContentFile(f'{{"index": {index}}}'.encode()),
        )

    _, errors = run_at_once(*[lambda i=i: log_and_upload(i) for i in range(10)])

    assert errors == []
    # 10 models and 10 versions set up, then 10 metric batches and 20 uploads.
    assert_linear_chain(expected_events=50)
    weights = Artifact.objects.filter(path="weights.bin")
    assert weights.count() == 10
    assert len(set(weights.values_list("storage_key", flat=True))) == 1
    # One shared object for the weights plus ten distinct configs, and no stray copies.
    assert len(stored_names(disk_artifacts)) == 11
    for artifact in Artifact.objects.all():
        with open_verified_artifact(artifact):
            pass


def test_concurrent_writers_recreate_a_missing_chain_head_once(contributor, team):
    models = [create_model(actor=contributor, name=f"racer-{i}", team=team) for i in range(8)]
    # A flush removes the head row; the first writers afterwards race to recreate it.
    AuditChainHead.objects.all().delete()

    def register(index: int) -> int:
        fresh = RegisteredModel.objects.get(pk=models[index].pk)
        return register_version(actor=contributor, model=fresh).version

    numbers, errors = run_at_once(*[lambda i=i: register(i) for i in range(8)])

    assert errors == []
    assert numbers == [1] * 8
    assert AuditChainHead.objects.count() == 1
    assert_linear_chain(expected_events=16)
