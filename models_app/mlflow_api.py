"""MLflow's Model Registry REST API under /api/2.0/mlflow/, so that a stock
``mlflow.MlflowClient(registry_uri=…)`` registers and reads models here.

The request and response shapes are those of MLflow's model_registry.proto: GET endpoints
read query parameters, the others a JSON body; timestamps are milliseconds since the epoch
and version numbers are strings; errors are ``{"error_code": …, "message": …}``. Each view
is a thin adapter over models_app.services, so permissions, validation and the audit
ledger are exactly the web's. Clients sign in with a personal access token
(``MLFLOW_TRACKING_TOKEN``, sent as a Bearer token; or basic auth with the username and the
token as password); cookies are ignored, so there is no CSRF to check.

Where this registry differs from an MLflow server (the README says the same):

- A new model needs a team: the tag ``team=<slug>`` on create chooses it, else the one team
  the user contributes to; with several, the error says how to choose.
- Model names are immutable (URLs, aliases, dependencies and the ledger use them): rename
  is refused.
- Deleting a model archives it and deleting a version retires it (refused while
  applications depend on it or it is deployed). Both stay readable by name and number, and
  are left out of searches and latest versions.
- Stages are read-only: ``current_stage`` is Production or Staging while a version serves
  all traffic in the environment of that name, Archived once retired, else None.
  transition-stage is refused; promotion goes through approvals and deployments.
- A tag without a value whose key is a valid tag name becomes a registry tag (the catalogue
  filters by it); every other tag is kept verbatim as a key/value property.
"""

import base64
import binascii
import json
from datetime import UTC, datetime, timedelta
from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.db.models import Max, Prefetch, Q
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from models_app import permissions, services
from models_app.api.authentication import user_from_request
from models_app.mlflow_search import (
    MODEL_FIELDS,
    VERSION_FIELDS,
    FilterError,
    apply_filter,
    parse_filter,
    parse_order_by,
)
from models_app.models import Alias, Deployment, ModelVersion, RegisteredModel, Team
from models_app.tokens import user_for_token

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STAGES = ("None", "Staging", "Production", "Archived")
# Environments whose full-traffic deployment is reported as a version's MLflow stage.
STAGE_ENVIRONMENTS = {"production": "Production", "staging": "Staging"}
MODELS_PAGE_DEFAULT, MODELS_PAGE_MAX = 100, 1000
# MLflow's client asks for 10,000 versions by default; a page holds at most VERSIONS_PAGE and
# says so with a next_page_token, which keeps each response's size and query bounded.
VERSIONS_PAGE_DEFAULT, VERSIONS_PAGE_MAX, VERSIONS_PAGE = 10_000, 200_000, 1000
DELETED_REASON = "Deleted through the MLflow API."
TEAM_TAG = "team"

INVALID = "INVALID_PARAMETER_VALUE"
NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"
_STATUS = {
    INVALID: 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    NOT_FOUND: 404,
    "ENDPOINT_NOT_FOUND": 404,
    "RESOURCE_CONFLICT": 409,
}


class MlflowError(Exception):
    """A refusal in MLflow's error format."""

    def __init__(self, error_code: str, message: str, *, status: int | None = None):
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        self.status = status or _STATUS[error_code]

    def response(self) -> JsonResponse:
        response = JsonResponse(
            {"error_code": self.error_code, "message": self.message}, status=self.status
        )
        if self.status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="mlflow"'
        return response


def _registry_error(exc: services.RegistryError) -> MlflowError:
    if isinstance(exc, services.NotAllowed):
        return MlflowError("PERMISSION_DENIED", exc.message)
    if isinstance(exc, services.InUse):
        return MlflowError("RESOURCE_CONFLICT", exc.message)
    codes = {"duplicate": "RESOURCE_ALREADY_EXISTS", "not_found": NOT_FOUND}
    return MlflowError(codes.get(exc.code, INVALID), exc.message)


# --- authentication and request parsing ----------------------------------------------------


def _basic_auth_user(credentials: str):
    try:
        decoded = base64.b64decode(credentials, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, colon, token = decoded.partition(":")
    user = user_for_token(token) if colon else None
    # The username must name the token's owner: a client set up as one person must not
    # quietly act as another.
    if user is None or user.get_username() != username:
        return None
    return user


def _authenticated_user(request):
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "basic":
        user = _basic_auth_user(credentials.strip())
    else:
        user = user_from_request(request)
    if user is not None:
        return user
    if header:
        raise MlflowError("UNAUTHENTICATED", "The access token is invalid, revoked or expired.")
    raise MlflowError(
        "UNAUTHENTICATED",
        "Sign in with a personal access token: set MLFLOW_TRACKING_TOKEN, which the client "
        "sends as 'Authorization: Bearer <token>'.",
    )


_REPEATED_PARAMETERS = {"order_by", "stages"}


def _params(request) -> dict:
    if request.method == "GET":
        return {
            key: values if key in _REPEATED_PARAMETERS else values[-1]
            for key, values in request.GET.lists()
        }
    if not request.body:
        return {}
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise MlflowError(INVALID, "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise MlflowError(INVALID, "The request body must be a JSON object.")
    return data


def _mlflow_view(*methods: str):
    """Turn handler(request, user, params) -> dict into a token-authenticated JSON view."""

    def decorate(handler):
        @wraps(handler)
        def view(request):
            if request.method not in methods:
                response = MlflowError(
                    "ENDPOINT_NOT_FOUND",
                    f"{request.path} answers {' and '.join(methods)}, not {request.method}.",
                    status=405,
                ).response()
                response["Allow"] = ", ".join(methods)
                return response
            try:
                user = _authenticated_user(request)
                return JsonResponse(handler(request, user, _params(request)))
            except MlflowError as exc:
                return exc.response()
            except services.RegistryError as exc:
                return _registry_error(exc).response()

        return csrf_exempt(login_not_required(view))

    return decorate


def _text(params: dict, key: str, *, required: bool = False) -> str:
    value = params.get(key)
    if value is None or value == "":
        if required:
            raise MlflowError(INVALID, f"Missing value for required parameter '{key}'.")
        return ""
    if not isinstance(value, str):
        raise MlflowError(INVALID, f"Parameter '{key}' must be a string.")
    return value


def _version_number(params: dict) -> int:
    raw = params.get("version")
    if raw is None or raw == "":
        raise MlflowError(INVALID, "Missing value for required parameter 'version'.")
    try:
        number = int(str(raw)) if not isinstance(raw, bool) else 0
    except ValueError:
        number = 0
    if number < 1:
        raise MlflowError(INVALID, f"Version must be a whole number from 1, got '{raw}'.")
    return number


def _tag_pairs(raw) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, list) or not all(isinstance(tag, dict) for tag in raw):
        raise MlflowError(INVALID, "Tags must be a list of {'key': …, 'value': …} objects.")
    tags = {}
    for tag in raw:
        key, value = tag.get("key"), tag.get("value", "")
        if not isinstance(key, str) or not isinstance(value, str | None):
            raise MlflowError(INVALID, "Each tag needs a string key and a string value.")
        tags[key] = value or ""
    return tags


def _max_results(params: dict, default: int, maximum: int) -> int:
    raw = params.get("max_results")
    if raw is None or raw == "":
        return default
    try:
        number = int(str(raw)) if not isinstance(raw, bool) else 0
    except ValueError:
        number = 0
    if not 1 <= number <= maximum:
        raise MlflowError(INVALID, f"max_results must be between 1 and {maximum}, got '{raw}'.")
    return number


def _offset(params: dict) -> int:
    token = _text(params, "page_token")
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, TypeError, KeyError, binascii.Error):
        offset = None
    if not isinstance(offset, int) or offset < 0:
        raise MlflowError(INVALID, "The page_token is not one this server handed out.")
    return offset


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _ordering(params: dict, fields) -> list[str]:
    clauses = params.get("order_by") or []
    if isinstance(clauses, str):
        clauses = [clauses]
    if not isinstance(clauses, list) or not all(isinstance(c, str) for c in clauses):
        raise MlflowError(INVALID, "order_by must be a list of strings such as 'name ASC'.")
    try:
        return parse_order_by(clauses, fields)
    except FilterError as exc:
        raise MlflowError(INVALID, f"Invalid order_by: {exc}.") from None


def _conditions(params: dict, fields):
    text = _text(params, "filter")
    try:
        return parse_filter(text, fields)
    except FilterError as exc:
        raise MlflowError(INVALID, f"Invalid filter '{text}': {exc}.") from None


# --- lookups -------------------------------------------------------------------------------


def _visible_model(user, name: str) -> RegisteredModel:
    # Restricted models of other teams answer exactly like missing ones.
    model = (
        RegisteredModel.objects.visible_to(user).select_related("team").filter(name=name).first()
    )
    if model is None:
        raise MlflowError(NOT_FOUND, f"Registered model '{name}' does not exist.")
    return model


def _visible_version(user, name: str, number: int) -> ModelVersion:
    version = (
        ModelVersion.objects.visible_to(user)
        .select_related("model", "model__team")
        .filter(model__name=name, version=number)
        .first()
    )
    if version is None:
        raise MlflowError(NOT_FOUND, f"Model version '{name}' version {number} does not exist.")
    return version


def _version_of(model: RegisteredModel, number: int) -> ModelVersion:
    version = model.versions.filter(version=number).select_related("model").first()
    if version is None:
        raise MlflowError(
            NOT_FOUND, f"Model version '{model.name}' version {number} does not exist."
        )
    return version


# --- responses -----------------------------------------------------------------------------


def _ms(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(milliseconds=1)


def _tags_json(obj) -> list[dict[str, str]]:
    tags = {tag.name: "" for tag in obj.tags.all()}
    tags.update(obj.properties or {})
    return [{"key": key, "value": value} for key, value in sorted(tags.items())]


def _version_rows(queryset):
    return queryset.select_related("model", "created_by").prefetch_related("tags", "aliases")


def _model_rows(queryset):
    return queryset.select_related("created_by").prefetch_related(
        "tags", Prefetch("aliases", queryset=Alias.objects.select_related("version"))
    )


def _live_stages(version_ids) -> dict[int, str]:
    """{version pk: "Production" or "Staging"} for versions serving all traffic there."""
    live = (
        Deployment.objects.active()
        .filter(
            version_id__in=version_ids,
            traffic_percent=100,
            environment__name__in=STAGE_ENVIRONMENTS,
        )
        .values_list("version_id", "environment__name")
    )
    stages: dict[int, str] = {}
    for version_id, environment in live:
        if stages.get(version_id) != "Production":
            stages[version_id] = STAGE_ENVIRONMENTS[environment]
    return stages


def _stage(version: ModelVersion, live: dict[int, str]) -> str:
    if version.pk in live:
        return live[version.pk]
    return "Archived" if version.retired_at else "None"


def _version_json(version: ModelVersion, stage: str) -> dict:
    updated = max(
        moment
        for moment in (version.created_at, version.deprecated_at, version.retired_at)
        if moment
    )
    data = {
        "name": version.model.name,
        "version": str(version.version),
        "creation_timestamp": _ms(version.created_at),
        "last_updated_timestamp": _ms(updated),
        "current_stage": stage,
        "description": version.description,
        "source": version.source_uri,
        "status": "READY",
        "tags": _tags_json(version),
        "aliases": sorted(alias.name for alias in version.aliases.all()),
    }
    if version.created_by is not None:
        data["user_id"] = version.created_by.get_username()
    if version.run_id:
        data["run_id"] = version.run_id
    if version.run_link:
        data["run_link"] = version.run_link
    return data


def _versions_json(versions: list[ModelVersion]) -> list[dict]:
    live = _live_stages([version.pk for version in versions]) if versions else {}
    return [_version_json(version, _stage(version, live)) for version in versions]


def _latest_by_stage(model_ids: list[int]) -> dict[int, list[ModelVersion]]:
    """For each model, its newest version in each stage (as MLflow's latest_versions), in
    a fixed number of queries however many models and versions there are."""
    if not model_ids:
        return {}
    live = (
        Deployment.objects.active()
        .filter(
            model_id__in=model_ids,
            traffic_percent=100,
            environment__name__in=STAGE_ENVIRONMENTS,
        )
        .values_list("model_id", "version_id", "version__version", "environment__name")
    )
    staged: dict[int, tuple[int, int, str]] = {}
    for model_id, version_id, number, environment in live:
        stage = STAGE_ENVIRONMENTS[environment]
        if staged.get(version_id, (0, 0, ""))[2] != "Production":
            staged[version_id] = (model_id, number, stage)
    wanted: dict[tuple[int, str], int] = {}
    for model_id, number, stage in staged.values():
        wanted[(model_id, stage)] = max(wanted.get((model_id, stage), 0), number)
    versions = ModelVersion.objects.filter(model_id__in=model_ids).order_by()
    newest_retired = (
        versions.filter(retired_at__isnull=False).values_list("model_id").annotate(Max("version"))
    )
    newest_unstaged = (
        versions.filter(retired_at__isnull=True)
        .exclude(pk__in=list(staged))
        .values_list("model_id")
        .annotate(Max("version"))
    )
    for stage, rows in (("Archived", newest_retired), ("None", newest_unstaged)):
        for model_id, number in rows:
            wanted[(model_id, stage)] = number
    if not wanted:
        return {}
    match = Q()
    for (model_id, _stage_name), number in wanted.items():
        match |= Q(model_id=model_id, version=number)
    latest: dict[int, list[ModelVersion]] = {}
    for version in _version_rows(ModelVersion.objects.filter(match)).order_by("version"):
        latest.setdefault(version.model_id, []).append(version)
    return latest


def _models_json(models: list[RegisteredModel]) -> list[dict]:
    latest = _latest_by_stage([model.pk for model in models])
    versions = [version for model in models for version in latest.get(model.pk, [])]
    rendered = dict(zip((v.pk for v in versions), _versions_json(versions), strict=True))
    results = []
    for model in models:
        data = {
            "name": model.name,
            "creation_timestamp": _ms(model.created_at),
            "last_updated_timestamp": _ms(model.updated_at),
            "description": model.description,
            "latest_versions": [rendered[v.pk] for v in latest.get(model.pk, [])],
            "tags": _tags_json(model),
            "aliases": [
                {"alias": alias.name, "version": str(alias.version.version)}
                for alias in model.aliases.all()
            ],
        }
        if model.created_by is not None:
            data["user_id"] = model.created_by.get_username()
        results.append(data)
    return results


def _model_response(model: RegisteredModel) -> dict:
    rows = list(_model_rows(RegisteredModel.objects.filter(pk=model.pk)))
    return {"registered_model": _models_json(rows)[0]}


def _version_response(version: ModelVersion) -> dict:
    rows = list(_version_rows(ModelVersion.objects.filter(pk=version.pk)))
    return {"model_version": _versions_json(rows)[0]}


# --- registered models ---------------------------------------------------------------------


def _team_for_new_model(user, slug: str | None) -> Team:
    if slug is not None:
        team = Team.objects.filter(slug=slug).first()
        if team is None:
            raise MlflowError(INVALID, f"There is no team '{slug}'; the tag team=<slug> names one.")
        return team
    team_ids = permissions.contributing_team_ids(user)
    if not team_ids:
        raise MlflowError(
            "PERMISSION_DENIED", "You need the contributor role in a team to create models."
        )
    if len(team_ids) > 1:
        slugs = sorted(Team.objects.filter(pk__in=team_ids).values_list("slug", flat=True))
        shown = ", ".join(slugs[:10]) + (", …" if len(slugs) > 10 else "")
        raise MlflowError(
            INVALID,
            f"You contribute to several teams ({shown}); choose the model's team with the tag "
            f"team=<slug>, e.g. create_registered_model(name, tags={{'team': '{slugs[0]}'}}).",
        )
    return Team.objects.get(pk=next(iter(team_ids)))


@_mlflow_view("POST")
def create_registered_model(request, user, params):
    name = _text(params, "name", required=True)
    if _text(params, "deployment_job_id"):
        raise MlflowError(INVALID, "Deployment jobs are a Databricks feature; none run here.")
    tags = _tag_pairs(params.get("tags"))
    team = _team_for_new_model(user, tags.pop(TEAM_TAG, None))
    names, properties = services.split_tags(tags)
    try:
        model = services.create_model(
            actor=user,
            name=name,
            team=team,
            description=_text(params, "description"),
            tags=names,
            properties=properties,
        )
    except services.RegistryError as exc:
        archived = RegisteredModel.objects.visible_to(user).filter(
            name=name, archived_at__isnull=False
        )
        if exc.code == "duplicate" and archived.exists():
            # Deleting through MLflow archives, so "delete, then create again" lands here.
            raise MlflowError(
                "RESOURCE_ALREADY_EXISTS",
                f"'{name}' is an archived model here (deleting archives); restore it in the "
                "registry, or choose another name.",
            ) from None
        raise
    return _model_response(model)


@_mlflow_view("GET")
def get_registered_model(request, user, params):
    return _model_response(_visible_model(user, _text(params, "name", required=True)))


@_mlflow_view("POST")
def rename_registered_model(request, user, params):
    model = _visible_model(user, _text(params, "name", required=True))
    new_name = _text(params, "new_name", required=True)
    raise MlflowError(
        INVALID,
        f"Model names cannot change in this registry: URLs, aliases, application dependencies "
        f"and the audit ledger refer to '{model.name}'. Register '{new_name}' as a new model "
        "and archive this one instead.",
    )


@_mlflow_view("PATCH")
def update_registered_model(request, user, params):
    model = _visible_model(user, _text(params, "name", required=True))
    if _text(params, "deployment_job_id"):
        raise MlflowError(INVALID, "Deployment jobs are a Databricks feature; none run here.")
    if "description" in params:
        model = services.update_model(
            actor=user, model=model, description=_text(params, "description")
        )
    return _model_response(model)


@_mlflow_view("DELETE")
def delete_registered_model(request, user, params):
    model = _visible_model(user, _text(params, "name", required=True))
    services.archive_model(actor=user, model=model, reason=DELETED_REASON)
    return {}


@_mlflow_view("GET")
def search_registered_models(request, user, params):
    conditions = _conditions(params, MODEL_FIELDS)
    ordering = _ordering(params, MODEL_FIELDS)
    limit = _max_results(params, MODELS_PAGE_DEFAULT, MODELS_PAGE_MAX)
    offset = _offset(params)
    rows = apply_filter(
        RegisteredModel.objects.visible_to(user).active(), conditions, MODEL_FIELDS
    ).order_by(*ordering, "name")
    page = list(_model_rows(rows)[offset : offset + limit + 1])
    response = {"registered_models": _models_json(page[:limit])}
    if len(page) > limit:
        response["next_page_token"] = _page_token(offset + limit)
    return response


@_mlflow_view("POST", "GET")
def get_latest_versions(request, user, params):
    model = _visible_model(user, _text(params, "name", required=True))
    requested = params.get("stages") or []
    if isinstance(requested, str):
        requested = [requested]
    canonical = {stage.lower(): stage for stage in STAGES}
    stages = set()
    for stage in requested:
        if not isinstance(stage, str) or stage.lower() not in canonical:
            raise MlflowError(INVALID, f"'{stage}' is not a stage; use one of {', '.join(STAGES)}.")
        stages.add(canonical[stage.lower()])
    versions = _latest_by_stage([model.pk]).get(model.pk, [])
    rendered = _versions_json(versions)
    if stages:
        rendered = [data for data in rendered if data["current_stage"] in stages]
    return {"model_versions": rendered}


@_mlflow_view("POST")
def set_registered_model_tag(request, user, params):
    model = _visible_model(user, _text(params, "name", required=True))
    key = _text(params, "key", required=True)
    services.set_tag(actor=user, target=model, key=key, value=_text(params, "value"))
    return {}


@_mlflow_view("DELETE")
def delete_registered_model_tag(request, user, params):
    model = _visible_model(user, _text(params, "name", required=True))
    services.delete_tag(actor=user, target=model, key=_text(params, "key", required=True))
    return {}


@_mlflow_view("POST", "DELETE", "GET")
def registered_model_alias(request, user, params):
    model = _visible_model(user, _text(params, "name", required=True))
    # Aliases are lower-case here (set_alias folds them), so 'Champion' finds 'champion'.
    alias = _text(params, "alias", required=True).strip().lower()
    if request.method == "POST":
        version = _version_of(model, _version_number(params))
        services.set_alias(actor=user, model=model, name=alias, version=version)
        return {}
    if request.method == "DELETE":
        services.delete_alias(actor=user, model=model, name=alias)
        return {}
    target = Alias.objects.filter(model=model, name=alias).values_list("version_id", flat=True)
    version = ModelVersion.objects.filter(pk__in=target).first()
    if version is None:
        raise MlflowError(NOT_FOUND, f"Registered model '{model.name}' has no alias '{alias}'.")
    return _version_response(version)


# --- model versions ------------------------------------------------------------------------


@_mlflow_view("POST")
def create_model_version(request, user, params):
    model = _visible_model(user, _text(params, "name", required=True))
    source = _text(params, "source", required=True)
    tags = _tag_pairs(params.get("tags"))
    logged_model_id = _text(params, "model_id")
    if logged_model_id:
        # MLflow 3's logged-model id: no field of ours means it, and it must not be lost.
        tags.setdefault("mlflow.model_id", logged_model_id)
    names, properties = services.split_tags(tags)
    version = services.register_version(
        actor=user,
        model=model,
        source_uri=source,
        description=_text(params, "description"),
        run_id=_text(params, "run_id"),
        run_link=_text(params, "run_link"),
        tags=names,
        properties=properties,
    )
    return _version_response(version)


@_mlflow_view("GET")
def get_model_version(request, user, params):
    name = _text(params, "name", required=True)
    return _version_response(_visible_version(user, name, _version_number(params)))


@_mlflow_view("PATCH")
def update_model_version(request, user, params):
    name = _text(params, "name", required=True)
    version = _visible_version(user, name, _version_number(params))
    if "description" in params:
        version = services.update_version_card(
            actor=user, version=version, description=_text(params, "description")
        )
    return _version_response(version)


@_mlflow_view("DELETE")
def delete_model_version(request, user, params):
    name = _text(params, "name", required=True)
    version = _visible_version(user, name, _version_number(params))
    services.retire_version(actor=user, version=version, reason=DELETED_REASON)
    return {}


@_mlflow_view("POST")
def transition_model_version_stage(request, user, params):
    name = _text(params, "name", required=True)
    version = _visible_version(user, name, _version_number(params))
    raise MlflowError(
        INVALID,
        f"Stages cannot be set in this registry. To put {version} into an environment, request "
        "approval for it in the registry (/approvals/) and promote it; to name a version for "
        "consumers, set an alias (set_registered_model_alias). current_stage shows where a "
        "version serves: Production or Staging, or Archived once retired.",
    )


@_mlflow_view("GET")
def search_model_versions(request, user, params):
    conditions = _conditions(params, VERSION_FIELDS)
    ordering = _ordering(params, VERSION_FIELDS) or ["-created_at"]
    limit = min(_max_results(params, VERSIONS_PAGE_DEFAULT, VERSIONS_PAGE_MAX), VERSIONS_PAGE)
    offset = _offset(params)
    rows = apply_filter(
        ModelVersion.objects.visible_to(user).filter(
            retired_at__isnull=True, model__archived_at__isnull=True
        ),
        conditions,
        VERSION_FIELDS,
    ).order_by(*ordering, "model__name", "-version")
    page = list(_version_rows(rows)[offset : offset + limit + 1])
    response = {"model_versions": _versions_json(page[:limit])}
    if len(page) > limit:
        response["next_page_token"] = _page_token(offset + limit)
    return response


@_mlflow_view("GET")
def get_model_version_download_uri(request, user, params):
    name = _text(params, "name", required=True)
    version = _visible_version(user, name, _version_number(params))
    return {"artifact_uri": version.source_uri}


@_mlflow_view("POST")
def set_model_version_tag(request, user, params):
    name = _text(params, "name", required=True)
    version = _visible_version(user, name, _version_number(params))
    key = _text(params, "key", required=True)
    services.set_tag(actor=user, target=version, key=key, value=_text(params, "value"))
    return {}


@_mlflow_view("DELETE")
def delete_model_version_tag(request, user, params):
    name = _text(params, "name", required=True)
    version = _visible_version(user, name, _version_number(params))
    services.delete_tag(actor=user, target=version, key=_text(params, "key", required=True))
    return {}


@csrf_exempt
@login_not_required
def unknown_endpoint(request, path: str = ""):
    """Anything else under /api/2.0/mlflow/, such as the tracking API, which is not served."""
    return MlflowError(
        "ENDPOINT_NOT_FOUND",
        f"{request.path} is not served: this registry implements MLflow's Model Registry API "
        "only (registered-models/… and model-versions/…), not experiment tracking.",
    ).response()
