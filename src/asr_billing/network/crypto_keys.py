"""Key generation without Django (used by `asr-billing init` before settings exist)."""

from cryptography.fernet import Fernet


def generate_fernet_key() -> str:
    return Fernet.generate_key().decode("ascii")
