"""A version's lifecycle stage, derived from its deployments, requests and dates."""

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals_app.lifecycle import Stage, version_lifecycle, version_lifecycles
from approvals_app.models import ApprovalPolicy, ApprovalRequest
from models_app.models import Deployment, ModelVersion
from tests.factories import make_deployment, make_environment, make_version


@pytest.fixture
def staging(db):
    return make_environment("staging", order=20)


@pytest.fixture
def production(db):
    production = make_environment("production", order=30, requires_approval=True)
    ApprovalPolicy.objects.create(name="Production", environment=production)
    return production


@pytest.fixture
def version(registered_model):
    return make_version(registered_model)


def request_for(version, environment, requester, status="open", expires_in=timedelta(days=5)):
    return ApprovalRequest.objects.create(
        version=version,
        environment=environment,
        policy=ApprovalPolicy.objects.get(environment=environment),
        requester=requester,
        justification="Ready.",
        status=status,
        expires_at=timezone.now() + expires_in if status == "approved" else None,
    )


def stage_of(version) -> Stage:
    version.refresh_from_db()
    return version_lifecycle(version).stage


def test_a_new_version_is_registered(version):
    lifecycle = version_lifecycle(version)

    assert lifecycle.stage == Stage.REGISTERED
    assert (lifecycle.label, lifecycle.position) == ("Registered", 0)


def test_an_open_request_puts_it_in_review(version, production, contributor):
    request_for(version, production, contributor)

    lifecycle = version_lifecycle(version)

    assert lifecycle.stage == Stage.IN_REVIEW
    assert lifecycle.in_review_for == ["production"]


def test_changes_requested_is_still_in_review(version, production, contributor):
    request_for(version, production, contributor, status="changes_requested")

    assert stage_of(version) == Stage.IN_REVIEW


def test_a_valid_approval_makes_it_approved_and_expiry_undoes_that(
    version, production, contributor
):
    approval = request_for(version, production, contributor, status="approved")
    lifecycle = version_lifecycle(version)
    assert lifecycle.stage == Stage.APPROVED
    assert lifecycle.approved_for == ["production"]

    ApprovalRequest.objects.filter(pk=approval.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert stage_of(version) == Stage.REGISTERED


@pytest.mark.parametrize("status", ["rejected", "withdrawn", "superseded"])
def test_closed_requests_leave_it_registered(version, production, contributor, status):
    request_for(version, production, contributor, status=status)

    assert stage_of(version) == Stage.REGISTERED


def test_an_active_deployment_makes_it_deployed_and_an_ended_one_does_not(
    version, staging, production, contributor
):
    request_for(version, production, contributor)
    deployment = make_deployment(version, staging, traffic_percent=10)
    lifecycle = version_lifecycle(version)
    assert lifecycle.stage == Stage.DEPLOYED
    assert lifecycle.deployed_in == ["staging"]
    assert lifecycle.in_review_for == ["production"]

    Deployment.objects.filter(pk=deployment.pk).update(
        status=Deployment.Status.SUPERSEDED, ended_at=timezone.now()
    )

    assert stage_of(version) == Stage.IN_REVIEW


def test_deprecation_and_retirement_outrank_everything(version, staging):
    make_deployment(version, staging)
    ModelVersion.objects.filter(pk=version.pk).update(deprecated_at=timezone.now())
    assert stage_of(version) == Stage.DEPRECATED

    ModelVersion.objects.filter(pk=version.pk).update(retired_at=timezone.now())

    assert stage_of(version) == Stage.RETIRED
    assert version_lifecycle(version).position == len(Stage.values) - 1


def test_the_bulk_variant_takes_three_queries_however_many_versions(
    django_assert_num_queries, registered_model, staging, production, contributor
):
    def build(count):
        made = [make_version(registered_model) for _ in range(count)]
        make_deployment(made[0], staging, traffic_percent=1)
        request_for(made[-1], production, contributor, status="approved")
        return list(ModelVersion.objects.filter(model=registered_model))

    few = build(2)
    # active deployments, valid approvals, open requests
    with django_assert_num_queries(3):
        stages = version_lifecycles(few)
    assert sorted(lifecycle.stage for lifecycle in stages.values()) == sorted(
        [Stage.DEPLOYED, Stage.APPROVED]
    )
    many = build(6)
    with django_assert_num_queries(3):
        assert len(version_lifecycles(many)) == 8
    with django_assert_num_queries(0):
        assert version_lifecycles([]) == {}
