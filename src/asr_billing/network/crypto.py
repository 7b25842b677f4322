"""Encryption at rest for secrets the network needs in cleartext.

PPPoE with CHAP or MS-CHAP through RADIUS needs the subscriber's cleartext password,
and FreeRADIUS needs each NAS's shared secret, so these cannot be hashed. They are
encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under a key kept in the home folder
(HOME/cfg/login_password.key), so a database dump alone does not reveal them.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from asr_billing.home import read_key_file


@lru_cache(maxsize=4)
def _fernet(key_file: str) -> MultiFernet:
    # One key per line; the first encrypts, all decrypt (for key rotation).
    from pathlib import Path

    keys = [k for k in read_key_file(Path(key_file)).split() if k]
    return MultiFernet([Fernet(k.encode("ascii")) for k in keys])


def _cipher() -> MultiFernet:
    return _fernet(str(settings.ASR_HOME.login_key_file))


def encrypt_secret(cleartext: str) -> str:
    return _cipher().encrypt(cleartext.encode("utf-8")).decode("ascii")


def decrypt_secret(token: str) -> str:
    """Raises ValueError if the token was made with another key or is damaged."""
    if not token:
        return ""
    try:
        return _cipher().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise ValueError("cannot decrypt: wrong key in cfg/login_password.key?") from None
