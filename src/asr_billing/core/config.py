"""Reader and writer for the Carbon-style ``cfg/config`` file (the known keys: config_schema.py).

The file looks like a bash script of associative arrays::

    # comment
    declare -A network
    network['api.context']='web cabinet collector'
    network['api.context.widget']='inputbox "Contexts" "Space-separated"'
    app['time_zone']='Europe/Moscow'   # trailing comments are allowed

We never source, exec or eval it. Values are parsed with the quoting rules bash
applies to such lines: single quotes take everything literally, double quotes allow
the escapes ``\\" \\\\ \\$ \\``` and adjacent pieces concatenate (``'it'\\''s'``).
Anything that bash would expand (``$VAR``, backticks) is refused, because reading it
literally would silently differ from what the original Carbon tools did.

Keys ending in ``.widget`` are UI hints of Carbon's settings screen: kept on rewrite,
never interpreted. This module must not import Django.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from asr_billing.core.cli_text import gettext as _
from asr_billing.core.cli_text import gettext_noop

# The known keys; the names after SCHEMA are imported from here by other modules too.
from asr_billing.core.config_schema import (  # noqa: F401 - re-exported
    PSW_KEY_RE,
    SCHEMA,
    KeySpec,
    check_db_url,
    networks_contain,
    parse_networks,
    payment_problems,
    validator_for,
)

SECTION_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
DECLARE_RE = re.compile(r"^\s*declare\s+-[gA]+(\s+[A-Za-z_][A-Za-z0-9_]*)+\s*(#.*)?$")
# section['key']= or section["key"]= ; the key itself may not contain quotes.
ASSIGN_RE = re.compile(
    r"""^(?P<indent>\s*)(?P<section>[A-Za-z_][A-Za-z0-9_]*)\[(?P<q>['"])(?P<key>[^'"\n]*)(?P=q)\]="""
)
SHELL_EXPANSION = gettext_noop("shell expansion ($ or `) is not supported; quote it with '")
BARE_CHARS = set(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.,:/@%+=-~^!?[]{}"
)


class ConfigError(ValueError):
    """A line of the config file cannot be used. ``str()`` names file and line.

    ``message`` comes translated (app['language']): the raiser wraps it in ``_()``.
    """

    def __init__(self, path: str | Path | None, lineno: int | None, message: str):
        self.path = str(path) if path is not None else "<config>"
        self.lineno = lineno
        self.message = message
        where = f"{self.path}:{lineno}" if lineno else self.path
        super().__init__(f"{where}: {message}")


@dataclass
class Line:
    """One physical line. Assignments remember where their value sits, to splice in a new one."""

    raw: str
    section: str | None = None
    key: str | None = None
    value: str | None = None
    value_start: int = 0
    value_end: int = 0


def _parse_value(text: str, start: int) -> tuple[str, int]:
    """Parse a bash word starting at ``text[start]``; return (value, index after the word)."""
    out: list[str] = []
    i = start
    n = len(text)
    while i < n:
        ch = text[i]
        # bash expands an unquoted ~ at the start of an assignment's value or after a ':'.
        if ch == "~" and (i == start or text[i - 1] == ":"):
            raise ValueError(_("'~' would be expanded by bash; quote the value with '"))
        if ch == "'":
            end = text.find("'", i + 1)
            if end < 0:
                raise ValueError(_("unterminated single quote"))
            out.append(text[i + 1 : end])
            i = end + 1
        elif ch == '"':
            i += 1
            while True:
                if i >= n:
                    raise ValueError(_("unterminated double quote"))
                c = text[i]
                if c == '"':
                    i += 1
                    break
                if c == "\\" and i + 1 < n and text[i + 1] in '"\\$`':
                    out.append(text[i + 1])
                    i += 2
                    continue
                if c in "$`":
                    raise ValueError(_(SHELL_EXPANSION))
                out.append(c)
                i += 1
        elif ch == "\\":
            if i + 1 >= n:
                raise ValueError(_("dangling backslash"))
            out.append(text[i + 1])
            i += 2
        elif ch in " \t":
            break
        elif ch in "$`":
            raise ValueError(_(SHELL_EXPANSION))
        elif ch in BARE_CHARS or ord(ch) > 127:
            out.append(ch)
            i += 1
        else:
            raise ValueError(_("unexpected character %(char)r in value; quote the value with '")
                             % {"char": ch})
    return "".join(out), i


def parse_line(raw: str) -> Line:
    """Parse one line (without its newline). Raises ValueError with a short reason.

    A carriage return ending the line (a file saved on Windows) is kept in ``raw`` so the
    file is written back as it was, but it is not part of the value.
    """
    body = raw[:-1] if raw.endswith("\r") else raw
    stripped = body.strip()
    if not stripped or stripped.startswith("#") or DECLARE_RE.match(body):
        return Line(raw)
    match = ASSIGN_RE.match(body)
    if not match:
        raise ValueError(_("expected section['key']='value', a # comment or a blank line"))
    start = match.end()
    value, end = _parse_value(body, start)
    rest = body[end:].strip()
    if rest and not rest.startswith("#"):
        raise ValueError(_("unexpected text after the value: %(text)r") % {"text": rest[:40]})
    return Line(raw, match["section"], match["key"], value, start, end)


def quote(value: str) -> str:
    """Quote a value the way Carbon writes it: single quotes, ' as '\\''."""
    if "\n" in value or "\r" in value:
        raise ValueError(_("values cannot span lines"))
    return "'" + value.replace("'", "'\\''") + "'"


@dataclass
class ConfigFile:
    lines: list[Line] = field(default_factory=list)
    path: str | None = None
    # Whether the text ended with a newline; render() reproduces the file byte for byte.
    final_newline: bool = True

    @classmethod
    def parse(cls, text: str, path: str | Path | None = None) -> ConfigFile:
        # Split on "\n" only: str.splitlines() also splits on \x0c, \x85, \u2028 and
        # others, which bash (and so the file format) treats as ordinary characters.
        raws = text.split("\n")
        final_newline = text == "" or text.endswith("\n")
        if raws[-1] == "":
            raws.pop()
        lines = []
        for lineno, raw in enumerate(raws, start=1):
            try:
                lines.append(parse_line(raw))
            except ValueError as exc:
                raise ConfigError(path, lineno, str(exc)) from None
        cfg = cls(lines, str(path) if path is not None else None, final_newline)
        cfg.validate()
        return cfg

    @classmethod
    def load(cls, path: str | Path) -> ConfigFile:
        # Bytes, not read_text(): universal newlines would turn \r\n into \n and a
        # rewrite of one value would silently change every line of the file.
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise ConfigError(path, None, _("file not found")) from None
        return cls.parse_bytes(data, path)

    @classmethod
    def parse_bytes(cls, data: bytes, path: str | Path | None = None) -> ConfigFile:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            # exc.reason: Python's own words ("invalid start byte").
            raise ConfigError(path, None, _("not UTF-8 text (%(reason)s)")
                              % {"reason": exc.reason}) from None
        return cls.parse(text, path)

    def values(self) -> dict[tuple[str, str], str]:
        """All settings, later lines winning like in bash; ``.widget`` hints left out."""
        result: dict[tuple[str, str], str] = {}
        for line in self.lines:
            if line.section is not None and not line.key.endswith(".widget"):
                result[(line.section, line.key)] = line.value
        return result

    def _lineno_of(self, section: str, key: str) -> int | None:
        found = None
        for lineno, line in enumerate(self.lines, start=1):
            if line.section == section and line.key == key:
                found = lineno
        return found

    def get(self, section: str, key: str, default: str | None = None) -> str | None:
        value = self.values().get((section, key))
        if value is None:
            spec = SCHEMA.get((section, key))
            return spec.default if spec is not None and default is None else default
        return value

    def validate(self) -> None:
        """Check every known key's value; an error names the line it came from."""
        values = self.values()
        for (section, key), value in values.items():
            validator = validator_for(section, key)
            if validator is None:
                continue
            try:
                validator(value)
            except ValueError as exc:
                raise ConfigError(
                    self.path, self._lineno_of(section, key), f"{section}['{key}']: {exc}"
                ) from None
        # Rules between keys (a gateway instance's settings), named by one key's line.
        for section, key, message in payment_problems(values):
            raise ConfigError(self.path, self._lineno_of(section, key),
                              f"{section}['{key}']: {message}")

    def set(self, section: str, key: str, value: str) -> None:
        """Set one value, keeping every other line, comment and the order intact.

        The last assignment of the key is rewritten in place (bash would use that one);
        a new key goes after the last line of its section, or at the end of the file.
        """
        if not SECTION_RE.fullmatch(section):
            raise ConfigError(self.path, None,
                              _("bad section name %(section)r") % {"section": section})
        if not key or any(c in key for c in "'\"\n\r"):
            raise ConfigError(self.path, None, _("bad key name %(key)r") % {"key": key})
        target = None
        last_in_section = None
        for index, line in enumerate(self.lines):
            if line.section == section:
                last_in_section = index
                if line.key == key:
                    target = index
        position = len(self.lines) if last_in_section is None else last_in_section + 1
        # Errors name the line that would change (or be added), like errors when reading.
        lineno = (target if target is not None else position) + 1
        validator = validator_for(section, key)
        if validator is not None:
            try:
                validator(value)
            except ValueError as exc:
                raise ConfigError(self.path, lineno, f"{section}['{key}']: {exc}") from None
        try:
            quoted = quote(value)
        except ValueError as exc:
            raise ConfigError(self.path, lineno, str(exc)) from None
        before = list(self.lines)
        problems_before = set(payment_problems(self.values())) if section == "payments" else set()
        if target is not None:
            old = self.lines[target]
            raw = old.raw[: old.value_start] + quoted + old.raw[old.value_end :]
            self.lines[target] = parse_line(raw)
        else:
            # Follow the file's line ending (a file saved on Windows keeps \r\n).
            neighbour = self.lines[position - 1].raw if position > 0 else ""
            eol = "\r" if neighbour.endswith("\r") else ""
            self.lines.insert(position, parse_line(f"{section}['{key}']={quoted}{eol}"))
        if section == "payments":
            # A gateway's settings depend on each other (an enabled one needs an operator):
            # refuse the value that would break the rules, leaving the file as it was.
            problems = [p for p in payment_problems(self.values()) if p not in problems_before]
            if problems:
                self.lines = before
                _section, other, message = problems[0]
                raise ConfigError(self.path, lineno, f"payments['{other}']: {message}")

    def unset(self, section: str, key: str) -> int:
        """Remove every line assigning the key (its default applies again); how many went.
        Refused, leaving the file as it was, when the rest would break a rule between
        settings (a payment gateway left without its operator)."""
        before = list(self.lines)
        problems_before = set(payment_problems(self.values())) if section == "payments" else set()
        self.lines = [line for line in self.lines
                      if not (line.section == section and line.key == key)]
        removed = len(before) - len(self.lines)
        if section == "payments":
            problems = [p for p in payment_problems(self.values()) if p not in problems_before]
            if problems:
                self.lines = before
                _section, other, message = problems[0]
                raise ConfigError(self.path, None, f"payments['{other}']: {message}")
        return removed

    def render(self) -> str:
        text = "\n".join(line.raw for line in self.lines)
        return text + "\n" if self.lines and self.final_newline else text

    def save(self, path: str | Path | None = None) -> None:
        """Write atomically (temp file + rename) so a running server never reads half a file.

        The file holds passwords: the temp file is private (0600) from its creation and
        takes the target's mode only once it is complete.
        """
        target = Path(path or self.path)
        mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o600
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(self.render().encode("utf-8"))
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def write_private(path: str | Path, data: bytes) -> bool:
    """Create ``path`` with mode 0600 from the first moment (no chmod afterwards, when
    another local user could already have opened it). An existing file is left alone:
    returns False."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    return True
