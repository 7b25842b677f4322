"""/cabinet/ (mounted in asr_billing/urls.py). The action pages (services, tariff,
promised payment, voluntary block, profile, helpdesk, notifications, pay) add their lines
here under the names the home page links to: cabinet:services, cabinet:tariff,
cabinet:promised, cabinet:vblock, cabinet:profile, cabinet:helpdesk,
cabinet:notifications, cabinet:pay."""

from django.urls import path

from asr_billing.cabinet.web import (
    auth,
    views_helpdesk,
    views_history,
    views_home,
    views_pay,
    views_profile,
    views_promised,
    views_services,
    views_tariff,
    views_vblock,
)

app_name = "cabinet"

urlpatterns = [
    path("", views_home.home, name="home"),
    path("login/", auth.login_page, name="login"),
    path("logout/", auth.logout_page, name="logout"),
    path("language/", auth.language_page, name="language"),
    path("history/", views_history.history, name="history"),
    path("history/csv/", views_history.history_csv, name="history_csv"),
    path("profile/", views_profile.profile, name="profile"),
    path("promised/", views_promised.promised, name="promised"),
    path("vblock/", views_vblock.vblock, name="vblock"),
    path("vblock/lift/", views_vblock.vblock_lift, name="vblock_lift"),
    path("services/", views_services.services, name="services"),
    path("services/<int:service_id>/connect/", views_services.service_connect,
         name="service_connect"),
    path("services/link/<int:link_id>/disconnect/", views_services.service_disconnect,
         name="service_disconnect"),
    path("tariff/", views_tariff.tariff, name="tariff"),
    path("tariff/<int:tariff_id>/", views_tariff.tariff_choose, name="tariff_choose"),
    path("tariff/cancel/", views_tariff.tariff_cancel, name="tariff_cancel"),
    path("helpdesk/", views_helpdesk.helpdesk_list, name="helpdesk"),
    path("helpdesk/<int:ticket_id>/", views_helpdesk.ticket, name="ticket"),
    path("helpdesk/<int:ticket_id>/close/", views_helpdesk.ticket_close, name="ticket_close"),
    path("pay/", views_pay.pay, name="pay"),
    path("pay/test-acquirer/<int:order_id>/", views_pay.pay_test, name="pay_test"),
    path("notifications/", views_helpdesk.notifications_page, name="notifications"),
    path("notifications/<int:notification_id>/read/", views_helpdesk.notification_read,
         name="notification_read"),
]
