"""Django apps: static files collected while the image builds, as Heroku does.

A folder with a `manage.py` (the shallowest, at most three folders down, as Heroku looks) whose
`DJANGO_SETTINGS_MODULE` names a settings file that exists is a Django app. Its image runs
`python manage.py collectstatic --noinput` after the code is copied, so `STATIC_ROOT` is full
and a `ManifestStaticFilesStorage` finds its manifest (without it, pages that name a static
file answer 500, and the health check fails). The settings must import while the image builds,
without the app's secrets or database; when they don't, the build says so. `DISABLE_COLLECTSTATIC`
(a build arg) skips it, as Heroku's config var does.

Who serves the files: the app. pulumi-docker cannot copy files out of a built image to upload
them, and Heroku's answer is the same: whitenoise (the app's own choice of middleware, which
paaskit cannot add) serves them with a far-future `Cache-Control` for fingerprinted names, which
the CDN in front keeps. Without whitenoise in its dependencies, paaskit warns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["COLLECTSTATIC_FAILED", "DjangoApp", "collectstatic_lines", "find_django"]


@dataclass(frozen=True)
class DjangoApp:
    """What paaskit found of a Django app."""

    manage: str
    """manage.py, relative to the app folder (POSIX)."""
    settings_module: str
    """`DJANGO_SETTINGS_MODULE` as manage.py sets it."""
    settings_file: str
    """The settings module's file, relative to the app folder."""
    static_url: str | None
    """`STATIC_URL` when the settings file sets it to a literal (`/static/`), else None."""
    whitenoise: bool
    """Whether whitenoise is among the app's dependencies (the files that declare them)."""


_SETTINGS = re.compile(r"""DJANGO_SETTINGS_MODULE["']\s*,\s*["']([A-Za-z_][\w.]*)["']""")
_STATIC_URL = re.compile(r"""^STATIC_URL\s*=\s*["']([^"']*)["']""", re.MULTILINE)


def _manage_py(root: Path) -> Path | None:
    found: list[tuple[int, str, Path]] = []
    for depth in range(4):
        for path in root.glob("/".join(["*"] * depth + ["manage.py"])):
            relative = path.relative_to(root)
            if path.is_file() and not any(
                part.startswith(".") or part in {"node_modules", "venv", "__pycache__"}
                for part in relative.parts[:-1]
            ):
                found.append((depth, relative.as_posix(), path))
        if found:
            return sorted(found)[0][2]
    return None


def find_django(app_dir: str | Path, dependency_text: str = "") -> DjangoApp | None:
    """The Django app in `app_dir`, or None: no manage.py, or no settings file it names.

    `dependency_text` is the text of the files that declare dependencies, searched for
    whitenoise.
    """
    root = Path(app_dir)
    manage = _manage_py(root)
    if manage is None:
        return None
    match = _SETTINGS.search(manage.read_text(encoding="utf-8", errors="replace"))
    if not match:
        return None
    module = match.group(1)
    base = manage.parent / Path(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            settings = candidate
            break
    else:
        return None
    static_url: str | None = None
    static = _STATIC_URL.search(settings.read_text(encoding="utf-8", errors="replace"))
    if static:
        value = static.group(1)
        static_url = value if value.startswith(("/", "http")) else f"/{value}"
    return DjangoApp(
        manage=manage.relative_to(root).as_posix(),
        settings_module=module,
        settings_file=settings.relative_to(root).as_posix(),
        static_url=static_url,
        whitenoise=bool(re.search(r"(?i)\bwhitenoise\b", dependency_text)),
    )


COLLECTSTATIC_FAILED = (
    "paaskit: collectstatic failed (see above). It runs while the image builds, as on Heroku:",
    "the settings must import without the app's secrets, database or other run-time settings",
    "(read them with a default: os.environ.get('SECRET_KEY', 'build-only')),",
    "and STATIC_ROOT must be set. To build without it, set the build arg DISABLE_COLLECTSTATIC=1.",
)
"""What the build prints when collectstatic fails, line by line."""


def collectstatic_lines(django: DjangoApp) -> tuple[str, ...]:
    """The shell command the image runs, line by line: collectstatic, unless
    DISABLE_COLLECTSTATIC says no; on failure, what to do about it."""
    message = [f'        "{line}"' for line in COLLECTSTATIC_FAILED]
    return (
        'if [ "${DISABLE_COLLECTSTATIC:-0}" != 0 ]; then',
        '        echo "paaskit: DISABLE_COLLECTSTATIC is set: collectstatic skipped";',
        f"    elif ! python {django.manage} collectstatic --noinput; then",
        "        printf '%s\\n' >&2",
        *message,
        "        ; exit 1;",
        "    fi",
    )
