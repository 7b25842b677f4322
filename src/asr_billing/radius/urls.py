from django.urls import path

from asr_billing.radius import views

urlpatterns = [
    path("radius/authorize/", views.authorize, name="radius-authorize"),
    path("radius/post-auth/", views.post_auth, name="radius-post-auth"),
    path("radius/accounting/", views.accounting, name="radius-accounting"),
]
