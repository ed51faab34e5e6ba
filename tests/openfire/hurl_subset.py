"""Just enough of the Hurl file format (https://hurl.dev) to replay the REST API plugin's own
HTTP tests against our fake: request line, headers, a ``` body, `HTTP <status>` and `[Asserts]`
with `xpath`/`jsonpath`/`header` queries and the predicates ==, !=, >, >=, <, <=, exists,
not exists, optionally after `count`. Anything else raises HurlUnsupported so a test can skip it
loudly instead of passing silently."""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

REQUEST = re.compile(r"^(GET|POST|PUT|DELETE|HEAD|PATCH|OPTIONS)\s+(\S+)\s*$")
STATUS = re.compile(r"^HTTP(?:/[\d.]+)?\s+(\d{3}|\*)\s*$")
HEADER = re.compile(r"^([A-Za-z0-9-]+):\s*(.*)$")


class HurlUnsupported(Exception):
    """A construct this subset does not implement."""


@dataclass
class Assert:
    query: str          # xpath | jsonpath | header
    expr: str
    count: bool
    predicate: str      # ==, !=, >, >=, <, <=, exists, not exists
    expected: Any
    line: int
    text: str


@dataclass
class Entry:
    file: str
    index: int          # 1-based position in the file
    line: int
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: Optional[str] = None
    status: Optional[int] = None
    asserts: list[Assert] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.file}#{self.index} {self.method} {self.url}"


def load_env(path: Path) -> dict[str, str]:
    env = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            env[key.strip()] = value.strip()
    return env


def _substitute(text: str, env: dict[str, str]) -> str:
    def repl(match: re.Match) -> str:
        name = match.group(1).strip()
        if name not in env:
            raise HurlUnsupported(f"undefined variable {name}")
        return env[name]
    return re.sub(r"\{\{([^}]+)\}\}", repl, text)


def _strip_comment(line: str) -> str:
    """Drop a trailing `# comment` that is outside double quotes."""
    quoted = False
    for i, ch in enumerate(line):
        if ch == '"' and (i == 0 or line[i - 1] != "\\"):
            quoted = not quoted
        elif ch == "#" and not quoted:
            return line[:i].rstrip()
    return line.rstrip()


def _value(token: str) -> Any:
    if token in ("true", "false"):
        return token == "true"
    if token == "null":
        return None
    try:
        return int(token)
    except ValueError:
        try:
            return float(token)
        except ValueError:
            raise HurlUnsupported(f"unsupported value {token!r}") from None


def _parse_assert(text: str, line: int) -> Assert:
    tokens = shlex.split(text, posix=True)
    raw = shlex.shlex(text, posix=False)
    raw.whitespace_split = True
    raw_tokens = list(raw)
    if not tokens or tokens[0] not in ("xpath", "jsonpath", "header"):
        raise HurlUnsupported(f"line {line}: query {tokens[:1]} not supported")
    query, expr, rest, raw_rest = tokens[0], tokens[1], tokens[2:], raw_tokens[2:]
    count = False
    if rest and rest[0] == "count":
        count, rest, raw_rest = True, rest[1:], raw_rest[1:]
    if rest == ["exists"]:
        return Assert(query, expr, count, "exists", None, line, text)
    if rest == ["not", "exists"]:
        return Assert(query, expr, count, "not exists", None, line, text)
    if len(rest) == 2 and rest[0] in ("==", "!=", ">", ">=", "<", "<="):
        expected = rest[1] if raw_rest[1].startswith('"') else _value(rest[1])
        return Assert(query, expr, count, rest[0], expected, line, text)
    raise HurlUnsupported(f"line {line}: predicate {' '.join(rest)!r} not supported")


def parse(path: Path, env: dict[str, str]) -> list[Entry]:
    entries: list[Entry] = []
    lines = path.read_text().splitlines()
    current: Optional[Entry] = None
    section = None
    i = 0
    while i < len(lines):
        number, raw = i + 1, lines[i]
        i += 1
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        request = REQUEST.match(stripped)
        if request:
            current = Entry(path.name, len(entries) + 1, number, request.group(1),
                            _substitute(request.group(2), env))
            entries.append(current)
            section = "headers"
            continue
        if current is None:
            raise HurlUnsupported(f"{path.name}:{number}: text before the first request")
        if stripped.startswith("```"):
            if stripped != "```":
                raise HurlUnsupported(f"{path.name}:{number}: typed multiline bodies not supported")
            body = []
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            i += 1
            current.body = _substitute("\n".join(body) + "\n", env)
            continue
        status = STATUS.match(stripped)
        if status:
            if status.group(1) == "*":
                raise HurlUnsupported(f"{path.name}:{number}: wildcard status not supported")
            current.status = int(status.group(1))
            section = "response"
            continue
        if stripped.startswith("["):
            if stripped != "[Asserts]":
                raise HurlUnsupported(f"{path.name}:{number}: section {stripped} not supported")
            section = "asserts"
            continue
        if section == "headers":
            header = HEADER.match(stripped)
            if not header:
                raise HurlUnsupported(f"{path.name}:{number}: cannot read {stripped!r}")
            current.headers[header.group(1)] = _substitute(header.group(2), env)
        elif section == "asserts":
            current.asserts.append(_parse_assert(_substitute(_strip_comment(stripped), env), number))
        else:
            raise HurlUnsupported(f"{path.name}:{number}: response headers/captures not supported")
    return entries


def evaluate(a: Assert, content_type: str, body: bytes, headers: dict[str, str]) -> tuple[bool, Any]:
    """Return (passed, actual value)."""
    if a.query == "xpath":
        from lxml import etree
        document = etree.fromstring(body)
        result = document.xpath(a.expr)
        nodes = result if isinstance(result, list) else None
    elif a.query == "jsonpath":
        raise HurlUnsupported("jsonpath queries are not used by the plugin's tests; not implemented")
    else:
        value = headers.get(a.expr.lower())
        result, nodes = value, None
    if a.count:
        if nodes is None:
            raise HurlUnsupported(f"count on a non-node-set result: {a.text}")
        actual: Any = len(nodes)
    elif nodes is not None:
        actual = nodes
    else:
        actual = result
    if a.predicate == "exists":
        return (bool(actual) if nodes is not None else actual is not None), actual
    if a.predicate == "not exists":
        return (not actual if nodes is not None else actual is None), actual
    if isinstance(actual, list):
        raise HurlUnsupported(f"comparison on a node set: {a.text}")
    if isinstance(a.expected, (int, float)) and not isinstance(a.expected, bool) and isinstance(actual, str):
        actual = float(actual)
    ops = {"==": lambda x, y: x == y, "!=": lambda x, y: x != y, ">": lambda x, y: x > y,
           ">=": lambda x, y: x >= y, "<": lambda x, y: x < y, "<=": lambda x, y: x <= y}
    return ops[a.predicate](actual, a.expected), actual
