"""pyproject.toml and environment.yml describe the same environment, and the project installs as described."""
import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from the PyPI distribution names
CONDA_TO_PYPI = {"pytorch": "torch"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject_requirements() -> dict[str, SpecifierSet]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    lines = project["dependencies"] + extras["instructor"] + extras["dev"]
    return {canonical(r.name): r.specifier for r in map(Requirement, lines)}


def conda_requirements(text: str | None = None) -> tuple[dict[str, SpecifierSet], list[str], str]:
    env = yaml.safe_load(text if text is not None else (ROOT / "environment.yml").read_text())
    packages, pip_lines, python = {}, [], ""
    for entry in env["dependencies"]:
        if isinstance(entry, dict):
            pip_lines += entry["pip"]
            continue
        name, spec = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", entry).groups()
        if name == "python":
            python = spec.lstrip("=")
        elif name != "pip":
            packages[canonical(CONDA_TO_PYPI.get(name, name))] = SpecifierSet(spec.replace(" ", ""))
    return packages, pip_lines, python


def test_environment_yml_has_the_same_packages_as_pyproject():
    ours, conda = pyproject_requirements(), conda_requirements()[0]
    assert sorted(set(ours) - set(conda)) == [], "in pyproject.toml but missing from environment.yml"
    assert sorted(set(conda) - set(ours)) == [], "in environment.yml but missing from pyproject.toml"


def test_environment_yml_has_the_same_version_bounds_as_pyproject():
    ours, conda = pyproject_requirements(), conda_requirements()[0]
    different = {name: (str(ours[name]), str(conda[name])) for name in ours if ours[name] != conda.get(name)}
    assert different == {}


def test_environment_yml_installs_the_course_itself_with_python_311():
    _, pip_lines, python = conda_requirements()
    assert pip_lines == ["-e ."]
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert python == "3.11" and SpecifierSet(requires).contains("3.11")


def test_conda_channel_is_conda_forge():
    assert yaml.safe_load((ROOT / "environment.yml").read_text())["channels"] == ["conda-forge"]


def test_the_comparison_notices_a_missing_package_and_a_changed_bound():
    """Guards the tests above against passing vacuously (e.g. a parser that returns nothing)."""
    text = (ROOT / "environment.yml").read_text()
    assert len(conda_requirements(text)[0]) == len(pyproject_requirements()) >= 10
    without_mlxtend = conda_requirements(re.sub(r"\n\s*- mlxtend.*", "", text))[0]
    assert "mlxtend" not in without_mlxtend
    older_torch = conda_requirements(text.replace("pytorch>=2.1", "pytorch>=1.0"))[0]
    assert older_torch["torch"] != pyproject_requirements()["torch"]
