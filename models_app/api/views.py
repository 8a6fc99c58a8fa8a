"""The REST API under /api/v1/: thin adapters over models_app.services.

Each view loads the object the way the web does (an outsider gets 404 for a restricted model,
a read-only member 403 for a write), validates the request with a serializer, calls one
service, and answers JSON. Refusals raise; errors.api_exception_handler shapes them.
"""

import functools

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import (
    api_view,
    content_negotiation_class,
    parser_classes,
)
from rest_framework.exceptions import ErrorDetail, NotFound, ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from models_app import services
from models_app.api import serializers as s
from models_app.api.errors import error_response
from models_app.api.pagination import PageNumberPagination
from models_app.api.parsers import MetricsJSONParser
from models_app.downloads import artifact_response
from models_app.filters import ModelFilter
from models_app.models import (
    Alias,
    Artifact,
    Deployment,
    Metric,
    ModelVersion,
    RegisteredModel,
    VersionDataset,
)
from models_app.permissions import require_contributor

# A multipart body carries the form fields and part headers besides the file; this much
# extra is allowed before the request is refused on its Content-Length alone.
MULTIPART_ALLOWANCE = 64 * 1024
METRICS_BATCH_MAX = 10_000

ERROR = OpenApiResponse(
    response=OpenApiTypes.OBJECT,
    description='{"error": {"code": "...", "message": "...", "field": "..."}}',
)
ERRORS = {400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR}


# --- loading objects the way the web does (approvals_app.api uses these too) ---------------


def model_or_404(request, name: str) -> RegisteredModel:
    """The model if this user may see it; 404 otherwise, so that a restricted model's
    existence does not leak."""
    model = (
        RegisteredModel.objects.visible_to(request.user)
        .select_related("team", "responsible", "created_by")
        .filter(name=name)
        .first()
    )
    if model is None:
        raise NotFound(f"There is no model '{name}'.")
    return model


def writable_model(request, name: str) -> RegisteredModel:
    model = model_or_404(request, name)
    require_contributor(request.user, model)
    return model


def version_or_404(request, name: str, number: int, *, full: bool = False) -> ModelVersion:
    """The version if this user may see its model; ``full`` also loads what the version's
    own representation shows (creator, parent, tags, datasets)."""
    model = model_or_404(request, name)
    versions = model.versions.all()
    if full:
        versions = versions.select_related("created_by", "parent__model").prefetch_related(
            "tags", "dataset_links__dataset"
        )
    version = versions.filter(version=number).first()
    if version is None:
        raise NotFound(f"{name} has no version {number}.")
    version.model = model
    return version


def writable_version(request, name: str, number: int) -> ModelVersion:
    version = version_or_404(request, name, number)
    require_contributor(request.user, version.model)
    return version


def validated(serializer_class, request, **context) -> dict:
    serializer = serializer_class(data=request.data, context={"request": request, **context})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def page_response(request, queryset, serializer_class, **context) -> Response:
    paginator = PageNumberPagination()
    rows = paginator.paginate_queryset(queryset, request)
    data = serializer_class(rows, many=True, context={"request": request, **context}).data
    return paginator.get_paginated_response(data)


def _versions(model: RegisteredModel):
    return (
        model.versions.select_related("created_by", "parent__model")
        .prefetch_related(
            "tags",
            Prefetch(
                "dataset_links",
                queryset=VersionDataset.objects.select_related("dataset").order_by(
                    "role", "dataset__name"
                ),
            ),
        )
        .order_by("-version")
    )


# --- who am I ------------------------------------------------------------------------------


@login_not_required
@extend_schema(operation_id="me", responses={200: s.MeSerializer, 401: ERROR}, tags=["account"])
@api_view(["GET"])
def me(request):
    """The account the token (or session) belongs to, and its team roles."""
    return Response(s.MeSerializer(request.user).data)


# --- models --------------------------------------------------------------------------------


@login_not_required
@extend_schema(
    operation_id="models_list",
    methods=["GET"],
    parameters=[
        OpenApiParameter("q", str, description="Name, description or tag contains"),
        OpenApiParameter("team", str, description="Team slug"),
        OpenApiParameter("task", str, enum=RegisteredModel.Task.values),
        OpenApiParameter("framework", str, enum=ModelVersion.Framework.values),
        OpenApiParameter("risk", str, enum=RegisteredModel.RiskTier.values),
        OpenApiParameter("status", str, enum=["active", "archived", "all"]),
        OpenApiParameter("tag", str),
        OpenApiParameter(
            "sort",
            str,
            description="name, team, task, risk, latest or updated; a leading - reverses",
        ),
        OpenApiParameter("page", int),
        OpenApiParameter("page_size", int),
    ],
    responses={
        200: s.paginated(s.RegisteredModelSerializer, "PaginatedRegisteredModelList"),
        **ERRORS,
    },
    tags=["models"],
)
@extend_schema(
    operation_id="models_create",
    methods=["POST"],
    request=s.RegisteredModelCreateSerializer,
    responses={201: s.RegisteredModelDetailSerializer, **ERRORS},
    tags=["models"],
)
@api_view(["GET", "POST"])
def model_collection(request):
    """GET: the catalogue, with the same filters as /models/. POST: register a model."""
    if request.method == "POST":
        data = validated(s.RegisteredModelCreateSerializer, request)
        model = services.create_model(actor=request.user, **data)
        body = s.RegisteredModelDetailSerializer(model, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED, headers=_location(request, model))
    visible = (
        RegisteredModel.objects.visible_to(request.user)
        .select_related("team", "responsible", "created_by")
        .prefetch_related("tags")
    )
    filterset = ModelFilter(request.query_params, request=request, queryset=visible)
    if not filterset.is_valid():
        raise ValidationError(
            {
                name: [ErrorDetail(error["message"], error["code"]) for error in errors]
                for name, errors in filterset.errors.get_json_data().items()
            }
        )
    return page_response(request, filterset.qs, s.RegisteredModelSerializer)


def _location(request, model: RegisteredModel) -> dict:
    return {"Location": request.build_absolute_uri(f"/api/v1/models/{model.name}/")}


def _model_detail_response(request, model: RegisteredModel) -> Response:
    model = (
        RegisteredModel.objects.select_related("team", "responsible", "created_by")
        .prefetch_related(
            "tags",
            Prefetch("aliases", queryset=Alias.objects.select_related("version", "updated_by")),
        )
        .get(pk=model.pk)
    )
    return Response(s.RegisteredModelDetailSerializer(model, context={"request": request}).data)


@login_not_required
@extend_schema(
    operation_id="models_retrieve",
    methods=["GET"],
    responses={200: s.RegisteredModelDetailSerializer, **ERRORS},
    tags=["models"],
)
@extend_schema(
    operation_id="models_update",
    methods=["PATCH"],
    request=s.RegisteredModelUpdateSerializer,
    responses={200: s.RegisteredModelDetailSerializer, **ERRORS},
    tags=["models"],
)
@api_view(["GET", "PATCH"])
def model_detail(request, name: str):
    """GET: one model with its aliases. PATCH: change its descriptive fields and tags (not
    its name or team)."""
    if request.method == "PATCH":
        model = writable_model(request, name)
        changes = dict(validated(s.RegisteredModelUpdateSerializer, request))
        tags = changes.pop("tags", None)
        model = services.update_model(actor=request.user, model=model, tags=tags, **changes)
    else:
        model = model_or_404(request, name)
    return _model_detail_response(request, model)


@login_not_required
@extend_schema(
    operation_id="models_archive",
    request=s.ArchiveSerializer,
    responses={200: s.RegisteredModelDetailSerializer, **ERRORS},
    tags=["models"],
)
@api_view(["POST"])
def model_archive(request, name: str):
    """Hide a model from the active catalogue; its versions and history stay."""
    model = writable_model(request, name)
    data = validated(s.ArchiveSerializer, request)
    model = services.archive_model(actor=request.user, model=model, reason=data["reason"])
    return _model_detail_response(request, model)


@login_not_required
@extend_schema(
    operation_id="models_restore",
    request=None,
    responses={200: s.RegisteredModelDetailSerializer, **ERRORS},
    tags=["models"],
)
@api_view(["POST"])
def model_restore(request, name: str):
    """Bring an archived model back into the active catalogue."""
    model = writable_model(request, name)
    model = services.restore_model(actor=request.user, model=model)
    return _model_detail_response(request, model)


# --- versions ------------------------------------------------------------------------------


@login_not_required
@extend_schema(
    operation_id="versions_list",
    methods=["GET"],
    parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
    responses={200: s.paginated(s.ModelVersionSerializer, "PaginatedModelVersionList"), **ERRORS},
    tags=["versions"],
)
@extend_schema(
    operation_id="versions_register",
    methods=["POST"],
    request=s.ModelVersionRegisterSerializer,
    responses={201: s.ModelVersionSerializer, **ERRORS},
    tags=["versions"],
)
@api_view(["GET", "POST"])
def version_collection(request, name: str):
    """GET: a model's versions, newest first. POST: register the next version."""
    if request.method == "POST":
        model = writable_model(request, name)
        data = validated(s.ModelVersionRegisterSerializer, request, model=model)
        version = services.register_version(actor=request.user, model=model, **data)
        version = version_or_404(request, name, version.version, full=True)
        body = s.ModelVersionSerializer(version, context={"request": request}).data
        location = request.build_absolute_uri(f"/api/v1/models/{name}/versions/{version.version}/")
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})
    model = model_or_404(request, name)
    return page_response(request, _versions(model), s.ModelVersionSerializer)


@login_not_required
@extend_schema(
    operation_id="versions_retrieve",
    methods=["GET"],
    responses={200: s.ModelVersionSerializer, **ERRORS},
    tags=["versions"],
)
@extend_schema(
    operation_id="versions_update_card",
    methods=["PATCH"],
    request=s.VersionCardSerializer,
    responses={200: s.ModelVersionSerializer, **ERRORS},
    tags=["versions"],
)
@api_view(["GET", "PATCH"])
def version_detail(request, name: str, number: int):
    """GET: one version with lineage, datasets and model card. PATCH: edit the description,
    the model-card fields and the tags."""
    if request.method == "PATCH":
        version = writable_version(request, name, number)
        changes = dict(validated(s.VersionCardSerializer, request))
        tags = changes.pop("tags", None)
        services.update_version_card(actor=request.user, version=version, tags=tags, **changes)
    version = version_or_404(request, name, number, full=True)
    return Response(s.ModelVersionSerializer(version, context={"request": request}).data)


# --- metrics -------------------------------------------------------------------------------


@login_not_required
@extend_schema(
    operation_id="metrics_list",
    methods=["GET"],
    parameters=[
        OpenApiParameter("key", str, description="Only this metric key"),
        OpenApiParameter("slice", str, description="Only this slice"),
        OpenApiParameter("page", int),
        OpenApiParameter("page_size", int),
    ],
    responses={200: s.paginated(s.MetricSerializer, "PaginatedMetricList"), **ERRORS},
    tags=["metrics"],
)
@extend_schema(
    operation_id="metrics_log",
    methods=["POST"],
    request=s.MetricEntrySerializer(many=True),
    responses={201: s.MetricBatchResultSerializer, **ERRORS},
    tags=["metrics"],
    description="Log a batch: a JSON list of {key, value, step?, slice?} (or an object "
    '{"metrics": [...]}). The whole batch is refused if any entry is bad, and the error '
    "names the entry.",
)
@api_view(["GET", "POST"])
@parser_classes([MetricsJSONParser])
def metric_collection(request, name: str, number: int):
    """GET: a version's metrics. POST: log a batch of metrics."""
    if request.method == "POST":
        version = writable_version(request, name, number)
        entries = _metric_entries(request.data)
        rows = services.log_metrics(actor=request.user, version=version, metrics=entries)
        body = {"count": len(rows), "metrics": s.MetricSerializer(rows, many=True).data}
        return Response(body, status=status.HTTP_201_CREATED)
    version = version_or_404(request, name, number)
    metrics = Metric.objects.filter(version=version).order_by("key", "slice", "step", "pk")
    if request.query_params.get("key"):
        metrics = metrics.filter(key=request.query_params["key"])
    if "slice" in request.query_params:
        metrics = metrics.filter(slice=request.query_params["slice"])
    return page_response(request, metrics, s.MetricSerializer)


def _metric_entries(data) -> list[dict]:
    if isinstance(data, dict) and set(data) == {"metrics"}:
        data = data["metrics"]
    if not isinstance(data, list):
        raise services.RegistryError(
            'Send a JSON list of metrics, e.g. [{"key": "accuracy", "value": 0.93}].',
            field="metrics",
        )
    if len(data) > METRICS_BATCH_MAX:
        raise services.RegistryError(
            f"At most {METRICS_BATCH_MAX:,} metrics per request; send the rest in another.",
            field="metrics",
        )
    for index, entry in enumerate(data, start=1):
        if not isinstance(entry, dict):
            raise services.RegistryError(
                f"Metric #{index} is not an object with a key and a value.", field="metrics"
            )
    return data


# --- artefacts -----------------------------------------------------------------------------


def _refuse_oversized_body(view):
    """Answer 413 on the declared Content-Length before anything reads the body: a session
    request's CSRF check would otherwise parse (and spool to disk) the whole upload first."""

    # functools.wraps also carries DRF's view class over, which the schema generator reads.
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method == "POST":
            limit = settings.ARTIFACT_MAX_UPLOAD_BYTES
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit + MULTIPART_ALLOWANCE:
                return error_response(
                    status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                    "too_large",
                    f"The upload is larger than the limit of {limit:,} bytes; nothing was stored.",
                    "file",
                )
        return view(request, *args, **kwargs)

    return wrapper


@login_not_required
@_refuse_oversized_body
@extend_schema(
    operation_id="artifacts_list",
    methods=["GET"],
    parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
    responses={200: s.paginated(s.ArtifactSerializer, "PaginatedArtifactList"), **ERRORS},
    tags=["artifacts"],
)
@extend_schema(
    operation_id="artifacts_upload",
    methods=["POST"],
    request={"multipart/form-data": s.ArtifactUploadSerializer},
    responses={201: s.ArtifactSerializer, 413: ERROR, **ERRORS},
    tags=["artifacts"],
)
@api_view(["GET", "POST"])
@parser_classes([MultiPartParser])
def artifact_collection(request, name: str, number: int):
    """GET: a version's artefacts. POST: upload one (multipart: file, path, kind); it is
    streamed to storage, hashed and stored content-addressed."""
    if request.method == "POST":
        version = writable_version(request, name, number)
        data = validated(s.ArtifactUploadSerializer, request)
        upload = data["file"]
        artifact = services.attach_artifact(
            actor=request.user,
            version=version,
            path=data.get("path") or upload.name,
            content=upload,
            kind=data["kind"],
            content_type=_declared_content_type(upload),
        )
        body = s.ArtifactSerializer(artifact, context={"request": request, "version": version})
        return Response(body.data, status=status.HTTP_201_CREATED)
    version = version_or_404(request, name, number)
    artifacts = version.artifacts.select_related("created_by").order_by("path")
    return page_response(request, artifacts, s.ArtifactSerializer, version=version)


def _declared_content_type(upload) -> str:
    # Clients label unknown files application/octet-stream; guessing from the path (which
    # the service does when given nothing) is more useful then.
    declared = (getattr(upload, "content_type", "") or "").strip()
    return "" if declared == "application/octet-stream" else declared[:200]


class _JSONErrorsOnly(BaseContentNegotiation):
    """A download answers bytes whatever the client accepts; only its errors are rendered,
    and those always as JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


@login_not_required
@extend_schema(
    operation_id="artifacts_download",
    responses={
        (200, "application/octet-stream"): OpenApiTypes.BINARY,
        304: OpenApiResponse(description="The client's If-None-Match holds the sha256"),
        **ERRORS,
    },
    tags=["artifacts"],
)
@api_view(["GET"])
@content_negotiation_class(_JSONErrorsOnly)
def artifact_download(request, name: str, number: int, path: str):
    """The artefact's bytes, verified against the recorded sha256 (409 if they changed);
    the ETag is the sha256."""
    version = version_or_404(request, name, number)
    artifact = Artifact.objects.filter(version=version, path=path).select_related("version").first()
    if artifact is None:
        raise NotFound(f"{version.model.name} v{number} has no artefact '{path}'.")
    artifact.version.model = version.model
    return artifact_response(request, artifact)


# --- aliases -------------------------------------------------------------------------------


@login_not_required
@extend_schema(
    operation_id="aliases_list",
    responses={200: s.AliasSerializer(many=True), **ERRORS},
    tags=["aliases"],
)
@api_view(["GET"])
def alias_collection(request, name: str):
    """A model's aliases and the version each points at."""
    model = model_or_404(request, name)
    aliases = model.aliases.select_related("version", "updated_by").order_by("name")
    return Response(s.AliasSerializer(aliases, many=True).data)


@login_not_required
@extend_schema(
    operation_id="aliases_retrieve",
    methods=["GET"],
    responses={200: s.AliasDetailSerializer, **ERRORS},
    tags=["aliases"],
)
@extend_schema(
    operation_id="aliases_delete",
    methods=["DELETE"],
    responses={204: None, **ERRORS},
    tags=["aliases"],
)
@extend_schema(
    operation_id="aliases_set",
    methods=["PUT"],
    request=s.AliasSetSerializer,
    responses={200: s.AliasDetailSerializer, **ERRORS},
    tags=["aliases"],
)
@api_view(["GET", "PUT", "DELETE"])
def alias_detail(request, name: str, alias: str):
    """GET: where an alias points. PUT {"version": n}: point it there (creating or moving
    it). DELETE: remove it."""
    if request.method == "GET":
        model = model_or_404(request, name)
        row = model.aliases.select_related("model", "version", "updated_by").filter(name=alias)
        if not row:
            raise NotFound(f"{name} has no alias '{alias}'.")
        return Response(s.AliasDetailSerializer(row[0]).data)
    model = writable_model(request, name)
    if request.method == "DELETE":
        services.delete_alias(actor=request.user, model=model, name=alias)
        return Response(status=status.HTTP_204_NO_CONTENT)
    data = validated(s.AliasSetSerializer, request)
    version = model.versions.filter(version=data["version"]).first()
    if version is None:
        raise services.RegistryError(f"{name} has no version {data['version']}.", field="version")
    impacts = services.impact_of_alias_move(model, alias.strip().lower(), version)
    if impacts and not data["confirm"]:
        # The web shows whom the move reaches before making it; a client must say it knows.
        raise services.RegistryError(
            f"Applications follow the alias '{alias}' and would get version "
            f"{version.version}: {services.describe_impacts(impacts)}. "
            'Send "confirm": true to move it anyway.',
            field="confirm",
            code="confirmation_required",
        )
    row = services.set_alias(actor=request.user, model=model, name=alias, version=version)
    row = Alias.objects.select_related("model", "version", "updated_by").get(pk=row.pk)
    return Response(s.AliasDetailSerializer(row).data)


# --- deployments ---------------------------------------------------------------------------


@login_not_required
@extend_schema(
    operation_id="deployments_list",
    parameters=[
        OpenApiParameter("model", str, description="Model name"),
        OpenApiParameter("environment", str, description="Environment name"),
        OpenApiParameter(
            "status", str, enum=[*Deployment.Status.values, "all"], description="Default: active"
        ),
        OpenApiParameter("page", int),
        OpenApiParameter("page_size", int),
    ],
    responses={200: s.paginated(s.DeploymentSerializer, "PaginatedDeploymentList"), **ERRORS},
    tags=["deployments"],
)
@api_view(["GET"])
def deployment_collection(request):
    """What runs where: deployments of the models you can see, newest first."""
    params = request.query_params
    status_filter = params.get("status") or Deployment.Status.ACTIVE
    if status_filter not in {*Deployment.Status.values, "all"}:
        raise ValidationError(
            {"status": [f"Use one of {', '.join([*Deployment.Status.values, 'all'])}."]}
        )
    deployments = Deployment.objects.visible_to(request.user).select_related(
        "model", "version", "environment", "deployed_by"
    )
    if status_filter != "all":
        deployments = deployments.filter(status=status_filter)
    if params.get("model"):
        deployments = deployments.filter(model__name=params["model"])
    if params.get("environment"):
        deployments = deployments.filter(environment__name=params["environment"])
    deployments = deployments.order_by("-deployed_at", "-pk")
    return page_response(request, deployments, s.DeploymentSerializer)


@login_not_required
@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(request, rest: str = ""):
    """Anything else under /api/v1/: a JSON 404 rather than the site's HTML page."""
    raise NotFound("There is no such API endpoint; see /api/docs/.")
