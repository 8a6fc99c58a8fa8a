import hashlib
import io
from datetime import timedelta

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, F, Max, Min
from django.utils import timezone

from models_app import services
from models_app.audit import verify_chain
from models_app.models import (
    Alias,
    Application,
    Artifact,
    AuditEvent,
    Dataset,
    Dependency,
    Deployment,
    Environment,
    Membership,
    Metric,
    MetricDefinition,
    ModelVersion,
    RegisteredModel,
    Team,
)

pytestmark = pytest.mark.django_db

DEMO_USERS = ("admin", "engineer", "lead", "risk", "viewer")
_COUNTED = (
    get_user_model(),
    Group,
    Team,
    Membership,
    RegisteredModel,
    ModelVersion,
    Dataset,
    Metric,
    MetricDefinition,
    Artifact,
    Alias,
    Environment,
    Deployment,
    Application,
    Dependency,
    AuditEvent,
)


def _seed() -> str:
    out = io.StringIO()
    call_command("seed_catalogue", stdout=out)
    return out.getvalue()


def _row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in _COUNTED}


def _stored_files(storage, path: str = "") -> int:
    directories, files = storage.listdir(path)
    return len(files) + sum(_stored_files(storage, f"{path}/{d}".lstrip("/")) for d in directories)


def test_it_builds_an_organisation_that_holds_together(artifact_store):
    output = _seed()

    assert "Demo logins" in output
    assert RegisteredModel.objects.count() >= 12
    for username in DEMO_USERS:
        assert authenticate(None, username=username, password="demo") is not None, username
    assert get_user_model().objects.get(username="admin").is_superuser
    assert Group.objects.get(name="ML leads").user_set.filter(username="lead").exists()

    viewer = get_user_model().objects.get(username="viewer")
    restricted = RegisteredModel.objects.filter(restricted=True)
    assert restricted.exists()
    assert not RegisteredModel.objects.visible_to(viewer).filter(restricted=True).exists()
    assert RegisteredModel.objects.filter(archived_at__isnull=False).exists()

    # Lineage: parent chains, a branch (a version with two children), a parent in another
    # model, and roots that name a public base model.
    assert ModelVersion.objects.filter(parent__isnull=False).count() > 40
    assert ModelVersion.objects.annotate(n=Count("children")).filter(n__gte=2).exists()
    assert (
        ModelVersion.objects.filter(parent__isnull=False).exclude(parent__model=F("model")).exists()
    )
    assert ModelVersion.objects.filter(external_base_model__startswith="meta-llama/").exists()

    used_keys = set(Metric.objects.values_list("key", flat=True))
    assert used_keys <= set(MetricDefinition.objects.values_list("key", flat=True))
    assert Metric.objects.filter(key="recall", slice="gender=female").exists()
    assert Metric.objects.filter(key="val_loss", step=0).exists()

    for artifact in Artifact.objects.all():
        with artifact_store.open(artifact.storage_key, "rb") as stored:
            content = stored.read()
        assert hashlib.sha256(content).hexdigest() == artifact.sha256, artifact.path
        assert len(content) == artifact.size
    assert set(Artifact.objects.values_list("kind", flat=True)) == set(Artifact.Kind.values)

    assert Environment.objects.get(name="production").requires_approval
    # Deployments are made by approvals_app's promotion, which the catalogue cannot call;
    # seed_demo replays them with the rest of the history.
    assert not Deployment.objects.exists()
    assert Application.objects.count() >= 5
    assert Dependency.objects.filter(pinned_version__isnull=False).exists()

    checked, problem = verify_chain()
    assert problem is None, problem
    assert checked == AuditEvent.objects.count()


def test_rows_and_the_ledger_tell_the_same_history(artifact_store):
    before = timezone.now()
    _seed()

    times = list(AuditEvent.objects.order_by("sequence").values_list("created_at", flat=True))
    assert times == sorted(times)
    assert times[-1] < before
    # Six months of work, not a few seconds of loading.
    assert times[-1] - times[0] > timedelta(days=150)

    registered = dict(
        AuditEvent.objects.filter(action="models_app.version.registered").values_list(
            "object_id", "created_at"
        )
    )
    versions = ModelVersion.objects.all()
    assert len(registered) == versions.count()
    for version in versions:
        # The service stamps the row and its event a moment apart, as it does at run time.
        assert (
            timedelta(0) <= registered[str(version.pk)] - version.created_at < timedelta(seconds=1)
        )
    for version in versions.annotate(
        first=Min("metrics__recorded_at"), last=Max("artifacts__created_at")
    ):
        assert version.created_at < version.first < version.last, version
        assert version.model.created_at < version.created_at, version
    archived = RegisteredModel.objects.get(archived_at__isnull=False)
    archived_event = AuditEvent.objects.get(action="models_app.model.archived")
    assert timedelta(0) <= archived_event.created_at - archived.archived_at < timedelta(seconds=1)
    # A dataset is recorded when the first version that names it is registered.
    for dataset in Dataset.objects.annotate(first_use=Min("versions__created_at")):
        assert timedelta(0) <= dataset.created_at - dataset.first_use < timedelta(seconds=1)


def test_it_refuses_to_replay_in_front_of_an_existing_ledger(superuser):
    services.create_model(actor=superuser, name="already-here", team=Team.objects.create(slug="t"))
    counts = _row_counts()

    with pytest.raises(CommandError, match="fresh database"):
        _seed()

    assert _row_counts() == counts


def test_a_second_run_changes_nothing(artifact_store):
    _seed()
    counts = _row_counts()
    stored = _stored_files(artifact_store)
    assert stored > 0

    output = _seed()

    assert "Demo data already present; nothing to do." in output
    assert _row_counts() == counts
    assert _stored_files(artifact_store) == stored
