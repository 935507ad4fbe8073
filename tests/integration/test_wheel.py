"""Lotse installed as a package, away from the repository.

The wheel is built (`pip wheel`, on a copy of the tree so the repository's `build/`
stays as it is) and installed with `--no-deps` into a fresh virtual environment. That
environment sees only the distributions the wheel's requirements reach, linked from
`.venv` (nothing is downloaded; the repository's editable install of Lotse is not among
them), so a dependency the code imports but `pyproject.toml` does not declare is
missing there. `pip check` then holds every requirement, and `lotse --help` and
`lotse build` run from an empty folder with no PYTHONPATH: the data comes from the
installed package, the derived files go into that folder.

Namespace folders that several distributions share (`google/`) are linked whole, so
they may show a little more than the requirements reach.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest
from packaging.requirements import Requirement

pytestmark = pytest.mark.wheel

REPO = Path(__file__).resolve().parents[2]
NOT_IN_THE_WHEEL = (
    ".git", ".venv*", ".hypothesis", ".*_cache", ".rasa", "__pycache__", "*.egg-info",
    "build", "var", "models", "results",
)  # fmt: skip
DOCUMENTS = 5  # bot/data/documents: the demo company's
TIMEOUT = 300
IMPORTED_FILES = """
import json, sys
import ops.build, ops.cli
files = [getattr(m, "__file__", None) for m in list(sys.modules.values())]
print(json.dumps(sorted(f for f in files if f)))
"""


def run(command: list[str], **options) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, **options)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source") / "lotse"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*NOT_IN_THE_WHEEL))
    dist = tmp_path_factory.mktemp("dist")
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    run([*pip_wheel, "--quiet", "--wheel-dir", str(dist), str(source)])
    (built,) = dist.glob("lotse-*.whl")
    return built


def wheel_requirements(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = HeaderParser().parsestr(archive.read(name).decode("utf-8"))
    return [Requirement(line) for line in metadata.get_all("Requires-Dist") or []]


def reached(requirements: list[Requirement]) -> list[importlib.metadata.Distribution]:
    """The installed distributions `requirements` (no extras of Lotse's) reach, with
    the extras each asks of another; a declared one missing from .venv fails here."""
    found: dict[str, importlib.metadata.Distribution] = {}
    done: set[tuple[str, str]] = set()
    todo = [(r, "") for r in requirements]
    while todo:
        requirement, asked_by_extra = todo.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": asked_by_extra}):
            continue
        try:
            dist = importlib.metadata.distribution(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            pytest.fail(f"{requirement.name} is required but not installed in .venv")
        key = dist.metadata["Name"].lower()
        found[key] = dist
        for extra in {"", *requirement.extras} - {e for k, e in done if k == key}:
            done.add((key, extra))
            todo += [(Requirement(line), extra) for line in dist.requires or []]
    return list(found.values())


def link_into(folder: Path, dists: list[importlib.metadata.Distribution]) -> None:
    """Each distribution's top-level files and folders (its RECORD) linked into `folder`."""
    folder.mkdir()
    for dist in dists:
        site = Path(dist.locate_file(""))
        for top in {f.parts[0] for f in dist.files or []}:
            if top in ("..", "__pycache__") or top.endswith(".pth"):
                continue  # scripts, caches, start-up hooks
            if not (folder / top).exists() and (site / top).exists():
                (folder / top).symlink_to(site / top)


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", "--without-pip", str(home / "env")])
    python = home / "env" / "bin" / "python"
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]
                    ).stdout.strip())  # fmt: skip
    link_into(home / "deps", reached(wheel_requirements(wheel)))
    (site / "lotse_deps.pth").write_text(f"{home / 'deps'}\n", encoding="utf-8")
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    run([*pip, "install", "--quiet", "--no-deps", "--no-index", str(wheel)])
    return home / "env"


def environment(venv: Path) -> dict[str, str]:
    """The shell of an operator who installed Lotse: no PYTHONPATH, no LOTSE_* settings,
    the environment's scripts on the PATH and nothing of .venv's."""
    ignored = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items() if k not in ignored and not k.startswith("LOTSE_")}
    return env | {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "2"}


@pytest.fixture
def empty_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "company"
    folder.mkdir()
    return folder


def test_the_wheel_holds_the_data_the_code_reads(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    shipped = ["bot/domain.yml", "console/openapi.yaml", "lotse/migrations/script.py.mako",
               "website/templates/page.html"]  # fmt: skip
    for folder in ("bot/data", "console/static", "website/static"):
        shipped += [p.relative_to(REPO).as_posix() for p in (REPO / folder).rglob("*")
                    if p.is_file() and "__pycache__" not in p.parts]  # fmt: skip
    assert sorted(set(shipped) - names) == []


def locked() -> dict[str, str]:
    """requirements.lock's pins by normalized name."""
    lines = (REPO / "requirements.lock").read_text(encoding="utf-8").splitlines()
    pins = [line.split("#")[0].strip().split("==") for line in lines]
    return {canonical(pin[0]): pin[1] for pin in pins if len(pin) == 2}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_requirements_lock_pins_every_declared_requirement_in_its_range(wheel: Path) -> None:
    """What `make install` installs (the lock, then Lotse with --no-deps) fits what the
    wheel declares, its `test` extra too."""
    pins = locked()
    outside = [
        f"{r} (locked: {pin or 'not at all'})"
        for r in wheel_requirements(wheel)
        if not (pin := pins.get(canonical(r.name))) or pin not in r.specifier
    ]
    assert outside == []


def test_every_requirement_of_the_installed_wheel_holds(venv: Path) -> None:
    result = run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "check"])
    assert "No broken requirements found" in result.stdout


def test_lotse_help_runs_from_the_installed_package(venv: Path, empty_folder: Path) -> None:
    result = run([str(venv / "bin" / "lotse"), "--help"], cwd=empty_folder, env=environment(venv))
    for command in ("build", "train", "run"):
        assert command in result.stdout


def test_lotse_build_reads_the_package_and_writes_the_working_folder(
    venv: Path, empty_folder: Path
) -> None:
    env = environment(venv)
    result = run([str(venv / "bin" / "lotse"), "build"], cwd=empty_folder, env=env)
    assert "content valid:" in result.stdout
    documents = f"documents in {venv.resolve()}/"  # the package's own folder
    assert f"{DOCUMENTS} indexed" in result.stdout and documents in result.stdout, result.stdout
    assert (empty_folder / "build" / "rasa" / "domain.yml").is_file()
    assert (empty_folder / "build" / "spacy" / "de").is_dir()
    assert (empty_folder / "var" / "lotse.db").is_file()
    site = next((venv / "lib").glob("python3*/site-packages"))
    assert not (site / "build").exists() and not (site / "var").exists()

    imported = [str(venv / "bin" / "python"), "-c", IMPORTED_FILES]
    files = json.loads(run(imported, cwd=empty_folder, env=env).stdout)
    from_the_repository = [
        f for f in files if f.startswith(str(REPO)) and not f.startswith(str(REPO / ".venv"))
    ]
    assert from_the_repository == []
    assert any(f.startswith(str(venv)) and f.endswith("ops/cli.py") for f in files)
