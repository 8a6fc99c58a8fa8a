from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required, login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from approvals_app.api import urls as approvals_api_urls
from models_app.api import urls as api_urls
from registry_site import views

# One namespace ("api") for everything under /api/v1/; the JSON 404 for unknown paths last.
api_v1_patterns = [*api_urls.urlpatterns, *approvals_api_urls.urlpatterns, *api_urls.catch_all]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            redirect_authenticated_user=True,
            extra_context={"show_demo_logins": settings.DEBUG},
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1_patterns, "api"))),
    path("api/2.0/mlflow/", include("models_app.mlflow_urls")),
    # The schema answers 401 itself (token or session); the docs page is for people and sends
    # them to sign in first (DRF views are otherwise exempt from LoginRequiredMiddleware).
    path("api/schema/", login_not_required(SpectacularAPIView.as_view()), name="api_schema"),
    path(
        "api/docs/",
        login_required(SpectacularSwaggerView.as_view(url_name="api_schema")),
        name="api_docs",
    ),
    path("", include("models_app.urls")),
    path("", include("approvals_app.urls")),
]
