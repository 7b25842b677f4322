"""API keys: create (the key shown once), revoke, find by the key a request brings.

A key reads ``asr_<prefix>_<secret>``: the prefix (8 characters) finds the row and names
the key in logs and the admin; the secret (32 characters, 192 bits) is never stored, only
the SHA-256 digest of the whole key. An optional signing secret (for HMAC-signed requests,
api/signing.py) is shown once too and kept encrypted with the home folder's key, because
checking a signature needs it in the clear.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from asr_billing.api.models import ApiKey
from asr_billing.api.scopes import check_scopes
from asr_billing.core.audit import Actor, actor_fields, audit_record
from asr_billing.core.config_checks import check_networks
from asr_billing.core.errors import InvalidInput, NotFound

KEY_PREFIX = "asr_"
PREFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
PREFIX_LENGTH = 8
NAME_MAX = ApiKey._meta.get_field("name").max_length
LAST_USED_EVERY = timedelta(seconds=60)  # last_used_at is written at most this often


@dataclass(frozen=True)
class CreatedKey:
    api_key: ApiKey
    key: str  # shown once
    signing_secret: str = ""  # shown once; empty unless asked for


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _new_prefix() -> str:
    return "".join(secrets.choice(PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))


def _clean_name(name) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise InvalidInput(_("A key needs a name"), code="name")
    if len(name) > NAME_MAX:
        raise InvalidInput(
            _("The name is longer than %(n)d characters") % {"n": NAME_MAX}, code="name"
        )
    return name


def _clean_ips(value) -> str:
    text = " ".join(str(value or "").replace(",", " ").split())
    try:
        check_networks(text)
    except ValueError as exc:
        raise InvalidInput(
            _("Allowed addresses: %(problem)s") % {"problem": exc}, code="allowed_ips"
        ) from None
    return text


def _clean_rate(value) -> int:
    try:
        rate = int(value)
    except (TypeError, ValueError):
        rate = -1
    if not 0 <= rate <= 1_000_000:
        raise InvalidInput(
            _("Requests per minute must be a whole number from 0 to 1000000"),
            code="rate_per_minute",
        )
    return rate


def apikey_input_check(*, name, scopes, allowed_ips="", rate_per_minute=600):
    """The checked (name, scopes, allowed_ips, rate_per_minute); InvalidInput names the
    first problem. The admin's form runs it before saving, apikey_create again."""
    name = _clean_name(name)
    try:
        scopes = check_scopes(scopes)
    except ValueError as exc:
        raise InvalidInput(str(exc), code="scopes") from None
    return name, scopes, _clean_ips(allowed_ips), _clean_rate(rate_per_minute)


@transaction.atomic
def apikey_create(
    *,
    name: str,
    scopes,
    actor: Actor,
    allowed_ips: str = "",
    rate_per_minute: int = 600,
    signed: bool = False,
) -> CreatedKey:
    """A new key with these scopes; ``signed``: it gets a signing secret and every request
    with it must be signed. Everything is checked before anything is written."""
    from asr_billing.network.crypto import encrypt_secret

    name, scopes, allowed_ips, rate_per_minute = apikey_input_check(
        name=name, scopes=scopes, allowed_ips=allowed_ips, rate_per_minute=rate_per_minute
    )
    signing_secret = secrets.token_urlsafe(32) if signed else ""
    while True:
        prefix = _new_prefix()
        if not ApiKey.objects.filter(prefix=prefix).exists():
            break
    key = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(24)}"
    who = actor_fields(actor)
    api_key = ApiKey.objects.create(
        name=name,
        prefix=prefix,
        key_hash=key_digest(key),
        scopes=scopes,
        allowed_ips=allowed_ips,
        rate_per_minute=rate_per_minute,
        signing_secret_enc=encrypt_secret(signing_secret) if signed else "",
        require_signature=signed,
        created_by=who["actor_user"],
        actor=who["actor"],
    )
    audit_record(
        actor=actor, action="apikey_create", obj=api_key,
        new={"name": name, "prefix": prefix, "scopes": scopes, "allowed_ips": allowed_ips,
             "rate_per_minute": rate_per_minute, "signed": signed},
    )
    return CreatedKey(api_key, key, signing_secret)


@transaction.atomic
def apikey_revoke(*, api_key: ApiKey, actor: Actor) -> bool:
    """Revoke at once (the next request with it is refused). False if it already was."""
    changed = ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if changed:
        audit_record(actor=actor, action="apikey_revoke", obj=api_key,
                     new={"prefix": api_key.prefix})
        api_key.refresh_from_db(fields=["revoked_at"])
    return bool(changed)


def apikey_by_prefix(prefix: str) -> ApiKey:
    prefix = (prefix or "").strip().removeprefix(KEY_PREFIX).split("_", 1)[0]
    found = ApiKey.objects.filter(prefix=prefix).first() if prefix else None
    if found is None:
        raise NotFound(_("No API key with prefix %(p)s") % {"p": prefix[:16]})
    return found


def apikey_for(key: str) -> ApiKey | None:
    """The active key a request presents, or None (unknown, wrong secret, revoked)."""
    if not key.startswith(KEY_PREFIX) or len(key) > 100:
        return None
    prefix = key[len(KEY_PREFIX):].split("_", 1)[0]
    if len(prefix) != PREFIX_LENGTH:
        return None
    found = ApiKey.objects.filter(prefix=prefix).first()
    if found is None or not hmac.compare_digest(found.key_hash, key_digest(key)):
        return None
    return found if found.revoked_at is None else None


def apikey_touch(api_key: ApiKey, ip: str | None) -> None:
    """Record the use, at most once a minute per key (no write on every request)."""
    now = timezone.now()
    if api_key.last_used_at is not None and now - api_key.last_used_at < LAST_USED_EVERY \
            and api_key.last_used_ip == ip:
        return
    ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now, last_used_ip=ip or None)
    api_key.last_used_at, api_key.last_used_ip = now, ip
