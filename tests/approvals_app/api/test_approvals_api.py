"""Approvals, reviews, promotion, rollback and deployments through /api/v1/."""

import pytest

from approvals_app.models import ApprovalRequest, ChecklistTick
from approvals_app.services import submit_review
from models_app.models import Deployment, Environment
from models_app.services import create_access_token
from tests.approvals_app.builders import auc_gate, build_world, make_policy
from tests.factories import make_model, make_user, make_version
from tests.models_app.api.test_authentication import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def token(user):
    _, raw = create_access_token(actor=user, name="tests")
    return {"Authorization": f"Bearer {raw}"}


def post(client, url, payload, user):
    return client.post(url, payload, content_type="application/json", headers=token(user))


def approvals_url(version):
    return f"/api/v1/models/{version.model.name}/versions/{version.version}/approvals/"


def test_an_engineer_requests_approval_and_a_reviewer_approves(client, world):
    make_policy(world.production)

    opened = post(
        client,
        approvals_url(world.version),
        {"environment": "production", "justification": "Better AUC."},
        world.engineer,
    )

    assert opened.status_code == 201, opened.json()
    approval = opened.json()
    assert (approval["model"], approval["version"], approval["status"]) == (
        "fraud-classifier",
        1,
        "open",
    )
    queue = client.get("/api/v1/approvals/queue/", headers=token(world.lead)).json()
    assert [row["id"] for row in queue["results"]] == [approval["id"]]
    mine = client.get("/api/v1/approvals/mine/", headers=token(world.engineer)).json()
    assert [row["id"] for row in mine["results"]] == [approval["id"]]
    reviewed = post(
        client,
        f"/api/v1/approvals/{approval['id']}/reviews/",
        {"decision": "approve", "comment": "Looks good."},
        world.lead,
    )
    assert reviewed.status_code == 200, reviewed.json()
    assert reviewed.json()["status"] == "approved"
    assert reviewed.json()["reviews"][0]["reviewer"] == "lead"
    listed = client.get(approvals_url(world.version), headers=token(world.viewer)).json()
    assert listed["results"][0]["status"] == "approved"


def test_a_second_open_request_for_the_same_target_is_a_409(client, world):
    make_policy(world.production)
    world.open_request()

    response = post(
        client,
        approvals_url(world.version),
        {"environment": "production", "justification": "Again."},
        world.engineer,
    )

    assert_error(response, 409, "duplicate")


def test_requesting_needs_a_justification_a_known_environment_and_the_contributor_role(
    client, world
):
    make_policy(world.production)
    url = approvals_url(world.version)

    empty = post(client, url, {"environment": "production", "justification": " "}, world.engineer)
    unknown = post(client, url, {"environment": "moon", "justification": "x"}, world.engineer)
    viewer = post(client, url, {"environment": "production", "justification": "x"}, world.viewer)

    assert empty.status_code == 400 and empty.json()["error"]["field"] == "justification"
    assert unknown.status_code == 400 and unknown.json()["error"]["field"] == "environment"
    assert_error(viewer, 403, "permission_denied")
    assert not ApprovalRequest.objects.exists()


def test_the_author_cannot_review_their_own_request(client, world):
    make_policy(world.production)
    approval = world.open_request()

    response = post(
        client, f"/api/v1/approvals/{approval.pk}/reviews/", {"decision": "approve"}, world.engineer
    )

    assert_error(response, 403, "permission_denied")
    assert "Separation of duties" in response.json()["error"]["message"]


def test_a_failing_gate_blocks_approval_with_a_409(client, world):
    make_policy(world.production, gates=[auc_gate(0.99)])
    approval = world.open_request()

    response = post(
        client, f"/api/v1/approvals/{approval.pk}/reviews/", {"decision": "approve"}, world.lead
    )

    assert_error(response, 409, "gate_failed")


def test_a_rejection_needs_a_reason(client, world):
    make_policy(world.production)
    approval = world.open_request()

    response = post(
        client, f"/api/v1/approvals/{approval.pk}/reviews/", {"decision": "reject"}, world.lead
    )

    assert response.status_code == 400
    assert response.json()["error"]["field"] == "comment"


def test_requests_on_restricted_models_are_hidden_from_outsiders(client, world):
    make_policy(world.production)
    world.model.restricted = True
    world.model.save()
    approval = world.open_request()
    outsider = make_user("outsider")

    assert_error(
        client.get(f"/api/v1/approvals/{approval.pk}/", headers=token(outsider)), 404, "not_found"
    )
    assert_error(
        post(
            client, f"/api/v1/approvals/{approval.pk}/reviews/", {"decision": "approve"}, outsider
        ),
        404,
        "not_found",
    )
    assert client.get("/api/v1/approvals/queue/", headers=token(outsider)).json()["count"] == 0
    assert (
        client.get(f"/api/v1/approvals/{approval.pk}/", headers=token(world.risk)).status_code
        == 404
    )


def test_promotion_needs_an_approval_where_the_policy_says_so(client, world):
    make_policy(world.production)
    url = "/api/v1/models/fraud-classifier/versions/1/promote/"

    refused = post(client, url, {"environment": "production"}, world.engineer)
    staged = post(client, url, {"environment": "staging", "target": "k8s://stg"}, world.engineer)

    assert_error(refused, 409, "approval_required")
    assert staged.status_code == 201, staged.json()
    assert staged.json() | {"id": None, "deployed_at": None} == {
        "id": None,
        "model": "fraud-classifier",
        "version": 1,
        "environment": "staging",
        "status": "active",
        "target": "k8s://stg",
        "traffic_percent": 100,
        "notes": "",
        "deployed_by": "engineer",
        "deployed_at": None,
        "ended_at": None,
        "approval_reference": None,
        "override_reason": "",
        "rolled_back_from": None,
        "superseded_by": None,
    }


def test_promotion_permissions_and_bad_input(client, world):
    url = "/api/v1/models/fraud-classifier/versions/1/promote/"

    viewer = post(client, url, {"environment": "staging"}, world.viewer)
    share = post(client, url, {"environment": "staging", "traffic_percent": 0}, world.engineer)
    unknown = post(client, url, {"environment": "moon"}, world.engineer)

    assert_error(viewer, 403, "permission_denied")
    assert share.json()["error"]["field"] == "traffic_percent"
    assert unknown.json()["error"]["field"] == "environment"
    assert not Deployment.objects.exists()


def test_rollback_restores_the_previous_version(client, world):
    second = make_version(world.model, created_by=world.engineer)
    url = f"/api/v1/models/{world.model.name}/versions/"
    assert (
        post(client, f"{url}1/promote/", {"environment": "staging"}, world.engineer).status_code
        == 201
    )
    assert (
        post(client, f"{url}2/promote/", {"environment": "staging"}, world.engineer).status_code
        == 201
    )

    response = post(
        client,
        "/api/v1/models/fraud-classifier/rollback/",
        {"environment": "staging"},
        world.engineer,
    )
    nothing = post(
        client, "/api/v1/models/fraud-classifier/rollback/", {"environment": "production"},
        world.engineer,
    )  # fmt: skip

    assert response.status_code == 201, response.json()
    assert response.json()["version"] == 1
    assert Deployment.objects.get(version=second).status == "rolled_back"
    assert_error(nothing, 409, "nothing_to_roll_back")


def test_the_deployment_list_shows_what_runs_where(client, world):
    world.deploy(world.version, world.staging)
    hidden_team_model = make_version(make_model("hidden", restricted=True))
    Deployment.objects.create(
        model=hidden_team_model.model,
        version=hidden_team_model,
        environment=Environment.objects.get(name="staging"),
        deployed_at=world.version.created_at,
    )

    response = client.get(
        "/api/v1/deployments/", {"environment": "staging"}, headers=token(world.viewer)
    )
    bad = client.get("/api/v1/deployments/", {"status": "sideways"}, headers=token(world.viewer))

    assert [(d["model"], d["version"]) for d in response.json()["results"]] == [
        ("fraud-classifier", 1)
    ]
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "status"


def test_the_queue_costs_the_same_queries_however_long_it_is(
    client, world, django_assert_max_num_queries, django_assert_num_queries
):
    make_policy(world.production)
    make_policy(world.staging)
    world.open_request()
    headers = token(world.lead)
    client.get("/api/v1/approvals/queue/", headers=headers)
    # token, count, page of requests (+version, model, environment, policy, requester), reviews
    with django_assert_max_num_queries(5) as first:
        client.get("/api/v1/approvals/queue/", headers=headers)
    # Each request resets the connection's query log, so count now.
    expected = len(first.captured_queries)
    for _ in range(3):
        world.open_request(version=world.version_of(auc=0.96))
    with django_assert_num_queries(expected):
        assert client.get("/api/v1/approvals/queue/", headers=headers).json()["count"] == 4


def sent_back(world):
    approval = world.open_request()
    return submit_review(
        actor=world.lead, approval=approval, decision="request_changes", comment="Add slices."
    )


def restricted(world):
    world.model.restricted = True
    world.model.save()


def test_the_requester_withdraws_an_open_request(client, world):
    make_policy(world.production)
    approval = world.open_request()

    response = post(
        client, f"/api/v1/approvals/{approval.pk}/withdraw/", {"reason": "Wrong build."},
        world.engineer,
    )  # fmt: skip

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "withdrawn"
    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.WITHDRAWN


def test_withdrawing_is_refused_to_others_and_once_closed(client, world):
    make_policy(world.production)
    approval = world.open_request()
    url = f"/api/v1/approvals/{approval.pk}/withdraw/"

    reviewer = post(client, url, {}, world.lead)
    assert_error(reviewer, 403, "permission_denied")
    assert post(client, url, {}, world.engineer).status_code == 200
    again = post(client, url, {}, world.engineer)

    assert_error(again, 409, "conflict")
    assert_error(post(client, url, {"why": "x"}, world.engineer), 400, "invalid")


def test_withdrawing_needs_a_token_and_hides_restricted_requests_from_outsiders(client, world):
    make_policy(world.production)
    restricted(world)
    approval = world.open_request()
    url = f"/api/v1/approvals/{approval.pk}/withdraw/"

    anonymous = client.post(url, {}, content_type="application/json")
    outsider = post(client, url, {}, make_user("outsider"))

    assert_error(anonymous, 401, "not_authenticated")
    assert_error(outsider, 404, "not_found")
    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.OPEN


def test_the_requester_resubmits_after_changes_were_requested(client, world):
    make_policy(world.production)
    approval = sent_back(world)

    response = post(
        client, f"/api/v1/approvals/{approval.pk}/resubmit/", {"justification": "Slices added."},
        world.engineer,
    )  # fmt: skip

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["status"], body["round"], body["justification"]) == ("open", 2, "Slices added.")


def test_resubmitting_is_refused_to_others_and_unless_changes_were_requested(client, world):
    make_policy(world.production)
    approval = sent_back(world)
    url = f"/api/v1/approvals/{approval.pk}/resubmit/"

    reviewer = post(client, url, {"justification": "x"}, world.lead)
    assert_error(reviewer, 403, "permission_denied")
    assert post(client, url, {}, world.engineer).status_code == 200
    again = post(client, url, {}, world.engineer)

    assert_error(again, 409, "conflict")
    approval.refresh_from_db()
    assert approval.round == 2


def test_resubmitting_needs_a_token_and_hides_restricted_requests_from_outsiders(client, world):
    make_policy(world.production)
    restricted(world)
    approval = sent_back(world)
    url = f"/api/v1/approvals/{approval.pk}/resubmit/"

    anonymous = client.post(url, {}, content_type="application/json")
    outsider = post(client, url, {}, make_user("outsider"))

    assert_error(anonymous, 401, "not_authenticated")
    assert_error(outsider, 404, "not_found")
    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.CHANGES_REQUESTED


def test_ticking_the_last_checklist_item_completes_the_approval(client, world):
    policy = make_policy(world.production, checklist=[("Bias review attached", True)])
    approval = world.open_request()
    item = policy.checklist_items.get()
    submit_review(actor=world.lead, approval=approval, decision="approve")

    response = post(
        client,
        f"/api/v1/approvals/{approval.pk}/checklist/{item.pk}/",
        {"note": "See the report.", "evidence_url": "https://wiki.example.com/bias"},
        world.engineer,
    )

    assert response.status_code == 201, response.json()
    assert response.json() | {"ticked_at": None} == {
        "item": item.pk,
        "text": "Bias review attached",
        "ticked_by": "engineer",
        "note": "See the report.",
        "evidence_url": "https://wiki.example.com/bias",
        "ticked_at": None,
        "request_status": "approved",
    }


def test_ticking_is_refused_without_evidence_twice_to_the_ineligible_and_for_other_items(
    client, world
):
    policy = make_policy(world.production, checklist=[("Bias review attached", True)])
    other = make_policy(world.staging, checklist=[("Smoke test", False)])
    approval = world.open_request()
    url = f"/api/v1/approvals/{approval.pk}/checklist/{policy.checklist_items.get().pk}/"

    bare = post(client, url, {"note": " "}, world.engineer)
    viewer = post(client, url, {"note": "ok"}, world.viewer)
    bad_link = post(client, url, {"evidence_url": "not a link"}, world.engineer)
    foreign = post(
        client,
        f"/api/v1/approvals/{approval.pk}/checklist/{other.checklist_items.get().pk}/",
        {},
        world.engineer,
    )
    assert not ChecklistTick.objects.exists()
    assert post(client, url, {"note": "ok"}, world.engineer).status_code == 201
    twice = post(client, url, {"note": "again"}, world.lead)

    assert bare.status_code == 400 and bare.json()["error"]["field"] == "note"
    assert_error(viewer, 403, "permission_denied")
    assert bad_link.status_code == 400 and bad_link.json()["error"]["field"] == "evidence_url"
    assert_error(foreign, 404, "not_found")
    assert_error(twice, 409, "duplicate")


def test_ticking_a_closed_request_is_a_409(client, world):
    policy = make_policy(world.production, checklist=[("Rollback plan", False)])
    approval = world.open_request()
    post(client, f"/api/v1/approvals/{approval.pk}/withdraw/", {}, world.engineer)

    response = post(
        client,
        f"/api/v1/approvals/{approval.pk}/checklist/{policy.checklist_items.get().pk}/",
        {},
        world.engineer,
    )

    assert_error(response, 409, "conflict")


def test_ticking_needs_a_token_and_hides_restricted_requests_from_outsiders(client, world):
    policy = make_policy(world.production, checklist=[("Rollback plan", False)])
    restricted(world)
    approval = world.open_request()
    url = f"/api/v1/approvals/{approval.pk}/checklist/{policy.checklist_items.get().pk}/"

    anonymous = client.post(url, {}, content_type="application/json")
    outsider = post(client, url, {}, make_user("outsider"))

    assert_error(anonymous, 401, "not_authenticated")
    assert_error(outsider, 404, "not_found")
    assert not ChecklistTick.objects.exists()


def test_reviewing_a_withdrawn_request_is_a_conflict(client, world):
    make_policy(world.production)
    approval = world.open_request()
    post(client, f"/api/v1/approvals/{approval.pk}/withdraw/", {}, world.engineer)

    response = post(
        client, f"/api/v1/approvals/{approval.pk}/reviews/", {"decision": "approve"}, world.lead
    )

    assert_error(response, 409, "conflict")
    assert not approval.reviews.exists()
