"""``asr-billing radius config``: the folder it writes, its refusals (nothing written), the
token it generates, and FreeRADIUS's own check of the result (``freeradius -XC``)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from asr_billing.cli import main
from asr_billing.core.config import ConfigFile
from asr_billing.network.services import nas_create
from asr_billing.radius.freeradius_config import (
    RadiusConfigError,
    parse_client,
    quote_secret,
)

from .freeradius import lint, require_freeradius

TOKEN = "radius-test-token-0123456789"
# Our own messages are compared in English (the default language is Russian).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def home(settings, config_edit):
    """The test home with a known token; cfg/config is restored afterwards."""
    config_edit("radius", "api.token", TOKEN)
    return settings.ASR_HOME


def run(home, out: Path, *args: str) -> int:
    return main(["radius", "config", "--home", str(home.root), "--out", str(out), *args])


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def client_block(text: str, name: str) -> str:
    start = text.index(f"client {name} {{")
    return text[start:text.index("}", start) + 1]


def test_writes_every_file_private_with_nas_clients_and_each_client(home, nas, tmp_path,
                                                                      capsys):
    nas_create(name="No secret", ip="10.0.0.9", actor="test")
    out = tmp_path / "raddb"
    assert run(home, out, "--client", "127.0.0.1:testing123",
               "--client", "[::1]:it's$ok", "--client", "192.0.2.0/24:net-secret") == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        f"Wrote the FreeRADIUS configuration to {out} (4 clients)",
        f"Check it:  freeradius -XC -d {out}",
        f"Run it:    freeradius -f -l stdout -d {out}",
    ]
    assert captured.err == "warning: NAS No secret (10.0.0.9) has no RADIUS secret: left out\n"
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert files == [
        "clients.conf", "dictionary", "mods-config/attr_filter/access_reject",
        "mods-enabled/always", "mods-enabled/attr_filter", "mods-enabled/chap",
        "mods-enabled/expr", "mods-enabled/mschap", "mods-enabled/pap", "mods-enabled/rest",
        "policy.d/asr_billing", "proxy.conf", "radiusd.conf", "sites-enabled/asr_billing",
    ]
    assert {mode(p) for p in out.rglob("*") if p.is_file()} == {0o600}
    assert {mode(p) for p in [out, *out.rglob("*")] if p.is_dir()} == {0o700}
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == [
        "certs", "db", "log", "mods-config", "mods-enabled", "policy.d", "run", "sites-enabled"]

    clients = (out / "clients.conf").read_text()
    assert client_block(clients, f"nas{nas.pk}") == (
        f"client nas{nas.pk} {{\n\tipaddr = 10.0.0.1\n\tsecret = 's3cret'\n"
        f"\tshortname = nas{nas.pk}\n\trequire_message_authenticator = no\n}}")
    assert f"# NAS #{nas.pk} NAS 1, type other\n" in clients
    assert "10.0.0.9" not in clients
    assert "\tipaddr = 127.0.0.1\n\tsecret = 'testing123'\n" in client_block(clients, "client1")
    assert "\tipv6addr = ::1\n\tsecret = 'it\\'s$ok'\n" in client_block(clients, "client2")
    assert "\tipaddr = 192.0.2.0/24\n\tsecret = 'net-secret'\n" in client_block(
        clients, "client3")

    radiusd = (out / "radiusd.conf").read_text()
    assert f"raddbdir = {out}\n" in radiusd
    assert "libdir = /usr/lib/freeradius\n" in radiusd
    assert "\nuser =" not in radiusd and "\ngroup =" not in radiusd
    assert "\treject_delay = 1\n" in radiusd
    rest = (out / "mods-enabled/rest").read_text()
    assert "connect_uri" not in rest.replace("No connect_uri", "")
    assert 'uri = "http://127.0.0.1:8082/radius/authorize/"\n' in rest
    assert "\t\tstart = 0\n" in rest and "\t\tretry_delay = 1\n" in rest
    assert rest.count("\t\ttimeout = 2.0\n") == 3
    policy = (out / "policy.d/asr_billing").read_text()
    assert f'&REST-HTTP-Header += "Authorization: Bearer {TOKEN}"\n' in policy
    site = (out / "sites-enabled/asr_billing").read_text()
    assert "\tipaddr = 127.0.0.1\n\tport = 1812\n" in site
    assert "\tipaddr = 127.0.0.1\n\tport = 1813\n" in site
    reject = (out / "mods-config/attr_filter/access_reject").read_text()
    assert reject.endswith("DEFAULT\n\tEAP-Message =* ANY,\n\tState =* ANY,\n"
                           "\tMessage-Authenticator =* ANY,\n\tError-Cause =* ANY,\n"
                           "\tReply-Message =* ANY,\n\tMS-CHAP-Error =* ANY,\n"
                           "\tProxy-State =* ANY\n")
    assert ConfigFile.load(home.config_file).get("radius", "api.token") == TOKEN


def test_options_reach_the_files(home, tmp_path):
    out = tmp_path / "raddb"
    assert run(home, out, "--auth-port", "28121", "--acct-port", "28131", "--listen", "::",
               "--url", "https://billing.example.net:8443/asr/", "--reject-delay", "0") == 0
    site = (out / "sites-enabled/asr_billing").read_text()
    assert "\tipv6addr = *\n\tport = 28121\n" in site
    assert "\tipv6addr = *\n\tport = 28131\n" in site
    rest = (out / "mods-enabled/rest").read_text()
    assert 'uri = "https://billing.example.net:8443/asr/radius/accounting/"\n' in rest
    assert "\treject_delay = 0\n" in (out / "radiusd.conf").read_text()
    assert "client " not in (out / "clients.conf").read_text()


def test_a_client_for_a_nas_address_replaces_the_nas(home, nas, tmp_path, capsys):
    out = tmp_path / "raddb"
    assert run(home, out, "--client", "10.0.0.1:lab-secret") == 0
    assert capsys.readouterr().err == (
        f"warning: NAS #{nas.pk} NAS 1, type other: --client 10.0.0.1/32 replaces it\n")
    clients = (out / "clients.conf").read_text()
    assert "s3cret" not in clients
    assert "\tipaddr = 10.0.0.1\n\tsecret = 'lab-secret'\n" in client_block(clients, "client1")


def test_an_empty_token_is_generated_and_saved(settings, config_edit, tmp_path, capsys):
    config_edit("radius", "api.token", "")
    out = tmp_path / "raddb"
    assert run(settings.ASR_HOME, out) == 0
    token = ConfigFile.load(settings.ASR_HOME.config_file).get("radius", "api.token")
    assert len(token) == 43
    assert f'"Authorization: Bearer {token}"' in (out / "policy.d/asr_billing").read_text()
    assert capsys.readouterr().out.splitlines()[1] == (
        f"radius['api.token'] was empty: generated a random one into "
        f"{settings.ASR_HOME.config_file} (a running server picks it up)")


def test_force_writes_over_a_generated_folder_and_keeps_its_logs(home, tmp_path, capsys):
    out = tmp_path / "raddb"
    assert run(home, out, "--auth-port", "28121", "--acct-port", "28131") == 0
    (out / "log" / "radius.log").write_text("old log\n")
    before = (out / "sites-enabled/asr_billing").read_text()
    assert run(home, out) == 2
    assert capsys.readouterr().err == (
        f"error: --out {out}: the folder is not empty; add --force to write over the files "
        "generated before (logs under it are kept)\n")
    assert (out / "sites-enabled/asr_billing").read_text() == before
    assert run(home, out, "--force") == 0
    assert "\tport = 1812\n" in (out / "sites-enabled/asr_billing").read_text()
    assert (out / "log" / "radius.log").read_text() == "old log\n"


@pytest.mark.parametrize(("args", "message"), [
    (["--client", "127.0.0.1"],
     "--client '127.0.0.1': expected IP:SECRET (IPv6 as [ADDRESS]:SECRET)"),
    (["--client", "localhost:secret"],
     "--client 'localhost:secret': 'localhost' is not an IP address or network"),
    (["--client", "10.0.0.1/8:secret"],
     "--client '10.0.0.1/8:secret': '10.0.0.1/8' is not an IP address or network"),
    (["--client", "::1:secret"],
     "--client '::1:secret': '' is not an IP address or network "
     "(write IPv6 as [ADDRESS]:SECRET)"),
    (["--client", "127.0.0.1:"], "--client 127.0.0.1: the secret must be 1 to 128 printable "
     "ASCII characters without spaces or backslashes"),
    (["--client", "127.0.0.1:two words"], "--client 127.0.0.1: the secret must be 1 to 128 "
     "printable ASCII characters without spaces or backslashes"),
    (["--client", "127.0.0.1:back\\slash"], "--client 127.0.0.1: the secret must be 1 to 128 "
     "printable ASCII characters without spaces or backslashes"),
    (["--client", "127.0.0.1:a", "--client", "127.0.0.1:b"],
     "--client 127.0.0.1/32 is given twice"),
    (["--auth-port", "1812", "--acct-port", "1812"],
     "--auth-port and --acct-port are both 1812"),
    (["--url", "ftp://127.0.0.1"], "--url 'ftp://127.0.0.1': expected http://HOST:PORT or "
     "https://HOST:PORT (optionally a path prefix), without quotes, spaces, %, $ or braces"),
    (["--url", 'http://127.0.0.1:8082/"x'], "--url 'http://127.0.0.1:8082/\"x': expected "
     "http://HOST:PORT or https://HOST:PORT (optionally a path prefix), without quotes, "
     "spaces, %, $ or braces"),
    (["--url", "http://127.0.0.1:99999"], "--url 'http://127.0.0.1:99999': expected "
     "http://HOST:PORT or https://HOST:PORT (optionally a path prefix), without quotes, "
     "spaces, %, $ or braces"),
    (["--listen", "any"], "--listen 'any': expected an IP address (0.0.0.0 or :: for all)"),
])
def test_bad_arguments_are_refused_with_nothing_written(settings, config_edit, nas, tmp_path,
                                                        capsys, args, message):
    config_edit("radius", "api.token", "")  # would be generated on success
    before = settings.ASR_HOME.config_file.read_bytes()
    out = tmp_path / "raddb"
    assert run(settings.ASR_HOME, out, *args) == 2
    assert capsys.readouterr().err == f"error: {message}\n"
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []
    assert settings.ASR_HOME.config_file.read_bytes() == before


@pytest.mark.parametrize(("args", "error"), [
    (["--auth-port", "0"], "argument --auth-port: a port is a whole number from 1 to 65535, "
                           "not '0'"),
    (["--acct-port", "65536"], "argument --acct-port: a port is a whole number from 1 to "
                               "65535, not '65536'"),
    (["--auth-port", "x"], "argument --auth-port: a port is a whole number from 1 to 65535, "
                           "not 'x'"),
    (["--reject-delay", "9"], "argument --reject-delay: invalid choice: 9 (choose from 0, 1, "
                              "2, 3, 4, 5)"),
])
def test_bad_numbers_are_refused_by_the_parser(home, tmp_path, capsys, args, error):
    out = tmp_path / "raddb"
    with pytest.raises(SystemExit) as exit_:
        run(home, out, *args)
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"asr-billing radius config: error: {error}"
    assert not out.exists()


def test_an_output_path_that_is_a_file_or_has_no_parent_is_refused(home, tmp_path, capsys):
    file = tmp_path / "file"
    file.write_text("x")
    assert run(home, file) == 2
    assert capsys.readouterr().err == f"error: --out {file}: exists and is not a folder\n"
    assert run(home, tmp_path / "no" / "raddb") == 2
    assert capsys.readouterr().err == (
        f"error: --out {tmp_path / 'no' / 'raddb'}: the folder {tmp_path / 'no'} does not "
        "exist\n")
    assert file.read_text() == "x"


def test_nas_secrets_freeradius_cannot_carry_are_left_out(home, tmp_path, capsys):
    bad = nas_create(name="Spaced", ip="10.0.0.7", actor="test", radius_secret="two words")
    out = tmp_path / "raddb"
    assert run(home, out) == 0
    assert capsys.readouterr().err == (
        "warning: NAS Spaced (10.0.0.7): its secret is not 1 to 128 printable ASCII "
        "characters without spaces or backslashes: left out\n")
    assert f"nas{bad.pk}" not in (out / "clients.conf").read_text()


def test_parse_client_and_quote_secret():
    client = parse_client("[2001:db8::1]:a:b")
    assert (str(client.network), client.secret) == ("2001:db8::1/128", "a:b")
    client = parse_client("10.1.2.3:x:y")
    assert (str(client.network), client.secret) == ("10.1.2.3/32", "x:y")
    assert quote_secret("it's") == "'it\\'s'"
    with pytest.raises(RadiusConfigError):
        parse_client("[2001:db8::1:secret")


@pytest.mark.radius
def test_freeradius_accepts_the_generated_configuration(home, nas, tmp_path):
    require_freeradius()
    out = tmp_path / "raddb"
    assert run(home, out, "--client", "127.0.0.1:testing123", "--client", "[::1]:it's$ok",
               "--client", "192.0.2.0/24:x'y\"z%{a}${b}", "--listen", "::1",
               "--auth-port", "28121", "--acct-port", "28131") == 0
    checked = lint(out)
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-3000:]
    assert checked.stdout.rstrip().endswith("Configuration appears to be OK")
