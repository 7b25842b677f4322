"""``asr-billing radius config``: a complete FreeRADIUS 3.2 configuration in one folder.

FreeRADIUS (Debian's freeradius + freeradius-rest) stands in front of asr-billing and asks
its /radius/ endpoints through rlm_rest; this writes everything it needs — radiusd.conf,
the clients (our NAS table with decrypted secrets, plus any --client), the rest module with
our URL and bearer token, the site — so that ``freeradius -f -d DIR`` runs as is, as any
user (logs, pid file and state stay under DIR). docs/radius.md describes deploying it.

Arguments are checked before anything is written: a refusal leaves the folder and
cfg/config as they were. The files hold secrets: the folder is 0700, the files 0600.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import tempfile
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from asr_billing.core.cli_text import gettext as _
from asr_billing.core.cli_text import gettext_noop
from asr_billing.radius import freeradius_templates as t

DEFAULT_AUTH_PORT = 1812
DEFAULT_ACCT_PORT = 1813
DEFAULT_LISTEN = "127.0.0.1"
# A shared secret as it can appear in the config and in a NAS's settings: printable ASCII
# without spaces or backslashes (FreeRADIUS keeps a backslash in a single-quoted string,
# except before a quote, so one could not be written unambiguously).
SECRET_RE = re.compile(r"[\x21-\x5b\x5d-\x7e]{1,128}")
# A rule, not a secret; translated where it is shown.
SECRET_RULE = gettext_noop("1 to 128 printable ASCII characters without spaces or backslashes")
# Characters a URL may not carry into the config: quotes, FreeRADIUS's expansions
# (%{...}, ${...}), whitespace.
URL_FORBIDDEN = re.compile(r"[\"'%${}\\\s]")


class RadiusConfigError(ValueError):
    """A refused argument or output folder; nothing was written."""


@dataclass(frozen=True)
class Client:
    """One RADIUS client: an address or network and its shared secret."""

    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    secret: str
    comment: str  # a comment line in clients.conf (English, like the rest of the file)
    name: str = ""  # the client's name in the config and FreeRADIUS's log lines
    label: str = ""  # the client in a warning, in app['language'] (default: the comment)


@dataclass
class Result:
    files: list[str] = field(default_factory=list)  # paths relative to the folder
    clients: list[Client] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    token_generated: bool = False


# --- arguments -------------------------------------------------------------------------


def parse_port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 65535:
        raise RadiusConfigError(_("a port is a whole number from 1 to 65535, not %(text)s")
                                % {"text": repr(text)})
    return value


def parse_client(text: str) -> Client:
    """``IP:SECRET``, ``NETWORK/LEN:SECRET`` or ``[IPv6]:SECRET`` (the secret may hold
    colons: the address ends at the first one, or at ``]:``)."""
    if text.startswith("["):
        address, sep, secret = text[1:].partition("]:")
    else:
        address, sep, secret = text.partition(":")
    if not sep:
        raise RadiusConfigError(
            _("--client %(text)s: expected IP:SECRET (IPv6 as [ADDRESS]:SECRET)")
            % {"text": repr(text)})
    try:
        network = ipaddress.ip_network(address, strict=True)
    except ValueError:
        if address.count(":") == 0 and text.count(":") > 1:
            message = _("--client %(text)s: %(address)s is not an IP address or network "
                        "(write IPv6 as [ADDRESS]:SECRET)")
        else:
            message = _("--client %(text)s: %(address)s is not an IP address or network")
        raise RadiusConfigError(
            message % {"text": repr(text), "address": repr(address)}) from None
    if not SECRET_RE.fullmatch(secret):
        raise RadiusConfigError(
            _("--client %(address)s: the secret must be %(rule)s")
            % {"address": address, "rule": _(SECRET_RULE)})
    return Client(network, secret, f"--client {network}")


def parse_url(text: str) -> str:
    """The base URL of asr-billing as FreeRADIUS reaches it, without a trailing slash."""
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname
            or parts.query or parts.fragment or parts.username is not None
            or URL_FORBIDDEN.search(text)):
        raise RadiusConfigError(
            _("--url %(text)s: expected http://HOST:PORT or https://HOST:PORT (optionally a "
              "path prefix), without quotes, spaces, %%, $ or braces") % {"text": repr(text)})
    return text.rstrip("/")


def parse_listen(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise RadiusConfigError(
            _("--listen %(text)s: expected an IP address (0.0.0.0 or :: for all)")
            % {"text": repr(text)}) from None


def check_out_dir(out: Path, *, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise RadiusConfigError(_("--out %(out)s: exists and is not a folder") % {"out": out})
    if out.is_dir() and any(out.iterdir()) and not force:
        raise RadiusConfigError(
            _("--out %(out)s: the folder is not empty; add --force to write over the files "
              "generated before (logs under it are kept)") % {"out": out})
    if not out.exists() and not out.parent.is_dir():
        raise RadiusConfigError(_("--out %(out)s: the folder %(parent)s does not exist")
                                % {"out": out, "parent": out.parent})


# --- clients from the NAS table ---------------------------------------------------------


def nas_clients() -> tuple[list[Client], list[str]]:
    """Our NAS devices as clients, and a warning for each one left out (no secret, or one
    that cannot be decrypted or written)."""
    from asr_billing.network.crypto import decrypt_secret
    from asr_billing.network.models import Nas

    clients, warnings = [], []
    for nas in Nas.objects.order_by("id"):
        label = {"name": nas.name, "ip": nas.ip}
        if not nas.radius_secret_enc:
            warnings.append(_("NAS %(name)s (%(ip)s) has no RADIUS secret: left out") % label)
            continue
        try:
            secret = decrypt_secret(nas.radius_secret_enc)
        except ValueError as exc:
            warnings.append(_("NAS %(name)s (%(ip)s): %(reason)s: left out")
                            % {**label, "reason": exc})
            continue
        if not SECRET_RE.fullmatch(secret):
            warnings.append(_("NAS %(name)s (%(ip)s): its secret is not %(rule)s: left out")
                            % {**label, "rule": _(SECRET_RULE)})
            continue
        # The NAS name may hold any text: the comment gets one safe line of it.
        name = re.sub(r"[^\w .()-]", "?", nas.name)[:80]
        clients.append(Client(
            ipaddress.ip_network(nas.ip), secret, f"NAS #{nas.id} {name}, type {nas.nas_type}",
            f"nas{nas.id}",
            _("NAS #%(id)s %(name)s, type %(type)s")
            % {"id": nas.id, "name": name, "type": nas.nas_type}))
    return clients, warnings


def merge_clients(from_nas: list[Client], extra: list[Client]) -> tuple[list[Client], list[str]]:
    """Our NAS clients plus the --client ones; a --client for a NAS's own address replaces
    it (FreeRADIUS refuses two clients for one network). Two --client for one network are
    refused."""
    seen: dict = {}
    for client in extra:
        if client.network in seen:
            raise RadiusConfigError(_("--client %(network)s is given twice")
                                    % {"network": client.network})
        seen[client.network] = client
    extra = [replace(client, name=f"client{number}")
             for number, client in enumerate(extra, start=1)]
    merged, warnings = [], []
    for client in from_nas:
        if client.network in seen:
            warnings.append(_("%(client)s: --client %(network)s replaces it")
                            % {"client": client.label or client.comment,
                               "network": client.network})
            continue
        merged.append(client)
    return merged + extra, warnings


# --- rendering --------------------------------------------------------------------------


def quote_secret(secret: str) -> str:
    """A single-quoted FreeRADIUS string: no ${...} expansion; ' escaped (SECRET_RE keeps
    backslashes out)."""
    return "'" + secret.replace("'", "\\'") + "'"


def render(
    *, out: Path, clients: list[Client], token: str, url: str, listen: str,
    auth_port: int, acct_port: int, reject_delay: int = 1, generated: datetime | None = None,
) -> dict[str, str]:
    """The files, by path under the folder. ``out`` is the folder as FreeRADIUS will be
    given it (made absolute here: radiusd.conf names it as raddbdir)."""
    header = t.HEADER.format(generated=(generated or datetime.now()).strftime("%Y-%m-%d %H:%M"))
    address = ipaddress.ip_address(listen)
    listen_key = "ipaddr" if address.version == 4 else "ipv6addr"
    listen_text = "*" if address.is_unspecified else str(address)
    client_text = "".join(
        t.CLIENT.format(
            comment=client.comment,
            name=client.name,
            addr_key="ipaddr" if client.network.version == 4 else "ipv6addr",
            addr=client.network.with_prefixlen if client.network.num_addresses > 1
            else client.network.network_address,
            secret=quote_secret(client.secret),
        )
        for client in clients
    )
    raddbdir = str(Path(os.path.abspath(out)))
    return {
        "radiusd.conf": t.RADIUSD_CONF.format(header=header, raddbdir=raddbdir,
                                              reject_delay=reject_delay),
        "dictionary": t.DICTIONARY.format(header=header),
        "proxy.conf": t.PROXY_CONF.format(header=header),
        "clients.conf": t.CLIENTS_CONF.format(header=header, clients=client_text),
        "mods-enabled/rest": t.REST.format(header=header, url=url),
        "mods-enabled/always": t.ALWAYS.format(header=header),
        "mods-enabled/pap": t.PAP.format(header=header),
        "mods-enabled/chap": t.CHAP.format(header=header),
        "mods-enabled/mschap": t.MSCHAP.format(header=header),
        "mods-enabled/expr": t.EXPR.format(header=header),
        "mods-enabled/attr_filter": t.ATTR_FILTER.format(header=header),
        "mods-config/attr_filter/access_reject": t.ACCESS_REJECT.format(header=header),
        "policy.d/asr_billing": t.POLICY.format(header=header, token=token),
        "sites-enabled/asr_billing": t.SITE.format(
            header=header, listen_key=listen_key, listen=listen_text,
            auth_port=auth_port, acct_port=acct_port),
    }


# Folders FreeRADIUS writes to (logdir, run_dir, db_dir) and may need (certs).
STATE_DIRS = ("log", "run", "db", "certs")


def write_tree(out: Path, files: dict[str, str], *, force: bool) -> None:
    """Write the files, private from their creation. A new folder is filled under a
    temporary name and renamed into place, so a failure leaves nothing half-written."""
    out = Path(os.path.abspath(out))
    if out.exists():
        check_out_dir(out, force=force)
        os.chmod(out, 0o700)
        _fill(out, files)
        return
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _fill(staging, files)
        os.replace(staging, out)
    except BaseException:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
        raise


def _fill(root: Path, files: dict[str, str]) -> None:
    for name in STATE_DIRS:
        (root / name).mkdir(mode=0o700, exist_ok=True)
    for relative, text in files.items():
        target = root / relative
        folder = root
        for part in Path(relative).parts[:-1]:
            folder = folder / part
            folder.mkdir(mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(text)
            os.chmod(tmp, 0o600)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def generate(
    *, out: Path, config_path: Path, url: str, listen: str = DEFAULT_LISTEN,
    auth_port: int = DEFAULT_AUTH_PORT, acct_port: int = DEFAULT_ACCT_PORT,
    clients: list[str] = (), force: bool = False, reject_delay: int = 1,
) -> Result:
    """Check everything, then write the folder and (when radius['api.token'] was empty) a
    new random token to cfg/config. Raises RadiusConfigError with nothing written."""
    from asr_billing.core.config import ConfigFile

    url = parse_url(url)
    listen = str(parse_listen(listen))
    if auth_port == acct_port:
        raise RadiusConfigError(_("--auth-port and --acct-port are both %(port)s")
                                % {"port": auth_port})
    if not 0 <= reject_delay <= 5:
        raise RadiusConfigError(_("--reject-delay is 0 to 5 seconds"))
    extra = [parse_client(text) for text in clients]
    check_out_dir(out, force=force)
    from_nas, warnings = nas_clients()
    merged, more = merge_clients(from_nas, extra)
    config = ConfigFile.load(config_path)
    token = config.get("radius", "api.token") or ""
    generated_token = not token
    if generated_token:
        token = secrets.token_urlsafe(32)
        config.set("radius", "api.token", token)  # validated before anything is written
    files = render(out=out, clients=merged, token=token, url=url, listen=listen,
                   auth_port=auth_port, acct_port=acct_port, reject_delay=reject_delay)
    write_tree(out, files, force=force)
    if generated_token:
        config.save()
    return Result(files=sorted(files), clients=merged, warnings=warnings + more,
                  token_generated=generated_token)
