"""Who may do what to which model. Services call these; views use them to hide buttons."""

from models_app.models import ROLE_RANK, Membership, RegisteredModel


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
