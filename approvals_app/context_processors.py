from django.utils.functional import SimpleLazyObject

from approvals_app.models import ApprovalRequest


def review_queue_count(request) -> dict:
    """How many open requests wait for this user's review, for the navigation badge.

    Lazy: the COUNT runs only when a template shows it, so htmx fragments never pay for it.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "review_queue_count": SimpleLazyObject(
            lambda: (
                ApprovalRequest.objects.awaiting_review_by(user)
                .filter(status=ApprovalRequest.Status.OPEN)
                .count()
            )
        )
    }
