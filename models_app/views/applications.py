"""Applications that consume models: the list, one application's page with what it gets now
through each dependency, and the forms that register, edit and wire them up."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from models_app import services
from models_app.filters import ApplicationFilter
from models_app.forms import ApplicationForm, DependencyForm, teams_user_can_create_in
from models_app.models import Application, Dependency, Membership, RegisteredModel
from models_app.permissions import has_team_role
from registry_site.http import HtmxHttpRequest

APPLICATIONS_PER_PAGE = 25


def _is_fragment_request(request: HtmxHttpRequest) -> bool:
    # A history restore after a cache miss needs the whole page, not the fragment.
    return bool(request.htmx) and not request.htmx.history_restore_request


def _add_service_error(form, exc: services.RegistryError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _get_application_or_404(slug: str) -> Application:
    # Applications are visible to everyone signed in; their dependencies on restricted
    # models are filtered where they are listed.
    return get_object_or_404(Application.objects.select_related("owner_team"), slug=slug)


def _get_owned_application_or_404(user, slug: str) -> Application:
    """For write views: members without the contributor role in the owner team get 403."""
    application = _get_application_or_404(slug)
    if not has_team_role(user, application.owner_team_id, Membership.Role.CONTRIBUTOR):
        raise PermissionDenied(
            f"You need the contributor role in team '{application.owner_team}' to change "
            f"{application.name}."
        )
    return application


@require_safe
@login_required
def application_list(request: HtmxHttpRequest):
    visible_models = RegisteredModel.objects.visible_to(request.user)
    applications = Application.objects.select_related("owner_team").annotate(
        # Only dependencies this user may see are counted, so the number never hints at a
        # restricted model.
        dependency_count=Count("dependencies", filter=Q(dependencies__model__in=visible_models))
    )
    filterset = ApplicationFilter(request.GET, request=request, queryset=applications)
    rows = filterset.qs if filterset.is_valid() else filterset.queryset.none()
    page = Paginator(rows.order_by("name", "pk"), APPLICATIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "filter": filterset,
        "page": page,
        "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "is_filtered": any(request.GET.get(key) for key in ("q", "team")),
        "can_register": teams_user_can_create_in(request.user).exists(),
    }
    if _is_fragment_request(request):
        return render(request, "models_app/application_list.html#results", context)
    return render(request, "models_app/application_list.html", context)


@require_safe
@login_required
def application_detail(request: HtmxHttpRequest, slug: str):
    application = _get_application_or_404(slug)
    visible = RegisteredModel.objects.visible_to(request.user)
    dependencies = list(
        application.dependencies.filter(model__in=visible)
        .select_related("model", "environment", "pinned_version")
        .order_by("model__name", "pk")
    )
    resolutions = services.resolve_dependencies(dependencies)
    context = {
        "application": application,
        "rows": [resolutions[d.pk] for d in dependencies],
        "hidden_count": application.dependencies.exclude(model__in=visible).count(),
        "can_change": has_team_role(
            request.user, application.owner_team_id, Membership.Role.CONTRIBUTOR
        ),
    }
    return render(request, "models_app/application_detail.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def application_create(request: HtmxHttpRequest):
    teams = teams_user_can_create_in(request.user)
    first_two = list(teams[:2])
    if not first_two:
        raise PermissionDenied("You need the contributor role in a team to register applications.")
    initial = {"owner_team": first_two[0]} if len(first_two) == 1 else {}
    form = ApplicationForm(request.POST or None, teams=teams, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            application = services.register_application(actor=request.user, **form.cleaned_data)
        except services.RegistryError as exc:
            _add_service_error(form, exc)
        else:
            messages.success(
                request, f"Registered {application.name}. Add the models it depends on."
            )
            return redirect("models_app:application_detail", slug=application.slug)
    return render(request, "models_app/application_form.html", {"form": form, "application": None})


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def application_edit(request: HtmxHttpRequest, slug: str):
    application = _get_owned_application_or_404(request.user, slug)
    initial = {
        "name": application.name,
        "owner_team": application.owner_team,
        "contact": application.contact,
        "description": application.description,
    }
    form = ApplicationForm(
        request.POST or None,
        teams=teams_user_can_create_in(request.user),
        editing=True,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_application(
                actor=request.user, application=application, **form.cleaned_data
            )
        except services.RegistryError as exc:
            _add_service_error(form, exc)
        else:
            messages.success(request, f"Saved the changes to {application.name}.")
            return redirect("models_app:application_detail", slug=application.slug)
    return render(
        request, "models_app/application_form.html", {"form": form, "application": application}
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def dependency_add(request: HtmxHttpRequest, slug: str):
    application = _get_owned_application_or_404(request.user, slug)
    models = RegisteredModel.objects.visible_to(request.user).active().order_by("name")
    form = DependencyForm(
        request.POST or None, models=models, initial={"model": request.GET.get("model")}
    )
    if request.method == "POST" and form.is_valid():
        try:
            dependency = services.add_dependency(
                actor=request.user, application=application, **form.cleaned_data
            )
        except services.RegistryError as exc:
            _add_service_error(form, exc)
        else:
            messages.success(request, f"{application.name} now depends on {dependency.model.name}.")
            return redirect("models_app:application_detail", slug=application.slug)
    return render(
        request,
        "models_app/dependency_form.html",
        {"form": form, "application": application},
    )


@require_POST
@login_required
def dependency_remove(request: HtmxHttpRequest, slug: str, pk: int):
    application = _get_owned_application_or_404(request.user, slug)
    dependency = get_object_or_404(
        Dependency.objects.select_related("model").filter(
            model__in=RegisteredModel.objects.visible_to(request.user)
        ),
        pk=pk,
        application=application,
    )
    try:
        services.remove_dependency(actor=request.user, dependency=dependency)
    except services.RegistryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"Removed the dependency of {application.name} on {dependency.model.name}."
        )
    return redirect("models_app:application_detail", slug=application.slug)
