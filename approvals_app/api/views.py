"""Approvals, reviews, promotion and rollback: thin adapters over approvals_app.services and
approvals_app.promotion, loading objects exactly as models_app.api does."""

from django.contrib.auth.decorators import login_not_required
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from approvals_app import services
from approvals_app.api import serializers as s
from approvals_app.models import ApprovalRequest, ChecklistItem, ChecklistTick, Review
from approvals_app.promotion import promote, rollback
from models_app.api.serializers import DeploymentSerializer, paginated
from models_app.api.views import (
    ERRORS,
    page_response,
    validated,
    version_or_404,
    writable_model,
    writable_version,
)
from models_app.models import Deployment

_RELATED = ("version__model", "environment", "policy", "requester")


def _requests():
    return ApprovalRequest.objects.select_related(*_RELATED).prefetch_related(
        Prefetch("reviews", queryset=Review.objects.select_related("reviewer"))
    )


def _request_or_404(request, pk: int) -> ApprovalRequest:
    """The approval request if the user may see its model; 404 otherwise."""
    approval = (
        _requests()
        .filter(pk=pk)
        .filter(pk__in=ApprovalRequest.objects.visible_to(request.user).values("pk"))
    )
    if not approval:
        raise NotFound(f"There is no approval request #{pk}.")
    return approval[0]


def _approval_response(request, approval: ApprovalRequest, status_code=status.HTTP_200_OK):
    approval = _requests().get(pk=approval.pk)
    body = s.ApprovalRequestSerializer(approval, context={"request": request}).data
    return Response(body, status=status_code)


PAGING = [OpenApiParameter("page", int), OpenApiParameter("page_size", int)]
APPROVAL_LIST = paginated(s.ApprovalRequestSerializer, "PaginatedApprovalRequestList")


@login_not_required
@extend_schema(
    operation_id="approvals_list_for_version",
    methods=["GET"],
    parameters=PAGING,
    responses={200: APPROVAL_LIST, **ERRORS},
    tags=["approvals"],
)
@extend_schema(
    operation_id="approvals_request",
    methods=["POST"],
    request=s.ApprovalRequestCreateSerializer,
    responses={201: s.ApprovalRequestSerializer, **ERRORS},
    tags=["approvals"],
)
@api_view(["GET", "POST"])
def version_approvals(request, name: str, number: int):
    """GET: a version's approval requests, newest first. POST: ask for the version to be
    approved for an environment."""
    if request.method == "POST":
        version = writable_version(request, name, number)
        data = validated(s.ApprovalRequestCreateSerializer, request)
        approval = services.request_approval(actor=request.user, version=version, **data)
        return _approval_response(request, approval, status.HTTP_201_CREATED)
    version = version_or_404(request, name, number)
    approvals = _requests().filter(version=version).order_by("-created_at", "-pk")
    return page_response(request, approvals, s.ApprovalRequestSerializer)


@login_not_required
@extend_schema(
    operation_id="approvals_mine",
    parameters=PAGING,
    responses={200: APPROVAL_LIST, **ERRORS},
    tags=["approvals"],
)
@api_view(["GET"])
def my_requests(request):
    """The approval requests I asked for, newest first."""
    mine = (
        _requests()
        .filter(pk__in=ApprovalRequest.objects.visible_to(request.user).values("pk"))
        .filter(requester=request.user)
        .order_by("-created_at", "-pk")
    )
    return page_response(request, mine, s.ApprovalRequestSerializer)


@login_not_required
@extend_schema(
    operation_id="approvals_queue",
    parameters=PAGING,
    responses={200: APPROVAL_LIST, **ERRORS},
    tags=["approvals"],
)
@api_view(["GET"])
def my_queue(request):
    """Open requests waiting for my review, the one that has waited longest first."""
    waiting = ApprovalRequest.objects.awaiting_review_by(request.user).values("pk")
    queue = _requests().filter(pk__in=waiting).order_by("created_at", "pk")
    return page_response(request, queue, s.ApprovalRequestSerializer)


@login_not_required
@extend_schema(
    operation_id="approvals_retrieve",
    responses={200: s.ApprovalRequestSerializer, **ERRORS},
    tags=["approvals"],
)
@api_view(["GET"])
def approval_detail(request, pk: int):
    """One approval request with its reviews."""
    return _approval_response(request, _request_or_404(request, pk))


@login_not_required
@extend_schema(
    operation_id="approvals_review",
    request=s.ReviewCreateSerializer,
    responses={200: s.ApprovalRequestSerializer, **ERRORS},
    tags=["approvals"],
)
@api_view(["POST"])
def approval_review(request, pk: int):
    """Record my decision (approve, reject, request_changes); answers the request as it now
    stands, approved once the quorum is complete. A high-risk approval answers 409
    confirmation_required until sent again with "confirmed": true."""
    approval = _request_or_404(request, pk)
    data = validated(s.ReviewCreateSerializer, request)
    approval = services.submit_review(actor=request.user, approval=approval, **data)
    return _approval_response(request, approval)


@login_not_required
@extend_schema(
    operation_id="approvals_withdraw",
    request=s.WithdrawSerializer,
    responses={200: s.ApprovalRequestSerializer, **ERRORS},
    tags=["approvals"],
)
@api_view(["POST"])
def approval_withdraw(request, pk: int):
    """Take back an open request (its requester or a team admin); 409 once it is closed."""
    approval = _request_or_404(request, pk)
    data = validated(s.WithdrawSerializer, request)
    approval = services.withdraw_request(actor=request.user, approval=approval, **data)
    return _approval_response(request, approval)


@login_not_required
@extend_schema(
    operation_id="approvals_resubmit",
    request=s.ResubmitSerializer,
    responses={200: s.ApprovalRequestSerializer, **ERRORS},
    tags=["approvals"],
)
@api_view(["POST"])
def approval_resubmit(request, pk: int):
    """Send a request the reviewers asked changes on back for a new round (its requester
    only); 409 unless changes were requested."""
    approval = _request_or_404(request, pk)
    data = validated(s.ResubmitSerializer, request)
    approval = services.resubmit_request(actor=request.user, approval=approval, **data)
    return _approval_response(request, approval)


@login_not_required
@extend_schema(
    operation_id="approvals_checklist_tick",
    request=s.ChecklistTickCreateSerializer,
    responses={201: s.ChecklistTickSerializer, **ERRORS},
    tags=["approvals"],
)
@api_view(["POST"])
def approval_checklist_tick(request, pk: int, item_id: int):
    """Tick an item of the request's checklist (its requester or an eligible reviewer). The
    last missing item may complete the approval: request_status says where it stands."""
    approval = _request_or_404(request, pk)
    item = ChecklistItem.objects.filter(pk=item_id, policy_id=approval.policy_id).first()
    if item is None:
        raise NotFound(f"The checklist of request #{pk} has no item #{item_id}.")
    data = validated(s.ChecklistTickCreateSerializer, request)
    tick = services.tick_checklist_item(actor=request.user, approval=approval, item=item, **data)
    tick = ChecklistTick.objects.select_related("item", "ticked_by", "request").get(pk=tick.pk)
    return Response(s.ChecklistTickSerializer(tick).data, status=status.HTTP_201_CREATED)


@login_not_required
@extend_schema(
    operation_id="versions_promote",
    request=s.PromoteSerializer,
    responses={201: DeploymentSerializer, **ERRORS},
    tags=["deployments"],
)
@api_view(["POST"])
def version_promote(request, name: str, number: int):
    """Deploy the version into an environment (409 approval_required, promotion_path,
    already_live … when the rules refuse)."""
    version = writable_version(request, name, number)
    data = validated(s.PromoteSerializer, request)
    deployment = promote(actor=request.user, version=version, **data)
    return _deployment_response(request, deployment)


@login_not_required
@extend_schema(
    operation_id="models_rollback",
    request=s.RollbackSerializer,
    responses={201: DeploymentSerializer, **ERRORS},
    tags=["deployments"],
)
@api_view(["POST"])
def model_rollback(request, name: str):
    """Put the previous version back at full traffic in an environment."""
    model = writable_model(request, name)
    data = validated(s.RollbackSerializer, request)
    deployment = rollback(actor=request.user, model=model, **data)
    return _deployment_response(request, deployment)


def _deployment_response(request, deployment: Deployment) -> Response:
    deployment = Deployment.objects.select_related(
        "model", "version", "environment", "deployed_by"
    ).get(pk=deployment.pk)
    return Response(DeploymentSerializer(deployment).data, status=status.HTTP_201_CREATED)
