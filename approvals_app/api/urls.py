"""/api/v1/… routes of approvals_app (joined to models_app.api's in registry_site.urls)."""

from django.urls import path

from approvals_app.api import views

urlpatterns = [
    path("approvals/mine/", views.my_requests, name="approval_mine"),
    path("approvals/queue/", views.my_queue, name="approval_queue"),
    path("approvals/<int:pk>/", views.approval_detail, name="approval_detail"),
    path("approvals/<int:pk>/reviews/", views.approval_review, name="approval_review"),
    path(
        "models/<str:name>/versions/<int:number>/approvals/",
        views.version_approvals,
        name="version_approvals",
    ),
    path(
        "models/<str:name>/versions/<int:number>/promote/",
        views.version_promote,
        name="version_promote",
    ),
    path("models/<str:name>/rollback/", views.model_rollback, name="model_rollback"),
]
