"""The catalogue: the list of models, one model's page, and the changes made to a model."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from models_app import services
from models_app.filters import ModelFilter
from models_app.forms import (
    AliasForm,
    ArchiveForm,
    ModelCreateForm,
    ModelEditForm,
    teams_user_can_create_in,
)
from models_app.models import Deployment, RegisteredModel
from models_app.permissions import can_contribute, get_visible_model_or_404, require_contributor
from registry_site.http import HtmxHttpRequest

MODELS_PER_PAGE = 25
VERSIONS_PER_PAGE = 20

# (sort parameter, column label, direction of the first click). Dates read newest first.
SORTABLE_COLUMNS = [
    ("name", "Name", ""),
    ("team", "Team", ""),
    ("task", "Task", ""),
    ("risk", "Risk", "-"),
    ("latest", "Latest", "-"),
    ("updated", "Last updated", "-"),
]


def _is_fragment_request(request: HtmxHttpRequest) -> bool:
    # A history restore after a cache miss needs the whole page, not the fragment.
    return bool(request.htmx) and not request.htmx.history_restore_request


def _sort_headers(current: str) -> list[dict]:
    """For each sortable column: its label, the sort value its header links to, its state."""
    current = current or "name"
    headers = []
    for param, label, first in SORTABLE_COLUMNS:
        if current == param:
            state, link = "asc", f"-{param}"
        elif current == f"-{param}":
            state, link = "desc", param
        else:
            state, link = "", f"{first}{param}"
        headers.append({"param": param, "label": label, "state": state, "link": link})
    return headers


def _page_range(page):
    return page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)


def _is_filtered(params) -> bool:
    narrowing = ("q", "team", "task", "framework", "risk", "tag")
    return any(params.get(key) for key in narrowing) or params.get("status", "active") not in (
        "",
        "active",
    )


def _add_service_error(form, exc: services.RegistryError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@require_safe
@login_required
def model_list(request: HtmxHttpRequest):
    visible = (
        RegisteredModel.objects.visible_to(request.user)
        .select_related("team")
        .prefetch_related("tags")
    )
    filterset = ModelFilter(request.GET, request=request, queryset=visible)
    # Same strict rule as django-filter's FilterView: bad filter values show nothing.
    rows = filterset.qs if filterset.is_valid() else filterset.queryset.none().order_by("name")
    page = Paginator(rows, MODELS_PER_PAGE).get_page(request.GET.get("page"))
    # A bad sort value is dropped here so the form does not carry it into the next request.
    sort = "" if "sort" in filterset.errors else request.GET.get("sort", "")
    context = {
        "filter": filterset,
        "page": page,
        "page_range": _page_range(page),
        "sort_headers": _sort_headers(sort),
        "current_sort": sort,
        "is_filtered": _is_filtered(request.GET),
        "can_create": teams_user_can_create_in(request.user).exists(),
    }
    if _is_fragment_request(request):
        return render(request, "models_app/model_list.html#results", context)
    return render(request, "models_app/model_list.html", context)


@require_safe
@login_required
def model_detail(request: HtmxHttpRequest, name: str):
    model = get_visible_model_or_404(request.user, name)
    versions = (
        model.versions.select_related("created_by")
        .prefetch_related("tags", "aliases")
        .order_by("-version")
    )
    page = Paginator(versions, VERSIONS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"model": model, "page": page, "page_range": _page_range(page)}
    if _is_fragment_request(request):
        return render(request, "models_app/model_detail.html#versions", context)
    context.update(
        tags=list(model.tags.all()),
        aliases=list(model.aliases.select_related("version").order_by("name")),
        deployments=list(
            model.deployments.filter(status=Deployment.Status.ACTIVE)
            .select_related("environment", "version")
            .order_by("environment__order", "environment__name", "-traffic_percent")
        ),
        # The most recent ten; each environment's timeline has the whole history.
        ran_before=list(
            model.deployments.exclude(status=Deployment.Status.ACTIVE)
            .select_related("environment", "version")
            .order_by("-ended_at", "-pk")[:10]
        ),
        dependents=list(
            model.dependents.select_related(
                "application", "application__owner_team", "environment", "pinned_version"
            ).order_by("application__name")
        ),
        can_contribute=can_contribute(request.user, model),
        alias_form=AliasForm(),
        archive_form=ArchiveForm(),
    )
    return render(request, "models_app/model_detail.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def model_create(request: HtmxHttpRequest):
    teams = teams_user_can_create_in(request.user)
    first_two = list(teams[:2])
    if not first_two:
        raise PermissionDenied("You need the contributor role in a team to create models.")
    initial = {"responsible": request.user.pk}
    if request.GET.get("team"):
        initial["team"] = teams.filter(slug=request.GET["team"]).first()
    elif len(first_two) == 1:
        # Most people contribute to one team; spare them the choice.
        initial["team"] = first_two[0]
    form = ModelCreateForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            model = services.create_model(actor=request.user, **form.cleaned_data)
        except services.RegistryError as exc:
            _add_service_error(form, exc)
        else:
            messages.success(request, f"Model {model.name} created. Register its first version.")
            return redirect(model)
    return render(request, "models_app/model_form.html", {"form": form, "model": None})


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def model_edit(request: HtmxHttpRequest, name: str):
    model = get_visible_model_or_404(request.user, name)
    require_contributor(request.user, model)
    initial = {
        "display_name": model.display_name,
        "description": model.description,
        "responsible": model.responsible_id,
        "task": model.task,
        "risk_tier": model.risk_tier,
        "restricted": model.restricted,
        "tags": ", ".join(model.tags.values_list("name", flat=True)),
    }
    form = ModelEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = dict(form.cleaned_data)
        tags = changes.pop("tags")
        try:
            services.update_model(actor=request.user, model=model, tags=tags, **changes)
        except services.RegistryError as exc:
            _add_service_error(form, exc)
        else:
            messages.success(request, f"Saved the changes to {model.name}.")
            return redirect(model)
    return render(request, "models_app/model_form.html", {"form": form, "model": model})


@require_POST
@login_required
def model_archive(request: HtmxHttpRequest, name: str):
    model = get_visible_model_or_404(request.user, name)
    require_contributor(request.user, model)
    form = ArchiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The reason is too long (500 characters at most).")
        return redirect(model)
    try:
        services.archive_model(actor=request.user, model=model, reason=form.cleaned_data["reason"])
    except services.RegistryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"Archived {model.name}. It is hidden from the active catalogue; "
            "its versions and history stay.",
        )
    return redirect(model)


@require_POST
@login_required
def model_restore(request: HtmxHttpRequest, name: str):
    model = get_visible_model_or_404(request.user, name)
    require_contributor(request.user, model)
    try:
        services.restore_model(actor=request.user, model=model)
    except services.RegistryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Restored {model.name} to the active catalogue.")
    return redirect(model)


@require_POST
@login_required
def alias_set(request: HtmxHttpRequest, name: str):
    model = get_visible_model_or_404(request.user, name)
    require_contributor(request.user, model)
    form = AliasForm(request.POST)
    if not form.is_valid():
        problems = "; ".join(
            f"{form.fields[field].label or field}: {' '.join(errors)}"
            for field, errors in form.errors.items()
        )
        messages.error(request, f"The alias was not set. {problems}")
        return redirect(f"{model.get_absolute_url()}#aliases")
    number = form.cleaned_data["version"]
    version = model.versions.filter(version=number).first()
    if version is None:
        messages.error(request, f"{model.name} has no version {number}.")
        return redirect(f"{model.get_absolute_url()}#aliases")
    alias_name = form.cleaned_data["name"].strip().lower()
    impacts = services.impact_of_alias_move(model, alias_name, version)
    if impacts and not request.POST.get("confirmed"):
        # Applications follow this alias: show whom the move reaches before making it.
        context = {"model": model, "alias_name": alias_name, "version": version, "impacts": impacts}
        return render(request, "models_app/alias_confirm.html", context)
    try:
        alias = services.set_alias(
            actor=request.user, model=model, name=form.cleaned_data["name"], version=version
        )
    except services.RegistryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Alias {alias.name} now points at version {version.version}.")
    return redirect(f"{model.get_absolute_url()}#aliases")


@require_POST
@login_required
def alias_delete(request: HtmxHttpRequest, name: str, alias: str):
    model = get_visible_model_or_404(request.user, name)
    require_contributor(request.user, model)
    impacts = services.impact_of_alias_delete(model, alias)
    if impacts and not request.POST.get("confirmed"):
        # Applications follow this alias and get nothing once it is gone: show them first.
        context = {"model": model, "alias_name": alias, "deleting": True, "impacts": impacts}
        return render(request, "models_app/alias_confirm.html", context)
    try:
        services.delete_alias(actor=request.user, model=model, name=alias)
    except services.RegistryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Deleted the alias {alias}.")
    return redirect(f"{model.get_absolute_url()}#aliases")
