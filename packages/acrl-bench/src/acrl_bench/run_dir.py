"""Run directories: ``<log_root>/<algo>/<env>_<n>/`` claimed atomically, with ``config.yml``."""

from __future__ import annotations

import shutil
from importlib import metadata
from pathlib import Path

from acrl_bench.config import CONFIG_FILE, RunConfig, write_yaml_atomic
from acrl_bench.errors import ConfigError

__all__ = ["create_run_dir", "next_run_dir", "package_versions", "refuse_existing_run"]

_VERSIONED = (
    "acrl-wrappers",
    "acrl-policies",
    "acrl-bench",
    "stable-baselines3",
    "sb3-contrib",
    "gymnasium",
    "torch",
    "mujoco",
)


def next_run_dir(log_root: str | Path, config: RunConfig) -> Path:
    """``<log_root>/<algo>/<env>_<n>`` with the first unused ``n`` (``/`` in ids becomes ``-``).

    Example:
        >>> import tempfile
        >>> next_run_dir(tempfile.mkdtemp(), RunConfig(env="ACRL/ReacherL2-v0")).name
        'ACRL-ReacherL2-v0_1'
    """
    parent = Path(log_root) / config.algo
    stem = config.env.replace("/", "-")
    n = 1
    while (parent / f"{stem}_{n}").exists():
        n += 1
    return parent / f"{stem}_{n}"


def refuse_existing_run(run_dir: str | Path | None) -> None:
    """Raise :class:`ConfigError` if ``run_dir`` already holds a run (``config.yml``)."""
    if run_dir is not None and (Path(run_dir) / CONFIG_FILE).exists():
        raise ConfigError(
            f"{run_dir} already holds a run; continue it with acrl train --resume {run_dir}, or "
            "pick another --log-dir"
        )


def create_run_dir(config: RunConfig, run_dir: str | Path | None, log_root: str | Path) -> Path:
    """The run directory with ``config.yml`` (a directory made here goes again if writing fails).

    A default name (``<log_root>/<algo>/<env>_<n>``) is claimed atomically.
    """
    if run_dir is not None:
        path = Path(run_dir)
        refuse_existing_run(path)
        made = not path.exists()
        path.mkdir(parents=True, exist_ok=True)
    else:
        made = True
        while True:
            path = next_run_dir(log_root, config)
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                path.mkdir()
                break
            except FileExistsError:  # another acrl train took this name meanwhile
                continue
    try:
        write_yaml_atomic(
            path / CONFIG_FILE, {"run": config.to_dict(), "versions": package_versions()}
        )
    except BaseException:
        if made:
            shutil.rmtree(path, ignore_errors=True)
        raise
    return path


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a run's results depend on (for ``config.yml``)."""
    versions = {}
    for dist in _VERSIONED:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return versions


# ---------------------------------------------------------------------- training
