"""The one rule that turns a command, as a manifest or a Procfile writes it, into the argv a container runs.

- A list runs as written.
- A string without shell syntax is split into words as `sh` would split it
  (quotes and backslashes honoured): `python manage.py migrate` runs
  `["python", "manage.py", "migrate"]`. This is Convox v3's rule, which
  shell-splits `command` into the container's arguments.
- A string with shell syntax (`$VAR`, `&&`, `|`, `;`, redirections, globs,
  backticks, `$(...)`, a newline, a leading assignment or shell keyword...)
  runs as `["/bin/sh", "-c", <the string>]`, so it means what it means in a
  Procfile. Convox v2 ran every string through `sh -c`; paaskit does so only
  where the shell changes the meaning, so images without a shell can run
  plain commands. A single command is given `exec` (`exec gunicorn ...
  --bind :$PORT`), so the program replaces the shell and receives the
  SIGTERM that stops its container; compound commands are left as written.

Where the argv goes: it is the ECS `command` (the Docker CMD), never the
`entryPoint`. The image's ENTRYPOINT, if any, still runs and receives it as
its arguments, as Docker and ECS do for a task's `command` and for RunTask's
`containerOverrides.command`, the only part of a container a one-off task
can override. The App's composer (`paaskit.app._command`) applies this rule
to services, Procfile processes, releases and timers; `paaskit run` applies it
to one-off commands.

Standard library only: the day-2 operations (`paaskit.ops`) import it too.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

__all__ = [
    "SHELL",
    "command_argv",
    "has_shell_syntax",
]

SHELL = ("/bin/sh", "-c")
"""How a command with shell syntax runs: POSIX sh, by absolute path (no PATH lookup)."""

# Outside quotes, each of these makes sh do something a plain split would not.
_OPERATORS = frozenset("|&;<>()`$*?[]{}\n")
# At the start of a word: a comment, a tilde expansion.
_WORD_START = frozenset("#~")
# Inside double quotes, sh still expands these; shlex would keep them literally.
_EXPANDED_IN_DOUBLE_QUOTES = frozenset("$`")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")

_SHELL_WORDS = frozenset(
    {
        # reserved words
        "!",
        "case",
        "do",
        "done",
        "elif",
        "else",
        "esac",
        "fi",
        "for",
        "function",
        "if",
        "in",
        "select",
        "then",
        "until",
        "while",
        "[[",
        # builtins that are no program on PATH (POSIX special and regular builtins)
        ".",
        ":",
        "alias",
        "bg",
        "break",
        "cd",
        "continue",
        "eval",
        "exec",
        "exit",
        "export",
        "fg",
        "getopts",
        "hash",
        "jobs",
        "local",
        "read",
        "readonly",
        "return",
        "set",
        "shift",
        "source",
        "times",
        "trap",
        "ulimit",
        "umask",
        "unalias",
        "unset",
        "wait",
    }
)
"""A first word that is a shell keyword or builtin: only a shell can run it."""

# What makes a command compound: `exec` in front of it would change its meaning.
_COMPOUND = re.compile(r"[;&|<>()`\n{}]|\$\(")


def _unquoted_syntax(text: str) -> bool:
    """Whether `text` uses shell syntax that a POSIX word split would not reproduce."""
    quote: str | None = None
    word_start = True
    index = 0
    while index < len(text):
        char = text[index]
        if quote == "'":
            if char == "'":
                quote = None
        elif quote == '"':
            if char == "\\":
                following = text[index + 1 : index + 2]
                # sh removes the backslash before $ ` and newline too; shlex keeps it.
                if following in _EXPANDED_IN_DOUBLE_QUOTES or following == "\n":
                    return True
                index += 1
            elif char in _EXPANDED_IN_DOUBLE_QUOTES:
                return True
            elif char == '"':
                quote = None
        elif char in " \t":
            word_start = True
            index += 1
            continue
        elif char == "\\":
            if text[index + 1 : index + 2] == "\n":
                return True  # a line continuation
            index += 1
        elif char in "'\"":
            quote = char
        elif char in _OPERATORS or (word_start and char in _WORD_START):
            return True
        word_start = False
        index += 1
    return quote is not None  # unbalanced quotes: let sh say what is wrong


def has_shell_syntax(command: str) -> bool:
    """Whether a command string needs a shell to mean what it says.

    True for expansions (`$VAR`, `${VAR}`, `$(...)`, backticks, globs, `~`),
    operators (`&&`, `||`, `|`, `;`, `&`, redirections, subshells, braces),
    comments, newlines and line continuations, a leading `NAME=value`, and a
    first word that is a shell keyword or builtin (`cd`, `export`, `if`...).
    Quoted text is read as sh reads it: `python -c "print(1)"` needs no shell.
    """
    if _unquoted_syntax(command):
        return True
    try:
        words = shlex.split(command)
    except ValueError:  # a trailing backslash, say: let sh read it as sh does
        return True
    return bool(words) and (words[0] in _SHELL_WORDS or bool(_ASSIGNMENT.match(words[0])))


def _exec_prefixed(command: str) -> str:
    """`exec <command>` for a single command, so the program (not sh) gets the container's signals."""
    if _COMPOUND.search(command):
        return command
    first = command.split(maxsplit=1)[0]
    if first in _SHELL_WORDS or _ASSIGNMENT.match(first):
        return command
    return f"exec {command}"


def command_argv(command: str | Sequence[str]) -> tuple[str, ...]:
    """The argv a container runs for `command` (see the module's docstring for the rule).

    Raises ValueError for an empty command or a list that is not all strings.
    """
    if isinstance(command, str):
        text = command.strip()
        if not text:
            raise ValueError("command: must not be empty")
        if has_shell_syntax(text):
            return (*SHELL, _exec_prefixed(text))
        return tuple(shlex.split(text))
    argv = tuple(command)
    if not argv or not all(isinstance(word, str) for word in argv):
        raise ValueError("command: expected a non-empty list of strings")
    return argv
