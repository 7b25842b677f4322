"""A client of Carbon Billing 5's API REST v2.0, for reading a running Carbon (issue 15).

The wire is the one rest_v2/ serves (docs/rest-api-v2.md): a form-encoded POST to
``/rest_api/v2/<Model>/`` with ``method1``/``arg1``… and ``fields``; the answer is
``{"call", "result"}`` or ``{"call", "error"}``. Only reads are sent: the importer never
writes to the source.

Lists are read in pages by primary key (``id__gt`` the last one seen, ``order_by`` id,
``limit``) rather than by ``offset``: a Carbon that keeps working during the import (new
payments, a subscriber deleted) cannot shift a row from one page to the next, so nothing
is read twice or skipped, and each page costs the source the same index range scan.

Every failure is a CarbonError with one line an operator can act on: the server cannot be
reached, it refused the key, it is not a Carbon REST v2.0 (an HTML page, another API), or
it answered an error to a call.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

from asr_billing.core.cli_text import gettext as _

DEFAULT_PAGE = 500  # objects per page: well under Carbon's and our max_results (1000)
MAX_ANSWER = 64 * 1024 * 1024  # bytes of one answer: a page of 500 objects is far less


class CarbonError(Exception):
    """The source cannot be read; ``str()`` is one line for the operator."""


class CarbonClient:
    """Reads one Carbon (or asr-billing) REST v2.0 at ``url`` (``http://HOST:8082``)."""

    def __init__(self, url: str, key: str = "", *, timeout: float = 60.0):
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise CarbonError(_("%(url)r is not an http:// or https:// address of the "
                                "server, e.g. http://10.0.0.2:8082") % {"url": url})
        self.base = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        if not self.base.endswith("/rest_api/v2"):
            self.base += "/rest_api/v2"
        self.key = key
        self.timeout = timeout
        self.calls = 0  # requests sent, for the report

    # -- one call ----------------------------------------------------------------------

    def call(self, model: str, *chain: tuple[str, object], fields: list[str] | None = None,
             limit: int | None = None, extra: dict | None = None):
        """``chain`` is (method, argument) pairs; returns the answer's ``result``."""
        form: dict[str, str] = {}
        for number, (method, argument) in enumerate(chain, start=1):
            form[f"method{number}"] = method
            form[f"arg{number}"] = json.dumps(argument if argument is not None else {},
                                              ensure_ascii=False)
        if fields is not None:
            form["fields"] = json.dumps(fields)
        if limit is not None:
            form["limit"] = str(limit)
        form.update(extra or {})
        status, answer = self._post(model, urlencode(form).encode("utf-8"))
        if not isinstance(answer, dict) or "call" not in answer or (
                "result" not in answer and "error" not in answer):
            raise CarbonError(self._not_carbon(status, answer))
        if answer.get("error"):
            if status == 403:
                raise CarbonError(_("%(url)s refused access: %(error)s (is --key right, and "
                                    "this machine in its allowed addresses?)")
                                  % {"url": self.base, "error": answer["error"]})
            what = " ".join(m for m, _a in chain) or model
            raise CarbonError(_("%(model)s %(call)s: the source answered: %(error)s")
                              % {"model": model, "call": what, "error": answer["error"]})
        return answer.get("result")

    def version(self) -> str:
        """The source's version; the first call of an import (it proves the wire)."""
        return str(self.call("Version", extra={"get_version": "True"}))

    # -- lists -------------------------------------------------------------------------

    def pages(self, model: str, lookup: dict | None = None, *, fields: list[str] | None = None,
              page_size: int = DEFAULT_PAGE) -> Iterator[list[dict]]:
        """Every object of ``model`` matching ``lookup``, a page (a list) at a time, by
        increasing primary key."""
        last = None
        while True:
            condition = dict(lookup or {})
            if last is not None:
                condition["id__gt"] = last
            page = self.call(model, ("objects.filter", condition), ("order_by", ["id"]),
                             fields=fields, limit=page_size)
            if not isinstance(page, list):
                raise CarbonError(_("%(model)s objects.filter: expected a list, the source "
                                    "answered %(kind)s") % {"model": model,
                                                            "kind": type(page).__name__})
            if not page:
                return
            yield page
            if len(page) < page_size:
                return
            last = page[-1]["pk"]

    # -- transport ---------------------------------------------------------------------

    def _post(self, model: str, body: bytes) -> tuple[int, object]:
        headers = {"Content-Type": "application/x-www-form-urlencoded",
                   "Accept": "application/json"}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        request = urllib.request.Request(f"{self.base}/{model}/", data=body,  # noqa: S310 - http(s) only, checked in __init__
                                         headers=headers, method="POST")
        self.calls += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - http(s) only, checked in __init__
                status, data = response.status, response.read(MAX_ANSWER + 1)
        except urllib.error.HTTPError as exc:  # 403, 404, 500: the body may still say why
            status, data = exc.code, exc.read(MAX_ANSWER + 1)
        except (TimeoutError, urllib.error.URLError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise CarbonError(_("cannot reach %(url)s: %(reason)s")
                              % {"url": self.base, "reason": reason}) from None
        if len(data) > MAX_ANSWER:
            raise CarbonError(_("%(url)s answered more than %(mb)d MB to one call")
                              % {"url": self.base, "mb": MAX_ANSWER // 2**20})
        try:
            return status, json.loads(data)
        except (ValueError, UnicodeDecodeError):
            return status, data

    def _not_carbon(self, status: int, answer: object) -> str:
        if isinstance(answer, bytes):
            start = answer[:80].decode("utf-8", "replace")
        else:
            start = json.dumps(answer, ensure_ascii=False)[:80]
        start = " ".join(start.split())
        return (_("%(url)s does not answer as Carbon's API REST v2.0 (HTTP %(status)s: "
                  "%(start)s…); give the address of its REST API, e.g. http://HOST:8082")
                % {"url": self.base, "status": status, "start": start})
