"""The admin speaks Russian by default and English when cfg/config says so."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.urls import reverse

from asr_billing.core.config import ConfigFile

pytestmark = pytest.mark.django_db


@pytest.fixture
def language():
    """Set app['language'] in the live cfg/config; the original file comes back after."""
    path = settings.ASR_HOME.config_file
    original = path.read_bytes()
    stat = path.stat()

    def set_language(value):
        config = ConfigFile.load(path)
        config.set("app", "language", value)
        config.save()
        # "ru" and "en" have the same length: move the mtime so the reload is certain.
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))

    yield set_language
    path.write_bytes(original)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


def test_russian_by_default(admin_client, isp):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert "Абоненты" in html  # subscribers.Subscriber's verbose_name_plural
    assert "Операции" in html  # the ledger
    html = admin_client.get(reverse("admin:subscribers_subscriber_changelist")).content.decode()
    assert "Номер договора" in html
    assert "Заблокировать выбранных абонентов" in html


def test_english_when_configured(admin_client, isp, language):
    language("en")
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert "Subscribers" in html
    assert "Абоненты" not in html
    html = admin_client.get(reverse("admin:subscribers_subscriber_changelist")).content.decode()
    assert "Contract number" in html
    assert "Block selected subscribers" in html
    language("ru")
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert "Абоненты" in html


def po_entries(path):
    """(msgid, msgstr, fuzzy) for each entry of a .po file (enough of the format for a check)."""
    import ast

    entries, current, field = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#,") and "fuzzy" in line:
            current = {"msgid": "", "msgstr": "", "fuzzy": True}
            entries.append(current)
        elif line.startswith("msgid "):
            if current is None or current["msgid"] or current["msgstr"] or field == "msgstr":
                current = {"msgid": "", "msgstr": "", "fuzzy": False}
                entries.append(current)
            field = "msgid"
            current["msgid"] = ast.literal_eval(line[6:])
        elif line.startswith("msgstr"):
            field = "msgstr"
            current["msgstr"] += ast.literal_eval(line.split(" ", 1)[1])
        elif line.startswith('"') and field:
            current[field] += ast.literal_eval(line)
        elif not line.strip():
            field = None
    return [(e["msgid"], e["msgstr"], e["fuzzy"]) for e in entries if e["msgid"]]


def test_russian_catalogue_is_complete():
    path = settings.LOCALE_PATHS[0] / "ru" / "LC_MESSAGES" / "django.po"
    entries = po_entries(path)
    assert len(entries) > 400
    untranslated = [msgid for msgid, msgstr, fuzzy in entries if not msgstr or fuzzy]
    assert untranslated == []


def test_russian_titles_and_counts_agree(admin_client, isp):
    """No model name forced into a wrong case ("Выберите абонент для изменения") and no
    count beside a plural that cannot agree ("261 абоненты")."""
    changelist = reverse("admin:subscribers_subscriber_changelist")
    html = admin_client.get(changelist).content.decode()
    assert "Выберите для изменения: абонент" in html
    assert "Выберите абонент" not in html
    assert "5 записей" in html and "абоненты</p>" not in html  # isp: five subscribers
    html = admin_client.get(changelist + "?state=negbal").content.decode()
    assert "1 запись" in html
    html = admin_client.get(reverse("admin:subscribers_subscriber_add")).content.decode()
    assert "Добавление: абонент" in html
    html = admin_client.get(reverse("admin:billing_billingrun_changelist")).content.decode()
    assert "0 записей" in html and "0 запуски" not in html


def test_english_titles_stay_django_s(admin_client, isp, language):
    language("en")
    changelist = reverse("admin:subscribers_subscriber_changelist")
    html = admin_client.get(changelist).content.decode()
    assert "Select subscriber to change" in html and "5 records" in html
