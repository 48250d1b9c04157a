"""Files written atomically, with the permissions the user's umask asks for.

- :func:`write_text_atomic` / :func:`write_yaml_atomic` / :func:`write_json_atomic` — a
  reader sees the old file or the new one, never half of it; the new file gets mode
  ``0o666 & ~umask`` like any file ``open(path, "w")`` creates (``tempfile.mkstemp``
  alone would leave it ``0600``).
- :func:`file_mode` — that mode.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

__all__ = ["file_mode", "write_json_atomic", "write_text_atomic", "write_yaml_atomic"]


def _umask() -> int:
    """The process's umask, read without changing it where Linux allows."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: the classic read-and-restore
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a newly created regular file gets: ``0o666`` less the umask.

    Example:
        >>> oct(file_mode() & 0o600)  # the owner can always read and write
        '0o600'
    """
    return 0o666 & ~_umask()


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new file, never half.

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "note.txt")
        >>> write_text_atomic(path, "hello")
        >>> open(path).read(), oct(os.stat(path).st_mode & 0o777) == oct(file_mode())
        ('hello', True)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, file_mode())
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_yaml_atomic(path: str | Path, data: Any) -> None:
    """Write ``data`` as YAML to ``path`` atomically (:func:`write_text_atomic`)."""
    write_text_atomic(path, yaml.safe_dump(data, sort_keys=False))


def write_json_atomic(path: str | Path, data: Any, *, indent: int | None = None) -> None:
    """Write ``data`` as JSON to ``path`` atomically (:func:`write_text_atomic`)."""
    write_text_atomic(path, json.dumps(data, indent=indent))
