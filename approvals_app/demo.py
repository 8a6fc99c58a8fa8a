"""The approvals part of the Northwind demo: reviewer roles, policies, and requests in every
state, built on top of the catalogue that ``manage.py seed_catalogue`` loads (``seed_demo``
runs both).

Requests, ticks, reviews, withdrawals and re-submissions go through approvals_app.services,
so the audit ledger holds the real history of each decision. Reviewer roles and policies are
reference data that ops staff keep in the admin; they are written here with the same audit
events the admin writes.
"""

import sys
from collections import Counter
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from approvals_app import services
from approvals_app.admin import policy_snapshot
from approvals_app.models import ApprovalPolicy, ApprovalRequest, MetricGate, ReviewerRole
from models_app import services as catalogue
from models_app.models import Environment, ModelVersion

ROLES = {
    "ML leads": ("Senior ML engineers; sign off on model quality for every team.", ["lead"]),
    "Risk & compliance": ("Model risk and compliance; required for high-risk models.", ["risk"]),
    "Security": ("Application security; reviews models that handle credentials or PII.", []),
}

BIAS = "Bias evaluation reviewed"
ROLLBACK = "Rollback plan documented"

# name, environment, tiers, approvals, required roles, card required, validity, override,
# gates, checklist (text, requires evidence)
POLICIES = [
    (
        "Staging sign-off",
        "staging",
        [],
        1,
        [],
        False,
        30,
        False,
        [
            {"metric_key": "auc", "kind": "absolute", "operator": ">=", "threshold": 0.8},
            # Advisory: ranking and generation models report no accuracy.
            {
                "metric_key": "accuracy",
                "kind": "absolute",
                "operator": ">=",
                "threshold": 0.75,
                "blocking": False,
            },
        ],
        [],
    ),
    (
        "Production: high risk",
        "production",
        ["high"],
        2,
        ["Risk & compliance"],
        True,
        90,
        True,
        [
            {"metric_key": "auc", "kind": "relative", "max_regression_percent": 1.0},
            {"metric_key": "latency_p95_ms", "kind": "absolute", "operator": "<=", "threshold": 50},
            {
                "metric_key": "recall",
                "metric_slice": "age=65+",
                "kind": "absolute",
                "operator": ">=",
                "threshold": 0.55,
                "blocking": False,
            },
        ],
        [(BIAS, True), (ROLLBACK, False)],
    ),
    (
        "Production: limited and minimal risk",
        "production",
        ["limited", "minimal"],
        2,
        ["ML leads"],
        True,
        90,
        True,
        [
            # Advisory here: not every limited-risk model is a classifier with an AUC.
            {
                "metric_key": "auc",
                "kind": "relative",
                "max_regression_percent": 1.0,
                "blocking": False,
            },
            {
                "metric_key": "latency_p95_ms",
                "kind": "absolute",
                "operator": "<=",
                "threshold": 2000,
            },
        ],
        [(ROLLBACK, False)],
    ),
]


def build_approvals_demo(stdout=None) -> None:
    """Add reviewer roles, policies and approval requests in every state to the demo.

    Needs the catalogue from ``manage.py seed_catalogue``; does nothing if policies exist.
    """
    out = stdout or sys.stdout
    if ApprovalPolicy.objects.exists():
        out.write("Approval policies already present; approvals demo not loaded.\n")
        return
    with transaction.atomic():
        builder = _Builder()
        builder.run()
    counts = ", ".join(f"{count} {status}" for status, count in builder.summary())
    out.write(f"Approvals demo: {len(POLICIES)} policies, requests: {counts}.\n")


class _Builder:
    def __init__(self):
        names = ["admin", "engineer", "lead", "risk", "mei", "amira"]
        self.users = {u.username: u for u in get_user_model().objects.filter(username__in=names)}
        if len(self.users) != len(names) or "fraud-classifier" not in self._model_names():
            raise CommandError("The catalogue demo is missing; run `manage.py seed_demo` first.")
        self.admin = self.users["admin"]
        self.environments = {e.name: e for e in Environment.objects.all()}
        self.policies: dict[str, ApprovalPolicy] = {}

    @staticmethod
    def _model_names() -> set[str]:
        return set(ModelVersion.objects.values_list("model__name", flat=True).distinct())

    def run(self) -> None:
        self._roles()
        self._policies()
        self._requests()

    def summary(self) -> list[tuple[str, int]]:
        shown = Counter(a.display_status.lower() for a in ApprovalRequest.objects.all())
        return sorted(shown.items())

    # --- reference data, audited as the admin audits it -------------------------------------

    def _roles(self) -> None:
        for name, (description, usernames) in ROLES.items():
            group, _ = Group.objects.get_or_create(name=name)
            group.user_set.add(*(self.users[u] for u in usernames))
            role, created = ReviewerRole.objects.get_or_create(
                group=group, defaults={"description": description}
            )
            if created:
                catalogue.record_admin_change(
                    actor=self.admin,
                    obj=role,
                    action="approvals.reviewer_role.created",
                    before=None,
                    after={"group": name, "description": description},
                )

    def _policies(self) -> None:
        for spec in POLICIES:
            name, env, tiers, approvals, roles, card, days, override, gates, checklist = spec
            policy = ApprovalPolicy.objects.create(
                name=name,
                environment=self.environments[env],
                risk_tiers=tiers,
                required_approvals=approvals,
                require_model_card=card,
                validity_days=days,
                allow_admin_override=override,
            )
            policy.required_roles.set(Group.objects.filter(name__in=roles))
            for gate in gates:
                MetricGate.objects.create(policy=policy, **gate).full_clean()
            for order, (text, requires_evidence) in enumerate(checklist):
                policy.checklist_items.create(
                    text=text, requires_evidence=requires_evidence, order=order
                )
            policy.full_clean()
            catalogue.record_admin_change(
                actor=self.admin,
                obj=policy,
                action="approvals.policy.created",
                before=None,
                after=policy_snapshot(policy),
            )
            self.policies[name] = policy

    # --- the workflow, through the services ---------------------------------------------------

    def _version(self, model: str, number: int) -> ModelVersion:
        return ModelVersion.objects.select_related("model__team").get(
            model__name=model, version=number
        )

    def _open(self, who, model, number, env, justification) -> ApprovalRequest:
        return services.request_approval(
            actor=self.users[who],
            version=self._version(model, number),
            environment=self.environments[env],
            justification=justification,
        )

    def _tick(self, who, approval, text, note="", url="") -> None:
        item = approval.policy.checklist_items.get(text=text)
        services.tick_checklist_item(
            actor=self.users[who], approval=approval, item=item, note=note, evidence_url=url
        )

    def _review(self, who, approval, decision, comment="") -> ApprovalRequest:
        return services.submit_review(
            actor=self.users[who],
            approval=approval,
            decision=decision,
            comment=comment,
            # The reviewers of the demo have read the high-risk warning.
            confirmed=True,
        )

    def _tick_all(self, who, approval, bias_note="") -> None:
        for item in approval.policy.checklist_items.all():
            note = bias_note if item.requires_evidence else ""
            self._tick(who, approval, item.text, note=note)

    def _requests(self) -> None:
        self._fraud_history()
        self._credit()
        self._others()

    def _fraud_history(self) -> None:
        # v4 was approved for production long ago; its approval has since run out.
        v4 = self._open(
            "engineer",
            "fraud-classifier",
            4,
            "production",
            "Device-reputation features cut false declines by 9% in the shadow run.",
        )
        self._tick_all(
            "engineer",
            v4,
            "Recall gap for customers over 65 is 3 points; reviewed with Risk in the monthly "
            "fairness forum.",
        )
        self._review("lead", v4, "approve", "Shadow results match offline evaluation.")
        self._review("risk", v4, "approve", "Fairness gap within our 4-point tolerance.")
        ApprovalRequest.objects.filter(pk=v4.pk).update(
            expires_at=timezone.now() - timedelta(days=3)
        )

        # v5 was still waiting for Risk when v6 got through: v6's approval supersedes it.
        v5 = self._open(
            "engineer",
            "fraud-classifier",
            5,
            "production",
            "Monotonic constraint on amount: fewer false declines on large baskets.",
        )
        self._review("lead", v5, "approve", "Good change; the large-basket complaints stop.")
        v6 = self._open(
            "engineer",
            "fraud-classifier",
            6,
            "production",
            "Retrained on Q4 data including the holiday peak; AUC +0.9 points over v5.",
        )
        self._tick_all(
            "engineer",
            v6,
            "Age and gender recall slices compared with v5: every gap narrowed. Notebook: "
            "fraud/card-fraud/notebooks/fairness-v6.ipynb",
        )
        self._review("lead", v6, "approve", "Holiday-peak recall is what we needed.")
        self._review("risk", v6, "approve", "Fairness slices reviewed; all within tolerance.")
        # The card was improved after the approval: allowed, audited, and the request shows
        # that the evidence changed since.
        catalogue.update_version_card(
            actor=self.users["engineer"],
            version=self._version("fraud-classifier", 6),
            limitations=(
                "Trained on EU/UK traffic only; precision drops on new merchant categories "
                "until they have 30 days of history. Not calibrated for account-takeover "
                "fraud. Holiday-peak behaviour verified on the 2024 peak only."
            ),
        )

        # v7 waits for Lead and Risk; its checklist is done, so their two approvals are all
        # it needs.
        v7 = self._open(
            "engineer",
            "fraud-classifier",
            7,
            "production",
            "Merchant-category embeddings: AUC 0.975 vs 0.963 in production, p95 latency "
            "down to 11 ms. Shadow-scored in staging for a week.",
        )
        self._tick(
            "engineer",
            v7,
            BIAS,
            note="Recall slices by age and gender attached to the run; the over-65 gap is "
            "5 points, down from 6.",
            url="https://mlflow.northwind.example/#/experiments/14/runs/fraud-v7-fairness",
        )
        self._tick("engineer", v7, ROLLBACK, note="Alias champion moves back to v6.")

    def _credit(self) -> None:
        # v4: both approvals came in before the checklist was done; the last tick approved it.
        v4 = self._open(
            "engineer",
            "credit-scoring",
            4,
            "production",
            "Monotonic constraints on income and utilisation, required by the credit policy.",
        )
        self._review("lead", v4, "approve", "Constraints verified on the partial-dependence plots.")
        self._review("risk", v4, "approve", "Adverse-action reasons checked on 50 declines.")
        self._tick(
            "engineer",
            v4,
            BIAS,
            url="https://wiki.northwind.example/risk/credit-scoring/fairness-2025-q1",
        )
        self._tick("engineer", v4, ROLLBACK, note="Redeploy v3 from the registry; 10 minutes.")

        # v5 was re-evaluated on the newest out-of-time cohort, and its AUC fell more than the
        # 1% the policy tolerates: the dry run shows the gate failing and nobody can approve.
        catalogue.log_metrics(
            actor=self.users["engineer"],
            version=self._version("credit-scoring", 5),
            metrics=[{"key": "auc", "value": 0.8012}],
        )
        v5 = self._open(
            "engineer",
            "credit-scoring",
            5,
            "production",
            "Recalibrated on 2025 applications. The out-of-time AUC dipped; asking for a "
            "decision on whether calibration outweighs it.",
        )
        self._tick("engineer", v5, ROLLBACK, note="Keep v4 warm for a week after the switch.")

    def _others(self) -> None:
        staging = self._open(
            "engineer",
            "churn-predictor",
            6,
            "staging",
            "Sentiment features from support contacts; AUC 0.864.",
        )
        self._review("lead", staging, "approve", "Fine for the staging replay.")

        self._open(
            "engineer",
            "payments-anomaly-detector",
            4,
            "staging",
            "Refund streams as a second channel; AUC 0.930 on the labelled incidents.",
        )

        payments = self._open(
            "engineer",
            "payments-anomaly-detector",
            4,
            "production",
            "Catches refund spikes the current model misses; AUC 0.930 vs 0.913.",
        )
        self._tick("engineer", payments, ROLLBACK, note="Switch the alias back to v3.")
        self._review("lead", payments, "approve", "Clear improvement on refund incidents.")
        self._review(
            "risk",
            payments,
            "request_changes",
            "Document the alert thresholds per merchant tier and what happens when the "
            "holiday calendar is not loaded, then re-submit.",
        )

        ranker = self._open(
            "engineer",
            "recommendation-ranker",
            4,
            "production",
            "Two-tower ranker with price buckets.",
        )
        self._review(
            "lead",
            ranker,
            "reject",
            "v4 has no model card, and v5 in production already beats it on NDCG@10. Ask for "
            "v6 instead.",
        )

        assistant = self._open(
            "mei",
            "support-assistant-llm",
            4,
            "production",
            "Longer context window for multi-turn tickets.",
        )
        services.withdraw_request(
            actor=self.users["mei"],
            approval=assistant,
            reason="ROUGE-L regressed on the German evaluation set; v5 replaces this candidate.",
        )

        moderation = self._open(
            "amira",
            "image-moderation",
            5,
            "production",
            "ViT-B/16 fine-tune: AUC 0.983 vs 0.975; the skin-tone gap is down to 0.6 points.",
        )
        self._review(
            "risk",
            moderation,
            "request_changes",
            "Attach the per-skin-tone confusion matrices, not only recall.",
        )
        services.resubmit_request(
            actor=self.users["amira"],
            approval=moderation,
            justification="ViT-B/16 fine-tune: AUC 0.983 vs 0.975. Confusion matrices per "
            "skin-tone group are now in MODEL.md.",
        )
        self._tick("amira", moderation, ROLLBACK, note="Previous version stays deployed at 0%.")
        self._review("lead", moderation, "approve", "Matrices look balanced.")
