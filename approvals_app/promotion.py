"""Promotion and rollback: the only code path that creates an active deployment.

Both lock the model's row before reading anything they decide on, so promotions and rollbacks
of one model are serialised (across processes, on PostgreSQL) and each sees the deployments
the previous one committed. The lock order is the one every catalogue writer uses: model,
then version, then the audit head (inside record_event).
"""

from collections.abc import Iterable
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from approvals_app.models import ApprovalPolicy, ApprovalRequest
from approvals_app.services import find_policy, valid_approval_for
from models_app import permissions
from models_app.audit import record_event
from models_app.models import Deployment, Environment, ModelVersion, RegisteredModel
from models_app.services import NotAllowed, RegistryError, rollback_candidate

TARGET_MAX_LENGTH = Deployment._meta.get_field("target").max_length


class PromotionError(RegistryError):
    """A refused promotion or rollback. ``code`` names the rule: approval_required,
    promotion_path, archived, retired, deprecated, already_live, traffic_exceeded,
    nothing_to_roll_back, conflict or invalid."""


# --- the rules ------------------------------------------------------------------------------


def approval_needed(version: ModelVersion, environment: Environment) -> bool:
    """Whether deploying ``version`` into ``environment`` needs a valid approved request: the
    environment says so, or an active policy there covers the model's risk tier."""
    return environment.requires_approval or find_policy(version, environment) is not None


def _missing_approval(
    version: ModelVersion, environment: Environment, policy: ApprovalPolicy | None, doing: str
) -> str:
    needs = f"{doing} {version} into {environment} needs an approved request"
    if policy is None:
        tier = version.model.get_risk_tier_display().lower()
        return (
            f"{needs}, but no active approval policy covers {tier}-risk models there, so none "
            "can be granted. Ask an administrator to add one."
        )
    latest = (
        ApprovalRequest.objects.filter(version=version, environment=environment)
        .order_by("-created_at", "-pk")
        .first()
    )
    if latest is None:
        return f"{needs} (policy “{policy}”), and none has been made. Request approval first."
    if latest.is_open:
        return f"{needs}; request #{latest.pk} is still in review."
    if latest.is_expired:
        expired = timezone.localtime(latest.expires_at)
        return (
            f"{needs}; the approval of request #{latest.pk} expired on {expired:%Y-%m-%d}. "
            "Request approval again."
        )
    return (
        f"{needs}; request #{latest.pk} was {latest.display_status.lower()}. "
        "Request approval again."
    )


def _require_approval(
    version: ModelVersion, environment: Environment, doing: str
) -> ApprovalRequest | None:
    policy = find_policy(version, environment)
    if not (environment.requires_approval or policy is not None):
        return None
    approval = valid_approval_for(version, environment)
    if approval is None:
        raise PromotionError(
            _missing_approval(version, environment, policy, doing), code="approval_required"
        )
    return approval


def _check_promotion_path(
    actor, version: ModelVersion, environment: Environment, override_reason: str
) -> list[str]:
    """The environment's promotion sources when the path is overridden; [] when it holds."""
    sources = list(environment.promotion_sources.order_by("order", "name"))
    if not sources:
        return []
    if Deployment.objects.filter(version=version, environment__in=sources).exists():
        return []
    names = " or ".join(str(source) for source in sources)
    if not override_reason:
        raise PromotionError(
            f"{environment} only takes versions that are or were deployed in {names}, and "
            f"{version} has not been. Promote it there first; an administrator may override "
            "this with a written reason.",
            code="promotion_path",
        )
    if not actor.is_superuser:
        raise NotAllowed(
            f"Only an administrator can override the promotion path into {environment}."
        )
    return [source.name for source in sources]


def _clean_traffic(traffic_percent) -> int:
    if (
        isinstance(traffic_percent, bool)
        or not isinstance(traffic_percent, int)
        or not 1 <= traffic_percent <= 100
    ):
        raise PromotionError(
            "The traffic share is a whole number from 1 to 100 percent.", field="traffic_percent"
        )
    return traffic_percent


def _lock_model(model_id: int) -> RegisteredModel:
    model = RegisteredModel.objects.select_for_update().get(pk=model_id)
    if model.is_archived:
        raise PromotionError(
            f"{model.name} is archived; restore it before deploying it.", code="archived"
        )
    return model


def _conflict() -> PromotionError:
    # The model lock makes this unreachable in practice; the unique constraint is the backstop.
    return PromotionError(
        "Another deployment of this model in this environment was recorded at the same moment. "
        "Look at the environment again and retry.",
        code="conflict",
    )


# --- promote and roll back -----------------------------------------------------------------


def promote(
    *,
    actor,
    version: ModelVersion,
    environment: Environment,
    target: str = "",
    traffic_percent: int = 100,
    notes: str = "",
    override_reason: str = "",
) -> Deployment:
    """Deploy ``version`` into ``environment`` and return the new active deployment.

    Contributors of the owning team (and superusers) may promote. Refused (PromotionError,
    with ``code``) for archived models, deprecated or retired versions, a version already live
    there at full traffic, a missing approval where one is needed (``approval_required``), a
    broken promotion path (``promotion_path``; a superuser may override it with a written
    reason) and canary shares that would reach 100% together (``traffic_exceeded``).

    At 100% it supersedes every active deployment of the model there, canaries included. Below
    100% it is a canary beside the full-traffic deployment, which serves the remainder, so the
    model's canary shares there must stay below 100 together; a new share for a version that
    already runs as a canary replaces that canary.
    """
    if not permissions.can_contribute(actor, version.model):
        raise NotAllowed(
            f"You need the contributor role in team '{version.model.team}' to deploy "
            f"{version.model.name}."
        )
    traffic_percent = _clean_traffic(traffic_percent)
    target = (target or "").strip()
    if len(target) > TARGET_MAX_LENGTH:
        raise PromotionError(
            f"The target is longer than {TARGET_MAX_LENGTH} characters.", field="target"
        )
    notes = (notes or "").strip()
    override_reason = (override_reason or "").strip()
    try:
        with transaction.atomic():
            model = _lock_model(version.model_id)
            version = ModelVersion.objects.select_for_update().get(pk=version.pk)
            version.model = model
            if version.retired_at is not None:
                raise PromotionError(
                    f"{version} is retired and can never be deployed again.", code="retired"
                )
            if version.deprecated_at is not None:
                raise PromotionError(
                    f"{version} is deprecated: it may keep running where it runs, but it cannot "
                    "be promoted anywhere new.",
                    code="deprecated",
                )
            active = list(
                Deployment.objects.active()
                .filter(model=model, environment=environment)
                .select_related("version")
                .order_by("-traffic_percent", "deployed_at", "pk")
            )
            full = next((d for d in active if d.traffic_percent == 100), None)
            if full is not None and full.version_id == version.pk:
                raise PromotionError(
                    f"{version} is already live in {environment} at full traffic.",
                    code="already_live",
                )
            approval = _require_approval(version, environment, "Promoting")
            overridden_sources = _check_promotion_path(actor, version, environment, override_reason)
            if traffic_percent == 100:
                replaced = active
            else:
                replaced = [d for d in active if d.version_id == version.pk]
                others = sum(
                    d.traffic_percent
                    for d in active
                    if d.traffic_percent < 100 and d.version_id != version.pk
                )
                if others + traffic_percent >= 100:
                    raise PromotionError(
                        f"Canaries of {model.name} in {environment} already take {others}%; "
                        f"another {traffic_percent}% would leave nothing for the full-traffic "
                        f"version. Canary shares must stay below 100% together (at most "
                        f"{max(99 - others, 0)}% more).",
                        field="traffic_percent",
                        code="traffic_exceeded",
                    )
            now = timezone.now()
            for old in replaced:
                old.status = Deployment.Status.SUPERSEDED
                old.ended_at = now
                old.save(update_fields=["status", "ended_at"])
            deployment = Deployment.objects.create(
                model=model,
                version=version,
                environment=environment,
                status=Deployment.Status.ACTIVE,
                target=target,
                traffic_percent=traffic_percent,
                notes=notes,
                deployed_by=actor,
                deployed_at=now,
                approval_reference=approval.pk if approval else None,
                override_reason=override_reason if overridden_sources else "",
            )
            for old in replaced:
                old.superseded_by = deployment
                old.save(update_fields=["superseded_by"])
            record_event(
                actor=actor,
                action="approvals.deployment.promoted",
                obj=deployment,
                before={
                    "version": full.version.version if full else None,
                    "deployment": full.pk if full else None,
                },
                after={
                    "version": version.version,
                    "environment": environment.name,
                    "target": target,
                    "traffic_percent": traffic_percent,
                    "notes": notes,
                    "approval": approval.pk if approval else None,
                    "override_reason": override_reason if overridden_sources else None,
                    "superseded": [
                        {
                            "deployment": d.pk,
                            "version": d.version.version,
                            "traffic": d.traffic_percent,
                        }
                        for d in replaced
                    ],
                },
            )
            if overridden_sources:
                record_event(
                    actor=actor,
                    action="approvals.deployment.path_overridden",
                    obj=deployment,
                    after={
                        "environment": environment.name,
                        "required_sources": overridden_sources,
                        "reason": override_reason,
                    },
                )
    except IntegrityError:
        raise _conflict() from None
    return deployment


def rollback(
    *,
    actor,
    model: RegisteredModel,
    environment: Environment,
    reason: str = "",
    expected_live: int | None = None,
) -> Deployment:
    """Put the previous version back at full traffic in ``environment`` (see
    models_app.services.rollback_candidate for which one) and return its new deployment.

    The live deployment becomes rolled back; canaries of other versions keep running. Allowed
    to contributors of the owning team when that version's approval for the environment is
    still valid or the environment needs none; a deprecated version may be rolled back to,
    a retired one never. Refused with ``nothing_to_roll_back`` when there is nothing to return
    to, and with ``conflict`` when ``expected_live`` (the deployment the person saw live) no
    longer is: a second click, or someone else's rollback, would otherwise go back one more
    step.
    """
    if not permissions.can_contribute(actor, model):
        raise NotAllowed(
            f"You need the contributor role in team '{model.team}' to roll back {model.name}."
        )
    reason = (reason or "").strip()
    try:
        with transaction.atomic():
            model = _lock_model(model.pk)
            current = (
                Deployment.objects.active()
                .filter(model=model, environment=environment, traffic_percent=100)
                .select_related("version")
                .first()
            )
            if current is None:
                raise PromotionError(
                    f"Nothing serves {model.name} at full traffic in {environment}, so there is "
                    "nothing to roll back.",
                    code="nothing_to_roll_back",
                )
            if expected_live is not None and current.pk != expected_live:
                raise PromotionError(
                    f"{model.name} changed in {environment} since you looked: "
                    f"{current.version} serves it now. Look at the timeline again before "
                    "rolling back.",
                    code="conflict",
                )
            candidate = rollback_candidate(model, environment)
            if candidate is None:
                raise PromotionError(
                    f"{current.version} is the only version of {model.name} that served "
                    f"{environment} at full traffic (apart from retired ones); there is no "
                    "earlier version to go back to.",
                    code="nothing_to_roll_back",
                )
            version = ModelVersion.objects.select_for_update().get(pk=candidate.version_id)
            version.model = model
            approval = _require_approval(version, environment, "Rolling back")
            now = timezone.now()
            current.status = Deployment.Status.ROLLED_BACK
            current.ended_at = now
            current.save(update_fields=["status", "ended_at"])
            # A canary of the version coming back would otherwise run twice.
            own_canaries = list(
                Deployment.objects.active().filter(
                    model=model, environment=environment, version=version
                )
            )
            for canary in own_canaries:
                canary.status = Deployment.Status.SUPERSEDED
                canary.ended_at = now
                canary.save(update_fields=["status", "ended_at"])
            restored = Deployment.objects.create(
                model=model,
                version=version,
                environment=environment,
                status=Deployment.Status.ACTIVE,
                target=candidate.target,
                traffic_percent=100,
                notes=reason,
                deployed_by=actor,
                deployed_at=now,
                approval_reference=approval.pk if approval else None,
                rolled_back_from=current,
            )
            for replaced in [current, *own_canaries]:
                replaced.superseded_by = restored
                replaced.save(update_fields=["superseded_by"])
            record_event(
                actor=actor,
                action="approvals.deployment.rolled_back",
                obj=restored,
                before={"version": current.version.version, "deployment": current.pk},
                after={
                    "version": version.version,
                    "environment": environment.name,
                    "target": candidate.target,
                    "reason": reason,
                    "approval": approval.pk if approval else None,
                    "restores_deployment": candidate.pk,
                },
            )
    except IntegrityError:
        raise _conflict() from None
    return restored


# --- reading what ran where and when --------------------------------------------------------


def _deployments(environment: Environment, *, model=None, user=None) -> QuerySet[Deployment]:
    rows = Deployment.objects.filter(environment=environment)
    if model is not None:
        rows = rows.filter(model=model)
    if user is not None:
        rows = rows.visible_to(user)
    return rows.select_related(
        "model__team", "version__model", "environment", "deployed_by", "rolled_back_from__version"
    )


def live_at(
    environment: Environment,
    moment: datetime,
    *,
    model: RegisteredModel | None = None,
    user=None,
) -> QuerySet[Deployment]:
    """The deployments serving in ``environment`` at ``moment`` ("what was live on 3 March at
    14:00"): deployed at or before it and not ended by then. Pass ``user`` to keep to the
    models they may see. Ordered by model name, full traffic first."""
    return (
        _deployments(environment, model=model, user=user)
        .live_at(moment)
        .order_by("model__name", "-traffic_percent", "deployed_at", "pk")
    )


def timeline(
    environment: Environment,
    model: RegisteredModel | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    user=None,
) -> QuerySet[Deployment]:
    """Every deployment in ``environment`` that served at some moment between ``since`` and
    ``until`` (either may be None: open-ended), newest first within each model; each row says
    from when (deployed_at) to when (ended_at, None while active) and who promoted it. Call
    attach_approvals on the page of rows to show the approvals that allowed them."""
    return (
        _deployments(environment, model=model, user=user)
        .overlapping(since, until)
        .order_by("model__name", "-deployed_at", "-pk")
    )


def attach_approvals(deployments: Iterable[Deployment]) -> list[Deployment]:
    """Set ``.approval`` (the ApprovalRequest that allowed it, or None) on each deployment, in
    one query; returns them as a list."""
    deployments = list(deployments)
    references = {d.approval_reference for d in deployments if d.approval_reference}
    approvals = (
        ApprovalRequest.objects.select_related("policy").in_bulk(references) if references else {}
    )
    for deployment in deployments:
        deployment.approval = approvals.get(deployment.approval_reference)
    return deployments
