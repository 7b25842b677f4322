"""The docs examples test's own parts: finding examples and their answers in markdown,
comparing answers with ``…`` marks, and judging a command's outcome. A harness that
passed everything would make the docs test worthless, so each refusal is tried here."""

from __future__ import annotations

import pytest

from .compare import ANY, json_difference, parse_expected_json, text_difference
from .extract import doc_blocks, inline_examples, logical_lines
from .run import Outcome, check

DOC = '''# Title

```sh
B=http://127.0.0.1:8082/rest_api/v2
```

Text with `curl -s $B/Version/` in it, and `-G --data-urlencode` (an option, not a command).

```sh
# a description of the first command
curl -s $B/Version/ -d get_version=True
# {"call": "/rest_api/v2/Version/",
#  "result": "0.1.0"}
# a description of the second command, not an answer
KEY=$(curl -s -d username=admin 'http://127.0.0.1:8082/admin/?api=Y')
curl -s "http://127.0.0.1:8082/x?k=$KEY" \\
     -d a=1
# HTTP 403 {"error": "…"}
curl "http://127.0.0.1:8082/rest_api/?hash_key=$KEY"
# <?xml version="1.0" encoding="utf-8"?>
# <response>260</response>
# and a last command whose answer is the next block
curl -g 'http://127.0.0.1:8082/system_api/?arg1={"nas_ip":"10.0.0.1"}'
```

```text
HTTP 400
error: …
```

```sh
make test
```
'''


@pytest.fixture
def blocks(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text(DOC, encoding="utf-8")
    return doc, doc_blocks(doc)


def test_blocks_commands_and_answers(blocks):
    doc, found = blocks
    [block] = found  # the setup block and `make test` are not examples
    assert block.name == "doc.md:9"
    assert block.setup == ["B=http://127.0.0.1:8082/rest_api/v2"]
    version, key, post, xml, collector = block.commands
    assert (version.line, version.answer.line, version.answer.status) == (11, 12, None)
    assert parse_expected_json(version.answer.body) == {
        "call": "/rest_api/v2/Version/", "result": "0.1.0"}
    assert key.captured and key.answer is None
    assert post.text.endswith("-d a=1")
    assert (post.answer.status, post.answer.kind) == (403, "json")
    assert xml.answer.body == ('<?xml version="1.0" encoding="utf-8"?>\n'
                               "<response>260</response>")
    assert xml.answer.kind == "text"
    assert (collector.answer.line, collector.answer.status) == (27, 400)
    assert (collector.answer.kind, collector.answer.body) == ("text", "error: …")
    assert inline_examples(doc) == [(7, "curl -s $B/Version/")]


def test_logical_lines_join_continuations_and_open_quotes():
    lines = ["a \\", "  b", "c \"$(date -d '+1 day'", "+%F)\" d", "# not ' a quote", "e"]
    assert logical_lines(lines, 1) == [
        (1, "a \\\n  b"), (3, "c \"$(date -d '+1 day'\n+%F)\" d"), (5, "# not ' a quote"),
        (6, "e")]


@pytest.mark.parametrize(("expected", "actual"), [
    ('{"a": "…"}', {"a": [1, {"b": None}]}),
    ('{"a": …, "b": 1}', {"a": "x", "b": 1}),
    ('{"a": 1, …}', {"a": 1, "b": 2, "c": 3}),
    ('{…}', {"z": 1}),
    ('[{"pk": 1}, …]', [{"pk": 1}, {"pk": 2}]),
    ('[{"pk": 1}, …]', [{"pk": 1}]),
    ('[…]', []),
    ('"Block from … to … is set"', "Block from 04.12.2026 to 17.12.2026 is set"),
    ('{"n": 1.5, "t": true, "s": "1"}', {"n": 1.5, "t": True, "s": "1"}),
])
def test_json_matches(expected, actual):
    assert json_difference(parse_expected_json(expected), actual) is None


@pytest.mark.parametrize(("expected", "actual", "difference"), [
    ('{"result": [{"pk": 1}, …]}', {"result": []},
     "answer.result: expected 1 or more elements, got 0: []"),
    ('{"result": [1]}', {"result": [1, 2]}, "answer.result: expected 1 elements, got 2: [1, 2]"),
    ('{"a": 1}', {"a": 1, "error": "x"},
     'answer: keys the doc does not show: "error" (show them, or end the object with …)'),
    ('{"a": 1}', {"b": 1}, 'answer: the key "a" is missing'),
    ('{"a": "1"}', {"a": 1}, 'answer.a: expected "1", got 1'),
    ('{"a": 1}', {"a": True}, "answer.a: expected 1, got true"),
    ('{"a": "x …"}', {"a": "y 1"}, 'answer.a: expected "x …", got "y 1"'),
    ('[{"a": {"b": [0, 1]}}]', [{"a": {"b": [0, 2]}}], "answer[0].a.b[1]: expected 1, got 2"),
])
def test_json_differences(expected, actual, difference):
    assert json_difference(parse_expected_json(expected), actual) == difference


def test_json_marks_parse():
    assert parse_expected_json('{"a": "…", "b": [1, …], …}') == {
        "a": ANY, "b": [1, "\x00more"], "\x00more": None}
    with pytest.raises(ValueError, match="not JSON"):
        parse_expected_json('{"a": 1')


def test_text_answers():
    line = "<ip> <login> 1 … 10.0.0.1"
    assert text_difference(line, "10.20.30.1 debtor 1 0 0 5 10.0.0.1\n") is None
    assert text_difference(line, "10.20.30.1 de btor 1 0 10.0.0.1") is not None
    assert text_difference(f"{line}\n…", "10.20.30.1 a 1 x 10.0.0.1\nanything\nelse\n") is None
    assert text_difference("a\n…\nz", "a\nz") is None
    assert text_difference("a\n…\nz", "a\nb\nc\nz") is None
    assert text_difference("a\nb", "a\nc") == "line 2: expected 'b', got 'c'"
    assert text_difference("", "") is None
    assert text_difference("", "x") == "expected 0 lines, got 1"


def outcome(block, index, *, code=0, statuses=(200,), output=b"{}"):
    command = block.commands[index]
    return Outcome(command, True, code, output, "", list(statuses))


def test_check_judges_each_outcome(blocks):
    _, [block] = blocks
    version_ok = b'{"call": "/rest_api/v2/Version/", "result": "0.1.0"}'
    assert check(outcome(block, 0, output=version_ok), block) is None
    assert "expected HTTP 2xx" in check(outcome(block, 0, statuses=[500], output=version_ok),
                                        block)
    assert "the command failed" in check(outcome(block, 0, code=7, statuses=[0]), block)
    assert "the answer is not JSON" in check(outcome(block, 0, output=b"<html>"), block)
    assert check(outcome(block, 1, output=b""), block) is None  # KEY=$(curl ...)
    assert "expected HTTP 2xx" in check(outcome(block, 1, statuses=[403], output=b""), block)
    assert check(outcome(block, 2, statuses=[403], output=b'{"error": "no"}'), block) is None
    assert "expected HTTP 403" in check(
        outcome(block, 2, statuses=[200], output=b'{"error": "no"}'), block)
    assert "before the last one" in check(
        outcome(block, 2, statuses=[500, 403], output=b'{"error": "no"}'), block)
    assert check(outcome(block, 4, statuses=[400], output=b"error: bad nas_ip\n"), block) is None
    not_run = Outcome(block.commands[0], False, -1, b"", "", [])
    assert check(not_run, block) == "did not run: bash stopped before it"


def test_an_example_without_an_answer_fails(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("```sh\ncurl -s http://127.0.0.1:8082/x\n# just a comment\n```\n",
                   encoding="utf-8")
    [block] = doc_blocks(doc)
    assert check(outcome(block, 0), block).startswith("no answer shown")


def test_wget_refused_is_a_failure_unless_the_doc_says_so(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("```sh\nwget -q -O - 'http://127.0.0.1:8082/a'\n# HTTP 400\n"
                   "wget -q -O - 'http://127.0.0.1:8082/b'\n# []\n```\n", encoding="utf-8")
    [block] = doc_blocks(doc)
    assert check(outcome(block, 0, code=8, statuses=[], output=b""), block) is None
    assert "the command failed" in check(outcome(block, 1, code=8, statuses=[], output=b""),
                                         block)
