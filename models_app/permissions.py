"""Who may do what to which model. Services call these; views use them to hide buttons."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from models_app.models import ROLE_RANK, Membership, ModelVersion, RegisteredModel, Team


def team_role(user, team_id: int) -> str | None:
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.filter(user=user, team_id=team_id).values_list("role", flat=True).first()
    )


def has_team_role(user, team_id: int, minimum: str) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    role = team_role(user, team_id)
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[minimum]


def contributing_team_ids(user) -> set[int]:
    """The teams in which ``user`` holds the contributor role or above (superusers: every
    team), in one query, for pages that decide per row what a user may change."""
    if not user.is_authenticated:
        return set()
    if user.is_superuser:
        return set(Team.objects.values_list("pk", flat=True))
    roles = [role for role, rank in ROLE_RANK.items() if rank >= ROLE_RANK["contributor"]]
    return set(
        Membership.objects.filter(user=user, role__in=roles).values_list("team_id", flat=True)
    )


def can_view_model(user, model: RegisteredModel) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser or not model.restricted:
        return True
    return team_role(user, model.team_id) is not None


def can_contribute(user, model: RegisteredModel) -> bool:
    return has_team_role(user, model.team_id, Membership.Role.CONTRIBUTOR)


def can_create_model_in(user, team_id: int) -> bool:
    return has_team_role(user, team_id, Membership.Role.CONTRIBUTOR)


def get_visible_model_or_404(user, name: str) -> RegisteredModel:
    """The model called ``name`` if this user may see it; 404 otherwise, so that a
    restricted model's existence does not leak."""
    return get_object_or_404(
        RegisteredModel.objects.visible_to(user).select_related("team", "responsible"),
        name=name,
    )


def get_visible_version_or_404(user, name: str, number: int) -> ModelVersion:
    return get_object_or_404(
        ModelVersion.objects.visible_to(user).select_related(
            "model", "model__team", "created_by", "parent", "parent__model"
        ),
        model__name=name,
        version=number,
    )


def require_contributor(user, model: RegisteredModel) -> None:
    """For write views: a member without the contributor role gets 403."""
    if not can_contribute(user, model):
        raise PermissionDenied(f"You need the contributor role in team '{model.team}'.")
