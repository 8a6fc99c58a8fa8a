"""The world the approval tests start from: people, a model with a candidate version, and
an approval policy. Rows are written directly (as tests/factories.py does); what a test
exercises goes through approvals_app.services."""

from dataclasses import dataclass

from django.contrib.auth.models import Group

from approvals_app.models import ApprovalPolicy, ChecklistItem, MetricGate, ReviewerRole
from approvals_app.services import request_approval
from models_app.models import Deployment
from tests.factories import (
    add_member,
    make_artifact_row,
    make_environment,
    make_metric,
    make_metric_definition,
    make_model,
    make_team,
    make_user,
    make_version,
)

CARD = {
    "intended_use": "Scoring card payments.",
    "limitations": "EU traffic only.",
    "ethical_considerations": "False declines are reviewed by a person.",
}


def reviewer_group(name: str, *users) -> Group:
    """A group registered as an organisation-wide reviewer role, with these members."""
    group, _ = Group.objects.get_or_create(name=name)
    ReviewerRole.objects.get_or_create(group=group)
    group.user_set.add(*users)
    return group


def make_policy(environment, *, gates=(), checklist=(), required_roles=(), **overrides):
    """A policy with gates given as dicts of MetricGate fields and checklist items as
    (text, requires_evidence) pairs."""
    fields = {"name": f"{environment.name} policy", "required_approvals": 1}
    fields.update(overrides)
    policy = ApprovalPolicy.objects.create(environment=environment, **fields)
    for gate in gates:
        MetricGate.objects.create(policy=policy, **gate)
    for order, (text, requires_evidence) in enumerate(checklist):
        ChecklistItem.objects.create(
            policy=policy, text=text, requires_evidence=requires_evidence, order=order
        )
    policy.required_roles.set(required_roles)
    return policy


def auc_gate(threshold=0.9, **overrides):
    return {"metric_key": "auc", "kind": "absolute", "operator": ">=", "threshold": threshold} | (
        overrides
    )


def relative_auc_gate(percent=1.0, **overrides):
    return {"metric_key": "auc", "kind": "relative", "max_regression_percent": percent} | (
        overrides
    )


def latency_gate(threshold=200.0, **overrides):
    return {
        "metric_key": "latency_p95_ms",
        "kind": "absolute",
        "operator": "<=",
        "threshold": threshold,
    } | overrides


@dataclass
class World:
    team: object
    production: object
    staging: object
    model: object
    version: object
    engineer: object  # contributor; registered the version and asks for approval
    lead: object  # team reviewer and member of "ML leads"
    risk: object  # member of "Risk & compliance" only, no team membership
    peer: object  # team reviewer without any reviewer group
    viewer: object
    admin: object  # superuser
    ml_leads: Group
    risk_group: Group

    def version_of(self, **metrics):
        """Another version of the model, by the engineer, with a complete card and metrics."""
        version = make_version(self.model, created_by=self.engineer, **CARD)
        for key, value in metrics.items():
            make_metric(version, key, value)
        return version

    def deploy(self, version, environment=None):
        return Deployment.objects.create(
            model=self.model,
            version=version,
            environment=environment or self.production,
            deployed_by=self.admin,
            deployed_at=version.created_at,
        )

    def open_request(self, version=None, environment=None, requester=None, **extra):
        return request_approval(
            actor=requester or self.engineer,
            version=version or self.version,
            environment=environment or self.production,
            justification=extra.pop("justification", "Better AUC at lower latency."),
        )


def build_world(*, risk_tier="limited") -> World:
    team = make_team("fraud-risk", name="Fraud & Risk")
    engineer = make_user("engineer", email="engineer@example.com")
    lead = make_user("lead", email="lead@example.com")
    risk = make_user("risk", email="risk@example.com")
    peer = make_user("peer", email="peer@example.com")
    viewer = make_user("viewer", email="viewer@example.com")
    admin = make_user("admin", email="admin@example.com", is_superuser=True, is_staff=True)
    add_member(engineer, team, "contributor")
    add_member(lead, team, "reviewer")
    add_member(peer, team, "reviewer")
    add_member(viewer, team, "viewer")
    ml_leads = reviewer_group("ML leads", lead)
    risk_group = reviewer_group("Risk & compliance", risk)
    make_metric_definition("auc", higher_is_better=True)
    make_metric_definition("latency_p95_ms", higher_is_better=False, unit="ms")
    production = make_environment("production", order=30, requires_approval=True)
    staging = make_environment("staging", order=20)
    model = make_model("fraud-classifier", team=team, risk_tier=risk_tier)
    version = make_version(model, created_by=engineer, **CARD)
    make_metric(version, "auc", 0.95)
    make_metric(version, "latency_p95_ms", 120.0)
    make_artifact_row(version, "model.ubj", sha256="a" * 64, size=2048)
    return World(
        team=team,
        production=production,
        staging=staging,
        model=model,
        version=version,
        engineer=engineer,
        lead=lead,
        risk=risk,
        peer=peer,
        viewer=viewer,
        admin=admin,
        ml_leads=ml_leads,
        risk_group=risk_group,
    )
