from datetime import timedelta

from django.contrib.auth.decorators import login_not_required, login_required
from django.core.files.storage import storages
from django.db import connection
from django.db.models import Count, Q
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from approvals_app.models import ApprovalRequest
from models_app.models import ROLE_RANK, AuditEvent, ModelVersion, RegisteredModel

RECENT_DAYS = 30
FEED_LENGTH = 10
MY_MODELS_SHOWN = 8

# How the home feed words the ledger's action codes; other codes are worded from their parts.
_ACTION_PHRASES = {
    "models_app.model.created": "created",
    "models_app.model.updated": "edited",
    "models_app.model.archived": "archived",
    "models_app.model.restored": "restored",
    "models_app.version.registered": "registered",
    "models_app.version.card_updated": "edited the model card of",
    "models_app.version.metrics_logged": "logged metrics for",
    "models_app.artifact.attached": "uploaded an artefact to",
    "models_app.alias.set": "set an alias on",
    "models_app.alias.moved": "moved an alias of",
    "models_app.alias.deleted": "deleted an alias of",
    "models_app.version.evidence_locked": "froze the evidence of",
    "models_app.deployment.recorded": "deployed",
    # Reviews are named by their decision ("approve"), requests by their new status
    # ("withdrawn"); worded from their parts they read "lead approve review fraud v5".
    "approvals.review.approve": "approved",
    "approvals.review.reject": "rejected",
    "approvals.review.request_changes": "asked for changes to",
    "approvals.request.opened": "asked for approval of",
    "approvals.request.approved": "completed the approval of",
    "approvals.request.rejected": "rejected the request for",
    "approvals.request.changes_requested": "sent back the request for",
    "approvals.request.resubmitted": "resubmitted the request for",
    "approvals.request.superseded": "superseded the request for",
    "approvals.request.withdrawn": "withdrew the request for",
    "approvals.checklist.ticked": "ticked a checklist item for",
}


def _describe_event(event: AuditEvent) -> dict:
    """What the home feed shows for one ledger entry: who, did what, to which model."""
    phrase = _ACTION_PHRASES.get(event.action)
    if phrase is None:
        parts = event.action.split(".")
        verb = parts[-1].replace("_", " ")
        noun = parts[-2].replace("_", " ") if len(parts) > 1 else ""
        phrase = f"{verb} {noun}".strip()
    if event.model_name and event.version_number:
        label = f"{event.model_name} v{event.version_number}"
        url = reverse("models_app:version_detail", args=[event.model_name, event.version_number])
    elif event.model_name:
        label = event.model_name
        url = reverse("models_app:model_detail", args=[event.model_name])
    else:
        label, url = event.object_repr, ""
    detail = ""
    changes = event.changes_dict
    after, before = changes.get("after") or {}, changes.get("before") or {}
    if event.action.startswith("models_app.alias."):
        name = after.get("alias") or before.get("alias")
        detail = f"@{name} → v{after['version']}" if after.get("version") else f"@{name}"
    elif event.action == "models_app.artifact.attached":
        detail = after.get("path", "")
    elif event.action == "models_app.version.metrics_logged":
        count = len(after.get("metrics") or [])
        detail = f"{count} value{'s' if count != 1 else ''}"
    elif event.action == "models_app.model.archived":
        detail = after.get("reason", "")
    elif event.action.endswith(".updated") or event.action.endswith(".card_updated"):
        detail = ", ".join(sorted(after)).replace("_", " ")
    return {
        "event": event,
        "actor": event.actor_username,
        "phrase": phrase,
        "label": label,
        "url": url,
        "detail": detail,
    }


# Enough to act on from the dashboard; the queue at /approvals/ has the rest.
REVIEWS_SHOWN = 5


@require_safe
@login_required
def home(request):
    """The dashboard: counts, my teams' models, new versions and the latest ledger entries."""
    user = request.user
    models = RegisteredModel.objects.visible_to(user)
    versions = ModelVersion.objects.visible_to(user)
    since = timezone.now() - timedelta(days=RECENT_DAYS)
    version_counts = versions.aggregate(
        total=Count("pk"), recent=Count("pk", filter=Q(created_at__gte=since))
    )
    memberships = list(user.memberships.select_related("team").order_by("team__name"))
    team_ids = [membership.team_id for membership in memberships]
    can_create = user.is_superuser or any(
        ROLE_RANK[m.role] >= ROLE_RANK["contributor"] for m in memberships
    )
    my_models = list(
        models.active()
        .filter(team_id__in=team_ids)
        .select_related("team")
        .order_by("-updated_at", "name")[:MY_MODELS_SHOWN]
    )
    recent_versions = list(
        versions.select_related("model", "created_by").order_by("-created_at", "-pk")[:FEED_LENGTH]
    )
    waiting = ApprovalRequest.objects.awaiting_review_by(user).filter(
        status=ApprovalRequest.Status.OPEN
    )
    my_requests = ApprovalRequest.objects.visible_to(user).filter(requester=user).open()
    approvals_related = ("version__model", "environment", "requester")
    events = AuditEvent.objects.order_by("-sequence")
    if not user.is_superuser:
        # Only events about models this user can see; events without a model (teams,
        # memberships, reference data) are for ops staff.
        events = events.filter(model_name__in=models.values("name"))
    context = {
        "counts": {
            "models": models.active().count(),
            "versions": version_counts["total"],
            "recent_versions": version_counts["recent"],
            "teams": len(memberships),
        },
        "recent_days": RECENT_DAYS,
        "memberships": memberships,
        "my_models": my_models,
        "recent_versions": recent_versions,
        "activity": [_describe_event(event) for event in events[:FEED_LENGTH]],
        "can_create": can_create,
        "waiting_for_me": list(
            waiting.select_related(*approvals_related).order_by("created_at")[:REVIEWS_SHOWN]
        ),
        "my_open_requests": list(
            my_requests.select_related(*approvals_related).order_by("-created_at")[:REVIEWS_SHOWN]
        ),
    }
    return render(request, "home.html", context)


@require_safe
@never_cache
@login_not_required
def healthz(request):
    """Liveness for load balancers: the database answers and artefact storage is reachable."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        storages["artifacts"].exists("healthz-probe")
        checks["artifact_storage"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["artifact_storage"] = f"error: {exc.__class__.__name__}"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )
