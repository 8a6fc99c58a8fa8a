"""Simultaneous promotions, rollbacks and retirements of one model, against the real database.

SQLite serialises every writer, so these only prove something on PostgreSQL, where the row
lock on the model is what keeps one full-traffic deployment per environment, canary shares
below 100% together, and the audit chain linear.
"""

import pytest

from approvals_app.promotion import PromotionError, promote, rollback
from models_app.models import AuditEvent, Deployment, ModelVersion, RegisteredModel
from models_app.services import InUse, retire_version
from tests.concurrency import run_at_once, skip_unless_postgresql
from tests.factories import make_environment, make_version
from tests.models_app.ledger import assert_chain_intact

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgresql_only():
    skip_unless_postgresql()


@pytest.fixture
def staging(db):
    return make_environment("staging", order=20)


@pytest.fixture
def versions(registered_model):
    return [make_version(registered_model) for _ in range(8)]


def fresh(version: ModelVersion) -> ModelVersion:
    # Each thread works from its own instance, as separate requests would.
    return ModelVersion.objects.select_related("model__team").get(pk=version.pk)


def promoting(actor, version, environment, **kwargs):
    return lambda: promote(actor=actor, version=fresh(version), environment=environment, **kwargs)


def assert_one_live(environment) -> Deployment:
    live = list(Deployment.objects.active().filter(environment=environment, traffic_percent=100))
    assert len(live) == 1, f"{len(live)} full-traffic deployments are active"
    return live[0]


def assert_linear_chain() -> None:
    assert_chain_intact()
    previous = list(AuditEvent.objects.values_list("previous_hash", flat=True))
    assert len(set(previous)) == len(previous), "two events claim the same predecessor"


def test_two_full_traffic_promotions_at_once_leave_one_live(contributor, versions, staging):
    deployments, errors = run_at_once(
        promoting(contributor, versions[0], staging), promoting(contributor, versions[1], staging)
    )

    # Serialised by the model lock: both succeed, the later superseding the earlier.
    assert errors == []
    live = assert_one_live(staging)
    earlier = next(d for d in deployments if d.pk != live.pk)
    earlier.refresh_from_db()
    assert (earlier.status, earlier.superseded_by_id) == (Deployment.Status.SUPERSEDED, live.pk)
    assert earlier.ended_at == live.deployed_at
    assert AuditEvent.objects.filter(action="approvals.deployment.promoted").count() == 2
    assert_linear_chain()


def test_eight_promotions_at_once_form_one_unbroken_succession(contributor, versions, staging):
    _, errors = run_at_once(*(promoting(contributor, v, staging) for v in versions))

    assert errors == []
    live = assert_one_live(staging)
    rows = list(Deployment.objects.filter(environment=staging).order_by("deployed_at", "pk"))
    assert len(rows) == 8 and rows[-1] == live
    for earlier, later in zip(rows, rows[1:], strict=False):
        assert earlier.superseded_by_id == later.pk
        assert earlier.ended_at == later.deployed_at
    assert_linear_chain()


def test_two_sixty_percent_canaries_at_once_one_is_refused_cleanly(contributor, versions, staging):
    promote(actor=contributor, version=versions[0], environment=staging)

    deployments, errors = run_at_once(
        promoting(contributor, versions[1], staging, traffic_percent=60),
        promoting(contributor, versions[2], staging, traffic_percent=60),
    )

    assert len(errors) == 1, errors
    assert isinstance(errors[0], PromotionError)
    assert errors[0].code == "traffic_exceeded"
    assert len([d for d in deployments if d is not None]) == 1
    canaries = Deployment.objects.active().filter(environment=staging, traffic_percent__lt=100)
    assert list(canaries.values_list("traffic_percent", flat=True)) == [60]
    assert_one_live(staging)
    assert AuditEvent.objects.filter(action="approvals.deployment.promoted").count() == 2
    assert_linear_chain()


def test_a_retirement_racing_a_promotion_never_leaves_a_retired_version_live(
    contributor, versions, staging
):
    target = versions[3]

    def retire():
        return retire_version(actor=contributor, version=fresh(target))

    _, errors = run_at_once(promoting(contributor, target, staging), retire)

    assert len(errors) == 1, errors
    target.refresh_from_db()
    if target.retired_at is None:
        # The promotion went first; the retirement saw it active and refused.
        assert isinstance(errors[0], InUse)
        assert assert_one_live(staging).version == target
    else:
        assert isinstance(errors[0], PromotionError)
        assert errors[0].code == "retired"
        assert not Deployment.objects.filter(version=target).exists()
    assert_linear_chain()


def test_two_rollbacks_at_once_walk_back_one_step_each(contributor, versions, staging):
    for version in versions[:3]:
        promote(actor=contributor, version=version, environment=staging)
    model = versions[0].model

    def roll_back():
        return rollback(
            actor=contributor, model=RegisteredModel.objects.get(pk=model.pk), environment=staging
        )

    _, errors = run_at_once(roll_back, roll_back)

    assert errors == []
    assert assert_one_live(staging).version == versions[0]
    assert Deployment.objects.filter(status=Deployment.Status.ROLLED_BACK).count() == 2
    assert_linear_chain()
