"""``asr-billing radius config``: its arguments and the call of freeradius_config.generate.
No Django imports at module level: the CLI parses arguments before Django starts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from asr_billing.core.cli_text import gettext as _
from asr_billing.core.cli_text import ngettext


def _port(text: str) -> int:
    from asr_billing.radius.freeradius_config import RadiusConfigError, parse_port

    try:
        return parse_port(text)
    except RadiusConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_radius_parser(sub, common, *, default_url: str, bind_type, count_type) -> None:
    """``bind_type`` and ``count_type``: cli.py's argparse types of serve's --bind and
    --workers, so both servers refuse the same bad values with the same words."""
    from asr_billing.radius.freeradius_config import (
        DEFAULT_ACCT_PORT,
        DEFAULT_AUTH_PORT,
        DEFAULT_LISTEN,
    )

    p = sub.add_parser("radius", parents=[common], help=_("FreeRADIUS in front of the billing "
                                                          "(docs/radius.md)"))
    rsub = p.add_subparsers(dest="radius_command", required=True, metavar="ACTION")
    c = rsub.add_parser(
        "config", parents=[common],
        help=_("write a complete FreeRADIUS 3.2 configuration: freeradius -f -d DIR runs it"),
    )
    c.add_argument("--out", required=True, type=Path,
                   help=_("the folder to write (FreeRADIUS's -d)"))
    c.add_argument("--force", action="store_true",
                   help=_("write over a folder generated before (its logs are kept)"))
    c.add_argument("--auth-port", type=_port, default=DEFAULT_AUTH_PORT,
                   help=_("Access-Request port (default %(port)s)") % {"port": DEFAULT_AUTH_PORT})
    c.add_argument("--acct-port", type=_port, default=DEFAULT_ACCT_PORT,
                   help=_("Accounting-Request port (default %(port)s)")
                   % {"port": DEFAULT_ACCT_PORT})
    c.add_argument("--listen", default=DEFAULT_LISTEN,
                   help=_("address to listen on (default %(address)s; 0.0.0.0 for all)")
                   % {"address": DEFAULT_LISTEN})
    c.add_argument("--client", action="append", default=[], metavar="IP:SECRET",
                   help=_("one more RADIUS client besides the NAS table (a lab machine, "
                          "radclient on loopback); repeatable; IPv6 as [ADDRESS]:SECRET"))
    c.add_argument("--url", default=f"http://{default_url}",
                   help=_("asr-billing as FreeRADIUS reaches it (default %(url)s)")
                   % {"url": f"http://{default_url}"})
    c.add_argument("--reject-delay", type=int, default=1, choices=range(6), metavar="SECONDS",
                   help=_("hold each Access-Reject back 0-5 seconds (default 1)"))

    from asr_billing.radius.serve import DEFAULT_RADIUS_BIND

    s = rsub.add_parser(
        "serve", parents=[common],
        help=_("serve only FreeRADIUS's calls, on their own port (granian): for networks "
               "with thousands of sessions"),
    )
    s.add_argument("--bind", default=DEFAULT_RADIUS_BIND, type=bind_type,
                   help=_("address:port, or a port for 127.0.0.1 (default %(bind)s)")
                   % {"bind": DEFAULT_RADIUS_BIND})
    s.add_argument("--workers", type=count_type, default=2,
                   help=_("worker processes (default 2)"))
    s.add_argument("--threads", type=count_type, default=2,
                   help=_("threads per worker (default 2)"))


def run_radius(args, home) -> int:
    from asr_billing.radius.freeradius_config import RadiusConfigError, generate

    try:
        result = generate(
            out=args.out, config_path=home.config_file, url=args.url, listen=args.listen,
            auth_port=args.auth_port, acct_port=args.acct_port, clients=args.client,
            force=args.force, reject_delay=args.reject_delay,
        )
    except RadiusConfigError as exc:
        print(_("error: %(message)s") % {"message": exc}, file=sys.stderr)
        return 2
    for warning in result.warnings:
        print(_("warning: %(message)s") % {"message": warning}, file=sys.stderr)
    out = args.out.absolute()
    clients = len(result.clients)
    print(ngettext("Wrote the FreeRADIUS configuration to %(out)s (%(count)d client)",
                   "Wrote the FreeRADIUS configuration to %(out)s (%(count)d clients)", clients)
          % {"out": out, "count": clients})
    if result.token_generated:
        print(_("radius['api.token'] was empty: generated a random one into %(file)s "
                "(a running server picks it up)") % {"file": home.config_file})
    # The commands line up under each other, whatever the words before them.
    print(_("Check it:  %(command)s") % {"command": f"freeradius -XC -d {out}"})
    print(_("Run it:    %(command)s") % {"command": f"freeradius -f -l stdout -d {out}"})
    return 0
