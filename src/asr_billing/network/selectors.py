"""Reads about logins."""

from __future__ import annotations

import hmac

from asr_billing.network.crypto import decrypt_secret
from asr_billing.network.models import Login


def login_password(login: Login) -> str:
    """The cleartext password, for RADIUS CHAP/MS-CHAP only. Never log or return it."""
    return decrypt_secret(login.password_enc)


def login_check_password(login: Login, password: str) -> bool:
    """Constant-time comparison with the stored password."""
    if not isinstance(password, str) or not login.password_enc:
        return False
    return hmac.compare_digest(login_password(login).encode(), password.encode())
