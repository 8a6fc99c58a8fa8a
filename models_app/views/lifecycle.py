"""The end of a version's life: deprecating and retiring it, each after seeing which
applications it would leave behind."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from models_app import services
from models_app.forms import DeprecateForm, RetireForm
from models_app.models import Deployment, ModelVersion
from models_app.permissions import get_visible_version_or_404, require_contributor
from registry_site.http import HtmxHttpRequest


def _active_deployments(version: ModelVersion) -> list[Deployment]:
    return list(
        version.deployments.filter(status=Deployment.Status.ACTIVE)
        .select_related("environment")
        .order_by("environment__order", "environment__name")
    )


def _render(request, version, form, *, action: str, impacts, deployments, refused=None):
    context = {
        "version": version,
        "model": version.model,
        "form": form,
        "action": action,
        "impacts": impacts,
        "deployments": deployments,
        "refused": refused,
    }
    return render(request, "models_app/version_end_of_life.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def version_deprecate(request: HtmxHttpRequest, name: str, number: int):
    version = get_visible_version_or_404(request.user, name, number)
    require_contributor(request.user, version.model)
    form = DeprecateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.deprecate_version(
                actor=request.user, version=version, reason=form.cleaned_data["reason"]
            )
        except services.RegistryError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request,
                f"Deprecated {version}. It keeps running where it runs but cannot be promoted "
                "anywhere new.",
            )
            return redirect(version)
    return _render(
        request,
        version,
        form,
        action="deprecate",
        impacts=services.impact_of(version),
        deployments=_active_deployments(version),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def version_retire(request: HtmxHttpRequest, name: str, number: int):
    version = get_visible_version_or_404(request.user, name, number)
    require_contributor(request.user, version.model)
    form = RetireForm(request.POST or None, allow_force=request.user.is_superuser)
    refused = None
    if request.method == "POST" and form.is_valid():
        try:
            services.retire_version(
                actor=request.user,
                version=version,
                reason=form.cleaned_data["reason"],
                force=form.cleaned_data.get("force", False),
            )
        except services.InUse as exc:
            refused = exc
        except services.RegistryError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, f"Retired {version}. It can never be deployed again.")
            return redirect(version)
    return _render(
        request,
        version,
        form,
        action="retire",
        # A refusal carries the dependents as the service saw them under its lock.
        impacts=refused.impacts if refused else services.impact_of(version),
        deployments=refused.deployments if refused else _active_deployments(version),
        refused=refused,
    )
