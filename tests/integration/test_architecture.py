"""The architecture's contract (.importlinter, docs/architecture.md) covers every
top-level folder and fails on an arrow the picture forbids.

import-linter runs from its own environment (`.venv-lint`, made by `make lint` and
`make test-unit`); these tests run it on a copy of the tree with one forbidden import
added, so a contract that stopped biting would show here.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = ROOT / ".venv-lint" / "bin" / "lint-imports"
NOT_PARTS = {"tests", "bench", "build", "models"}


def contract() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    return config


def layers() -> list[list[str]]:
    lines = contract()["importlinter:contract:layers"]["layers"].split("\n")
    return [[name.strip() for name in line.split("|")] for line in lines if line.strip()]


def top_level_packages() -> set[str]:
    return {
        p.name for p in ROOT.iterdir()
        if (p / "__init__.py").exists() and p.name not in NOT_PARTS
    }  # fmt: skip


def test_every_top_level_folder_is_in_the_layers_and_a_root_package() -> None:
    in_layers = {name for line in layers() for name in line}
    roots = set(contract()["importlinter"]["root_packages"].split())
    assert in_layers == top_level_packages()
    assert roots == top_level_packages()


def test_the_kernel_is_the_bottom_layer_and_operator_tooling_the_top() -> None:
    assert layers()[-1] == ["lotse"]
    assert layers()[0] == ["ops"]


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    if not LINT_IMPORTS.exists():
        pytest.fail("import-linter is missing: `make lint` creates .venv-lint")
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tree, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("tree")
    shutil.copy(ROOT / ".importlinter", copy)
    for name in top_level_packages():
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_the_tree_keeps_the_contract(tree_copy: Path) -> None:
    result = lint(tree_copy)
    assert result.returncode == 0, result.stdout
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("lotse/settings.py", "import crm_adapter.port"),  # the kernel imports no part
        ("crm_adapter/port.py", "import insights.report"),  # upwards
        ("handoff/desk.py", "import console.app"),  # the console is above handoff
        ("website/pages.py", "import console.app"),  # siblings that stay apart
        ("dialogue/lexicon.py", "import dialogue.language"),  # a circle: language imports it
    ],
)
def test_a_forbidden_arrow_breaks_the_contract(
    tree_copy: Path, module: str, forbidden: str
) -> None:
    path = tree_copy / module
    original = path.read_text(encoding="utf-8")
    try:
        path.write_text(original + f"\n{forbidden}  # the arrow under test\n", encoding="utf-8")
        result = lint(tree_copy)
    finally:
        path.write_text(original, encoding="utf-8")
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert forbidden.split(".")[-1] in result.stdout  # the report names the arrow


UNIT_MAY_NOT_IMPORT = re.compile(
    r"^\s*(?:from|import) (sqlalchemy|lotse\.database|lotse\.migrate|wiring|subprocess|"
    r"requests|socket|http\.server|psycopg2|redis|aio_pika|sqlite3|alembic|"
    r"tests\.support\.(?:fake_\w+|console_client|rest_client|tcp_proxy|private_services|"
    r"crm_engines|faulty_messengers))\b",
    re.MULTILINE,
)


def test_unit_tests_need_no_database_server_or_process() -> None:
    found = {
        path.name: match.group(1)
        for path in sorted((ROOT / "tests" / "unit").glob("test_*.py"))
        if (match := UNIT_MAY_NOT_IMPORT.search(path.read_text(encoding="utf-8")))
    }
    assert found == {}, "these belong in tests/integration"
    assert len(list((ROOT / "tests" / "unit").glob("test_*.py"))) >= 20


def test_every_test_module_sits_in_a_level_folder() -> None:
    loose = sorted(p.name for p in (ROOT / "tests").glob("*.py"))
    assert loose == ["__init__.py", "conftest.py"]
    for level in ("unit", "integration", "e2e"):
        assert all(p.name.startswith("test_") or p.name == "__init__.py"
                   for p in (ROOT / "tests" / level).glob("*.py"))  # fmt: skip
    assert not list((ROOT / "tests" / "support").glob("test_*.py"))
