"""What runs where: the deployment board, one environment's timeline with its rollbacks, the
promotion form, and the lifecycle card of a version page.

State changes go through approvals_app.promotion (promote, rollback); the views load,
authorise, bind a form, call it and pick the response.
"""

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.views.decorators.http import require_http_methods, require_safe

from approvals_app.deployment_forms import PromoteForm, RollbackForm, TimelineForm
from approvals_app.lifecycle import Stage, version_lifecycle
from approvals_app.models import ApprovalPolicy, ApprovalRequest
from approvals_app.promotion import (
    approval_needed,
    attach_approvals,
    live_at,
    promote,
    rollback,
    timeline,
)
from approvals_app.services import valid_approval_for
from models_app.filters import DeploymentBoardFilter
from models_app.models import Deployment, Environment, ModelVersion, RegisteredModel
from models_app.permissions import (
    can_contribute,
    contributing_team_ids,
    get_visible_model_or_404,
    get_visible_version_or_404,
    require_contributor,
)
from models_app.services import (
    RegistryError,
    impact_of_rollback,
    rollback_candidate,
    rollback_candidates,
)
from registry_site.http import HtmxHttpRequest

BOARD_MODELS_PER_PAGE = 50
TIMELINE_ROWS_PER_PAGE = 50
# A version page lists its newest deployments; the environment timelines hold the rest.
VERSION_DEPLOYMENTS_SHOWN = 20


def _is_fragment_request(request: HtmxHttpRequest) -> bool:
    # A history restore after a cache miss needs the whole page, not the fragment.
    return bool(request.htmx) and not request.htmx.history_restore_request


def _page_range(page):
    return page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)


def _timeline_url(environment: Environment, model: RegisteredModel | None = None) -> str:
    url = reverse("approvals_app:environment_timeline", args=[environment.name])
    return f"{url}?model={model.name}" if model is not None else url


# --- the board: models × environments ----------------------------------------------------------


@dataclass
class BoardRow:
    model: RegisteredModel
    # One list per environment column: the full-traffic deployment first, then its canaries.
    cells: list[list[Deployment]]


@require_safe
@login_required
def board(request: HtmxHttpRequest) -> HttpResponse:
    environments = list(Environment.objects.order_by("order", "name"))
    running = Deployment.objects.visible_to(request.user).active()
    models = (
        RegisteredModel.objects.visible_to(request.user)
        .filter(Exists(running.filter(model=OuterRef("pk"))))
        .select_related("team")
    )
    filterset = DeploymentBoardFilter(request.GET, request=request, queryset=models)
    # Same strict rule as the catalogue: bad filter values show nothing.
    rows = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    page = Paginator(rows.order_by("name"), BOARD_MODELS_PER_PAGE).get_page(request.GET.get("page"))
    page_models = list(page.object_list)
    cells: dict[tuple[int, int], list[Deployment]] = {}
    if page_models:
        deployments = (
            running.filter(model__in=page_models)
            .select_related("version", "deployed_by")
            .order_by("-traffic_percent", "deployed_at", "pk")
        )
        for deployment in deployments:
            cells.setdefault((deployment.model_id, deployment.environment_id), []).append(
                deployment
            )
    board_rows = [
        BoardRow(model, [cells.get((model.pk, env.pk), []) for env in environments])
        for model in page_models
    ]
    context = {
        "filter": filterset,
        "environments": environments,
        "rows": board_rows,
        "page": page,
        "page_range": _page_range(page),
        "is_filtered": any(request.GET.get(key) for key in ("q", "team")),
        "refreshed_at": timezone.now(),
    }
    if _is_fragment_request(request):
        return render(request, "approvals_app/deployment_board.html#results", context)
    return render(request, "approvals_app/deployment_board.html", context)


# --- one environment's timeline ----------------------------------------------------------------


@dataclass
class TimelineGroup:
    """One model's rows on a page of the timeline, with what a rollback would do."""

    model: RegisteredModel
    deployments: list[Deployment] = field(default_factory=list)
    live: Deployment | None = None  # what serves full traffic there now
    candidate: Deployment | None = None  # what a rollback would bring back
    can_roll_back: bool = False
    # Why the rollback service would refuse the candidate for want of a valid approval ("" if
    # it would not): the button is then shown disabled with this reason instead of offered.
    rollback_refusal: str = ""


def _rollback_refusals(versions: list[ModelVersion], environment: Environment) -> dict[int, str]:
    """For each version, why rolling back to it in ``environment`` would be refused under
    promotion's approval rule (approval needed, none valid): {version pk: reason}, versions
    that may go back left out. At most two queries however many versions."""
    if not versions:
        return {}
    if environment.requires_approval:
        needing = versions
    else:
        policies = list(ApprovalPolicy.objects.filter(environment=environment, active=True))
        needing = [
            v for v in versions if any(p.applies_to_tier(v.model.risk_tier) for p in policies)
        ]
    if not needing:
        return {}
    valid: set[int] = set()
    lapsed: dict[int, ApprovalRequest] = {}
    approvals = ApprovalRequest.objects.filter(
        version__in=needing, environment=environment, status=ApprovalRequest.Status.APPROVED
    ).order_by("decided_at", "pk")
    for approval in approvals:
        if approval.is_valid_approval:
            valid.add(approval.version_id)
        else:
            lapsed[approval.version_id] = approval  # the latest one wins
    refusals = {}
    for version in needing:
        if version.pk in valid:
            continue
        if version.pk in lapsed:
            expired = dateformat.format(timezone.localtime(lapsed[version.pk].expires_at), "j M Y")
            refusals[version.pk] = (
                f"v{version.version}'s approval for {environment} expired on {expired}; "
                "request a new one to roll back to it."
            )
        else:
            refusals[version.pk] = (
                f"v{version.version} holds no approval for {environment}; request one to roll "
                "back to it."
            )
    return refusals


def _group_by_model(
    deployments: list[Deployment], environment: Environment, user
) -> list[TimelineGroup]:
    groups: dict[int, TimelineGroup] = {}
    for deployment in deployments:
        group = groups.setdefault(deployment.model_id, TimelineGroup(deployment.model))
        group.deployments.append(deployment)
    if not groups:
        return []
    live = {
        d.model_id: d
        for d in Deployment.objects.active()
        .filter(environment=environment, model_id__in=groups, traffic_percent=100)
        .select_related("version")
    }
    candidates = rollback_candidates([g.model for g in groups.values()], environment)
    teams = contributing_team_ids(user)
    refusals = _rollback_refusals(
        [
            candidate.version
            for model_id, candidate in candidates.items()
            if candidate is not None and groups[model_id].model.team_id in teams
        ],
        environment,
    )
    for model_id, group in groups.items():
        group.live = live.get(model_id)
        group.candidate = candidates.get(model_id)
        group.can_roll_back = (
            group.live is not None
            and group.candidate is not None
            and group.model.team_id in teams
            and not group.model.is_archived
        )
        if group.can_roll_back:
            group.rollback_refusal = refusals.get(group.candidate.version_id, "")
    return list(groups.values())


@require_safe
@login_required
def environment_timeline(request: HtmxHttpRequest, name: str) -> HttpResponse:
    environment = get_object_or_404(
        Environment.objects.prefetch_related("promotion_sources"), name=name
    )
    models = (
        RegisteredModel.objects.visible_to(request.user)
        .filter(Exists(Deployment.objects.filter(environment=environment, model=OuterRef("pk"))))
        .order_by("name")
    )
    form = TimelineForm(request.GET or None, models=models)
    choice = {"model": None, "at": None, "since": None, "until": None}
    if form.is_bound and form.is_valid():
        choice.update(form.cleaned_data)
    invalid = form.is_bound and not form.is_valid()
    rows = timeline(
        environment, choice["model"], choice["since"], choice["until"], user=request.user
    )
    if invalid:
        rows = rows.none()
    page = Paginator(rows, TIMELINE_ROWS_PER_PAGE).get_page(request.GET.get("page"))
    deployments = attach_approvals(page.object_list)
    live_then = None
    if choice["at"] is not None:
        live_then = attach_approvals(
            live_at(environment, choice["at"], model=choice["model"], user=request.user)
        )
    context = {
        "environment": environment,
        "form": form,
        "groups": _group_by_model(deployments, environment, request.user),
        "page": page,
        "page_range": _page_range(page),
        "at": choice["at"],
        "live_then": live_then,
        # Marks the timeline's rows that were serving at the moment asked about.
        "live_ids": {d.pk for d in live_then or []},
        "is_filtered": any(choice[key] for key in ("model", "since", "until")),
        "now": timezone.now(),
        "time_zone": timezone.get_current_timezone_name(),
    }
    if _is_fragment_request(request):
        return render(request, "approvals_app/environment_timeline.html#results", context)
    context["environments"] = list(Environment.objects.order_by("order", "name"))
    return render(request, "approvals_app/environment_timeline.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def rollback_confirm(request: HtmxHttpRequest, name: str, model_name: str) -> HttpResponse:
    """GET, or the timeline's one-click POST: what a rollback would do and to whom. The
    confirmed POST rolls back."""
    environment = get_object_or_404(Environment, name=name)
    model = get_visible_model_or_404(request.user, model_name)
    require_contributor(request.user, model)
    form = RollbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and form.cleaned_data["confirmed"]:
        try:
            restored = rollback(
                actor=request.user,
                model=model,
                environment=environment,
                reason=form.cleaned_data["reason"],
                expected_live=form.cleaned_data["live"],
            )
        except RegistryError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                f"Rolled {model.name} back to v{restored.version.version} in {environment}.",
            )
            return redirect(_timeline_url(environment, model))
    current = (
        Deployment.objects.active()
        .filter(model=model, environment=environment, traffic_percent=100)
        .select_related("version", "deployed_by")
        .first()
    )
    candidate = rollback_candidate(model, environment)
    needs_approval = approval = None
    if candidate is not None:
        needs_approval = approval_needed(candidate.version, environment)
        if needs_approval:
            approval = valid_approval_for(candidate.version, environment)
    context = {
        "environment": environment,
        "model": model,
        "form": form,
        "current": current,
        "candidate": candidate,
        "needs_approval": needs_approval,
        "approval": approval,
        "impacts": impact_of_rollback(model, environment) if current else [],
        "timeline_url": _timeline_url(environment, model),
    }
    return render(request, "approvals_app/rollback_confirm.html", context)


# --- promotion -------------------------------------------------------------------------------


@dataclass
class PromotionTarget:
    """One environment as the promotion form describes it."""

    environment: Environment
    running: list[Deployment]  # the model's active deployments there, full traffic first
    needs_approval: bool
    approval: ApprovalRequest | None  # valid for this version there
    path_open: bool  # the version is or was in one of the environment's promotion sources


def _promotion_targets(version: ModelVersion, environments: list[Environment]) -> list:
    running: dict[int, list[Deployment]] = {}
    active = (
        Deployment.objects.active()
        .filter(model_id=version.model_id)
        .select_related("version")
        .order_by("-traffic_percent", "deployed_at")
    )
    for deployment in active:
        running.setdefault(deployment.environment_id, []).append(deployment)
    been_in = set(version.deployments.values_list("environment_id", flat=True))
    targets = []
    for environment in environments:
        needs = approval_needed(version, environment)
        sources = {source.pk for source in environment.promotion_sources.all()}
        targets.append(
            PromotionTarget(
                environment=environment,
                running=running.get(environment.pk, []),
                needs_approval=needs,
                approval=valid_approval_for(version, environment) if needs else None,
                path_open=not sources or bool(sources & been_in),
            )
        )
    return targets


def _initial_environment(version: ModelVersion, targets: list[PromotionTarget], asked: str):
    by_name = {t.environment.name: t for t in targets}
    if asked in by_name:
        return by_name[asked]
    # The next step along the path: the environment after the last one where this version
    # serves full traffic, else the first one where it does not.
    live = [
        index
        for index, target in enumerate(targets)
        if any(d.version_id == version.pk and d.traffic_percent == 100 for d in target.running)
    ]
    if live and live[-1] + 1 < len(targets):
        return targets[live[-1] + 1]
    remaining = [t for index, t in enumerate(targets) if index not in live]
    return (remaining or targets or [None])[0]


def _usual_target(version: ModelVersion, chosen: PromotionTarget) -> str:
    """Where the model serves in the chosen environment: the target of what runs there now
    (full traffic first), else of its last deployment there; a promotion with an empty target
    is rarely what anyone meant."""
    live = next((d.target for d in chosen.running if d.target), "")
    if live:
        return live
    last = (
        Deployment.objects.filter(model_id=version.model_id, environment=chosen.environment)
        .exclude(target="")
        .order_by("-deployed_at", "-pk")
        .values_list("target", flat=True)
        .first()
    )
    return last or ""


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def promote_version(request: HtmxHttpRequest, name: str, number: int) -> HttpResponse:
    version = get_visible_version_or_404(request.user, name, number)
    model = version.model
    require_contributor(request.user, model)
    environments = list(
        Environment.objects.order_by("order", "name").prefetch_related("promotion_sources")
    )
    targets = _promotion_targets(version, environments)
    chosen = _initial_environment(version, targets, request.GET.get("environment", ""))
    initial = {}
    if chosen is not None:
        initial = {"environment": chosen.environment, "target": _usual_target(version, chosen)}
    form = PromoteForm(
        request.POST or None, initial=initial, allow_override=request.user.is_superuser
    )
    refusal_code = ""
    if request.method == "POST" and form.is_valid():
        try:
            deployment = promote(actor=request.user, version=version, **form.cleaned_data)
        except RegistryError as exc:
            refusal_code = exc.code
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            share = (
                "" if deployment.traffic_percent == 100 else f" at {deployment.traffic_percent}%"
            )
            messages.success(
                request,
                f"Promoted {model.name} v{version.version} to {deployment.environment}{share}.",
            )
            return redirect(_timeline_url(deployment.environment, model))
    chosen_environment = form.cleaned_data.get("environment") if form.is_bound else None
    targets_seen = (
        Deployment.objects.filter(model=model)
        .exclude(target="")
        .order_by("target")
        .values_list("target", flat=True)
        .distinct()[:20]
    )
    context = {
        "version": version,
        "model": model,
        "form": form,
        "targets": targets,
        "known_targets": list(targets_seen),
        "refusal_code": refusal_code,
        "refused_environment": chosen_environment,
        "blocked": version.retired_at is not None
        or version.deprecated_at is not None
        or model.is_archived,
    }
    return render(request, "approvals_app/promote_form.html", context)


# --- the lifecycle card of a version page -----------------------------------------------------


def _lifecycle_steps(lifecycle, version: ModelVersion, ran_in: list[str]) -> list[dict]:
    """The stepper's steps; ``ran_in`` names the environments the version served earlier,
    so that a version rolled back out of everywhere still shows that it was deployed."""
    facts = {
        Stage.IN_REVIEW: ", ".join(lifecycle.in_review_for),
        Stage.APPROVED: ", ".join(lifecycle.approved_for),
        Stage.DEPLOYED: ", ".join(lifecycle.deployed_in),
        Stage.DEPRECATED: version.deprecated_at,
        Stage.RETIRED: version.retired_at,
    }
    steps = []
    for index, stage in enumerate(Stage):
        if index < lifecycle.position:
            state = "done"
        elif index == lifecycle.position:
            state = "current"
        else:
            state = "todo"
        fact = facts.get(stage)
        if stage == Stage.DEPLOYED and not lifecycle.deployed_in and ran_in:
            fact = f"earlier: {', '.join(ran_in)}"
            state = "was" if state == "todo" else state
        steps.append({"stage": stage, "state": state, "fact": fact})
    return steps


@require_safe
@login_required
def version_lifecycle_panel(request: HtmxHttpRequest, name: str, number: int) -> HttpResponse:
    version = get_visible_version_or_404(request.user, name, number)
    lifecycle = version_lifecycle(version)
    rows = list(
        version.deployments.select_related(
            "environment", "deployed_by", "rolled_back_from__version"
        ).order_by("-deployed_at", "-pk")[: VERSION_DEPLOYMENTS_SHOWN + 1]
    )
    usable = not (version.model.is_archived or version.retired_at)
    contributor = can_contribute(request.user, version.model)
    context = {
        "version": version,
        "model": version.model,
        "lifecycle": lifecycle,
        "steps": _lifecycle_steps(
            lifecycle, version, list(dict.fromkeys(str(d.environment) for d in rows))
        ),
        "deployments": attach_approvals(rows[:VERSION_DEPLOYMENTS_SHOWN]),
        "more_deployments": len(rows) > VERSION_DEPLOYMENTS_SHOWN,
        "can_promote": contributor and usable and not version.deprecated_at,
        "can_deprecate": contributor and usable and not version.deprecated_at,
        "can_retire": contributor and usable,
    }
    if _is_fragment_request(request):
        return render(request, "approvals_app/version_lifecycle.html#panel", context)
    return render(request, "approvals_app/version_lifecycle.html", context)
