"""The approvals admin: every page loads, policy changes are audited, decisions are
read-only."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from approvals_app.models import ApprovalPolicy, ApprovalRequest, MetricGate, Review, ReviewerRole
from approvals_app.services import submit_review, tick_checklist_item
from models_app.models import AuditEvent
from tests.approvals_app.builders import auc_gate, build_world, make_policy
from tests.factories import add_member, make_model, make_user, make_version
from tests.models_app.ledger import assert_chain_intact, last_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def policy(world):
    return make_policy(
        world.production,
        name="Production",
        required_approvals=2,
        required_roles=[world.risk_group],
        gates=[auc_gate(0.9)],
        checklist=[("Bias evaluation reviewed", True)],
    )


@pytest.fixture
def approved(world, policy):
    """An approved request, with a review, a tick and frozen evidence."""
    approval = world.open_request()
    tick_checklist_item(
        actor=world.engineer, approval=approval, item=policy.checklist_items.get(), note="ok"
    )
    submit_review(actor=world.lead, approval=approval, decision="approve")
    return submit_review(actor=world.risk, approval=approval, decision="approve")


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.admin)
    return client


def url(name, *args):
    return reverse(f"admin:approvals_app_{name}", args=args)


@pytest.mark.parametrize("model", ["reviewerrole", "approvalpolicy", "approvalrequest", "review"])
def test_every_changelist_loads(admin_client, approved, model):
    response = admin_client.get(url(f"{model}_changelist"))

    assert response.status_code == 200


def test_every_change_page_loads(admin_client, world, policy, approved):
    pages = [
        url("reviewerrole_change", ReviewerRole.objects.first().pk),
        url("approvalpolicy_change", policy.pk),
        url("approvalrequest_change", approved.pk),
        url("review_change", approved.reviews.first().pk),
        url("approvalpolicy_add"),
        url("reviewerrole_add"),
    ]

    for page in pages:
        assert admin_client.get(page).status_code == 200, page


def test_the_request_page_shows_the_frozen_evidence_and_the_reviews(admin_client, approved):
    response = admin_client.get(url("approvalrequest_change", approved.pk))

    content = response.content.decode()
    assert "Evidence frozen at approval" in content
    assert "&quot;sha256&quot;: &quot;" + "a" * 64 in content
    assert "Bias evaluation reviewed" in content
    assert "lead" in content and "risk" in content


def test_an_open_request_says_what_is_still_missing(admin_client, world, policy):
    approval = world.open_request()

    response = admin_client.get(url("approvalrequest_change", approval.pk))

    assert "needs an approval from Risk &amp; compliance" in response.content.decode()


def test_the_request_list_searches_by_model_name_and_filters_by_status(
    admin_client, world, policy, approved
):
    other = make_model("churn-predictor", team=world.team)
    version = make_version(other, created_by=world.engineer)
    world.open_request(version)

    found = admin_client.get(url("approvalrequest_changelist"), {"q": "churn"})
    filtered = admin_client.get(url("approvalrequest_changelist"), {"status__exact": "approved"})

    assert [r.version.model.name for r in found.context["cl"].result_list] == ["churn-predictor"]
    assert [r.pk for r in filtered.context["cl"].result_list] == [approved.pk]


def test_requests_and_reviews_cannot_be_added_changed_or_deleted(admin_client, approved):
    review = approved.reviews.first()

    assert admin_client.get(url("approvalrequest_add")).status_code == 403
    assert admin_client.get(url("review_add")).status_code == 403
    assert admin_client.get(url("approvalrequest_delete", approved.pk)).status_code == 403
    assert admin_client.get(url("review_delete", review.pk)).status_code == 403
    response = admin_client.post(url("approvalrequest_change", approved.pk), {"status": "rejected"})
    assert response.status_code == 403
    approved.refresh_from_db()
    assert approved.status == ApprovalRequest.Status.APPROVED
    page = admin_client.get(url("approvalrequest_change", approved.pk)).content.decode()
    assert 'name="_save"' not in page
    assert "Read-only" in page


def test_staff_see_requests_of_restricted_models_only_in_their_team(client, world, policy):
    restricted = make_model("secret", team=world.team, restricted=True)
    hidden = world.open_request(make_version(restricted, created_by=world.engineer))
    staff = make_user("ops", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_approvalrequest", "view_review"])
    )
    client.force_login(staff)

    response = client.get(url("approvalrequest_changelist"))

    assert hidden.pk not in [r.pk for r in response.context["cl"].result_list]
    add_member(staff, world.team, "viewer")
    response = client.get(url("approvalrequest_changelist"))
    assert hidden.pk in [r.pk for r in response.context["cl"].result_list]


# --- audited policy changes --------------------------------------------------------------------


def policy_form(world, **overrides):
    data = {
        "name": "Staging sign-off",
        "environment": world.staging.pk,
        "risk_tiers": ["limited", "high"],
        "active": "on",
        "required_approvals": "1",
        "required_roles": [world.ml_leads.pk],
        "require_model_card": "on",
        "validity_days": "30",
        "gates-TOTAL_FORMS": "1",
        "gates-INITIAL_FORMS": "0",
        "gates-0-metric_key": "auc",
        "gates-0-metric_slice": "",
        "gates-0-kind": "absolute",
        "gates-0-operator": ">=",
        "gates-0-threshold": "0.8",
        "gates-0-max_regression_percent": "",
        "gates-0-blocking": "on",
        "checklist_items-TOTAL_FORMS": "1",
        "checklist_items-INITIAL_FORMS": "0",
        "checklist_items-0-order": "0",
        "checklist_items-0-text": "Rollback plan documented",
    }
    data.update(overrides)
    return data


def test_creating_a_policy_with_a_gate_writes_one_audit_event(admin_client, world):
    response = admin_client.post(url("approvalpolicy_add"), policy_form(world))

    assert response.status_code == 302, response.context["adminform"].form.errors
    policy = ApprovalPolicy.objects.get(name="Staging sign-off")
    assert policy.risk_tiers == ["limited", "high"]
    assert list(policy.required_roles.all()) == [world.ml_leads]
    gate = policy.gates.get()
    assert (gate.metric_key, gate.operator, gate.threshold) == ("auc", ">=", 0.8)
    event = last_event()
    assert event.action == "approvals.policy.created"
    assert event.actor == world.admin
    assert event.object_id == str(policy.pk)
    assert event.before == {}
    after = event.after
    assert after["environment"] == "staging"
    assert after["risk_tiers"] == ["high", "limited"]
    assert after["required_roles"] == ["ML leads"]
    assert after["gates"] == [
        {
            "metric_key": "auc",
            "metric_slice": "",
            "kind": "absolute",
            "operator": ">=",
            "threshold": 0.8,
            "max_regression_percent": None,
            "blocking": True,
        }
    ]
    assert after["checklist"] == [{"text": "Rollback plan documented", "requires_evidence": False}]
    assert AuditEvent.objects.filter(action__startswith="approvals.policy").count() == 1
    assert_chain_intact()


def test_an_invalid_gate_is_refused_and_nothing_is_written(admin_client, world):
    events = AuditEvent.objects.count()

    response = admin_client.post(
        url("approvalpolicy_add"),
        policy_form(world, **{"gates-0-operator": "", "gates-0-threshold": ""}),
    )

    assert response.status_code == 200
    assert "An absolute gate needs an operator and a threshold." in response.content.decode()
    assert not ApprovalPolicy.objects.filter(name="Staging sign-off").exists()
    assert AuditEvent.objects.count() == events


def change_form(policy, world, **overrides):
    gate = policy.gates.get()
    item = policy.checklist_items.get()
    data = {
        "name": policy.name,
        "environment": policy.environment.pk,
        "active": "on",
        "required_approvals": str(policy.required_approvals),
        "required_roles": [g.pk for g in policy.required_roles.all()],
        "require_model_card": "on",
        "validity_days": str(policy.validity_days),
        "gates-TOTAL_FORMS": "1",
        "gates-INITIAL_FORMS": "1",
        "gates-0-id": str(gate.pk),
        "gates-0-policy": str(policy.pk),
        "gates-0-metric_key": gate.metric_key,
        "gates-0-kind": gate.kind,
        "gates-0-operator": gate.operator,
        "gates-0-threshold": str(gate.threshold),
        "gates-0-blocking": "on",
        "checklist_items-TOTAL_FORMS": "1",
        "checklist_items-INITIAL_FORMS": "1",
        "checklist_items-0-id": str(item.pk),
        "checklist_items-0-policy": str(policy.pk),
        "checklist_items-0-order": "0",
        "checklist_items-0-text": item.text,
        "checklist_items-0-requires_evidence": "on",
    }
    data.update(overrides)
    return data


def test_changing_a_policy_audits_only_what_changed_including_gates(admin_client, world, policy):
    response = admin_client.post(
        url("approvalpolicy_change", policy.pk),
        change_form(
            policy,
            world,
            required_approvals="3",
            **{"gates-0-threshold": "0.92", "gates-0-blocking": ""},
        ),
    )

    assert response.status_code == 302
    event = last_event()
    assert event.action == "approvals.policy.updated"
    assert set(event.after) == {"required_approvals", "gates"}
    assert event.before["required_approvals"] == 2
    assert event.after["required_approvals"] == 3
    assert event.before["gates"][0]["threshold"] == 0.9
    assert event.after["gates"][0] == {
        "metric_key": "auc",
        "metric_slice": "",
        "kind": "absolute",
        "operator": ">=",
        "threshold": 0.92,
        "max_regression_percent": None,
        "blocking": False,
    }
    assert_chain_intact()


def test_adding_a_checklist_item_is_audited_on_the_policy(admin_client, world, policy):
    data = change_form(
        policy,
        world,
        **{
            "checklist_items-TOTAL_FORMS": "2",
            "checklist_items-1-order": "1",
            "checklist_items-1-text": "Rollback plan documented",
        },
    )

    admin_client.post(url("approvalpolicy_change", policy.pk), data)

    event = last_event()
    assert event.action == "approvals.policy.updated"
    assert set(event.after) == {"checklist"}
    assert [item["text"] for item in event.after["checklist"]] == [
        "Bias evaluation reviewed",
        "Rollback plan documented",
    ]


def test_saving_a_policy_unchanged_writes_no_event(admin_client, world, policy):
    events = AuditEvent.objects.count()

    response = admin_client.post(
        url("approvalpolicy_change", policy.pk), change_form(policy, world)
    )

    assert response.status_code == 302
    assert AuditEvent.objects.count() == events


def test_deleting_a_policy_is_audited_with_what_it_was(admin_client, world, policy):
    pk = policy.pk

    response = admin_client.post(url("approvalpolicy_delete", pk), {"post": "yes"})

    assert response.status_code == 302
    assert not ApprovalPolicy.objects.filter(pk=pk).exists()
    assert not MetricGate.objects.filter(policy_id=pk).exists()
    event = last_event()
    assert event.action == "approvals.policy.deleted"
    assert event.object_id == str(pk)
    assert event.before["gates"][0]["metric_key"] == "auc"
    assert event.after == {}
    assert_chain_intact()


def test_a_policy_with_requests_cannot_be_deleted(admin_client, world, policy):
    world.open_request()
    events = AuditEvent.objects.count()

    response = admin_client.post(url("approvalpolicy_delete", policy.pk), {"post": "yes"})

    assert response.status_code == 200
    assert "Cannot delete" in response.content.decode()
    assert ApprovalPolicy.objects.filter(pk=policy.pk).exists()
    assert AuditEvent.objects.count() == events


def test_the_role_picker_offers_only_reviewer_role_groups(admin_client, world):
    Group.objects.create(name="Book club")

    response = admin_client.get(url("approvalpolicy_add"))

    choices = [
        label for _, label in response.context["adminform"].form.fields["required_roles"].choices
    ]
    assert choices == ["ML leads", "Risk & compliance"]


def test_adding_a_reviewer_role_is_audited(admin_client, world):
    security = Group.objects.create(name="Security")

    response = admin_client.post(
        url("reviewerrole_add"), {"group": security.pk, "description": "AppSec reviews."}
    )

    assert response.status_code == 302
    event = last_event()
    assert event.action == "approvals.reviewer_role.created"
    assert event.after == {"group": "Security", "description": "AppSec reviews."}


def test_review_rows_stay_as_recorded(admin_client, approved):
    review = approved.reviews.first()

    response = admin_client.post(url("review_change", review.pk), {"decision": "reject"})

    assert response.status_code == 403
    review.refresh_from_db()
    assert review.decision == Review.Decision.APPROVE


def test_a_second_active_policy_for_the_same_tiers_is_refused(admin_client, world, policy):
    # ``policy`` covers every tier in production; a newer one would never be the one applied.
    events = AuditEvent.objects.count()

    response = admin_client.post(
        url("approvalpolicy_add"),
        policy_form(world, name="Production again", environment=world.production.pk),
    )

    assert response.status_code == 200
    assert "already covers high, limited-risk models in" in response.content.decode()
    assert not ApprovalPolicy.objects.filter(name="Production again").exists()
    assert AuditEvent.objects.count() == events


def test_policies_for_other_tiers_or_inactive_ones_may_share_an_environment(
    admin_client, world, policy
):
    policy.risk_tiers = ["high"]
    policy.save(update_fields=["risk_tiers"])

    other_tiers = admin_client.post(
        url("approvalpolicy_add"),
        policy_form(
            world,
            name="Prod limited",
            environment=world.production.pk,
            risk_tiers=["limited", "minimal"],
        ),
    )
    inactive = admin_client.post(
        url("approvalpolicy_add"),
        policy_form(world, name="Prod draft", environment=world.production.pk, active=""),
    )

    assert other_tiers.status_code == 302
    assert inactive.status_code == 302


def test_ops_staff_roll_back_from_the_deployment_admin_through_the_service(client, superuser):
    from approvals_app.promotion import promote
    from models_app.models import AuditEvent, Deployment
    from tests.factories import make_environment, make_model, make_version

    staging = make_environment("staging", order=20)
    model = make_model("churn-predictor")
    first, second = make_version(model), make_version(model)
    promote(actor=superuser, version=first, environment=staging)
    live = promote(actor=superuser, version=second, environment=staging)
    client.force_login(superuser)

    response = client.post(
        "/admin/models_app/deployment/",
        {"action": "roll_back", "_selected_action": [live.pk]},
        follow=True,
    )

    assert "back to v1" in response.content.decode()
    live.refresh_from_db()
    assert live.status == Deployment.Status.ROLLED_BACK
    assert Deployment.objects.get(status="active").version == first
    assert AuditEvent.objects.filter(action="approvals.deployment.rolled_back").count() == 1
