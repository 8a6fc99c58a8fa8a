"""/api/v1/… routes of approvals_app (joined to models_app.api's in registry_site.urls)."""

from django.urls import path

from approvals_app.api import views

urlpatterns = [
    path("approvals/mine/", views.my_requests, name="approval_mine"),
    path("approvals/queue/", views.my_queue, name="approval_queue"),
    path("approvals/<int:pk>/", views.approval_detail, name="approval_detail"),
    path("approvals/<int:pk>/reviews/", views.approval_review, name="approval_review"),
    path("approvals/<int:pk>/withdraw/", views.approval_withdraw, name="approval_withdraw"),
    path("approvals/<int:pk>/resubmit/", views.approval_resubmit, name="approval_resubmit"),
    path(
        "approvals/<int:pk>/checklist/<int:item_id>/",
        views.approval_checklist_tick,
        name="approval_checklist_tick",
    ),
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
