from django.urls import path

from approvals_app import views

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
]
