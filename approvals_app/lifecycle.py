"""Where a version stands in its life, derived from the rows and never stored.

registered → in review → approved → deployed → deprecated → retired. The later stage wins
(a deployed version that is also in review for another environment is "deployed"), so the
stage can never disagree with the deployments, requests and dates it is read from.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q, TextChoices
from django.utils import timezone

from approvals_app.models import ApprovalRequest
from models_app.models import Deployment, ModelVersion


class Stage(TextChoices):
    # Declared in lifecycle order: Stage.values is the path a page draws.
    REGISTERED = "registered", "Registered"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    DEPLOYED = "deployed", "Deployed"
    DEPRECATED = "deprecated", "Deprecated"
    RETIRED = "retired", "Retired"


@dataclass
class Lifecycle:
    """A version's stage and the facts behind it: environment names where it is active, where
    it holds a valid approval, and where a request for it is open."""

    stage: Stage
    deployed_in: list[str] = field(default_factory=list)
    approved_for: list[str] = field(default_factory=list)
    in_review_for: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.stage.label

    @property
    def position(self) -> int:
        """0 for registered … 5 for retired, to mark the steps already passed."""
        return list(Stage).index(self.stage)


def _stage(version: ModelVersion, lifecycle: Lifecycle) -> Stage:
    if version.retired_at is not None:
        return Stage.RETIRED
    if version.deprecated_at is not None:
        return Stage.DEPRECATED
    if lifecycle.deployed_in:
        return Stage.DEPLOYED
    if lifecycle.approved_for:
        return Stage.APPROVED
    if lifecycle.in_review_for:
        return Stage.IN_REVIEW
    return Stage.REGISTERED


def version_lifecycles(versions: Iterable[ModelVersion]) -> dict[int, Lifecycle]:
    """version_lifecycle for many versions in three queries, however many: {version pk:
    Lifecycle}. For lists and tables."""
    versions = list(versions)
    if not versions:
        return {}
    ids = [v.pk for v in versions]
    found = {pk: Lifecycle(stage=Stage.REGISTERED) for pk in ids}
    env_order = ("environment__order", "environment__name")
    deployed = (
        Deployment.objects.active()
        .filter(version_id__in=ids)
        .order_by(*env_order)
        .values_list("version_id", "environment__name")
        .distinct()
    )
    for pk, name in deployed:
        found[pk].deployed_in.append(name)
    requests = ApprovalRequest.objects.filter(version_id__in=ids).order_by(*env_order)
    approved = (
        requests.filter(status=ApprovalRequest.Status.APPROVED)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .values_list("version_id", "environment__name")
        .distinct()
    )
    for pk, name in approved:
        found[pk].approved_for.append(name)
    for pk, name in requests.open().values_list("version_id", "environment__name").distinct():
        found[pk].in_review_for.append(name)
    for version in versions:
        found[version.pk].stage = _stage(version, found[version.pk])
    return found


def version_lifecycle(version: ModelVersion) -> Lifecycle:
    """The version's lifecycle stage: retired (retired_at) > deprecated (deprecated_at) >
    deployed (active anywhere) > approved (a valid approval for any environment) > in review
    (an open request) > registered."""
    return version_lifecycles([version])[version.pk]
