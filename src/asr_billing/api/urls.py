"""/api/v1/: the resources, the OpenAPI schema, Swagger UI and ReDoc (vendored files)."""

from __future__ import annotations

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from asr_billing.api.views import activity, catalog, finance, subscribers
from asr_billing.api.views.base import not_found

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("groups", subscribers.GroupViewSet, basename="group")
router.register("subscribers", subscribers.SubscriberViewSet, basename="subscriber")
router.register("logins", subscribers.LoginViewSet, basename="login")
router.register("subscriptions", subscribers.SubscriptionViewSet, basename="subscription")
router.register("accounts", finance.AccountViewSet, basename="account")
router.register("operations", finance.OperationViewSet, basename="operation")
router.register("payments", finance.PaymentViewSet, basename="payment")
router.register("charges", finance.ChargeViewSet, basename="charge")
router.register("tariffs", catalog.TariffViewSet, basename="tariff")
router.register("services", catalog.ServiceViewSet, basename="service")
router.register("nas", catalog.NasViewSet, basename="nas")
router.register("sessions", activity.SessionViewSet, basename="session")
router.register("billing-runs", activity.BillingRunViewSet, basename="billing-run")
router.register("promised-payments", activity.PromisedPaymentViewSet, basename="promised-payment")
router.register("voluntary-blocks", activity.VoluntaryBlockViewSet, basename="voluntary-block")
router.register("tariff-changes", activity.TariffChangeViewSet, basename="tariff-change")
router.register("audit", activity.AuditViewSet, basename="audit")
router.register("tickets", activity.TicketViewSet, basename="ticket")
router.register("notifications", activity.NotificationViewSet, basename="notification")

urlpatterns = [
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("api/v1/", include(router.urls)),
    # Anything else under /api/v1/ (a typo, an id that is not a number) gets a problem
    # document too, not Django's HTML 404 page.
    re_path(r"^api/v1/", not_found),
]
