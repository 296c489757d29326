"""The package as users install it: a built wheel in a fresh virtualenv runs a cycle.

A source checkout finds the SQL models beside the package; an installed wheel must carry
them (``tokenreview_pipeline/dbt_like_sql``) and everything else the demo needs. The
venv is made without the system's site-packages, so a dependency missing from
``pyproject.toml`` fails here as it would for a user.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _source_packages() -> set[str]:
    found = {"tokenreview_pipeline.dbt_like_sql"}
    for init in (ROOT / "tokenreview_pipeline").rglob("__init__.py"):
        if "__pycache__" not in init.parts:
            found.add(".".join(init.parent.relative_to(ROOT).parts))
    return found


def test_package_list_names_every_package_of_the_source_tree():
    tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert set(config["packages"]) == _source_packages()
    assert config["package-dir"] == {"tokenreview_pipeline.dbt_like_sql": "dbt_like_sql"}


def _run(*args: str | os.PathLike, cwd: Path, env: dict | None = None, timeout: int = 900):
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def test_built_wheel_in_a_fresh_venv_runs_the_demo(tmp_path):
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, ROOT, cwd=tmp_path)
    (wheel,) = dist.glob("tokenreview-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    sql_files = {p.relative_to(ROOT).as_posix() for p in (ROOT / "dbt_like_sql").rglob("*.sql")}
    assert {f"tokenreview_pipeline/{name}" for name in sql_files} <= names

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    python = env_dir / "bin" / "python"
    _run(python, "-m", "pip", "install", "-q", wheel, cwd=tmp_path)

    work = tmp_path / "elsewhere"  # not the source tree: nothing found beside it
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOKENREVIEW_", "DAGSTER"))}
    where = _run(
        python,
        "-c",
        "import tokenreview_pipeline; print(tokenreview_pipeline.__file__)",
        cwd=work,
        env=env,
    )
    assert str(env_dir) in where.stdout
    demo = _run(
        env_dir / "bin" / "tokenreview", "demo", "--outdir", work / "demo", cwd=work, env=env
    )
    assert re.search(r"run \S+ succeeded", demo.stdout), demo.stdout
    packets = re.search(r"packets: (\d+) \((\d+) pass, (\d+) fail\)", demo.stdout)
    assert packets and int(packets.group(1)) > 0, demo.stdout
    assert (work / "demo" / "tokenreview.db").stat().st_size > 0
