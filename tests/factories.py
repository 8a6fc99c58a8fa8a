"""Small factory helpers: sensible defaults plus **overrides. They write rows directly,
because they build the world a test starts from; the behaviour under test goes through
the services."""

import itertools

from django.contrib.auth import get_user_model
from django.utils import timezone

from models_app.models import (
    Alias,
    Artifact,
    Dataset,
    Deployment,
    Environment,
    Membership,
    Metric,
    MetricDefinition,
    ModelVersion,
    RegisteredModel,
    Team,
)

_counter = itertools.count(1)


def make_user(username=None, **overrides):
    username = username or f"user{next(_counter)}"
    user = get_user_model().objects.create_user(
        username=username, password=overrides.pop("password", "pw"), **overrides
    )
    return user


def make_team(slug=None, **overrides):
    slug = slug or f"team-{next(_counter)}"
    return Team.objects.create(slug=slug, name=overrides.pop("name", slug.title()), **overrides)


def add_member(user, team, role="contributor"):
    return Membership.objects.create(user=user, team=team, role=role)


def make_model(name=None, team=None, **overrides):
    name = name or f"model-{next(_counter)}"
    team = team or make_team()
    return RegisteredModel.objects.create(name=name, team=team, **overrides)


def make_version(model=None, **overrides):
    """Allocates the next number the same way the service does (without the lock)."""
    model = model or make_model()
    model.latest_version += 1
    model.save(update_fields=["latest_version"])
    return ModelVersion.objects.create(model=model, version=model.latest_version, **overrides)


def make_metric(version, key="accuracy", value=0.9, **overrides):
    return Metric.objects.create(version=version, key=key, value=value, **overrides)


def make_metric_definition(key="accuracy", **overrides):
    return MetricDefinition.objects.create(key=key, **overrides)


def make_dataset(name=None, **overrides):
    return Dataset.objects.create(name=name or f"dataset-{next(_counter)}", **overrides)


def make_alias(model, name, version):
    return Alias.objects.create(model=model, name=name, version=version)


def make_environment(name="production", **overrides):
    return Environment.objects.create(name=name, **overrides)


def make_artifact_row(version, path="model.bin", **overrides):
    defaults = {"size": 5, "sha256": "0" * 64, "storage_key": "sha256/00/00/" + "0" * 64}
    defaults.update(overrides)
    return Artifact.objects.create(version=version, path=path, **defaults)


def make_deployment(version, environment, **overrides):
    """An active full-traffic deployment row unless overridden (an ended status needs
    ended_at: the database refuses an ended deployment without one)."""
    fields = {"deployed_at": timezone.now(), "traffic_percent": 100}
    fields.update(overrides)
    return Deployment.objects.create(
        model=version.model, version=version, environment=environment, **fields
    )
