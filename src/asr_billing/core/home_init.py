"""Creating a home folder: the config file with every known key documented, and the keys."""

from __future__ import annotations

import secrets
import string

from asr_billing.core.config import SCHEMA, quote, write_private
from asr_billing.home import Home

# Contexts that get a generated password. "web" is the cabinet: its clients often send no
# psw at all, which the system API accepts from an allowed IP (see docs/system-api.md).
PASSWORD_CONTEXTS = ("web", "cabinet", "collector", "api_1c", "base", "webcash", "asr_fiscal")

DEMO_PASSWORDS = {
    "collector": "collectortestpsw",
    "asr_fiscal": "fiscalpsw123",
    "api_1c": "1ctestpsw",
    "base": "basetestpsw",
    "webcash": "webcashtestpsw",
    "cabinet": "cabinettestpsw",
}


# The demo's payment gateways (docs/payments.md): each finds the subscriber by contract
# number and answers 127.0.0.1 only. Their operators are made by the demo data.
DEMO_GATEWAYS = [
    ("osmp.demo.operator", "OSMP_DEMO"),
    ("osmp.demo.allowed_ips", "127.0.0.1 ::1"),
    ("osmp.demo.account", "contract"),
    ("osmp.demo.cancel", "yes"),
    ("osmp.demo.auth.user", "osmp"),
    ("osmp.demo.auth.password", "osmpdemopsw"),
    ("osmp.demo.enabled", "yes"),
    ("sberbank.demo.operator", "SBERBANK_DEMO"),
    ("sberbank.demo.allowed_ips", "127.0.0.1 ::1"),
    ("sberbank.demo.account", "contract"),
    ("sberbank.demo.enabled", "yes"),
    ("webhook.demo.operator", "WEBHOOK_DEMO"),
    ("webhook.demo.allowed_ips", "127.0.0.1 ::1"),
    ("webhook.demo.account", "contract"),
    ("webhook.demo.secret", "webhookdemosecret"),
    ("webhook.demo.cancel", "yes"),
    ("webhook.demo.enabled", "yes"),
]
# Settings the demo changes from the defaults.
DEMO_SETTINGS = {
    # Pay online in the cabinet completes on the test acquirer page: no bank to reach.
    ("cabinet", "payment.test_acquirer"): "yes",
}
# What a new home's payments section says instead (no gateway is open by default).
GATEWAYS_EXAMPLE = [
    "# Payment gateways: payments['<type>.<name>.<setting>'], types osmp, sberbank, webhook;",
    "# each instance answers at /pay/<type>/<name>/ (docs/payments.md). For example:",
    "# payments['osmp.qiwi.operator']='QIWI'",
    "# payments['osmp.qiwi.allowed_ips']='79.142.16.0/20 91.232.230.0/23'",
    "# payments['osmp.qiwi.enabled']='yes'",
]


def random_password(length: int = 20) -> str:
    # Latin letters and digits only: Carbon's 1C docs warn that other characters break 1C.
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def render_config(*, demo: bool, db_url: str = "", language: str = "") -> str:
    """The initial cfg/config: every known key with its default and a comment;
    app['language'] is ``language`` when given."""
    lines = [
        "# asr-billing configuration (Carbon style: section['key']='value').",
        "# Edit with `asr-billing config set SECTION KEY VALUE` or any editor; a running",
        "# server applies changes without a restart (app['db.url'] needs one).",
        "# Every key is described in docs/configuration.md.",
        "",
    ]
    sections: dict[str, list[tuple[str, str, str]]] = {}
    for (section, key), spec in SCHEMA.items():
        value = spec.default
        if (section, key) == ("app", "db.url"):
            value = db_url
        if (section, key) == ("app", "language") and language:
            value = language
        sections.setdefault(section, []).append((key, value, spec.doc))
    # Every section the code knows, app and network first, so a new home shows every key.
    order = ["app", "network", *sorted(set(sections) - {"app", "network"})]
    for section in order:
        lines.append(f"declare -A {section}")
        for key, value, doc in sections[section]:
            if demo:
                value = DEMO_SETTINGS.get((section, key), value)
            lines.append(f"# {doc}")
            lines.append(f"{section}[{quote(key)}]={quote(value)}")
        if section == "network":
            lines.append("# Password of each system API context, sent as psw=...")
            for context in PASSWORD_CONTEXTS:
                password = DEMO_PASSWORDS.get(context) if demo else None
                key = f"api.{context}.psw"
                lines.append(f"network[{quote(key)}]={quote(password or random_password())}")
        lines.append("")
    lines.append("declare -A payments")
    if demo:
        lines.append("# The demo's gateways (docs/payments.md); demo secrets, 127.0.0.1 only.")
        lines += [f"payments[{quote(key)}]={quote(value)}" for key, value in DEMO_GATEWAYS]
    else:
        lines += GATEWAYS_EXAMPLE
    lines.append("")
    return "\n".join(lines) + "\n"


def create_home(home: Home, *, demo: bool = False, db_url: str = "", language: str = "") -> None:
    """Create cfg/config and the two key files if missing. Never overwrites a key (nor
    the config: ``language`` is app['language'] of a new config only)."""
    from asr_billing.network.crypto_keys import generate_fernet_key

    home.ensure_dirs()
    # Created 0600 at once (the umask cannot widen it, there is no chmod window), and
    # never over an existing file.
    config = render_config(demo=demo, db_url=db_url, language=language)
    write_private(home.config_file, config.encode("utf-8"))
    write_private(home.secret_key_file, (secrets.token_urlsafe(50) + "\n").encode("ascii"))
    write_private(home.login_key_file, (generate_fernet_key() + "\n").encode("ascii"))
