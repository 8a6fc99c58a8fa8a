"""Comparing versions: /compare/ side by side, its lazily loaded charts, and the metric
trends card of a model page.

The views query and hand plain values to models_app.comparison (the table) and
models_app.charts (the figures). Each runs a fixed number of queries however many versions
(at most ten) or metrics are compared.
"""

import csv
import io
from collections.abc import Iterable
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db.models import F, OuterRef, Prefetch, Q, Subquery
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe
from django_htmx.http import HttpResponseClientRefresh

from models_app import charts
from models_app.comparison import (
    MAX_VERSIONS,
    MIN_VERSIONS,
    ComparisonError,
    build_comparison,
    choose_baseline,
    csv_rows,
    direction_label,
    metric_id,
    parse_refs,
    ref_label,
)
from models_app.extensions import metric_thresholds
from models_app.models import (
    Alias,
    Artifact,
    Deployment,
    Metric,
    MetricDefinition,
    ModelVersion,
    RegisteredModel,
    VersionDataset,
)
from models_app.permissions import get_visible_model_or_404
from models_app.views.audit import csv_safe_cell
from registry_site.http import HtmxHttpRequest

PRODUCTION = "production"
CHART_KINDS = ("bars", "curves", "slices")
# The bar chart starts with the metrics of its most common unit, at most this many.
DEFAULT_BAR_METRICS = 8
MAX_CURVE_PANELS = 6
SUGGESTIONS = 200
TREND_ENVIRONMENTS = ("staging", "production")


# --- loading ---------------------------------------------------------------------------------


def _resolve(user, raw_refs: list[str], *, details: bool) -> list[ModelVersion]:
    """The versions named by ``raw_refs`` in their order, as far as ``user`` may see them.

    A version of a restricted model the user may not see is reported exactly like one that
    does not exist. ``details`` also prefetches what the table shows (five more queries).
    """
    refs = parse_refs(raw_refs)
    if not refs:
        return []
    condition = Q()
    for name, number in refs:
        condition |= Q(model__name=name, version=number)
    rows = (
        ModelVersion.objects.visible_to(user)
        .filter(condition)
        .select_related("model", "created_by", "parent", "parent__model")
    )
    if details:
        rows = rows.prefetch_related(
            "tags",
            Prefetch("aliases", queryset=Alias.objects.order_by("name")),
            Prefetch(
                "dataset_links",
                queryset=VersionDataset.objects.select_related("dataset").order_by(
                    "role", "dataset__name", "dataset__version"
                ),
            ),
            Prefetch(
                "artifacts",
                queryset=Artifact.objects.only("version_id", "path", "sha256", "size"),
            ),
            Prefetch(
                "deployments",
                queryset=Deployment.objects.active()
                .select_related("environment")
                .order_by("environment__order", "-traffic_percent"),
                to_attr="active_deployments",
            ),
        )
    found = {(version.model.name, version.version): version for version in rows}
    unknown = [ref_label(*ref) for ref in refs if ref not in found]
    if unknown:
        names = ", ".join(unknown)
        raise ComparisonError(
            f"Not found: {names}. Check the model name and the version number; "
            "you can only compare versions you are allowed to see."
        )
    return [found[ref] for ref in refs]


def _latest_metrics(version_ids: Iterable[int], keys: Iterable[str] | None = None) -> list[dict]:
    """The latest value of each (version, key, slice), with how many steps it was logged at."""
    rows = Metric.objects.filter(version_id__in=list(version_ids))
    if keys is not None:
        rows = rows.filter(key__in=list(keys))
    return list(rows.latest_values().order_by("key", "slice", "version_id"))


def _definitions(keys: Iterable[str]) -> dict[str, dict]:
    return {
        row["key"]: {
            "label": row["display_name"] or row["key"],
            "unit": row["unit"],
            "higher_is_better": row["higher_is_better"],
        }
        for row in MetricDefinition.objects.filter(key__in=set(keys)).values(
            "key", "display_name", "unit", "higher_is_better"
        )
    }


def _metric_info(key: str, metric_slice: str, definitions: dict) -> dict:
    definition = definitions.get(key)
    label = definition["label"] if definition else key
    return {
        "id": metric_id(key, metric_slice),
        "key": key,
        "slice": metric_slice,
        "label": f"{label} [{metric_slice}]" if metric_slice else label,
        "unit": definition["unit"] if definition else "",
        "higher_is_better": definition["higher_is_better"] if definition else None,
    }


def _label(version: ModelVersion, same_model: bool) -> str:
    """What a chart calls a version: "v3", or "fraud-classifier v3" across models."""
    return f"v{version.version}" if same_model else f"{version.model.name} v{version.version}"


def _chart_labels(versions: list[ModelVersion]) -> dict[int, str]:
    same_model = len({version.model_id for version in versions}) == 1
    return {version.pk: _label(version, same_model) for version in versions}


# --- the compare page ------------------------------------------------------------------------


@require_safe
@login_required
def compare(request: HtmxHttpRequest):
    raw_refs = [ref.strip() for ref in request.GET.getlist("v") if ref.strip()]
    kept = _kept_params(request)
    context = {
        "max_versions": MAX_VERSIONS,
        "min_versions": MIN_VERSIONS,
        "kept_params": kept,
        "form_refs": raw_refs,
        "ref_chips": [(ref, _compare_url(_without(raw_refs, ref), kept)) for ref in raw_refs],
    }
    try:
        versions = _resolve(request.user, raw_refs, details=True)
    except ComparisonError as exc:
        if request.htmx:
            # A table refresh whose versions went away: reload, and the page says why.
            return HttpResponseClientRefresh()
        context["problem"] = exc.message
        return render(request, "models_app/compare.html", context, status=400)
    refs = [ref_label(version.model.name, version.version) for version in versions]
    context.update(versions=versions, form_refs=refs, suggestions=_suggestions(versions))
    if len(versions) < MIN_VERSIONS:
        return render(request, "models_app/compare.html", context)

    in_production = _in_production(versions, refs)
    baseline, baseline_reason = choose_baseline(refs, request.GET.get("baseline"), in_production)
    differences_only = request.GET.get("diff") == "1"
    metrics = _latest_metrics(version.pk for version in versions)
    definitions = _definitions(row["key"] for row in metrics)
    columns = _columns(request.user, versions, refs, metrics)
    comparison = build_comparison(
        columns,
        baseline=baseline,
        definitions=definitions,
        differences_only=differences_only,
    )
    if request.GET.get("format") == "csv":
        return _csv_response(comparison)

    context.update(
        comparison=comparison,
        headers=_headers(versions, refs, baseline, in_production, kept),
        baseline_ref=refs[baseline],
        baseline_reason=baseline_reason,
        differences_only=differences_only,
        has_curves=any(row["steps"] > 1 for row in metrics),
        has_slices=any(row["slice"] for row in metrics),
        has_metrics=bool(metrics),
        chart_query=_chart_query(refs),
    )
    if request.htmx and request.htmx.target == "comparison":
        context["oob"] = True
        return render(request, "models_app/compare.html#comparison", context)
    return render(request, "models_app/compare.html", context)


def _in_production(versions: list[ModelVersion], refs: list[str]) -> set[str]:
    """The compared versions that serve production at full traffic."""
    return {
        ref
        for ref, version in zip(refs, versions, strict=True)
        if any(
            deployment.environment.name == PRODUCTION and deployment.traffic_percent == 100
            for deployment in version.active_deployments
        )
    }


def _suggestions(versions: list[ModelVersion]) -> list[str]:
    """Other versions of the compared models, offered by the "add a version" field."""
    if not versions:
        return []
    taken = {(version.model_id, version.version) for version in versions}
    rows = (
        ModelVersion.objects.filter(model_id__in={version.model_id for version in versions})
        .order_by("model__name", "-version")
        .values_list("model_id", "model__name", "version")[:SUGGESTIONS]
    )
    return [ref_label(name, number) for pk, name, number in rows if (pk, number) not in taken]


def _headers(versions, refs, baseline: int, in_production: set[str], kept) -> list[dict]:
    headers = []
    for index, (version, ref) in enumerate(zip(versions, refs, strict=True)):
        # Removing the baseline column lets the default choose the next one.
        params = [(key, value) for key, value in kept if (key, value) != ("baseline", ref)]
        headers.append(
            {
                "version": version,
                "ref": ref,
                "colour": charts.colour(index),
                "is_baseline": index == baseline,
                "in_production": ref in in_production,
                "remove_url": _compare_url(_without(refs, ref), params),
                "baseline_url": _compare_url(
                    refs, [(k, v) for k, v in kept if k != "baseline"] + [("baseline", ref)]
                ),
            }
        )
    return headers


def _kept_params(request) -> list[tuple[str, str]]:
    """The page's settings other than the versions, carried along by its links and forms."""
    return [
        (key, request.GET[key])
        for key in ("baseline", "diff")
        if request.GET.get(key) and len(request.GET[key]) <= 120
    ]


def _without(refs: list[str], ref: str) -> list[str]:
    return [other for other in refs if other != ref]


def _compare_url(refs: list[str], params: list[tuple[str, str]]) -> str:
    query = urlencode([("v", ref) for ref in refs] + list(params))
    return f"{reverse('models_app:compare')}?{query}" if query else reverse("models_app:compare")


def _chart_query(refs: list[str]) -> str:
    return urlencode([("v", ref) for ref in refs])


def _columns(user, versions, refs, metrics) -> list[dict]:
    parents_visible = set(
        RegisteredModel.objects.visible_to(user)
        .filter(pk__in={v.parent.model_id for v in versions if v.parent_id})
        .values_list("pk", flat=True)
    )
    values: dict[int, dict] = {}
    for row in metrics:
        if row["value"] is not None:
            values.setdefault(row["version_id"], {})[(row["key"], row["slice"])] = row["value"]
    return [
        {
            "ref": ref,
            "overview": _overview(version, parents_visible),
            "metrics": values.get(version.pk, {}),
            "hyperparameters": (
                version.hyperparameters if isinstance(version.hyperparameters, dict) else {}
            ),
            "datasets": {
                f"{link.get_role_display()} · {link.dataset.name}": {
                    "version": link.dataset.version,
                    "digest": link.dataset.digest,
                    "uri": link.dataset.uri,
                }
                for link in version.dataset_links.all()
            },
            "artifacts": {
                artifact.path: {"sha256": artifact.sha256, "size": artifact.size}
                for artifact in version.artifacts.all()
            },
        }
        for version, ref in zip(versions, refs, strict=True)
    ]


def _overview(version: ModelVersion, parents_visible: set[int]) -> dict:
    framework = version.get_framework_display() if version.framework else ""
    if framework and version.framework_version:
        framework = f"{framework} {version.framework_version}"
    creator = version.created_by
    if version.parent_id:
        parent = version.parent
        derived = (
            ref_label(parent.model.name, parent.version)
            if parent.model_id in parents_visible
            else "a version you cannot see"
        )
    else:
        derived = version.external_base_model and f"{version.external_base_model} (external)"
    if version.retired_at:
        lifecycle = f"Retired {_date(version.retired_at)}"
    elif version.deprecated_at:
        lifecycle = f"Deprecated {_date(version.deprecated_at)}"
    elif version.evidence_locked_at:
        lifecycle = "Approved (evidence frozen)"
    else:
        lifecycle = "Registered"
    return {
        "Model": version.model.name,
        "Framework": framework,
        "Architecture": version.architecture,
        "Created by": (creator.get_full_name() or creator.get_username()) if creator else "",
        "Created": _date(version.created_at, "j M Y H:i"),
        "Source": version.source_uri,
        "Derived from": derived,
        "Lifecycle": lifecycle,
        "Tags": [tag.name for tag in version.tags.all()],
        "Aliases": [f"@{alias.name}" for alias in version.aliases.all()],
        "Runs in": [
            str(d.environment) + ("" if d.traffic_percent == 100 else f" ({d.traffic_percent}%)")
            for d in version.active_deployments
        ],
    }


def _date(moment, fmt: str = "j M Y") -> str:
    return date_format(timezone.localtime(moment), fmt)


def _csv_response(comparison) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in csv_rows(comparison):
        writer.writerow([csv_safe_cell(cell) for cell in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="compare-{timezone.localdate():%Y%m%d}.csv"'
    )
    return response


# --- the compare page's charts ---------------------------------------------------------------


@require_safe
@login_required
def compare_chart(request: HtmxHttpRequest):
    kind = request.GET.get("kind", "bars")
    context: dict = {"kind": kind if kind in CHART_KINDS else "bars"}
    try:
        versions = _resolve(request.user, request.GET.getlist("v"), details=False)
        if len(versions) < MIN_VERSIONS:
            raise ComparisonError(f"Choose at least {MIN_VERSIONS} versions to chart.")
    except ComparisonError as exc:
        context["problem"] = exc.message
        return _render_chart(request, context, status=200 if request.htmx else 400)
    labels = _chart_labels(versions)
    order = [labels[version.pk] for version in versions]
    refs = [ref_label(version.model.name, version.version) for version in versions]
    context.update(refs=refs, chart_query=_chart_query(refs))
    builder = {"bars": _bars, "curves": _curves, "slices": _slices}[context["kind"]]
    context.update(builder(request, versions, labels, order))
    return _render_chart(request, context)


def _html(figure) -> str:
    # plotly writes the figure's data as escaped JSON, so labels cannot close the script.
    return mark_safe(charts.render(figure))  # noqa: S308


def _render_chart(request, context, status: int = 200):
    if request.htmx:
        return render(request, "models_app/compare_chart.html#chart", context, status=status)
    return render(request, "models_app/compare_chart.html", context, status=status)


def _bars(request, versions, labels, order) -> dict:
    rows = [row for row in _latest_metrics(v.pk for v in versions) if row["steps"] <= 1]
    definitions = _definitions(row["key"] for row in rows)
    available: dict[str, dict] = {}
    for row in rows:
        if not row["slice"]:
            info = _metric_info(row["key"], "", definitions)
            available.setdefault(info["id"], info)
    chosen = [key for key in request.GET.getlist("m") if key in available]
    if not chosen:
        chosen = _default_bar_metrics(list(available.values()))
    values = {
        (labels[row["version_id"]], row["key"]): row["value"] for row in rows if not row["slice"]
    }
    metrics = [available[key] for key in chosen]
    figure = charts.metric_bars(order, metrics, values) if metrics else None
    return {
        "title": "Metrics by version",
        "charts": [_html(figure)] if figure else [],
        "available": sorted(available.values(), key=lambda info: info["label"].lower()),
        "chosen": chosen,
        "empty": "These versions have no metrics without steps to chart.",
    }


def _default_bar_metrics(available: list[dict]) -> list[str]:
    """The metrics of the most common unit (ratios, usually), defined ones first."""
    if not available:
        return []
    counts: dict[str, int] = {}
    for info in available:
        counts[info["unit"]] = counts.get(info["unit"], 0) + 1
    unit = max(counts, key=lambda name: (counts[name], name != ""))
    same_unit = [info for info in available if info["unit"] == unit]
    same_unit.sort(key=lambda info: (info["higher_is_better"] is None, info["label"].lower()))
    return [info["id"] for info in same_unit[:DEFAULT_BAR_METRICS]]


def _curves(request, versions, labels, order) -> dict:
    points = list(
        Metric.objects.filter(version_id__in=[v.pk for v in versions], step__isnull=False)
        .order_by("key", "slice", "version_id", "step", "recorded_at", "pk")
        .values_list("version_id", "key", "slice", "step", "value")
    )
    stepped: dict[tuple[str, str], set[int]] = {}
    for _version_id, key, metric_slice, step, _value in points:
        stepped.setdefault((key, metric_slice), set()).add(step)
    # A metric logged at a single step is an evaluation, not a curve.
    pairs = [pair for pair, steps in stepped.items() if len(steps) > 1][:MAX_CURVE_PANELS]
    definitions = _definitions(key for key, _ in pairs)
    infos = {metric_id(*pair): _metric_info(*pair, definitions) for pair in pairs}
    rows = [
        {"version": labels[version_id], "metric": metric_id(key, s), "step": step, "value": value}
        for version_id, key, s, step, value in points
        if metric_id(key, s) in infos
    ]
    metrics = list(infos.values())
    figure = charts.training_curves(rows, versions=order, metrics=metrics) if metrics else None
    return {
        "title": "Training curves",
        "charts": [_html(figure)] if figure else [],
        "empty": "No metric of these versions was logged over several steps.",
    }


def _slices(request, versions, labels, order) -> dict:
    rows = _latest_metrics(v.pk for v in versions)
    sliced_keys = sorted({row["key"] for row in rows if row["slice"]})
    definitions = _definitions(sliced_keys)
    figures = []
    for key in sliced_keys:
        key_rows = [
            {"version": labels[row["version_id"]], "slice": row["slice"], "value": row["value"]}
            for row in rows
            if row["key"] == key and row["steps"] <= 1
        ]
        if key_rows:
            metric = _metric_info(key, "", definitions)
            figures.append(charts.slice_bars(key_rows, versions=order, metric=metric))
    return {
        "title": "Metrics by slice",
        "charts": [_html(figure) for figure in figures],
        "empty": "None of these versions logged metrics per slice.",
    }


# --- the model page's metric trends ----------------------------------------------------------


@require_safe
@login_required
def model_trends(request: HtmxHttpRequest, name: str):
    model = get_visible_model_or_404(request.user, name)
    pairs = list(
        Metric.objects.filter(version__model=model)
        .order_by("key", "slice")
        .values_list("key", "slice")
        .distinct()
    )
    definitions = _definitions(key for key, _ in pairs)
    options = [_metric_info(key, metric_slice, definitions) for key, metric_slice in pairs]
    context = {"model": model, "options": options}
    if options:
        thresholds = metric_thresholds(model)
        by_id = {info["id"]: info for info in options}
        chosen = by_id.get(request.GET.get("metric", "")) or _default_trend(options, thresholds)
        context.update(_trend(model, chosen, thresholds.get(chosen["id"], [])))
    if request.htmx:
        return render(request, "models_app/model_trends.html#trends", context)
    return render(request, "models_app/model_trends.html", context)


def _default_trend(options: list[dict], thresholds: dict) -> dict:
    """A gated metric if there is one (what reviewers look at), else the first defined,
    unsliced metric, else the first."""
    for info in options:
        if info["id"] in thresholds:
            return info
    for info in options:
        if not info["slice"] and info["higher_is_better"] is not None:
            return info
    return options[0]


def _trend(model: RegisteredModel, metric: dict, thresholds: list) -> dict:
    latest = (
        Metric.objects.filter(version=OuterRef("pk"), key=metric["key"], slice=metric["slice"])
        .order_by(F("step").desc(nulls_last=True), "-recorded_at", "-pk")
        .values("value")[:1]
    )
    points = [
        {"version": row["version"], "value": row["value"]}
        for row in model.versions.annotate(value=Subquery(latest))
        .order_by("version")
        .values("version", "value")
    ]
    environments: dict[int, set[str]] = {}
    for number, environment in Deployment.objects.filter(
        model=model, environment__name__in=TREND_ENVIRONMENTS
    ).values_list("version__version", "environment__name"):
        environments.setdefault(number, set()).add(environment)
    figure = charts.metric_trend(
        points, metric=metric, environments=environments, thresholds=thresholds
    )
    return {
        "chosen": metric,
        "chart": _html(figure),
        "direction": direction_label(metric["higher_is_better"]),
        "thresholds": thresholds,
        "measured": sum(1 for point in points if point["value"] is not None),
        "version_count": len(points),
    }
