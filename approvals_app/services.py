"""Every change of state in the approval workflow.

Each function takes the acting user, checks who may act, validates, writes its rows and the
audit event in one transaction (locking the request row, so that double clicks and
simultaneous reviewers are serialised), and raises ApprovalError with a reason to show.
"""

from dataclasses import dataclass, field

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import Q, prefetch_related_objects
from django.utils import timezone

from approvals_app import notifications
from approvals_app.gates import Gate, GateResult, evaluate_gates
from approvals_app.models import (
    ApprovalPolicy,
    ApprovalRequest,
    ChecklistItem,
    ChecklistTick,
    Review,
    ReviewerRole,
)
from models_app import permissions
from models_app.audit import record_event
from models_app.models import (
    Deployment,
    Environment,
    Membership,
    Metric,
    MetricDefinition,
    ModelVersion,
    RegisteredModel,
)
from models_app.services import RegistryError, lock_version_evidence


class ApprovalError(RegistryError):
    """A refused approval action."""


class NotEligible(ApprovalError):
    code = "permission_denied"


# --- reading the facts a decision rests on -------------------------------------------------


def find_policy(version: ModelVersion, environment: Environment) -> ApprovalPolicy | None:
    """The active policy for this environment that covers the model's risk tier."""
    policies = ApprovalPolicy.objects.filter(environment=environment, active=True).order_by("pk")
    for policy in policies:
        if policy.applies_to_tier(version.model.risk_tier):
            return policy
    return None


def applicable_policies(version: ModelVersion) -> list[ApprovalPolicy]:
    """find_policy for every environment at once: one policy per environment that has an
    active policy covering the model's risk tier, in promotion order."""
    chosen: dict[int, ApprovalPolicy] = {}
    policies = (
        ApprovalPolicy.objects.filter(active=True)
        .select_related("environment")
        .order_by("environment__order", "environment__name", "pk")
    )
    for policy in policies:
        if policy.environment_id not in chosen and policy.applies_to_tier(version.model.risk_tier):
            chosen[policy.environment_id] = policy
    return list(chosen.values())


def latest_metric_values(version_id: int) -> dict[tuple[str, str], float]:
    """The newest value of each (key, slice): highest step, then latest recorded."""
    return latest_metric_values_of([version_id]).get(version_id, {})


def latest_metric_values_of(version_ids) -> dict[int, dict[tuple[str, str], float]]:
    """latest_metric_values for several versions in one query: {version_id: {(key, slice): v}}."""
    values: dict[int, dict[tuple[str, str], float]] = {}
    for row in Metric.objects.filter(version_id__in=list(version_ids)).latest_values():
        values.setdefault(row["version_id"], {})[(row["key"], row["slice"])] = row["value"]
    return values


def current_deployment(version: ModelVersion, environment: Environment) -> Deployment | None:
    """What serves this model at full traffic in the environment now (may be this version)."""
    return (
        Deployment.objects.filter(
            model_id=version.model_id,
            environment=environment,
            status=Deployment.Status.ACTIVE,
            traffic_percent=100,
        )
        .select_related("version")
        .first()
    )


def _gate_values(policy: ApprovalPolicy) -> list[Gate]:
    return [
        Gate(
            metric_key=g.metric_key,
            metric_slice=g.metric_slice,
            kind=g.kind,
            operator=g.operator,
            threshold=g.threshold,
            max_regression_percent=g.max_regression_percent,
            blocking=g.blocking,
        )
        for g in policy.gates.all()
    ]


@dataclass
class GateReport:
    """What the policy says about a version for a target environment, right now."""

    policy: ApprovalPolicy | None
    environment: Environment
    results: list[GateResult] = field(default_factory=list)
    current: Deployment | None = None
    model_card_complete: bool = True

    @property
    def model_card_blocks(self) -> bool:
        return bool(self.policy and self.policy.require_model_card and not self.model_card_complete)

    @property
    def blocking_failures(self) -> list[GateResult]:
        return [r for r in self.results if r.blocks]

    @property
    def passes(self) -> bool:
        return not self.blocking_failures and not self.model_card_blocks

    def as_dict(self) -> dict:
        return {
            "policy": self.policy.name if self.policy else None,
            "environment": self.environment.name,
            "compared_with": str(self.current.version) if self.current else None,
            "model_card_complete": self.model_card_complete,
            "gates": [r.as_dict() for r in self.results],
        }


def evaluate_policy(
    version: ModelVersion, environment: Environment, *, policy: ApprovalPolicy | None = None
) -> GateReport:
    """The dry run: each gate of the target environment's policy, evaluated now.

    ``policy`` is the request's own policy when a request is decided, so that its gates and
    its quorum come from the same policy even if the active one changed in between.
    """
    policy = policy or find_policy(version, environment)
    report = GateReport(
        policy=policy, environment=environment, model_card_complete=version.model_card_complete
    )
    if policy is None:
        return report
    gates = _gate_values(policy)
    current = current_deployment(version, environment)
    report.current = current
    definitions = dict(
        MetricDefinition.objects.filter(key__in={g.metric_key for g in gates}).values_list(
            "key", "higher_is_better"
        )
    )
    report.results = evaluate_gates(
        gates,
        latest_metric_values(version.pk),
        latest_metric_values(current.version_id) if current else None,
        definitions,
    )
    return report


def evaluate_policies(
    targets: list[tuple[ModelVersion, Environment, ApprovalPolicy | None]],
) -> list[GateReport]:
    """evaluate_policy for many (version, environment, policy) triples in a fixed number of
    queries, for lists such as the review queue: gates, current deployments, both sides'
    metrics and the metric definitions are each read once for all triples."""
    policies = list({p.pk: p for _, _, p in targets if p is not None}.values())
    prefetch_related_objects(policies, "gates")
    gates_of = {p.pk: _gate_values(p) for p in policies}
    current: dict[tuple[int, int], Deployment] = {}
    if policies:
        deployments = Deployment.objects.filter(
            model_id__in={v.model_id for v, _, _ in targets},
            environment_id__in={e.pk for _, e, _ in targets},
            status=Deployment.Status.ACTIVE,
            traffic_percent=100,
        ).select_related("version__model")
        current = {(d.model_id, d.environment_id): d for d in deployments}
    reports = []
    for version, environment, policy in targets:
        # As current_deployment: what runs there now, even if that is the candidate itself.
        deployment = current.get((version.model_id, environment.pk))
        reports.append(
            GateReport(
                policy=policy,
                environment=environment,
                current=deployment if policy else None,
                model_card_complete=version.model_card_complete,
            )
        )
    version_ids = {v.pk for v, _, _ in targets} | {
        r.current.version_id for r in reports if r.current
    }
    keys = {g.metric_key for gates in gates_of.values() for g in gates}
    metrics = latest_metric_values_of(version_ids) if keys else {}
    definitions = dict(
        MetricDefinition.objects.filter(key__in=keys).values_list("key", "higher_is_better")
        if keys
        else []
    )
    for (version, _, policy), report in zip(targets, reports, strict=True):
        if policy is None:
            continue
        report.results = evaluate_gates(
            gates_of[policy.pk],
            metrics.get(version.pk, {}),
            metrics.get(report.current.version_id, {}) if report.current else None,
            definitions,
        )
    return reports


# --- who may review ------------------------------------------------------------------------


def reviewer_roles_of(user) -> list[str]:
    """Names of the org-wide reviewer groups this user belongs to."""
    return sorted(
        ReviewerRole.objects.filter(group__user=user).values_list("group__name", flat=True)
    )


def is_eligible_reviewer(user, version: ModelVersion) -> bool:
    """Team reviewers (role reviewer/admin) of the model's team, or any reviewer-role member."""
    if not user.is_authenticated or not user.is_active:
        return False
    if not permissions.can_view_model(user, version.model):
        return False
    if permissions.has_team_role(user, version.model.team_id, Membership.Role.REVIEWER):
        return True
    return ReviewerRole.objects.filter(group__user=user).exists()


def eligible_reviewers(version: ModelVersion):
    """Users who may review requests for this version (for the queue and notifications)."""
    from django.contrib.auth import get_user_model

    team_reviewers = Q(
        memberships__team_id=version.model.team_id,
        memberships__role__in=[Membership.Role.REVIEWER, Membership.Role.ADMIN],
    )
    role_members = Q(groups__reviewer_role__isnull=False)
    users = get_user_model().objects.filter(is_active=True).filter(team_reviewers | role_members)
    if version.model.restricted:
        users = users.filter(Q(memberships__team_id=version.model.team_id) | Q(is_superuser=True))
    return users.distinct()


# --- quorum ------------------------------------------------------------------------------


@dataclass
class QuorumState:
    required: int
    approvals: int
    required_roles: list[str]
    missing_roles: list[str]
    checklist_missing: list[str]

    @property
    def met(self) -> bool:
        return self.approvals >= self.required and not self.missing_roles

    def describe_missing(self) -> list[str]:
        """Plain sentences: what still stands between the request and approval."""
        needs = []
        remaining = max(self.required - self.approvals, 0)
        if self.missing_roles:
            for role in self.missing_roles:
                needs.append(f"needs an approval from {role}")
            extra = remaining - len(self.missing_roles)
            if extra > 0:
                needs.append(f"needs {extra} more approval{'s' if extra > 1 else ''}")
        elif remaining:
            needs.append(f"needs {remaining} more approval{'s' if remaining > 1 else ''}")
        for item in self.checklist_missing:
            needs.append(f"checklist: “{item}” is not ticked")
        return needs


def quorum_state(request: ApprovalRequest) -> QuorumState:
    policy = request.policy
    approvals = [
        r
        for r in request.reviews.all()
        if r.round == request.round and r.decision == Review.Decision.APPROVE
    ]
    held = set()
    for review in approvals:
        held.update(review.roles)
    required_roles = sorted(g.name for g in policy.required_roles.all())
    ticked = {t.item_id for t in request.checklist_ticks.all()}
    return QuorumState(
        required=policy.required_approvals,
        approvals=len({r.reviewer_id for r in approvals}),
        required_roles=required_roles,
        missing_roles=[role for role in required_roles if role not in held],
        checklist_missing=[i.text for i in policy.checklist_items.all() if i.pk not in ticked],
    )


# --- the workflow -------------------------------------------------------------------------


def _lock(request: ApprovalRequest) -> ApprovalRequest:
    """Lock the request for a decision and return it freshly read, with what it refers to.

    Every decision takes its locks in one order: the model row, the request, the version.
    The catalogue's services take the model before the version too (log_metrics,
    attach_artifact), and approving a request also locks the model's older open requests to
    supersede them; with the model first, none of these can wait on each other in a cycle
    (FOR UPDATE over the joins would take the version before the model and deadlock with
    log_metrics on PostgreSQL). Holding the version keeps the metrics the gates read in place
    until the evidence is frozen.
    """
    model_id, version_id = ApprovalRequest.objects.values_list(
        "version__model_id", "version_id"
    ).get(pk=request.pk)
    RegisteredModel.objects.select_for_update().values_list("pk").get(pk=model_id)
    ApprovalRequest.objects.select_for_update().values_list("pk").get(pk=request.pk)
    ModelVersion.objects.select_for_update().values_list("pk").get(pk=version_id)
    return ApprovalRequest.objects.select_related(
        "version__model__team", "environment", "policy", "requester"
    ).get(pk=request.pk)


def request_approval(
    *, actor, version: ModelVersion, environment: Environment, justification: str
) -> ApprovalRequest:
    """Ask for a version to be approved for an environment."""
    if not permissions.can_contribute(actor, version.model):
        raise NotEligible(
            f"You need the contributor role in team '{version.model.team}' to request approval."
        )
    justification = (justification or "").strip()
    if not justification:
        raise ApprovalError("Say why this version should go there.", field="justification")
    if version.model.is_archived:
        raise ApprovalError(f"{version.model.name} is archived.")
    if version.retired_at:
        raise ApprovalError(f"{version} is retired and cannot be approved.")
    policy = find_policy(version, environment)
    if policy is None:
        raise ApprovalError(
            f"No approval policy covers {version.model.get_risk_tier_display().lower()}-risk "
            f"models in {environment}; promotion there needs no approval."
        )
    try:
        with transaction.atomic():
            approval = ApprovalRequest.objects.create(
                version=version,
                environment=environment,
                policy=policy,
                requester=actor,
                justification=justification,
            )
            record_event(
                actor=actor,
                action="approvals.request.opened",
                obj=approval,
                after={
                    "version": version.version,
                    "environment": environment.name,
                    "policy": policy.name,
                    "justification": justification,
                },
            )
            transaction.on_commit(lambda: notifications.request_opened(approval.pk))
    except IntegrityError:
        raise ApprovalError(
            f"{version} already has an open request for {environment}.", code="duplicate"
        ) from None
    return approval


def withdraw_request(*, actor, approval: ApprovalRequest, reason: str = "") -> ApprovalRequest:
    """The requester (or a team admin) takes back an open request."""
    with transaction.atomic():
        approval = _lock(approval)
        team_admin = permissions.has_team_role(
            actor, approval.version.model.team_id, Membership.Role.ADMIN
        )
        if actor.pk != approval.requester_id and not team_admin:
            raise NotEligible("Only the requester or a team admin can withdraw a request.")
        if not approval.is_open:
            raise ApprovalError(
                f"This request is {approval.get_status_display().lower()}; only open requests "
                "can be withdrawn.",
                code="conflict",
            )
        old = approval.status
        approval.status = ApprovalRequest.Status.WITHDRAWN
        approval.decided_at = timezone.now()
        approval.save(update_fields=["status", "decided_at", "updated_at"])
        record_event(
            actor=actor,
            action="approvals.request.withdrawn",
            obj=approval,
            before={"status": old},
            after={"status": approval.status, "reason": reason},
        )
    return approval


def resubmit_request(*, actor, approval: ApprovalRequest, justification: str) -> ApprovalRequest:
    """After "request changes", the requester sends the request back for a new round."""
    with transaction.atomic():
        approval = _lock(approval)
        if actor.pk != approval.requester_id:
            raise NotEligible("Only the requester can re-submit this request.")
        if approval.status != ApprovalRequest.Status.CHANGES_REQUESTED:
            raise ApprovalError(
                "Only requests sent back for changes can be re-submitted.", code="conflict"
            )
        justification = (justification or "").strip() or approval.justification
        approval.status = ApprovalRequest.Status.OPEN
        approval.round += 1
        approval.justification = justification
        approval.save(update_fields=["status", "round", "justification", "updated_at"])
        record_event(
            actor=actor,
            action="approvals.request.resubmitted",
            obj=approval,
            before={"status": ApprovalRequest.Status.CHANGES_REQUESTED},
            after={
                "status": approval.status,
                "round": approval.round,
                "justification": justification,
            },
        )
        transaction.on_commit(lambda: notifications.request_opened(approval.pk))
    return approval


def tick_checklist_item(
    *, actor, approval: ApprovalRequest, item: ChecklistItem, note: str = "", evidence_url: str = ""
) -> ChecklistTick:
    """Tick a policy checklist item for a request, with a note or a link to the evidence."""
    with transaction.atomic():
        approval = _lock(approval)
        if actor.pk != approval.requester_id and not is_eligible_reviewer(actor, approval.version):
            raise NotEligible("Only the requester or an eligible reviewer can tick the checklist.")
        if not approval.is_open:
            raise ApprovalError("The checklist of a closed request cannot change.", code="conflict")
        if item.policy_id != approval.policy_id:
            raise ApprovalError("That item is not on this request's checklist.")
        note, evidence_url = (note or "").strip(), (evidence_url or "").strip()
        if item.requires_evidence and not (note or evidence_url):
            raise ApprovalError(
                f"“{item.text}” needs a note or a link to the evidence.", field="note"
            )
        tick, created = ChecklistTick.objects.get_or_create(
            request=approval,
            item=item,
            defaults={"ticked_by": actor, "note": note, "evidence_url": evidence_url},
        )
        if not created:
            raise ApprovalError(f"“{item.text}” is already ticked.", code="duplicate")
        record_event(
            actor=actor,
            action="approvals.checklist.ticked",
            obj=approval,
            after={"item": item.text, "note": note, "evidence_url": evidence_url},
        )
        # The last tick may be all that stood between a complete quorum and approval.
        state = quorum_state(approval)
        if state.met and not state.checklist_missing:
            report = evaluate_policy(approval.version, approval.environment, policy=approval.policy)
            # Past failing gates only under an admin override recorded in this round, as when
            # the last approval completes the quorum.
            override_reason = "" if report.passes else _round_override(approval)
            if report.passes or override_reason:
                _approve(actor, approval, report, override_reason)
                approval.save(
                    update_fields=[
                        "status",
                        "decided_at",
                        "expires_at",
                        "evidence",
                        "override_reason",
                        "updated_at",
                    ]
                )
                record_event(
                    actor=actor,
                    action="approvals.request.approved",
                    obj=approval,
                    before={"status": ApprovalRequest.Status.OPEN},
                    after={"status": approval.status},
                )
                # The requester hears of every decision, including one the last tick made.
                transaction.on_commit(
                    lambda: notifications.review_recorded(
                        approval.pk, Review.Decision.APPROVE, ApprovalRequest.Status.APPROVED
                    )
                )
    return tick


def _freeze_evidence(approval: ApprovalRequest, report: GateReport) -> dict:
    version = approval.version
    return {
        "frozen_at": timezone.now().isoformat(),
        "metrics": [
            {"key": k, "slice": s, "value": v}
            for (k, s), v in sorted(latest_metric_values(version.pk).items())
        ],
        "gates": report.as_dict(),
        "checklist": [
            {
                "item": t.item.text,
                "ticked_by": t.ticked_by.get_username(),
                "note": t.note,
                "evidence_url": t.evidence_url,
                "at": t.ticked_at.isoformat(),
            }
            for t in approval.checklist_ticks.select_related("item", "ticked_by")
        ],
        "artifacts": [
            {"path": p, "sha256": h, "size": s}
            for p, h, s in version.artifacts.order_by("path").values_list("path", "sha256", "size")
        ],
        "model_card": model_card_of(version),
    }


def model_card_of(version: ModelVersion) -> dict:
    return {
        "description": version.description,
        "intended_use": version.intended_use,
        "limitations": version.limitations,
        "ethical_considerations": version.ethical_considerations,
    }


def submit_review(
    *,
    actor,
    approval: ApprovalRequest,
    decision: str,
    comment: str = "",
    confirmed: bool = False,
    override_reason: str = "",
) -> ApprovalRequest:
    """Record one reviewer's decision; approve the request when the quorum is complete."""
    if decision not in Review.Decision.values:
        raise ApprovalError(f"'{decision}' is not a review decision.", field="decision")
    comment = (comment or "").strip()
    override_reason = (override_reason or "").strip()
    with transaction.atomic():
        approval = _lock(approval)
        version = approval.version
        if approval.status == ApprovalRequest.Status.CHANGES_REQUESTED:
            raise ApprovalError(
                "Changes were requested; the requester must re-submit first.", code="conflict"
            )
        if approval.status != ApprovalRequest.Status.OPEN:
            raise ApprovalError(
                f"This request is {approval.get_status_display().lower()}; it can no longer be "
                "reviewed.",
                code="conflict",
            )
        policy = approval.policy
        if not policy.author_may_approve and actor.pk in (
            version.created_by_id,
            approval.requester_id,
        ):
            raise NotEligible(
                "Separation of duties: the version's creator and the requester cannot review "
                "their own request."
            )
        if not is_eligible_reviewer(actor, version):
            raise NotEligible(
                f"You are not a reviewer for team '{version.model.team}' and hold no "
                "organisation-wide reviewer role."
            )
        if decision != Review.Decision.APPROVE and not comment:
            raise ApprovalError(
                "Give a reason when rejecting or requesting changes.", field="comment"
            )
        roles = reviewer_roles_of(actor)
        is_override = False
        if decision == Review.Decision.APPROVE:
            if approval.reviews.filter(
                reviewer=actor, round=approval.round, decision=Review.Decision.APPROVE
            ).exists():
                raise ApprovalError("You have already approved this request.", code="duplicate")
            report = evaluate_policy(version, approval.environment, policy=approval.policy)
            if not report.passes:
                reasons = [r.summary for r in report.blocking_failures]
                if report.model_card_blocks:
                    reasons.append("The model card is incomplete.")
                # An admin's recorded override in this round stands for the whole round, so
                # the other reviewers can still complete a quorum of more than one.
                overridden = approval.reviews.filter(
                    round=approval.round, is_override=True
                ).exists()
                if override_reason and actor.is_superuser and policy.allow_admin_override:
                    is_override = True
                elif overridden and not override_reason:
                    pass
                elif override_reason:
                    raise NotEligible(
                        "This policy does not allow overriding its gates, or you are not an "
                        "admin. Blocked because: " + " ".join(reasons)
                    )
                else:
                    raise ApprovalError(
                        "Approval is blocked: " + " ".join(reasons), code="gate_failed"
                    )
            # Asked only once the approval could go through: confirming one that the gates
            # then refuse would waste the reviewer's click.
            if version.model.risk_tier == "high" and not confirmed:
                raise ApprovalError(
                    f"{version.model.name} is a high-risk model: confirm the approval.",
                    code="confirmation_required",
                )
        Review.objects.create(
            request=approval,
            reviewer=actor,
            decision=decision,
            comment=comment
            if not is_override
            else f"{comment}\nOverride: {override_reason}".strip(),
            roles=roles,
            round=approval.round,
            is_override=is_override,
        )
        record_event(
            actor=actor,
            action="approvals.review.override" if is_override else f"approvals.review.{decision}",
            obj=approval,
            after={
                "decision": decision,
                "comment": comment,
                "roles": roles,
                "round": approval.round,
                "override_reason": override_reason or None,
            },
        )
        old_status = approval.status
        if decision == Review.Decision.REJECT:
            approval.status = ApprovalRequest.Status.REJECTED
            approval.decided_at = timezone.now()
        elif decision == Review.Decision.REQUEST_CHANGES:
            approval.status = ApprovalRequest.Status.CHANGES_REQUESTED
        else:
            state = quorum_state(approval)
            if state.met and not state.checklist_missing:
                if not is_override and not report.passes:
                    # Completed under an earlier override of this round: carry its reason.
                    override_reason = _round_override(approval)
                _approve(actor, approval, report, override_reason if not report.passes else "")
        if approval.status != old_status:
            approval.save(
                update_fields=[
                    "status",
                    "decided_at",
                    "expires_at",
                    "evidence",
                    "override_reason",
                    "updated_at",
                ]
            )
            record_event(
                actor=actor,
                action=f"approvals.request.{approval.status}",
                obj=approval,
                before={"status": old_status},
                after={"status": approval.status},
            )
        decided = approval.status
        transaction.on_commit(lambda: notifications.review_recorded(approval.pk, decision, decided))
    return approval


def _round_override(approval: ApprovalRequest) -> str:
    """The reason of the admin override recorded in the request's current round, or ""."""
    earlier = approval.reviews.filter(round=approval.round, is_override=True)
    comment = earlier.values_list("comment", flat=True).first()
    if comment is None:
        return ""
    # submit_review stores the override as "<comment>\nOverride: <reason>".
    return f"\n{comment}".rpartition("\nOverride: ")[2]


def _approve(actor, approval: ApprovalRequest, report: GateReport, override_reason: str) -> None:
    now = timezone.now()
    approval.status = ApprovalRequest.Status.APPROVED
    approval.decided_at = now
    approval.expires_at = approval.expiry_from(now)
    approval.override_reason = override_reason
    approval.evidence = _freeze_evidence(approval, report)
    lock_version_evidence(
        actor=actor, version=approval.version, reason=f"approved for {approval.environment.name}"
    )
    # A newer approval for the same model and environment makes the older open ones moot.
    older = ApprovalRequest.objects.select_for_update().filter(
        version__model_id=approval.version.model_id,
        environment=approval.environment,
        status__in=ApprovalRequest.OPEN_STATUSES,
        created_at__lt=approval.created_at,
    )
    for stale in older:
        previous = stale.status  # open or changes_requested
        stale.status = ApprovalRequest.Status.SUPERSEDED
        stale.decided_at = now
        stale.save(update_fields=["status", "decided_at", "updated_at"])
        record_event(
            actor=actor,
            action="approvals.request.superseded",
            obj=stale,
            before={"status": previous},
            after={"status": stale.status, "superseded_by": approval.pk},
        )


def evidence_changes(approval: ApprovalRequest) -> list[str]:
    """What differs now from the evidence frozen at approval (model card fields)."""
    frozen = approval.evidence.get("model_card") if approval.evidence else None
    if not frozen:
        return []
    current = model_card_of(approval.version)
    return [name for name, value in frozen.items() if current.get(name) != value]


def valid_approval_for(version: ModelVersion, environment: Environment) -> ApprovalRequest | None:
    """An approved, unexpired request for this version and environment, if any."""
    return (
        ApprovalRequest.objects.filter(
            version=version, environment=environment, status=ApprovalRequest.Status.APPROVED
        )
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .order_by("-decided_at")
        .first()
    )


def reviewer_groups() -> list[Group]:
    return [role.group for role in ReviewerRole.objects.select_related("group")]
