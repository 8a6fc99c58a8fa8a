from django.urls import path

from models_app import views

app_name = "models_app"

urlpatterns = [
]
