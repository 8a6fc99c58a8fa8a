from django.urls import path

from approvals_app import deployment_views, views

app_name = "approvals_app"

urlpatterns = [
    path("approvals/", views.queue, name="queue"),
    path("approvals/<int:pk>/", views.request_detail, name="request_detail"),
    path("approvals/<int:pk>/review/", views.review, name="review"),
    path("approvals/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("approvals/<int:pk>/resubmit/", views.resubmit, name="resubmit"),
    path(
        "approvals/<int:pk>/checklist/<int:item_id>/",
        views.tick_checklist,
        name="tick_checklist",
    ),
    path(
        "models/<str:name>/versions/<int:number>/approvals/new/",
        views.request_create,
        name="request_create",
    ),
    path(
        "models/<str:name>/versions/<int:number>/approvals/",
        views.version_panel,
        name="version_panel",
    ),
    # What runs where (deployment_views)
    path("deployments/", deployment_views.board, name="deployment_board"),
    path(
        "environments/<slug:name>/",
        deployment_views.environment_timeline,
        name="environment_timeline",
    ),
    path(
        "environments/<slug:name>/rollback/<str:model_name>/",
        deployment_views.rollback_confirm,
        name="rollback",
    ),
    path(
        "models/<str:name>/versions/<int:number>/promote/",
        deployment_views.promote_version,
        name="promote",
    ),
    path(
        "models/<str:name>/versions/<int:number>/lifecycle/",
        deployment_views.version_lifecycle_panel,
        name="version_lifecycle",
    ),
]
