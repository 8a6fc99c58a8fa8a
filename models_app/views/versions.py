"""One model version: its tabbed page, the forms that register and change versions, and
artefact upload and download."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_safe

from models_app import services
from models_app.downloads import artifact_response
from models_app.forms import ArtifactUploadForm, MetricsForm, VersionCardForm, VersionForm
from models_app.lineage import build_lineage_graph
from models_app.models import (
    Artifact,
    AuditEvent,
    Metric,
    MetricDefinition,
    ModelVersion,
    VersionDataset,
)
from models_app.permissions import (
    can_contribute,
    can_view_model,
    get_visible_model_or_404,
    get_visible_version_or_404,
    require_contributor,
)
from models_app.services import ArtifactCorrupted, RegistryError
from models_app.templatetags.registry_tags import filesize
from registry_site.http import HtmxHttpRequest

TABS = {
    "overview": "Overview",
    "lineage": "Lineage",
    "metrics": "Metrics",
    "artifacts": "Artefacts",
    "history": "History",
}
# Lineage is walked at most this far up; real chains are a handful of fine-tunes deep, and
# the bound keeps a pathological chain from turning one page view into a long walk.
LINEAGE_MAX_DEPTH = 50
CHILDREN_SHOWN = 50
# Datasets read in the order a model meets them.
ROLE_ORDER = {role: index for index, role in enumerate(VersionDataset.Role.values)}
HISTORY_PER_PAGE = 25
# A multipart body carries the form fields and part headers besides the file; this much
# extra is allowed before the request is refused on its Content-Length alone.
MULTIPART_ALLOWANCE = 64 * 1024


# --- the version page ----------------------------------------------------------------------


@require_safe
@login_required
def version_detail(request: HtmxHttpRequest, name: str, number: int):
    version = get_visible_version_or_404(request.user, name, number)
    tab = request.GET.get("tab", "overview")
    if tab not in TABS:
        tab = "overview"
    counts = _tab_counts(version)
    context = {
        "version": version,
        "model": version.model,
        "tab": tab,
        "tab_template": f"models_app/version_tab_{tab}.html",
        "tabs": [(key, label, counts.get(f"{key}_count")) for key, label in TABS.items()],
        "can_contribute": can_contribute(request.user, version.model),
        **_TAB_LOADERS[tab](request, version),
    }
    # A history restore wants the whole page back, not the fragment it once swapped in.
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "models_app/version_detail.html#tab_panel", context)
    context.update(aliases=list(version.aliases.all()), tags=list(version.tags.all()))
    return render(request, "models_app/version_detail.html", context)


def _tab_counts(version: ModelVersion) -> dict:
    """Numbers for the tab bar, in one query of scalar subqueries."""

    def count(queryset, group_by: str, counted=None):
        numbers = queryset.order_by().values(group_by).annotate(n=counted or Count("pk"))
        return Coalesce(Subquery(numbers.values("n")[:1]), Value(0))

    metrics = Metric.objects.filter(version=OuterRef("pk"))
    artifacts = Artifact.objects.filter(version=OuterRef("pk"))
    events = AuditEvent.objects.filter(
        model_name=version.model.name, version_number=version.version
    )
    return (
        ModelVersion.objects.filter(pk=version.pk)
        .values(
            # Named apart from the model's own fields (metrics, artifacts), which annotations
            # may not shadow.
            metrics_count=count(metrics, "version", Count("key", distinct=True)),
            artifacts_count=count(artifacts, "version"),
            history_count=count(events, "version_number"),
        )
        .get()
    )


def _overview(request, version: ModelVersion) -> dict:
    parent = version.parent
    return {
        "source_is_link": version.source_uri.lower().startswith(("https://", "http://")),
        "parent_visible": parent is not None and can_view_model(request.user, parent.model),
        "card_fields": [
            ("Intended use", version.intended_use),
            ("Limitations", version.limitations),
            ("Ethical considerations", version.ethical_considerations),
        ],
    }


def _lineage(request, version: ModelVersion) -> dict:
    ancestors, hidden_ancestor, truncated = _ancestors(version, request.user)
    root = ancestors[-1] if ancestors else version
    children = list(
        ModelVersion.objects.visible_to(request.user)
        .filter(parent=version)
        .select_related("model", "created_by")
        .order_by("model__name", "version")[: CHILDREN_SHOWN + 1]
    )
    hyperparameters = version.hyperparameters if isinstance(version.hyperparameters, dict) else {}
    shown_children = children[:CHILDREN_SHOWN]
    # One query for the datasets of every version in the graph; this version's are among them.
    links = list(
        VersionDataset.objects.filter(
            version_id__in=[v.pk for v in (*ancestors, version, *shown_children)]
        ).select_related("dataset")
    )
    external_base = "" if hidden_ancestor or truncated else root.external_base_model
    return {
        # Root first, so the chain reads top-down towards this version.
        "ancestors": ancestors[::-1],
        "hidden_ancestor": hidden_ancestor,
        "lineage_truncated": truncated,
        "lineage_max_depth": LINEAGE_MAX_DEPTH,
        "external_base": external_base,
        "children": shown_children,
        "more_children": len(children) > CHILDREN_SHOWN,
        "lineage_graph": build_lineage_graph(
            ancestors=[_graph_version(ancestor) for ancestor in ancestors[::-1]],
            current=_graph_version(version),
            children=[_graph_version(child) for child in shown_children],
            datasets=[
                {
                    "version_id": link.version_id,
                    "dataset_id": link.dataset_id,
                    "name": link.dataset.name,
                    "version": link.dataset.version,
                    "digest": link.dataset.digest,
                    "role": link.role,
                }
                for link in links
            ],
            external_base=external_base,
            hidden_ancestor=hidden_ancestor,
            truncated=truncated,
            more_children=len(children) > CHILDREN_SHOWN,
        ),
        "dataset_links": sorted(
            (link for link in links if link.version_id == version.pk),
            key=lambda link: (
                ROLE_ORDER.get(link.role, 9),
                link.dataset.name,
                link.dataset.version,
            ),
        ),
        "hyperparameters": [
            (key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
            for key, value in sorted(hyperparameters.items())
        ],
    }


def _graph_version(version: ModelVersion) -> dict:
    details = version.architecture or version.get_framework_display()
    when = date_format(timezone.localtime(version.created_at), "j M Y")
    return {
        "id": version.pk,
        "model": version.model.name,
        "version": version.version,
        "sublabel": f"{when} · {details}" if details else when,
        "href": version.get_absolute_url(),
    }


def _ancestors(version: ModelVersion, user) -> tuple[list[ModelVersion], bool, bool]:
    """The parent chain of ``version``, nearest first, as far as ``user`` may see it.

    Returns (ancestors, stopped at a version the user may not see, stopped at the depth cap).
    The chain's ids come from one recursive CTE (standard SQL that SQLite and PostgreSQL both
    run), and the rows from one more query, so the cost is two queries at any depth, instead
    of one query per generation when walking ``parent`` in Python.
    """
    if version.parent_id is None:
        return [], False, False
    table = connection.ops.quote_name(ModelVersion._meta.db_table)
    pk = connection.ops.quote_name(ModelVersion._meta.pk.column)
    parent = connection.ops.quote_name(ModelVersion._meta.get_field("parent").column)
    # The depth bound also ends the walk should the data ever hold a cycle.
    # Only quoted table and column names are interpolated; the values are parameters.
    sql = (
        f"WITH RECURSIVE chain (id, parent_id, depth) AS ("  # noqa: S608
        f" SELECT {pk}, {parent}, 1 FROM {table} WHERE {pk} = %s"
        f" UNION ALL"
        f" SELECT v.{pk}, v.{parent}, chain.depth + 1 FROM {table} v"
        f" JOIN chain ON v.{pk} = chain.parent_id WHERE chain.depth <= %s"
        f") SELECT id FROM chain ORDER BY depth"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [version.parent_id, LINEAGE_MAX_DEPTH])
        ids = [row[0] for row in cursor.fetchall()]
    truncated = len(ids) > LINEAGE_MAX_DEPTH
    ids = ids[:LINEAGE_MAX_DEPTH]
    visible = ModelVersion.objects.visible_to(user).select_related("model").in_bulk(ids)
    ancestors = []
    for ancestor_id in ids:
        ancestor = visible.get(ancestor_id)
        if ancestor is None:
            # A restricted model of another team: say that something is there, not what.
            return ancestors, True, False
        ancestors.append(ancestor)
    return ancestors, False, truncated


def _metrics(request, version: ModelVersion) -> dict:
    rows = Metric.objects.filter(version=version).latest_values().order_by("key", "slice")
    groups: dict[str, list[dict]] = {}
    for row in rows:
        row["display"] = format_metric_value(row["value"])
        groups.setdefault(row["key"], []).append(row)
    definitions = MetricDefinition.objects.in_bulk(list(groups), field_name="key")
    return {
        "metric_groups": [
            {"key": key, "definition": definitions.get(key), "rows": key_rows}
            for key, key_rows in groups.items()
        ]
    }


def format_metric_value(value: float | None) -> str:
    """Enough digits to compare metrics at a glance; the exact value goes in a title."""
    if value is None:
        return ""
    if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-4):
        return f"{value:.4g}"
    if value.is_integer():
        return f"{value:,.0f}"
    return f"{value:,.4f}".rstrip("0").rstrip(".")


def _artifacts(request, version: ModelVersion) -> dict:
    artifacts = list(version.artifacts.select_related("created_by").order_by("path"))
    return {"artifacts": artifacts, "artifacts_total": sum(a.size for a in artifacts)}


def _history(request, version: ModelVersion) -> dict:
    events = AuditEvent.objects.filter(
        model_name=version.model.name, version_number=version.version
    ).order_by("-sequence")
    page = Paginator(events, HISTORY_PER_PAGE).get_page(request.GET.get("page"))
    for event in page.object_list:
        event.change_rows = _change_rows(event)
        # "models_app.version.metrics_logged" reads as "version metrics logged".
        event.summary = " ".join(event.action.split(".")[1:]).replace("_", " ")
    return {"page": page}


def _change_rows(event: AuditEvent) -> list[dict]:
    before, after = event.before, event.after
    rows = []
    for key in sorted(before.keys() | after.keys()):
        if _is_empty(before.get(key)) and _is_empty(after.get(key)):
            continue  # e.g. the fields a registration left blank
        rows.append(
            {
                "key": key,
                "before": _compact(before[key]) if key in before else None,
                "after": _compact(after[key]) if key in after else None,
            }
        )
    return rows


def _is_empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _compact(value, limit: int = 140) -> str:
    """One line for a value in the ledger: metrics as key=value, the rest as JSON."""
    if _is_empty(value):
        return "—"
    if isinstance(value, str):
        text = value
    elif isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
        return _join_within([str(item) for item in value], limit)
    elif _records_with(value, "key"):
        return _join_within(
            [
                f"{item['key']}={item.get('value')}"
                + (f"@{item['step']}" if item.get("step") is not None else "")
                + (f" [{item['slice']}]" if item.get("slice") else "")
                for item in value
            ],
            limit,
        )
    elif _records_with(value, "name"):
        return _join_within(
            [
                f"{item.get('role', '')} {item['name']}"
                + (f"@{item['version']}" if item.get("version") else "")
                for item in value
            ],
            limit,
        )
    else:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _join_within(items: list[str], limit: int) -> str:
    """Join whole items up to about ``limit`` characters and say how many were left out."""
    shown, length = [], 0
    for item in items:
        if shown and length + len(item) > limit:
            break
        shown.append(item)
        length += len(item) + 2
    text = ", ".join(shown)
    if len(shown) < len(items):
        text += f" … and {len(items) - len(shown)} more"
    return text


def _records_with(value, field: str) -> bool:
    return isinstance(value, list) and all(isinstance(i, dict) and field in i for i in value)


_TAB_LOADERS = {
    "overview": _overview,
    "lineage": _lineage,
    "metrics": _metrics,
    "artifacts": _artifacts,
    "history": _history,
}


# --- forms ---------------------------------------------------------------------------------


def _writable_version(request, name: str, number: int) -> ModelVersion:
    """The version if the user may change it: outsiders get 404, read-only members 403."""
    version = get_visible_version_or_404(request.user, name, number)
    require_contributor(request.user, version.model)
    return version


def _add_service_error(form, exc: RegistryError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _tab_url(version: ModelVersion, tab: str) -> str:
    url = reverse("models_app:version_detail", args=[version.model.name, version.version])
    return f"{url}?tab={tab}"


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def version_create(request, name: str):
    model = get_visible_model_or_404(request.user, name)
    require_contributor(request.user, model)
    form = VersionForm(request.POST or None, model=model, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.register_version(
                actor=request.user, model=model, **form.cleaned_data
            )
        except RegistryError as exc:
            _add_service_error(form, exc)
        else:
            messages.success(request, f"Registered {model.name} v{version.version}.")
            return redirect(version)
    recent = list(
        ModelVersion.objects.filter(model=model)
        .order_by("-version")
        .values_list("version", flat=True)[:20]
    )
    return render(
        request,
        "models_app/version_form.html",
        {"model": model, "form": form, "parent_suggestions": recent},
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def version_edit(request, name: str, number: int):
    version = _writable_version(request, name, number)
    initial = {
        "description": version.description,
        "intended_use": version.intended_use,
        "limitations": version.limitations,
        "ethical_considerations": version.ethical_considerations,
        "tags": sorted(version.tags.values_list("name", flat=True)),
    }
    form = VersionCardForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_version_card(actor=request.user, version=version, **form.cleaned_data)
        except RegistryError as exc:
            _add_service_error(form, exc)
        else:
            messages.success(request, f"Saved the model card of {name} v{number}.")
            return redirect(version)
    return render(
        request,
        "models_app/version_edit.html",
        {"model": version.model, "version": version, "form": form},
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def metrics_log(request, name: str, number: int):
    version = _writable_version(request, name, number)
    form = MetricsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rows = services.log_metrics(
                actor=request.user, version=version, metrics=form.cleaned_data["metrics"]
            )
        except RegistryError as exc:
            _add_service_error(form, exc)
        else:
            count = len(rows)
            noun = "metric" if count == 1 else "metrics"
            messages.success(request, f"Logged {count} {noun} for {name} v{number}.")
            return redirect(_tab_url(version, "metrics"))
    return render(
        request,
        "models_app/version_metrics_form.html",
        {
            "model": version.model,
            "version": version,
            "form": form,
            "definitions": MetricDefinition.objects.order_by("key")[:40],
        },
    )


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def artifact_upload(request, name: str, number: int):
    # CSRF is checked by _artifact_upload below instead of by the middleware, because the
    # middleware would read (and spool to disk) the whole body before any size check here.
    version = _writable_version(request, name, number)
    limit = settings.ARTIFACT_MAX_UPLOAD_BYTES
    if request.method == "POST":
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit + MULTIPART_ALLOWANCE:
            return _render_upload(
                request,
                version,
                ArtifactUploadForm(),
                refusal=f"The upload is larger than the limit of {filesize(limit)}; "
                "nothing was stored.",
                status=413,
            )
    return _artifact_upload(request, version)


@csrf_protect
def _artifact_upload(request, version: ModelVersion):
    form = ArtifactUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            artifact = services.attach_artifact(
                actor=request.user,
                version=version,
                path=form.cleaned_data["path"],
                content=upload,
                kind=form.cleaned_data["kind"],
                content_type=_declared_content_type(upload),
            )
        except RegistryError as exc:
            _add_service_error(form, exc)
        else:
            messages.success(
                request, f"Uploaded {artifact.path} ({filesize(artifact.size)}) to {version}."
            )
            return redirect(_tab_url(version, "artifacts"))
    return _render_upload(request, version, form)


def _declared_content_type(upload) -> str:
    # Browsers label unknown files application/octet-stream; then guessing from the path
    # (which the service does when given nothing) is more useful.
    declared = (getattr(upload, "content_type", "") or "").strip()
    return "" if declared == "application/octet-stream" else declared[:200]


def _render_upload(request, version, form, refusal: str = "", status: int = 200):
    return render(
        request,
        "models_app/version_upload.html",
        {"model": version.model, "version": version, "form": form, "refusal": refusal},
        status=status,
    )


@require_safe
@login_required
def artifact_download(request, name: str, number: int, path: str):
    version = get_visible_version_or_404(request.user, name, number)
    artifact = get_object_or_404(Artifact, version=version, path=path)
    try:
        return artifact_response(request, artifact)
    except ArtifactCorrupted as exc:
        return render(
            request,
            "models_app/version_artifact_error.html",
            {"model": version.model, "version": version, "artifact": artifact, "error": exc},
            status=409,
        )
