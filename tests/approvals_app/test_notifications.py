"""Emails sent by the pages: eligible reviewers when a request is opened from the form, the
requester after each decision taken on the request card."""

import pytest
from django.core import mail
from django.urls import reverse

from tests.approvals_app.builders import build_world, make_policy

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Target": "request-card"}


@pytest.fixture
def world():
    world = build_world()
    make_policy(world.production, required_approvals=2, required_roles=[world.risk_group])
    return world


def ask(client, world):
    client.force_login(world.engineer)
    url = reverse("approvals_app:request_create", args=[world.model.name, world.version.version])
    return client.post(url, {"environment": "production", "justification": "Ready."})


def decide(client, approval, who, decision, comment=""):
    client.force_login(who)
    url = reverse("approvals_app:review", args=[approval.pk])
    return client.post(url, {"decision": decision, "comment": comment}, headers=HTMX)


def test_asking_for_approval_emails_every_eligible_reviewer(
    client, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = ask(client, world)

    assert response.status_code == 302
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == ["lead@example.com", "peer@example.com", "risk@example.com"]
    assert all("engineer@example.com" not in m.to for m in mail.outbox)
    assert response["Location"] in mail.outbox[0].body


def test_each_decision_on_the_card_emails_the_requester(
    client, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, world)
    approval = world.version.approval_requests.get()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        decide(client, approval, world.lead, "approve")
    with django_capture_on_commit_callbacks(execute=True):
        decide(client, approval, world.risk, "approve")

    assert [m.to for m in mail.outbox] == [["engineer@example.com"]] * 2
    assert "lead chose 'approve'" in mail.outbox[0].body
    assert mail.outbox[1].subject.endswith(": Approved")


def test_a_request_for_changes_emails_the_requester_with_the_comment(
    client, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, world)
    approval = world.version.approval_requests.get()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        decide(client, approval, world.risk, "request_changes", "Add the slices.")

    [message] = mail.outbox
    assert message.to == ["engineer@example.com"]
    assert "Add the slices." in message.body


def test_a_refused_decision_emails_nobody(client, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ask(client, world)
    approval = world.version.approval_requests.get()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = decide(client, approval, world.engineer, "approve")

    assert "Separation of duties" in response.content.decode()
    assert callbacks == []
    assert mail.outbox == []
