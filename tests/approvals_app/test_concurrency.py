"""Simultaneous decisions on one approval request, against the real database.

SQLite serialises every writer, so these only prove something on PostgreSQL, where the row
lock on the request is what keeps reviews, status and the audit chain consistent.
"""

import threading
import time

import pytest

from approvals_app import services
from approvals_app.models import ApprovalRequest, Review
from approvals_app.services import ApprovalError, submit_review, withdraw_request
from models_app import services as catalogue
from models_app.models import AuditEvent, ModelVersion
from tests.approvals_app.builders import build_world, make_policy
from tests.concurrency import run_at_once, skip_unless_postgresql
from tests.models_app.ledger import assert_chain_intact

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgresql_only():
    skip_unless_postgresql()


@pytest.fixture
def world():
    return build_world()


def approving(pk: int, reviewer):
    def work():
        # A fresh instance per thread, as two browser requests would load it.
        approval = ApprovalRequest.objects.get(pk=pk)
        return submit_review(actor=reviewer, approval=approval, decision="approve").status

    return work


def withdrawing(pk: int, requester):
    def work():
        approval = ApprovalRequest.objects.get(pk=pk)
        return withdraw_request(actor=requester, approval=approval).status

    return work


def test_two_reviewers_approving_at_once_make_two_reviews_and_one_approval(world):
    make_policy(world.production, required_approvals=2)
    approval = world.open_request()

    statuses, errors = run_at_once(
        approving(approval.pk, world.lead), approving(approval.pk, world.peer)
    )

    assert errors == []
    # Whoever came second saw the first review and completed the quorum.
    assert sorted(statuses) == ["approved", "open"]
    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.APPROVED
    assert approval.evidence["metrics"]
    reviews = Review.objects.filter(request=approval)
    assert sorted(r.reviewer.username for r in reviews) == ["lead", "peer"]
    assert AuditEvent.objects.filter(action="approvals.review.approve").count() == 2
    assert AuditEvent.objects.filter(action="approvals.request.approved").count() == 1
    assert AuditEvent.objects.filter(action="models_app.version.evidence_locked").count() == 1
    assert_chain_intact()


def test_three_reviewers_for_a_quorum_of_two_approve_once(world):
    make_policy(world.production, required_approvals=2)
    approval = world.open_request()

    statuses, errors = run_at_once(
        approving(approval.pk, world.lead),
        approving(approval.pk, world.peer),
        approving(approval.pk, world.risk),
    )

    # The third to take the lock finds the request already approved and is refused.
    assert [str(e) for e in errors] == ["This request is approved; it can no longer be reviewed."]
    assert sorted(s for s in statuses if s) == ["approved", "open"]
    assert Review.objects.filter(request=approval).count() == 2
    assert AuditEvent.objects.filter(action="approvals.request.approved").count() == 1
    assert_chain_intact()


def test_a_double_clicked_approve_records_one_review(world):
    make_policy(world.production, required_approvals=2)
    approval = world.open_request()

    statuses, errors = run_at_once(
        approving(approval.pk, world.lead), approving(approval.pk, world.lead)
    )

    assert len(errors) == 1
    [error] = errors
    # A clean refusal with a message, not a database IntegrityError.
    assert type(error) is ApprovalError
    assert error.code == "duplicate"
    assert error.message == "You have already approved this request."
    assert [s for s in statuses if s] == ["open"]
    assert Review.objects.filter(request=approval).count() == 1
    assert AuditEvent.objects.filter(action="approvals.review.approve").count() == 1
    assert_chain_intact()


@pytest.mark.parametrize("attempt", range(4))
def test_withdraw_and_approve_racing_never_both_succeed(world, attempt):
    make_policy(world.production, required_approvals=1)
    approval = world.open_request()

    _, errors = run_at_once(
        withdrawing(approval.pk, world.engineer), approving(approval.pk, world.lead)
    )

    approval.refresh_from_db()
    assert len(errors) == 1
    [error] = errors
    assert isinstance(error, ApprovalError)
    approvals = Review.objects.filter(request=approval, decision="approve")
    if approval.status == ApprovalRequest.Status.WITHDRAWN:
        assert str(error) == "This request is withdrawn; it can no longer be reviewed."
        assert not approvals.exists()
        assert not AuditEvent.objects.filter(action="approvals.request.approved").exists()
        world.version.refresh_from_db()
        assert world.version.evidence_locked_at is None
    else:
        assert approval.status == ApprovalRequest.Status.APPROVED
        assert "only open requests can be withdrawn" in str(error)
        assert approvals.count() == 1
        assert not AuditEvent.objects.filter(action="approvals.request.withdrawn").exists()
    assert_chain_intact()


def test_an_approval_and_a_metrics_upload_on_the_same_version_do_not_deadlock(world, monkeypatch):
    # log_metrics locks the model row and then the version row. Hold it between the two for
    # a moment, so that the approval takes its locks in that gap.
    make_policy(world.production, required_approvals=1)
    approval = world.open_request()
    model_locked = threading.Event()
    lock_active_model = catalogue._lock_active_model

    def slow_lock_active_model(model_id):
        model = lock_active_model(model_id)
        model_locked.set()
        time.sleep(1.5)
        return model

    monkeypatch.setattr(catalogue, "_lock_active_model", slow_lock_active_model)

    def upload():
        version = ModelVersion.objects.select_related("model").get(pk=world.version.pk)
        catalogue.log_metrics(
            actor=world.engineer, version=version, metrics=[{"key": "auc", "value": 0.97}]
        )
        return "logged"

    def approve_after_the_model_lock():
        assert model_locked.wait(timeout=30)
        return approving(approval.pk, world.lead)()

    results, errors = run_at_once(upload, approve_after_the_model_lock)

    # The upload held the model first, so it commits first and the approval freezes its
    # metric; neither may fail with a deadlock.
    assert errors == []
    assert results == ["logged", "approved"]
    approval.refresh_from_db()
    assert {"key": "auc", "slice": "", "value": 0.97} in approval.evidence["metrics"]
    assert_chain_intact()


def test_approving_a_newer_and_an_older_request_of_one_model_at_once_does_not_deadlock(
    world, monkeypatch
):
    # Approving the newer request locks the older open one to supersede it. Pause the first
    # approval after it holds its locks, so that the second decision starts in that gap.
    make_policy(world.production, required_approvals=1)
    older = world.open_request()
    newer = world.open_request(world.version_of(auc=0.97, latency_p95_ms=90.0))
    first_holds_its_locks = threading.Event()
    freeze_evidence = services._freeze_evidence

    def slow_freeze_evidence(approval, report):
        if not first_holds_its_locks.is_set():
            first_holds_its_locks.set()
            time.sleep(1.5)
        return freeze_evidence(approval, report)

    monkeypatch.setattr(services, "_freeze_evidence", slow_freeze_evidence)

    def approve_older_meanwhile():
        assert first_holds_its_locks.wait(timeout=30)
        return approving(older.pk, world.peer)()

    results, errors = run_at_once(approving(newer.pk, world.lead), approve_older_meanwhile)

    # The newer approval went first and superseded the older request, whose reviewer is
    # then refused with a reason: no deadlock, no database error.
    assert results == ["approved", None]
    assert [str(e) for e in errors] == ["This request is superseded; it can no longer be reviewed."]
    older.refresh_from_db()
    assert older.status == ApprovalRequest.Status.SUPERSEDED
    assert not Review.objects.filter(request=older).exists()
    assert_chain_intact()


def test_an_approval_and_a_model_card_edit_on_the_same_version_do_not_deadlock(world, monkeypatch):
    # The card edit locks the version (and, through its join, the model); pause it there so
    # that the approval arrives while the edit holds them.
    make_policy(world.production, required_approvals=1)
    approval = world.open_request()
    version_locked = threading.Event()
    snapshot = catalogue._snapshot

    def slow_snapshot(obj, fields):
        if not version_locked.is_set():
            version_locked.set()
            time.sleep(1.5)
        return snapshot(obj, fields)

    monkeypatch.setattr(catalogue, "_snapshot", slow_snapshot)

    def edit_card():
        version = ModelVersion.objects.select_related("model").get(pk=world.version.pk)
        catalogue.update_version_card(
            actor=world.engineer, version=version, limitations="EU and UK traffic."
        )
        return "edited"

    def approve_meanwhile():
        assert version_locked.wait(timeout=30)
        return approving(approval.pk, world.lead)()

    results, errors = run_at_once(edit_card, approve_meanwhile)

    assert errors == []
    assert results == ["edited", "approved"]
    approval.refresh_from_db()
    # The approval waited for the edit, so it froze the edited card.
    assert approval.evidence["model_card"]["limitations"] == "EU and UK traffic."
    assert_chain_intact()
