"""TEMPORARY (issue 14's branch only): the start-time prelude the App still uses on this branch.

`url_env_snippet` and `wrap_command` left `paaskit.buildpack` (issue 14): the deploy work (issue
11) gives containers `<NAME>_URL` as an ECS secret and never sets an entry point, so neither is
needed once it is merged. This file keeps the App of this branch working until then, unchanged
from the buildpack's last version; delete it (and the two uses in `_app.py`) with that merge.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["url_env_snippet", "wrap_command"]

_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Percent-encodes $1 byte by byte, in POSIX sh only: images may have no python or perl.
# LC_ALL=C makes `?` match one byte and printf "'c" give its byte value in any shell;
# `& 255` undoes shells that read bytes above 127 as negative chars.
_URLENCODE = """\
paaskit_urlencode() (
  LC_ALL=C
  export LC_ALL
  rest=$1
  out=
  while [ -n "$rest" ]; do
    tail=${rest#?}
    char=${rest%"$tail"}
    rest=$tail
    case $char in
      [ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-])
        out=$out$char ;;
      *)
        code=$(printf '%d' "'$char")
        out=$out$(printf '%%%02X' "$((code & 255))") ;;
    esac
  done
  printf '%s' "$out"
)
"""


def url_env_snippet(
    name: str = "DATABASE",
    *,
    scheme: str = "postgres",
    url_var: str | None = None,
    user_var: str | None = None,
    password_var: str | None = None,
    host_var: str | None = None,
    port_var: str | None = None,
    database_var: str | None = None,
) -> str:
    """POSIX sh that sets and exports `<name>_URL=scheme://user:password@host:port/database`.

    The parts come from `<name>_USER`, `<name>_PASS`, `<name>_HOST`, `<name>_PORT` and
    `<name>_NAME` (Convox's variable names; each can be renamed), so the password can
    arrive as an ECS secret and the URL exists only inside the running container. User,
    password and database name are percent-encoded (RFC 3986), in plain sh. A missing
    part stops the container with a message naming the variable.
    """
    names = {
        "url": url_var or f"{name}_URL",
        "user": user_var or f"{name}_USER",
        "password": password_var or f"{name}_PASS",
        "host": host_var or f"{name}_HOST",
        "port": port_var or f"{name}_PORT",
        "database": database_var or f"{name}_NAME",
    }
    for role, var in names.items():
        if not _VAR.fullmatch(var):
            raise ValueError(f"{role} variable: not a shell variable name: {var!r}")
    if not re.fullmatch(r"[a-z][a-z0-9+.-]*", scheme):
        raise ValueError(f"scheme: not a URL scheme: {scheme!r}")
    url_var_name = names["url"]
    checks = "".join(
        f': "${{{names[role]}:?is not set, and {url_var_name} needs it}}"\n'
        for role in ("user", "password", "host", "port", "database")
    )
    user, password, database = (
        f'$(paaskit_urlencode "${names[role]}")' for role in ("user", "password", "database")
    )
    host, port = (f"${{{names[role]}}}" for role in ("host", "port"))
    url = f"{scheme}://{user}:{password}@{host}:{port}/{database}"
    return f'{_URLENCODE}{checks}{url_var_name}="{url}"\nexport {url_var_name}\n'


def wrap_command(argv: Sequence[str], prelude: str) -> tuple[str, ...]:
    """An argv that runs `prelude` in sh, then `exec`s `argv` unchanged (as PID 1).

    For a container whose image has ENTRYPOINT E and CMD C, wrap `(*E, *C)` (see
    `image_command`) and set the result as the ECS entry point with no command.
    """
    if not argv:
        raise ValueError("argv: nothing to run")
    return ("/bin/sh", "-c", f'{prelude.rstrip()}\nexec "$@"', "paaskit", *argv)
