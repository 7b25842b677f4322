"""The payments section of cfg/config: instance keys, their checks, the demo's
instances and the documentation of every setting."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from asr_billing.core.config import ConfigError, ConfigFile
from asr_billing.core.config_schema import GATEWAY_SETTINGS, GATEWAY_TYPES, payment_key
from asr_billing.core.home_init import render_config
from asr_billing.core.runtime import Snapshot
from asr_billing.gateways.base import GATEWAYS
from asr_billing.gateways.config import GatewayInstance, instance, instances

# Our own messages are compared in English (the default language is Russian).
pytestmark = pytest.mark.usefixtures("english")

DOCS = Path(__file__).resolve().parents[2] / "docs"
ENABLED_OSMP = (
    "payments['osmp.qiwi.operator']='QIWI'\n"
    "payments['osmp.qiwi.allowed_ips']='79.142.16.0/20 91.232.230.0/23'\n"
    "payments['osmp.qiwi.enabled']='yes'\n"
)


def snapshot(text: str) -> Snapshot:
    return Snapshot(ConfigFile.parse(text, "cfg/config"))


def test_an_instance_with_defaults():
    found = instance(snapshot(ENABLED_OSMP), "osmp", "qiwi")
    assert found == GatewayInstance(
        type="osmp", name="qiwi", enabled=True, operator="QIWI",
        allowed_networks=found.allowed_networks, account="contract",
        min_sum=Decimal("1.00"), max_sum=Decimal("100000.00"), allow_negative=True,
        allow_blocked=True, cancel=False, auth_user="", auth_password="", dialect="auto",
        secret="", window_seconds=300)
    assert [str(n) for n in found.allowed_networks] == ["79.142.16.0/20", "91.232.230.0/23"]
    assert (found.key, found.actor) == ("osmp.qiwi", "gateway:osmp.qiwi")


def test_several_instances_of_one_type_and_a_lookup_by_name():
    text = ENABLED_OSMP + "payments['osmp.elecsnet.operator']='ELECSNET'\n"
    found = instances(snapshot(text))
    assert sorted(found) == [("osmp", "elecsnet"), ("osmp", "qiwi")]
    assert found[("osmp", "elecsnet")].enabled is False
    assert found[("osmp", "elecsnet")].operator == "ELECSNET"
    assert instance(snapshot(text), "sberbank", "qiwi") is None


@pytest.mark.parametrize(("key", "message"), [
    ("osmp.qiwi", "keys of this section are <type>.<name>.<setting>, e.g. "
                  "osmp.terminals.enabled"),
    ("paypal.x.enabled", "unknown gateway type 'paypal'; one of osmp, sberbank, webhook"),
    ("osmp.Qiwi.enabled", "'Qiwi' is not a gateway name (a-z, 0-9, - and _, up to 32)"),
    ("osmp.qiwi.enable", "osmp gateways have no setting 'enable'; they have enabled, operator, "
                         "allowed_ips, account, min_sum, max_sum, allow_negative, "
                         "allow_blocked, cancel, auth.user, auth.password, registry.*"),
    ("osmp.qiwi.secret", "osmp gateways have no setting 'secret'; they have enabled, operator, "
                         "allowed_ips, account, min_sum, max_sum, allow_negative, "
                         "allow_blocked, cancel, auth.user, auth.password, registry.*"),
])
def test_a_key_that_is_no_setting_is_refused_with_its_line(key, message):
    with pytest.raises(ValueError) as error:
        payment_key(key)
    assert str(error.value) == message
    with pytest.raises(ConfigError) as info:
        ConfigFile.parse(f"# x\npayments['{key}']='yes'\n", "cfg/config")
    assert str(info.value) == f"cfg/config:2: payments['{key}']: {message}"


@pytest.mark.parametrize(("line", "message"), [
    ("payments['osmp.q.account']='phone'", "must be one of contract, login, ip, id, not 'phone'"),
    ("payments['osmp.q.min_sum']='0.001'",
     "must be an amount such as 300 or 300.00 (not negative, 2 decimals)"),
    ("payments['osmp.q.allowed_ips']='10.0.0.300'",
     "'10.0.0.300' is not an IP address or CIDR network"),
    ("payments['webhook.q.secret']='short'",
     "empty, or 16 to 256 printable ASCII characters without spaces"),
    ("payments['osmp.q.auth.user']='a:b'",
     "up to 128 printable ASCII characters, no spaces and no ':'"),
    ("payments['sberbank.q.dialect']='upper'",
     "must be one of auto, protocol2, sberonline, not 'upper'"),
])
def test_bad_values_are_refused(line, message):
    with pytest.raises(ConfigError) as info:
        ConfigFile.parse(line + "\n", "cfg/config")
    key = line.split("'")[1]
    assert str(info.value) == f"cfg/config:1: payments['{key}']: {message}"


@pytest.mark.parametrize(("text", "line", "message"), [
    ("payments['osmp.q.enabled']='yes'\n", 1,
     "payments['osmp.q.enabled']: an enabled gateway needs payments['osmp.q.operator']"),
    ("payments['osmp.q.operator']='X'\npayments['osmp.q.enabled']='yes'\n", 2,
     "payments['osmp.q.enabled']: an enabled gateway needs payments['osmp.q.allowed_ips']"),
    ("payments['webhook.w.operator']='X'\npayments['webhook.w.allowed_ips']='127.0.0.1'\n"
     "payments['webhook.w.enabled']='yes'\n", 3,
     "payments['webhook.w.enabled']: an enabled gateway needs payments['webhook.w.secret']"),
    ("payments['osmp.q.min_sum']='100'\npayments['osmp.q.max_sum']='99.99'\n", 2,
     "payments['osmp.q.max_sum']: is below min_sum"),
    ("payments['osmp.q.auth.user']='u'\n", 1,
     "payments['osmp.q.auth.user']: needs auth.password as well"),
])
def test_rules_between_settings_name_a_line(text, line, message):
    with pytest.raises(ConfigError) as info:
        ConfigFile.parse(text, "cfg/config")
    assert str(info.value) == f"cfg/config:{line}: {message}"


def test_config_set_refuses_a_value_that_breaks_a_rule_and_keeps_the_file(tmp_path):
    path = tmp_path / "config"
    path.write_text("declare -A payments\n", encoding="utf-8")
    config = ConfigFile.load(path)
    with pytest.raises(ConfigError) as info:
        config.set("payments", "osmp.q.enabled", "yes")
    assert str(info.value) == (f"{path}:2: payments['osmp.q.enabled']: an enabled gateway "
                               "needs payments['osmp.q.operator']")
    assert config.render() == "declare -A payments\n"
    for key, value in (("osmp.q.operator", "Q"), ("osmp.q.allowed_ips", "127.0.0.1"),
                       ("osmp.q.enabled", "yes")):
        config.set("payments", key, value)
    # Emptying what an enabled instance needs is refused too.
    with pytest.raises(ConfigError) as info:
        config.set("payments", "osmp.q.operator", "")
    assert str(info.value) == (f"{path}:2: payments['osmp.q.enabled']: an enabled gateway "
                               "needs payments['osmp.q.operator']")
    assert ConfigFile.parse(config.render()).get("payments", "osmp.q.operator") == "Q"


def test_the_demo_enables_three_gateways_and_a_new_home_none():
    demo = instances(snapshot(render_config(demo=True)))
    assert sorted(demo) == [("osmp", "demo"), ("sberbank", "demo"), ("webhook", "demo")]
    assert all(i.enabled and i.account == "contract" for i in demo.values())
    assert [str(n) for n in demo[("osmp", "demo")].allowed_networks] == [
        "127.0.0.1/32", "::1/128"]
    assert {k: (i.operator, i.cancel) for k, i in demo.items()} == {
        ("osmp", "demo"): ("OSMP_DEMO", True),
        ("sberbank", "demo"): ("SBERBANK_DEMO", False),
        ("webhook", "demo"): ("WEBHOOK_DEMO", True)}
    assert (demo[("osmp", "demo")].auth_user, demo[("osmp", "demo")].auth_password) == (
        "osmp", "osmpdemopsw")
    assert demo[("webhook", "demo")].secret == "webhookdemosecret"
    assert instances(snapshot(render_config(demo=False))) == {}


def test_the_demo_secrets_are_documented():
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    assert "basic auth `osmp` / `osmpdemopsw`" in text
    assert "secret `webhookdemosecret`" in text
    payments = (DOCS / "payments.md").read_text(encoding="utf-8")
    assert "-u osmp:osmpdemopsw" in payments and "-hmac webhookdemosecret" in payments


def test_every_setting_is_documented_with_its_default():
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    missing = []
    for setting, spec in GATEWAY_SETTINGS.items():
        default = f"`{spec.default}`" if spec.default else "empty"
        if f"| `payments['<type>.<name>.{setting}']` | {default} |" not in text:
            missing.append(setting)
    assert missing == []


def test_every_type_the_config_knows_has_a_gateway():
    assert sorted(GATEWAYS) == sorted(GATEWAY_TYPES)


def test_config_show_hides_passwords_and_secrets():
    from asr_billing.cli import _masked

    assert _masked("osmp.demo.auth.password", "osmpdemopsw") == "***"
    assert _masked("webhook.demo.secret", "webhookdemosecret") == "***"
    assert _masked("osmp.demo.auth.user", "osmp") == "osmp"


def test_the_readme_links_the_payments_documentation():
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    assert "[docs/payments.md](docs/payments.md)" in readme
