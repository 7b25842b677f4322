"""Find the shell examples of docs/*.md and what each is documented to answer.

The conventions (docs/development.md, "Docs examples"):

- An **example block** is a fenced ``sh``/``bash``/``shell`` block holding at least one
  ``curl`` or ``wget`` command. A reader pastes it whole; the test runs it whole, in one
  bash, from the pristine demo. Blocks without curl/wget (``make test``, bench commands)
  are not run.
- A **setup block** holds only variable assignments (``B=http://127.0.0.1:8082/...``):
  a reader sets them once, so the test runs them before every later block of that file.
- A command's **answer** is either the comment lines right under it (``# {...}``, which
  must start with ``{``, ``[``, ``"``, ``<`` or ``HTTP <code>``) or, for the block's last
  command, a fenced ``json``/``text``/``xml`` block right after the example block (only
  blank lines between). A JSON answer under a command may go on over several ``#`` lines
  (until it is complete JSON), an XML one over several ``# <...>`` lines; other text
  answers take one line. ``# HTTP 403 ...`` expects that status; without it any 2xx.
- Every curl/wget command needs an answer, except one whose output a variable captures
  (``KEY=$(curl ...)``): its HTTP status must still be 2xx.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .compare import parse_expected_json

RUN_LANGUAGES = {"sh", "bash", "shell"}
ANSWER_LANGUAGES = {"json", "text", "xml", ""}
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>```+|~~~+)[ \t]*(?P<info>[^`\n]*)$")
CLIENT = re.compile(r"(?:^|[\s;|&(`])(?:curl|wget)(?:\s|$)")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
ANSWER_START = re.compile(r"^(?:[{\[\"<]|HTTP \d{3}\b)")
STATUS = re.compile(r"^HTTP (?P<status>\d{3})\b[ \t]*(?P<rest>.*)$", re.S)


@dataclass
class Answer:
    """What a command is documented to answer. ``body`` None: only the status is checked."""

    line: int  # 1-based line in the doc where the answer starts
    status: int | None  # an explicit HTTP status; None: any 2xx
    body: str | None
    kind: str  # "json" or "text"


@dataclass
class Command:
    line: int  # 1-based line of the command's first line in the doc
    text: str  # as written, continuation lines included
    answer: Answer | None = None

    @property
    def is_client(self) -> bool:
        return bool(CLIENT.search(self.text))

    @property
    def captured(self) -> bool:
        """Its output goes into a variable (``KEY=$(curl ...)``), not to the reader."""
        return bool(ASSIGNMENT.match(self.text)) and "$(" in self.text


@dataclass
class Block:
    doc: Path
    line: int  # 1-based line of the opening fence
    commands: list[Command] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)  # the file's setup lines before it

    @property
    def name(self) -> str:
        return f"{self.doc.name}:{self.line}"


@dataclass
class Fenced:
    line: int  # of the opening fence
    info: str
    lines: list[str]  # content, indentation of the fence removed
    end: int  # line of the closing fence


def fenced_blocks(text: str) -> list[Fenced]:
    found: list[Fenced] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        content: list[str] = []
        j = i + 1
        while j < len(lines):
            closing = FENCE.match(lines[j])
            if closing and closing["fence"].startswith(fence[:3]) and not closing["info"].strip():
                break
            line = lines[j]
            content.append(line[len(indent):] if line.startswith(indent) else line.lstrip())
            j += 1
        found.append(Fenced(i + 1, opening["info"].strip(), content, j + 1))
        i = j + 1
    return found


def logical_lines(lines: list[str], first: int) -> list[tuple[int, str]]:
    """Join what bash reads as one line: backslash continuations and quotes or ``$(``
    left open at a line's end. Returns (doc line, text) pairs."""
    result: list[tuple[int, str]] = []
    buffer: list[str] = []
    start = first
    quote = ""
    depth = 0
    for number, line in enumerate(lines, first):
        if not buffer:
            start = number
        buffer.append(line)
        k = 0
        comment = False
        while k < len(line):
            c = line[k]
            if quote == "'":
                if c == "'":
                    quote = ""
            elif c == "\\":
                k += 1
            elif quote == '"':
                if c == '"':
                    quote = ""
                elif c == ")" and depth:
                    depth -= 1
                elif line.startswith("$(", k):
                    depth += 1
                    k += 1
            elif c in "'\"":
                quote = c
            elif c == "#" and (k == 0 or line[k - 1] in " \t;(") and depth == 0:
                comment = True
                break
            elif line.startswith("$(", k):
                depth += 1
                k += 1
            elif c == ")" and depth:
                depth -= 1
            k += 1
        continued = not comment and line.endswith("\\") and not line.endswith("\\\\")
        if quote or depth or continued:
            continue
        result.append((start, "\n".join(buffer)))
        buffer = []
    if buffer:
        result.append((start, "\n".join(buffer)))
    return result


def _answer_from_comments(line: int, comments: list[str]) -> Answer:
    text = "\n".join(c[2:] if c.startswith("# ") else c[1:] for c in comments).strip()
    status = None
    found = STATUS.match(text)
    if found:
        status = int(found["status"])
        text = found["rest"].strip()
    if not text:
        return Answer(line, status, None, "text")
    kind = "json" if text[0] in "{[\"" else "text"
    return Answer(line, status, text, kind)


def _answer_lines(comments: list[str]) -> list[str]:
    """The comment lines under a command that are its answer: JSON up to the line where it
    is complete, anything else one line. Later comment lines describe the next command."""
    first = _answer_from_comments(0, comments[:1])
    if first.kind != "json":
        if (first.body or "").startswith("<"):  # XML: every following `# <...>` line
            end = 1
            while end < len(comments) and comments[end].lstrip("#").strip().startswith("<"):
                end += 1
            return comments[:end]
        return comments[:1]
    for end in range(1, len(comments) + 1):
        answer = _answer_from_comments(0, comments[:end])
        try:
            parse_expected_json(answer.body or "")
        except ValueError:
            continue
        return comments[:end]
    return comments  # never complete: the check reports the doc's broken JSON


def _answer_from_block(fenced: Fenced, language: str) -> Answer:
    """A fenced block right after the example block: the last command's answer. Its
    first line may be ``HTTP <code>``; an empty block is an empty body."""
    text = "\n".join(fenced.lines)
    status = None
    found = STATUS.match(text)
    if found:
        status = int(found["status"])
        text = found["rest"].lstrip("\n")
    stripped = text.strip()
    json_like = language == "json" or (language == "" and stripped[:1] in ("{", "["))
    return Answer(fenced.line + 1, status, text, "json" if json_like else "text")


def _parse_block(doc: Path, fenced: Fenced, setup: list[str]) -> Block:
    block = Block(doc, fenced.line, setup=list(setup))
    pending: Command | None = None
    comments: list[str] = []
    comment_line = 0

    def close_comments() -> None:
        nonlocal comments, pending
        if pending and comments and ANSWER_START.match(comments[0].lstrip("#").strip()):
            pending.answer = _answer_from_comments(comment_line, _answer_lines(comments))
        comments = []
        pending = None

    for number, text in logical_lines(fenced.lines, fenced.line + 1):
        stripped = text.strip()
        if stripped.startswith("#"):
            if pending is not None:
                if not comments:
                    comment_line = number
                comments.append(stripped)
            continue
        close_comments()
        if not stripped:
            continue
        command = Command(number, text)
        block.commands.append(command)
        pending = command
    close_comments()
    return block


def is_setup(fenced: Fenced) -> bool:
    lines = [line.strip() for line in fenced.lines if line.strip()]
    code = [line for line in lines if not line.startswith("#")]
    return bool(code) and all(
        ASSIGNMENT.match(line) and not CLIENT.search(line) for line in code
    )


def doc_blocks(doc: Path) -> list[Block]:
    """The example blocks of one doc, each with its answers and the file's setup lines."""
    text = doc.read_text(encoding="utf-8")
    all_fenced = fenced_blocks(text)
    lines = text.split("\n")
    blocks: list[Block] = []
    setup: list[str] = []
    for index, fenced in enumerate(all_fenced):
        language = fenced.info.split()[0].lower() if fenced.info else ""
        if language not in RUN_LANGUAGES:
            continue
        if is_setup(fenced):
            setup.extend(line for line in fenced.lines if line.strip())
            continue
        if not any(CLIENT.search(line) for line in fenced.lines):
            continue
        block = _parse_block(doc, fenced, setup)
        following = all_fenced[index + 1] if index + 1 < len(all_fenced) else None
        if following is not None and block.commands:
            between = lines[fenced.end : following.line - 1]
            follow_language = following.info.split()[0].lower() if following.info else ""
            if not any(line.strip() for line in between) and follow_language in ANSWER_LANGUAGES:
                last = block.commands[-1]
                if last.answer is not None:
                    raise ValueError(
                        f"{doc.name}:{following.line}: the command on line {last.line} has "
                        f"an answer under it (line {last.answer.line}) and one in this block"
                    )
                last.answer = _answer_from_block(following, follow_language)
        blocks.append(block)
    return blocks


INLINE_CLIENT = re.compile(r"`((?:curl|wget) [^`]*)`")


def inline_examples(doc: Path) -> list[tuple[int, str]]:
    """curl/wget commands written in running text (`` `curl -s ...` ``), which the test
    cannot run: an example belongs in a sh block. Mentions of an option
    (`` `-G --data-urlencode` ``) are not commands and are not listed."""
    found = []
    inside = False
    for number, line in enumerate(doc.read_text(encoding="utf-8").split("\n"), 1):
        if FENCE.match(line):
            inside = not inside
            continue
        if not inside:
            found.extend((number, m[1]) for m in INLINE_CLIENT.finditer(line)
                         if "://" in m[1] or "$B" in m[1])
    return found
