"""The governance and release part of the Northwind demo: reviewer roles, policies, approval
requests in every state, and every promotion and rollback, planned as timed steps against the
catalogue's history (models_app.management.commands.seed_catalogue.CatalogueHistory).

``manage.py seed_demo`` merges these steps with the catalogue's and replays them in time order
under the demo clock, so a version is approved days after it was registered, promoted after
its approval, and the audit ledger, the deployments and the approval requests all tell the
same six months. Requests, ticks, reviews, withdrawals and re-submissions go through
approvals_app.services, promotions and rollbacks through approvals_app.promotion (the only
code path that deploys), so production deployments carry the approval that allowed them.
Reviewer roles and policies are reference data that ops staff keep in the admin; they are
written here with the same audit events the admin writes.
"""

from collections import Counter
from datetime import datetime, timedelta

from django.contrib.auth.models import Group

from approvals_app import promotion, services
from approvals_app.admin import policy_snapshot
from approvals_app.models import ApprovalPolicy, ApprovalRequest, MetricGate, ReviewerRole
from models_app import services as catalogue
from models_app.management.commands._demo_clock import Step, between, working_hours
from models_app.management.commands.seed_catalogue import CatalogueHistory
from models_app.models import Deployment, ModelVersion, RegisteredModel

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
            # Advisory, both: every tier needs this sign-off, and ranking, generation and speech
            # models report neither metric; a missing metric would block them from staging.
            {
                "metric_key": "auc",
                "kind": "absolute",
                "operator": ">=",
                "threshold": 0.8,
                "blocking": False,
            },
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


# Where each model runs in each environment.
TARGETS = {
    ("fraud-classifier", "production"): "k8s://prod-eu-west-1/fraud/fraud-classifier",
    ("fraud-classifier", "staging"): "k8s://staging-eu-west-1/fraud/fraud-classifier",
    ("credit-scoring", "production"): "k8s://prod-eu-west-1/risk/credit-scoring",
    ("credit-scoring", "staging"): "k8s://staging-eu-west-1/risk/credit-scoring",
    ("payments-anomaly-detector", "production"): "k8s://prod-eu-west-1/payments/anomaly",
    ("payments-anomaly-detector", "development"): "k8s://dev/payments/anomaly",
    ("churn-predictor", "production"): "airflow://prod/ci/churn_weekly_scoring",
    ("churn-predictor", "staging"): "airflow://staging/ci/churn_weekly_scoring",
    ("recommendation-ranker", "production"): "k8s://prod-eu-west-1/ci/ranker",
    ("recommendation-ranker", "staging"): "k8s://staging-eu-west-1/ci/ranker",
    ("support-assistant-llm", "production"): (
        "https://llm-gateway.northwind.example/v1/support-assistant"
    ),
    ("support-assistant-llm", "staging"): (
        "https://llm-gateway.staging.northwind.example/v1/support-assistant"
    ),
    ("document-embedder", "production"): "k8s://prod-eu-west-1/support/embedder",
    ("support-ticket-router", "production"): "k8s://prod-eu-west-1/support/router",
    ("speech-to-text", "production"): "k8s://prod-eu-west-1/support/asr",
    ("speech-to-text", "staging"): "k8s://staging-eu-west-1/support/asr",
    ("image-moderation", "production"): "k8s://prod-eu-west-1/trust/image-moderation",
    ("image-moderation", "staging"): "k8s://staging-eu-west-1/trust/image-moderation",
    ("demand-forecaster", "production"): "airflow://prod/ops/demand_daily",
    ("demand-forecaster", "development"): "airflow://dev/ops/demand_daily",
    ("aml-transaction-monitor", "production"): "k8s://prod-eu-west-1/fincrime/aml",
}

# The forecaster is a nightly batch job and reports no serving latency, which the production
# policy gates on; an administrator approves past that gate, with the reason on record.
BATCH_OVERRIDE = (
    "Batch forecasts written by a nightly Airflow job: p95 serving latency does not apply."
)


def summary_line() -> str:
    """Policies, requests by the status people see, promotions and rollbacks."""
    shown = Counter(a.display_status.lower() for a in ApprovalRequest.objects.all())
    counts = ", ".join(f"{count} {status}" for status, count in sorted(shown.items()))
    rollbacks = Deployment.objects.filter(rolled_back_from__isnull=False).count()
    promotions = Deployment.objects.count() - rollbacks
    return (
        f"Approvals demo: {ApprovalPolicy.objects.count()} policies, requests: {counts}; "
        f"{promotions} promotions and {rollbacks} rollback{'' if rollbacks == 1 else 's'}.\n"
    )


class _Flow:
    """The moments of one thread of work (a request, its reviews, the release), each a while
    after the one before; in office hours unless told otherwise."""

    def __init__(self, start: datetime, *, office_hours: bool = True):
        self.office_hours = office_hours
        self.moment = working_hours(start) if office_hours else start

    def then(self, **delta) -> datetime:
        moment = self.moment + timedelta(**delta)
        self.moment = working_hours(moment) if self.office_hours else moment
        return self.moment


class GovernanceHistory:
    """Reviewer roles, policies, approval requests and releases as timed steps.

    Planned against ``catalogue`` (its moments, and at run time its users and environments);
    the steps run after the catalogue steps they depend on because they are later in time.
    """

    def __init__(self, catalogue_history: CatalogueHistory):
        self.catalogue = catalogue_history
        self.now = catalogue_history.now
        self.requests: dict[str, ApprovalRequest] = {}
        self._steps: list[Step] = []
        self._plan()

    def steps(self) -> list[Step]:
        return list(self._steps)

    def registered_at(self, model: str, number: int) -> datetime:
        return self.catalogue.registered_at(model, number)

    # --- building blocks: each plans one step ---------------------------------------------------

    def _at(self, moment: datetime, label: str, action) -> None:
        self._steps.append(Step(moment, action, label))

    def _user(self, username):
        return self.catalogue.users[username]

    @staticmethod
    def _version(model: str, number: int) -> ModelVersion:
        # Read afresh: the model's risk tier may have changed since the version was made.
        return ModelVersion.objects.select_related("model__team").get(
            model__name=model, version=number
        )

    def _request(self, moment, who, model, number, env, justification) -> str:
        key = f"{model} v{number} → {env}"

        def action():
            self.requests[key] = services.request_approval(
                actor=self._user(who),
                version=self._version(model, number),
                environment=self.catalogue.environments[env],
                justification=justification,
            )

        self._at(moment, f"request {key}", action)
        return key

    def _tick(self, moment, who, key, text, note="", url="") -> None:
        def action():
            approval = self.requests[key]
            services.tick_checklist_item(
                actor=self._user(who),
                approval=approval,
                item=approval.policy.checklist_items.get(text=text),
                note=note,
                evidence_url=url,
            )

        self._at(moment, f"tick {key}: {text}", action)

    def _tick_all(self, moment, who, key, *, bias="", rollback="") -> None:
        """Tick the request's whole checklist (which depends on the policy that applies)."""

        def action():
            approval = self.requests[key]
            for item in approval.policy.checklist_items.all():
                services.tick_checklist_item(
                    actor=self._user(who),
                    approval=approval,
                    item=item,
                    note=bias if item.requires_evidence else rollback,
                )

        self._at(moment, f"checklist {key}", action)

    def _review(self, moment, who, key, decision, comment="", override_reason="") -> None:
        def action():
            self.requests[key] = services.submit_review(
                actor=self._user(who),
                approval=self.requests[key],
                decision=decision,
                comment=comment,
                # The reviewers of the demo have read the high-risk warning.
                confirmed=True,
                override_reason=override_reason,
            )

        self._at(moment, f"{decision} {key} by {who}", action)

    def _withdraw(self, moment, who, key, reason) -> None:
        def action():
            services.withdraw_request(
                actor=self._user(who), approval=self.requests[key], reason=reason
            )

        self._at(moment, f"withdraw {key}", action)

    def _resubmit(self, moment, who, key, justification) -> None:
        def action():
            services.resubmit_request(
                actor=self._user(who), approval=self.requests[key], justification=justification
            )

        self._at(moment, f"resubmit {key}", action)

    def _promote(self, moment, who, model, number, env, notes="") -> None:
        def action():
            promotion.promote(
                actor=self._user(who),
                version=self._version(model, number),
                environment=self.catalogue.environments[env],
                target=TARGETS[(model, env)],
                notes=notes,
            )

        self._at(moment, f"promote {model} v{number} → {env}", action)

    def _rollback(self, moment, who, model, env, reason) -> None:
        def action():
            promotion.rollback(
                actor=self._user(who),
                model=RegisteredModel.objects.get(name=model),
                environment=self.catalogue.environments[env],
                reason=reason,
            )

        self._at(moment, f"roll back {model} in {env}", action)

    def _approved(
        self,
        flow: _Flow,
        model: str,
        number: int,
        env: str,
        *,
        requester: str,
        justification: str,
        reviews: list[tuple[str, str]],
        bias: str = "",
        rollback: str = "",
    ) -> str:
        """A request that goes through: opened at the flow's moment, its checklist ticked by
        the requester, then approved by each reviewer in turn (hours, then a day, apart)."""
        key = self._request(flow.moment, requester, model, number, env, justification)
        if env == "production":
            self._tick_all(flow.then(minutes=25), requester, key, bias=bias, rollback=rollback)
        for index, (reviewer, comment) in enumerate(reviews):
            self._review(
                flow.then(hours=4 if index == 0 else 20), reviewer, key, "approve", comment
            )
        return key

    def _release(self, model: str, number: int, *, after_days: float = 1, **request) -> _Flow:
        """Approval for production, then ops promote it the next day; returns the flow, at the
        promotion."""
        flow = _Flow(self.registered_at(model, number) + timedelta(days=after_days))
        self._approved(flow, model, number, "production", **request)
        self._promote(flow.then(days=1), "admin", model, number, "production")
        return flow

    def _staged(
        self, flow: _Flow, model, number, *, requester, justification, reviewer, comment, notes=""
    ) -> None:
        """A staging sign-off and the team's own promotion to staging an hour later."""
        self._approved(
            flow,
            model,
            number,
            "staging",
            requester=requester,
            justification=justification,
            reviews=[(reviewer, comment)],
        )
        self._promote(flow.then(hours=1), requester, model, number, "staging", notes)

    # --- the history ---------------------------------------------------------------------------

    def _plan(self) -> None:
        self._at(
            working_hours(self.catalogue.origin + timedelta(days=1)),
            "reviewer roles and policies",
            self._governance,
        )
        self._fraud()
        self._credit()
        self._payments()
        self._churn()
        self._ranker()
        self._assistant()
        self._support_models()
        self._moderation()
        self._forecaster()
        self._aml()
        # Every production release above went there directly; since this week production
        # takes only versions that are or were in staging, so the rule shows on the promotion
        # form (demand-forecaster v6 runs only in development and is refused).
        self._at(
            working_hours(self.now - timedelta(days=3)),
            "production takes versions from staging",
            self._promotion_path,
        )

    # --- reference data, audited as the admin audits it ----------------------------------------

    def _governance(self) -> None:
        admin = self._user("admin")
        for name, (description, usernames) in ROLES.items():
            group, _ = Group.objects.get_or_create(name=name)
            group.user_set.add(*(self._user(u) for u in usernames))
            role, created = ReviewerRole.objects.get_or_create(
                group=group, defaults={"description": description}
            )
            if created:
                catalogue.record_admin_change(
                    actor=admin,
                    obj=role,
                    action="approvals.reviewer_role.created",
                    before=None,
                    after={"group": name, "description": description},
                )
        for spec in POLICIES:
            name, env, tiers, approvals, roles, card, days, override, gates, checklist = spec
            policy = ApprovalPolicy.objects.create(
                name=name,
                environment=self.catalogue.environments[env],
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
                actor=admin,
                obj=policy,
                action="approvals.policy.created",
                before=None,
                after=policy_snapshot(policy),
            )

    def _promotion_path(self) -> None:
        production = self.catalogue.environments["production"]
        staging = self.catalogue.environments["staging"]
        production.promotion_sources.set([staging])
        catalogue.record_admin_change(
            actor=self._user("admin"),
            obj=production,
            action="models_app.environment.updated",
            before={"promotion_sources": []},
            after={"promotion_sources": [str(staging)]},
        )

    # --- model by model ---------------------------------------------------------------------------

    def _fraud(self) -> None:
        model = "fraud-classifier"
        # v4 went to production long ago; its approval has since run out (90 days), so the
        # timeline cannot roll back to it.
        self._release(
            model,
            4,
            requester="engineer",
            justification="Device-reputation features cut false declines by 9% in the shadow run.",
            bias="Recall gap for customers over 65 is 3 points; reviewed with Risk in the "
            "monthly fairness forum.",
            rollback="Redeploy v3's artefacts from the registry; 15 minutes.",
            reviews=[
                ("lead", "Shadow results match offline evaluation."),
                ("risk", "Fairness gap within our 4-point tolerance."),
            ],
        )

        # v5 was still waiting for Risk when v6 got through: v6's approval superseded it, and
        # v5 never reached production.
        flow = _Flow(self.registered_at(model, 5) + timedelta(days=1))
        key = self._request(
            flow.moment,
            "engineer",
            model,
            5,
            "production",
            "Monotonic constraint on amount: fewer false declines on large baskets.",
        )
        self._review(
            flow.then(hours=5),
            "lead",
            key,
            "approve",
            "Good change; the large-basket complaints stop.",
        )

        flow = _Flow(self.registered_at(model, 6) + timedelta(hours=4))
        self._staged(
            flow,
            model,
            6,
            requester="engineer",
            justification="Holiday-peak retrain; shadow-score it against production traffic.",
            reviewer="lead",
            comment="Fine for shadow scoring.",
        )
        flow = self._release(
            model,
            6,
            after_days=2,
            requester="engineer",
            justification="Retrained on Q4 data including the holiday peak; AUC +0.9 points "
            "over v5.",
            bias="Age and gender recall slices compared with v5: every gap narrowed. Notebook: "
            "fraud/card-fraud/notebooks/fairness-v6.ipynb",
            rollback="Roll back to v4 from the environment timeline while its approval lasts.",
            reviews=[
                ("lead", "Holiday-peak recall is what we needed."),
                ("risk", "Fairness slices reviewed; all within tolerance."),
            ],
        )

        # The card was improved after the approval: allowed, audited, and the request shows
        # that the evidence changed since.
        def edit_card():
            catalogue.update_version_card(
                actor=self._user("engineer"),
                version=self._version(model, 6),
                limitations=(
                    "Trained on EU/UK traffic only; precision drops on new merchant categories "
                    "until they have 30 days of history. Not calibrated for account-takeover "
                    "fraud. Holiday-peak behaviour verified on the 2024 peak only."
                ),
            )

        self._at(flow.then(days=6), f"{model} v6 card", edit_card)

        flow = _Flow(self.registered_at(model, 7) + timedelta(hours=3))
        self._staged(
            flow,
            model,
            7,
            requester="engineer",
            justification="Merchant-category embeddings; a week of shadow scoring before "
            "asking for production.",
            reviewer="lead",
            comment="Go ahead with the shadow run.",
            notes="Shadow scoring against production traffic.",
        )
        # This morning: v7 asks for production and waits for Lead and Risk; its checklist is
        # done, so their two approvals are all it needs.
        flow = _Flow(self.now - timedelta(hours=3), office_hours=False)
        key = self._request(
            flow.moment,
            "engineer",
            model,
            7,
            "production",
            "Merchant-category embeddings: AUC 0.975 vs 0.963 in production, p95 latency down "
            "to 11 ms. Shadow-scored in staging for a week.",
        )
        self._tick(
            flow.then(minutes=12),
            "engineer",
            key,
            BIAS,
            note="Recall slices by age and gender attached to the run; the over-65 gap is "
            "5 points, down from 6.",
            url="https://mlflow.northwind.example/#/experiments/14/runs/fraud-v7-fairness",
        )
        self._tick(
            flow.then(minutes=4), "engineer", key, ROLLBACK, note="Alias champion moves back to v6."
        )

    def _credit(self) -> None:
        model = "credit-scoring"
        # Reclassified as high risk after v2, so its production releases need Risk too.
        self._release(
            model,
            3,
            requester="engineer",
            justification="Postcode features removed after the fairness review; the first "
            "model to replace the scorecard.",
            bias="Approval-rate parity by gender and age band: every gap under 3 points. "
            "Report: https://wiki.northwind.example/risk/credit-scoring/fairness-2024-q4",
            rollback="The scorecard stays deployable for a month.",
            reviews=[
                ("lead", "Out-of-time validation holds up."),
                ("risk", "Adverse-action reasons checked on 40 declines."),
            ],
        )

        # v4: both approvals came in before the checklist was done; the last tick approved it.
        flow = _Flow(self.registered_at(model, 4) + timedelta(days=1))
        key = self._request(
            flow.moment,
            "engineer",
            model,
            4,
            "production",
            "Monotonic constraints on income and utilisation, required by the credit policy.",
        )
        self._review(
            flow.then(hours=4),
            "lead",
            key,
            "approve",
            "Constraints verified on the partial-dependence plots.",
        )
        self._review(
            flow.then(hours=20),
            "risk",
            key,
            "approve",
            "Adverse-action reasons checked on 50 declines.",
        )
        self._tick(
            flow.then(hours=3),
            "engineer",
            key,
            BIAS,
            url="https://wiki.northwind.example/risk/credit-scoring/fairness-2025-q1",
        )
        self._tick(
            flow.then(minutes=10),
            "engineer",
            key,
            ROLLBACK,
            note="Redeploy v3 from the registry; 10 minutes.",
        )
        self._promote(flow.then(days=1), "admin", model, 4, "production")

        # v5 was re-evaluated on the newest out-of-time cohort, and its AUC fell more than the
        # 1% the production policy tolerates: staging took it, but the production dry run
        # shows the gate failing and nobody can approve.
        flow = _Flow(self.registered_at(model, 5) + timedelta(days=1))

        def reevaluate():
            catalogue.log_metrics(
                actor=self._user("engineer"),
                version=self._version(model, 5),
                metrics=[{"key": "auc", "value": 0.8012}],
            )

        self._at(flow.moment, f"{model} v5 re-evaluated", reevaluate)
        flow.then(hours=2)
        self._staged(
            flow,
            model,
            5,
            requester="engineer",
            justification="Recalibrated on 2025 applications; staging replay before the "
            "production decision.",
            reviewer="lead",
            comment="Calibration is much better; fine for staging.",
        )
        flow = _Flow(self.registered_at(model, 5) + timedelta(days=3))
        key = self._request(
            flow.moment,
            "engineer",
            model,
            5,
            "production",
            "Recalibrated on 2025 applications. The out-of-time AUC dipped; asking for a "
            "decision on whether calibration outweighs it.",
        )
        self._tick(
            flow.then(minutes=20),
            "engineer",
            key,
            ROLLBACK,
            note="Keep v4 warm for a week after the switch.",
        )

    def _payments(self) -> None:
        model = "payments-anomaly-detector"
        self._release(
            model,
            3,
            requester="engineer",
            justification="Replaces the rules engine's payment alerts: AUC 0.913 on the "
            "labelled incidents.",
            rollback="The rules engine stays on standby; switch back in the gateway config.",
            reviews=[
                ("lead", "Alert volume per analyst is manageable."),
                ("risk", "Alert thresholds documented; fine."),
            ],
        )
        registered = self.registered_at(model, 4)
        # Development needs no approval: the team deploys there itself.
        self._promote(
            working_hours(registered + timedelta(hours=3)), "engineer", model, 4, "development"
        )
        self._request(
            working_hours(registered + timedelta(days=1)),
            "engineer",
            model,
            4,
            "staging",
            "Refund streams as a second channel; AUC 0.930 on the labelled incidents.",
        )
        flow = _Flow(registered + timedelta(days=1, hours=1))
        key = self._request(
            flow.moment,
            "engineer",
            model,
            4,
            "production",
            "Catches refund spikes the current model misses; AUC 0.930 vs 0.913.",
        )
        self._tick(
            flow.then(minutes=20), "engineer", key, ROLLBACK, note="Switch the alias back to v3."
        )
        self._review(
            flow.then(hours=4), "lead", key, "approve", "Clear improvement on refund incidents."
        )
        self._review(
            flow.then(hours=20),
            "risk",
            key,
            "request_changes",
            "Document the alert thresholds per merchant tier and what happens when the "
            "holiday calendar is not loaded, then re-submit.",
        )

    def _churn(self) -> None:
        model = "churn-predictor"
        self._release(
            model,
            3,
            requester="sofia",
            justification="First LightGBM churn model: recall on at-risk sellers well above "
            "the legacy logistic regression.",
            rollback="The legacy scoring job stays deployable for a month.",
            reviews=[
                ("lead", "Calibration plot and lift chart look right."),
                ("risk", "No protected attributes among the features; fine."),
            ],
        )
        # v4 drifted in production and was rolled back to v3 three days later.
        flow = self._release(
            model,
            4,
            after_days=2,
            requester="sofia",
            justification="Weekly retrain with marketplace-fee features.",
            rollback="Roll back to v3 from the environment timeline.",
            reviews=[
                ("lead", "Fee features make sense after the price change."),
                ("risk", "Fine."),
            ],
        )
        self._rollback(
            flow.then(days=3),
            "admin",
            model,
            "production",
            "Calibration drift: twice the expected offers sent.",
        )
        self._release(
            model,
            5,
            requester="sofia",
            justification="Recalibrated after the v4 incident: the offer rate matches the "
            "forecast in the replay.",
            rollback="Roll back from the environment timeline if the offer rate drifts again.",
            reviews=[
                ("lead", "Offer-rate replay is convincing."),
                ("risk", "Calibration monitoring is in place now."),
            ],
        )
        flow = _Flow(self.registered_at(model, 6) + timedelta(hours=2))
        self._staged(
            flow,
            model,
            6,
            requester="engineer",
            justification="Sentiment features from support contacts; AUC 0.864.",
            reviewer="lead",
            comment="Fine for the staging replay.",
        )

    def _ranker(self) -> None:
        model = "recommendation-ranker"
        self._release(
            model,
            3,
            requester="engineer",
            justification="Session features: NDCG@10 0.336 vs 0.323 offline.",
            rollback="Roll back from the environment timeline; the feature store keeps both.",
            reviews=[
                ("lead", "Offline replay and the A/B readout agree."),
                ("risk", "No personal data beyond the session; fine."),
            ],
        )
        flow = _Flow(self.registered_at(model, 4) + timedelta(days=1))
        key = self._request(
            flow.moment, "engineer", model, 4, "production", "Two-tower ranker with price buckets."
        )
        self._review(
            working_hours(self.registered_at(model, 5) + timedelta(hours=6)),
            "lead",
            key,
            "reject",
            "v4 has no model card, and v5 already beats it on NDCG@10. Put v5 forward instead.",
        )
        self._release(
            model,
            5,
            requester="engineer",
            justification="Two-tower ranker with price buckets, with its model card: NDCG@10 "
            "0.359 vs 0.336 in production.",
            rollback="Roll back from the environment timeline.",
            reviews=[
                ("lead", "Better on every offline metric, and faster."),
                ("risk", "Fine."),
            ],
        )
        # Registered yesterday, in staging since this morning.
        start = self.registered_at(model, 6) + timedelta(minutes=45)
        key = self._request(
            between(start, self.now, 0.1),
            "engineer",
            model,
            6,
            "staging",
            "Recall@50 +1.3 points; A/B test at 5 % of sessions in staging.",
        )
        self._review(between(start, self.now, 0.4), "lead", key, "approve", "Run the A/B test.")
        self._promote(
            between(start, self.now, 0.5),
            "engineer",
            model,
            6,
            "staging",
            "A/B test at 5 % of sessions after approval.",
        )

    def _assistant(self) -> None:
        model = "support-assistant-llm"
        self._release(
            model,
            3,
            requester="mei",
            justification="LoRA fine-tune: agents accepted 94% of its drafts in the pilot.",
            rollback="The gateway keeps the previous adapter loaded for a week.",
            reviews=[
                ("lead", "Pilot transcripts read well."),
                ("risk", "Toxicity rate within policy; agents review every draft."),
            ],
        )
        flow = _Flow(self.registered_at(model, 4) + timedelta(days=1))
        key = self._request(
            flow.moment,
            "mei",
            model,
            4,
            "production",
            "Longer context window for multi-turn tickets.",
        )
        self._withdraw(
            flow.then(days=8),
            "mei",
            key,
            "ROUGE-L regressed on the German evaluation set; v5 replaces this candidate.",
        )
        self._release(
            model,
            5,
            requester="mei",
            justification="ROUGE-L 0.459 vs 0.421 and half the toxicity rate of v3.",
            rollback="Roll back to v3 from the environment timeline.",
            reviews=[
                ("lead", "German and French samples are much better."),
                ("risk", "Toxicity down; fine."),
            ],
        )
        # The newest history: v6 was signed off for staging an hour ago and is running there.
        start = self.registered_at(model, 6) + timedelta(minutes=45)
        key = self._request(
            between(start, self.now, 0.3),
            "engineer",
            model,
            6,
            "staging",
            "Distilled adapter: p95 latency 1.6 s vs 1.7 s, toxicity rate down again.",
        )
        self._review(
            self.now - timedelta(hours=1), "lead", key, "approve", "Try it on the staging queue."
        )
        self._promote(self.now - timedelta(minutes=25), "engineer", model, 6, "staging")

    def _support_models(self) -> None:
        reviews = [("lead", "Offline evaluation reproduced."), ("risk", "Fine.")]
        self._release(
            "document-embedder",
            2,
            requester="mei",
            justification="Multilingual retriever: Recall@10 0.812 vs 0.780.",
            rollback="Re-index with the previous version from the registry; 2 hours.",
            reviews=reviews,
        )
        self._release(
            "document-embedder",
            3,
            requester="mei",
            justification="Hard-negative mining: Recall@10 0.839 vs 0.812 in production.",
            rollback="Roll back to v2 from the environment timeline; the old index is kept.",
            reviews=reviews,
        )
        self._release(
            "support-ticket-router",
            2,
            requester="engineer",
            justification="Two new queues (crypto payouts, VAT); accuracy 0.897.",
            rollback="Agents re-route by hand while the previous head redeploys.",
            reviews=reviews,
        )
        self._release(
            "speech-to-text",
            3,
            requester="mei",
            justification="Word error rate 11.8% vs 12.7% on held-out calls.",
            rollback="Roll back from the environment timeline.",
            reviews=reviews,
        )
        flow = _Flow(self.registered_at("speech-to-text", 4) + timedelta(days=1))
        self._staged(
            flow,
            "speech-to-text",
            4,
            requester="mei",
            justification="Word error rate 10.0%; try it on the staging call replay.",
            reviewer="lead",
            comment="Go ahead.",
        )

    def _moderation(self) -> None:
        model = "image-moderation"
        reviews = [
            ("lead", "Precision on the listing sample holds."),
            ("risk", "Skin-tone recall gap reviewed."),
        ]
        for number in (3, 4):
            self._release(
                model,
                number,
                requester="amira",
                justification="Better recall on prohibited items at the same precision.",
                rollback="Roll back from the environment timeline.",
                reviews=reviews,
            )
        flow = _Flow(self.registered_at(model, 5) + timedelta(days=1))
        self._staged(
            flow,
            model,
            5,
            requester="amira",
            justification="ViT-B/16 fine-tune; staging replay of last week's listings.",
            reviewer="lead",
            comment="Fine for the replay.",
        )
        # Sent back for changes, re-submitted, approved by Lead, waiting for one more approval.
        flow = _Flow(self.registered_at(model, 5) + timedelta(days=1, hours=3))
        key = self._request(
            flow.moment,
            "amira",
            model,
            5,
            "production",
            "ViT-B/16 fine-tune: AUC 0.983 vs 0.975; the skin-tone gap is down to 0.6 points.",
        )
        self._review(
            flow.then(hours=20),
            "risk",
            key,
            "request_changes",
            "Attach the per-skin-tone confusion matrices, not only recall.",
        )
        self._resubmit(
            flow.then(hours=5),
            "amira",
            key,
            "ViT-B/16 fine-tune: AUC 0.983 vs 0.975. Confusion matrices per skin-tone group "
            "are now in MODEL.md.",
        )
        self._tick(
            flow.then(minutes=10),
            "amira",
            key,
            ROLLBACK,
            note="Previous version stays deployed at 0%.",
        )
        self._review(flow.then(hours=3), "lead", key, "approve", "Matrices look balanced.")

    def _forecaster(self) -> None:
        model = "demand-forecaster"
        for number, justification in (
            (4, "Holiday regressors for the new fulfilment centres: MAPE 11.8% vs 12.8%."),
            (5, "Promotion calendar as a regressor: MAPE 10.4% vs 11.8%."),
        ):
            flow = _Flow(self.registered_at(model, number) + timedelta(days=1))
            key = self._request(flow.moment, "tomas", model, number, "production", justification)
            self._tick(
                flow.then(minutes=25),
                "tomas",
                key,
                ROLLBACK,
                note="The Airflow DAG pins the model version; revert the pin.",
            )
            self._review(
                flow.then(hours=4),
                "admin",
                key,
                "approve",
                "Nothing to gate on latency here.",
                override_reason=BATCH_OVERRIDE,
            )
            self._review(
                flow.then(hours=20), "lead", key, "approve", "Backtest over the last two peaks."
            )
            self._promote(flow.then(days=1), "admin", model, number, "production")
        self._promote(
            working_hours(self.registered_at(model, 6) + timedelta(days=1)),
            "tomas",
            model,
            6,
            "development",
        )

    def _aml(self) -> None:
        model = "aml-transaction-monitor"
        for number, justification in (
            (2, "Graph features over counterparties: fewer false alerts at the same recall."),
            (3, "Retrained on alerts dispositioned in Q4; recall 0.86 vs 0.83."),
        ):
            self._release(
                model,
                number,
                requester="nadia",
                justification=justification,
                bias="Alert rates by customer nationality and age compared with the previous "
                "version; no group above tolerance. Report in the MLRO file.",
                rollback="The rules engine's scenarios keep running in parallel for 30 days.",
                reviews=[
                    ("risk", "Model risk review done; alert explanations are adequate."),
                    ("admin", "Approved for Financial Crime operations."),
                ],
            )
