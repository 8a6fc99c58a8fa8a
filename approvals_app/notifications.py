"""Email notices about approval requests, sent after the deciding transaction commits.

They go through Django's email framework: the console backend by default, SMTP by settings.
A failure to send is logged and never undoes a decision.
"""

import functools
import logging

from django.conf import settings
from django.core.mail import send_mass_mail

logger = logging.getLogger(__name__)


def _link(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def _send(messages: list[tuple[str, str, str, list[str]]]) -> None:
    messages = [m for m in messages if m[3]]
    if not messages:
        return
    try:
        send_mass_mail(messages, fail_silently=False)
    except Exception:  # noqa: BLE001 - mail trouble must not break the workflow
        logger.exception("Could not send approval notifications")


def _never_raises(func):
    # These run as on_commit callbacks: the decision is already committed, so a failure here
    # is logged, not raised at the person who made the decision.
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            func(*args, **kwargs)
        except Exception:  # noqa: BLE001
            logger.exception("Could not prepare approval notifications")

    return wrapper


@_never_raises
def request_opened(approval_id: int) -> None:
    """Tell every eligible reviewer that a request waits for them."""
    from approvals_app.models import ApprovalRequest
    from approvals_app.services import eligible_reviewers

    approval = ApprovalRequest.objects.select_related(
        "version__model", "environment", "requester"
    ).get(pk=approval_id)
    subject = f"[Model registry] Review requested: {approval.version} → {approval.environment.name}"
    body = (
        f"{approval.requester.get_username()} asks for {approval.version} to be approved for "
        f"{approval.environment}.\n\nJustification:\n{approval.justification}\n\n"
        f"Review it: {_link(approval.get_absolute_url())}\n"
    )
    recipients = [
        user.email
        for user in eligible_reviewers(approval.version)
        if user.email and user.pk != approval.requester_id
    ]
    _send([(subject, body, settings.DEFAULT_FROM_EMAIL, [email]) for email in recipients])


@_never_raises
def review_recorded(approval_id: int, decision: str, status: str) -> None:
    """Tell the requester about each decision on their request."""
    from approvals_app.models import ApprovalRequest

    approval = ApprovalRequest.objects.select_related(
        "version__model", "environment", "requester"
    ).get(pk=approval_id)
    review = approval.reviews.select_related("reviewer").order_by("-created_at", "-id").first()
    who = review.reviewer.get_username() if review else "A reviewer"
    subject = (
        f"[Model registry] {approval.version} → {approval.environment.name}: "
        f"{approval.get_status_display()}"
    )
    body = (
        f"{who} chose '{decision.replace('_', ' ')}' on your request for {approval.version} in "
        f"{approval.environment}.\n"
        + (f"\nComment:\n{review.comment}\n" if review and review.comment else "")
        + f"\nThe request is now: {approval.get_status_display()}.\n"
        f"{_link(approval.get_absolute_url())}\n"
    )
    _send([(subject, body, settings.DEFAULT_FROM_EMAIL, [approval.requester.email])])
