from django.contrib.auth.decorators import login_not_required, login_required
from django.core.files.storage import storages
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@require_safe
@login_required
def home(request):
    return render(request, "home.html", {})


@require_safe
@never_cache
@login_not_required
def healthz(request):
    """Liveness for load balancers: the database answers and artefact storage is reachable."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        storages["artifacts"].exists("healthz-probe")
        checks["artifact_storage"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["artifact_storage"] = f"error: {exc.__class__.__name__}"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )
