"""``asr-billing apikey create|list|revoke``. No Django imports at module level: the CLI
parses arguments before Django starts."""

from __future__ import annotations

import sys

from asr_billing.core.cli_text import gettext as _


def add_apikey_parser(sub, common) -> None:
    from asr_billing.api.scopes import SCOPES

    p = sub.add_parser("apikey", parents=[common], help=_("keys of the REST API /api/v1/ "
                                                           "(docs/api.md)"))
    asub = p.add_subparsers(dest="apikey_command", required=True, metavar="ACTION")
    c = asub.add_parser("create", parents=[common], help=_("make a key and print it once"))
    c.add_argument("--name", required=True, help=_("who uses it (a CRM, the website…)"))
    c.add_argument("--scopes", required=True, nargs="+", metavar="SCOPE",
                   help=_("one or more of: %(scopes)s") % {"scopes": ", ".join(SCOPES)})
    c.add_argument("--allowed-ips", default="",
                   help=_("IPs and CIDR networks it may be used from (default: any)"))
    c.add_argument("--rate", type=int, default=600,
                   help=_("requests per minute (default 600; 0: no limit)"))
    c.add_argument("--signed", action="store_true",
                   help=_("requests must carry an HMAC signature: a signing secret is printed"))
    asub.add_parser("list", parents=[common], help=_("the keys (never the keys themselves)"))
    r = asub.add_parser("revoke", parents=[common], help=_("refuse a key from now on"))
    r.add_argument("prefix", help=_("the key's prefix (or the whole key)"))


def run_apikey(args) -> int:
    from asr_billing.api.keys import apikey_by_prefix, apikey_create, apikey_revoke
    from asr_billing.api.models import ApiKey
    from asr_billing.core.errors import ApplicationError

    actor = "cli"
    try:
        if args.apikey_command == "create":
            created = apikey_create(
                name=args.name, scopes=args.scopes, allowed_ips=args.allowed_ips,
                rate_per_minute=args.rate, signed=args.signed, actor=actor,
            )
            print(created.key)
            print(_("API key %(prefix)s (%(name)s): %(scopes)s. It is shown only now.")
                  % {"prefix": created.api_key.prefix, "name": created.api_key.name,
                     "scopes": " ".join(created.api_key.scopes)}, file=sys.stderr)
            if created.signing_secret:
                print(_("signing secret (shown only now): %(secret)s")
                      % {"secret": created.signing_secret}, file=sys.stderr)
            return 0
        if args.apikey_command == "list":
            from django.utils.translation import pgettext

            # The header is for people (short words: the columns are 10, 24, 40, 20 wide);
            # the rows are data, as they are (scripts may read the state column).
            header = (pgettext("API key list column", "prefix"),
                      pgettext("API key list column", "name"),
                      pgettext("API key list column", "scopes"),
                      pgettext("API key list column", "last used"),
                      pgettext("API key list column", "state"))
            print("{:10} {:24} {:40} {:20} {}".format(*header))
            for key in ApiKey.objects.order_by("created_at", "id"):
                used = key.last_used_at.strftime("%Y-%m-%d %H:%M") if key.last_used_at else "-"
                state = "revoked" if key.revoked_at else "active"
                print(f"{key.prefix:10} {key.name[:24]:24} {' '.join(key.scopes)[:40]:40} "
                      f"{used:20} {state}")
            return 0
        api_key = apikey_by_prefix(args.prefix)
        if apikey_revoke(api_key=api_key, actor=actor):
            print(_("API key %(prefix)s (%(name)s) revoked")
                  % {"prefix": api_key.prefix, "name": api_key.name})
        else:
            print(_("API key %(prefix)s (%(name)s) was revoked already")
                  % {"prefix": api_key.prefix, "name": api_key.name})
        return 0
    except ApplicationError as exc:
        print(_("error: %(message)s") % {"message": exc.message}, file=sys.stderr)
        return 2
