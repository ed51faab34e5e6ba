"""The files jitsictl renders and builds from, wherever jitsictl is installed.

`render` needs the templates and the Prosody attendance module; `up` needs the build contexts of
the images the stack builds itself (the receiver, `compose/logger/`, with `flask-logger/` and
`schema/`; Openfire, `compose/openfire/`, with `openfire-plugin/` for its Maven stage). In a
checkout (and an editable install) they are read in place; a wheel carries a copy of exactly
these files under `jitsictl/_sources/`, laid out as in the checkout (setup.py calls
`copy_tree` while building it). `root()` says which is in use.

What a build context sends is decided by its `<Dockerfile>.dockerignore`, read here with
Docker's rules (patterns, `**`, `!` exceptions, last match wins, a matched directory takes its
contents), so the wheel carries what a build needs and nothing else.

Local images get content-addressed tags (`content_tag`): a digest of every file the build
sends, the Dockerfile, its ignore file and the build arguments. A changed source gives a new tag,
which Compose does not have yet, so `jitsictl up` builds it; an unchanged one is reused without
a rebuild (the Openfire image's Maven stage takes minutes). `jitsictl up --build` forces one.

Only the standard library is imported: setup.py loads this file while building the wheel.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
BUNDLED = PACKAGE_DIR / "_sources"  # present in an installed wheel only
CHECKOUT = PACKAGE_DIR.parent

TEMPLATES = "templates"
PROSODY_PLUGIN = "prosody-plugin"


@dataclass(frozen=True)
class BuildContext:
    """An image the stack builds from the sources: its Dockerfile (relative to the root, which
    is the build context) and the ignore file next to it (BuildKit's `<Dockerfile>.dockerignore`)."""

    service: str
    dockerfile: str

    @property
    def ignore_file(self) -> str:
        return self.dockerfile + ".dockerignore"


BUILD_CONTEXTS = {
    "logger": BuildContext("logger", "compose/logger/Dockerfile"),
    "openfire": BuildContext("openfire", "compose/openfire/Dockerfile"),
}


class SourcesMissing(Exception):
    """The installation lacks files render or up need."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.hint = ("reinstall jitsictl (`pip install --force-reinstall jitsictl`), or run it from "
                     "a complete source checkout")


def root() -> Path:
    """The directory holding templates/, compose/, prosody-plugin/… for this installation."""
    return BUNDLED if BUNDLED.is_dir() else CHECKOUT


def require(relative: str, base: Path | None = None) -> Path:
    path = (base or root()) / relative
    if not path.exists():
        raise SourcesMissing(f"{path} is missing")
    return path


# -- .dockerignore ------------------------------------------------------------------------------

def _pattern_regex(pattern: str) -> re.Pattern:
    """Docker's pattern syntax (moby/patternmatcher): `*` and `?` stay within a path segment,
    `**` crosses segments; the pattern must match the whole path."""
    out, index = "", 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**", index):
            index += 2
            if pattern.startswith("/", index):
                out += "(?:.*/)?"
                index += 1
            else:
                out += ".*"
            continue
        if char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        else:
            out += re.escape(char)
        index += 1
    return re.compile(out + r"\Z")


@dataclass(frozen=True)
class IgnoreRules:
    """The patterns of a .dockerignore file, in order."""

    rules: tuple[tuple[bool, re.Pattern], ...]  # (is an exception "!…", regex)
    kept_prefixes: tuple[str, ...]  # the literal start of each exception pattern

    def ignored(self, relative: str) -> bool:
        """Docker's rule: the last pattern matching the path or one of its parent directories
        decides."""
        parts = relative.split("/")
        candidates = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
        ignored = False
        for exception, regex in self.rules:
            if any(regex.match(candidate) for candidate in candidates):
                ignored = not exception
        return ignored

    def prunes(self, directory: str) -> bool:
        """Whether nothing below an ignored `directory` can be let back in by an exception, so a
        walk need not enter it (a checkout's .venv holds thousands of files)."""
        return self.ignored(directory) and not any(
            prefix.startswith(directory + "/") or (directory + "/").startswith(prefix)
            for prefix in self.kept_prefixes)


def read_ignore(path: Path) -> IgnoreRules:
    rules, kept = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        pattern = os.path.normpath(line[1:] if exception else line).lstrip("/")
        rules.append((exception, _pattern_regex(pattern)))
        if exception:
            kept.append(re.split(r"[*?\[]", pattern, maxsplit=1)[0])
    return IgnoreRules(tuple(rules), tuple(kept))


def context_files(context: BuildContext, base: Path | None = None) -> list[str]:
    """Relative paths (sorted) of the files a build of `context` sends from `base`."""
    base = base or root()
    rules = read_ignore(require(context.ignore_file, base))
    found = []
    for directory, subdirs, files in os.walk(base):
        here = os.path.relpath(directory, base).replace(os.sep, "/")
        prefix = "" if here == "." else here + "/"
        subdirs[:] = sorted(name for name in subdirs if not rules.prunes(prefix + name))
        found += [prefix + name for name in files if not rules.ignored(prefix + name)]
    return sorted(found)


def content_tag(context: BuildContext, build_args: dict[str, str] | None = None,
                base: Path | None = None) -> str:
    """A tag naming this exact build: 16 hex digits of a SHA-256 over what the build uses."""
    base = base or root()
    return _content_tag(str(base), context, tuple(sorted((build_args or {}).items())),
                        _tree_stamp(base, context))


def _tree_stamp(base: Path, context: BuildContext) -> tuple:
    """The files a build uses (its context, Dockerfile and ignore file) with their sizes and
    modification times: the cache key of `_content_tag`, so one jitsictl process hashes a tree
    once while it is unchanged."""
    stamp = []
    files = {context.dockerfile, context.ignore_file, *context_files(context, base)}
    for relative in sorted(files):
        info = (base / relative).stat()
        stamp.append((relative, info.st_size, info.st_mtime_ns))
    return tuple(stamp)


@lru_cache(maxsize=8)
def _content_tag(base: str, context: BuildContext, build_args: tuple, stamp: tuple) -> str:
    digest = hashlib.sha256()
    for relative, _, _ in stamp:
        data = (Path(base) / relative).read_bytes()
        digest.update(f"{relative}\0{len(data)}\0".encode())
        digest.update(data)
    for name, value in build_args:
        digest.update(f"arg {name}={value}\0".encode())
    return digest.hexdigest()[:16]


# -- what a wheel carries ---------------------------------------------------------------------

def prosody_module_files(base: Path | None = None) -> list[str]:
    """The Prosody modules and the helper libraries they `module:require` (specs stay behind),
    relative to prosody-plugin/."""
    directory = require(PROSODY_PLUGIN, base)
    files = []
    for path in sorted(directory.rglob("*.lua")):
        relative = path.relative_to(directory)
        if relative.parts[0] in ("spec", "tests", "test") or relative.name.endswith("_spec.lua"):
            continue
        files.append(relative.as_posix())
    return files


def runtime_files(base: Path | None = None) -> list[str]:
    """Every file `render` and `up` read, relative to the root."""
    base = base or root()
    files = {p.relative_to(base).as_posix() for p in require(TEMPLATES, base).rglob("*")
             if p.is_file()}
    files.update(f"{PROSODY_PLUGIN}/{name}" for name in prosody_module_files(base))
    for context in BUILD_CONTEXTS.values():
        files.update((context.dockerfile, context.ignore_file))
        files.update(context_files(context, base))
    return sorted(files)


def copy_tree(source: Path, destination: Path) -> list[str]:
    """Copies `runtime_files` of a checkout into `destination` (symlinks become the files they
    point to: a wheel holds no links). Returns the files copied."""
    files = runtime_files(source)
    if destination.exists():
        shutil.rmtree(destination)
    for relative in files:
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / relative, target)
        shutil.copymode(source / relative, target)
    return files
