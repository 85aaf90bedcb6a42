"""The GX adapter refuses a Great Expectations version other than the one pinned in pyproject.toml:
its workarounds lean on GX internals written for that version."""

from __future__ import annotations

import ast
import importlib.util
from importlib import metadata
from pathlib import Path

import great_expectations as gx
import pytest

from expectations import gx_adapter
from expectations.gx_adapter import GxVersionError, check_gx_version, pin_in, pinned_gx_version


def test_a_different_installed_version_is_refused_naming_both():
    with pytest.raises(GxVersionError) as caught:
        check_gx_version("1.25.0", "1.24.1")
    message = str(caught.value)
    assert "Great Expectations 1.25.0 is installed" in message
    assert "great-expectations 1.24.1" in message
    assert "pinned in pyproject.toml" in message
    assert "expectations/gx_adapter.py" in message and "make setup" in message


def test_a_missing_gx_is_refused_naming_the_pin():
    with pytest.raises(GxVersionError, match=r"Great Expectations is not installed.*great-expectations 1\.24\.1"):
        check_gx_version(None, "1.24.1")


def test_the_pinned_version_passes():
    assert check_gx_version("1.24.1", "1.24.1") is None


def test_the_installed_gx_is_the_pinned_one():
    assert pinned_gx_version() == gx.__version__ == gx_adapter.installed_gx_version()


def test_the_pin_is_read_from_pyproject(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\ndependencies = ["pandas==3.1.1", "great_expectations == 1.30.2"]\n')
    assert pinned_gx_version(pyproject) == "1.30.2"  # the name as pip spells it either way


@pytest.mark.parametrize("requirement", ["great-expectations>=1.24", "great-expectations==1.*", "pandas==3.1.1"])
def test_a_pyproject_without_an_exact_pin_is_refused(tmp_path, requirement):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(f'[project]\ndependencies = ["{requirement}"]\n')
    with pytest.raises(GxVersionError, match=r"pins no exact great-expectations version"):
        pinned_gx_version(pyproject)


def test_a_broken_pyproject_is_refused_naming_the_file(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[project\n")
    with pytest.raises(GxVersionError, match=str(pyproject)):
        pinned_gx_version(pyproject)


def test_pin_in_ignores_other_packages_and_bad_lines():
    assert pin_in(["not a requirement !!", "great-expectations-extra==2.0", "Great_Expectations==1.24.1"]) == "1.24.1"
    assert pin_in([]) is None


def test_importing_the_adapter_on_another_gx_fails_before_gx_is_used(monkeypatch):
    """The check runs when the module is imported: a fresh copy of it, with GX reported as 9.9.9."""
    real_version = metadata.version

    def version(name: str) -> str:
        return "9.9.9" if name == gx_adapter.GX_DISTRIBUTION else real_version(name)

    monkeypatch.setattr(metadata, "version", version)
    spec = importlib.util.spec_from_file_location("gx_adapter_copy", gx_adapter.__file__)
    assert spec is not None and spec.loader is not None
    copy = importlib.util.module_from_spec(spec)
    with pytest.raises(RuntimeError) as caught:
        spec.loader.exec_module(copy)
    assert type(caught.value).__name__ == "GxVersionError"
    message = str(caught.value)
    assert "Great Expectations 9.9.9 is installed" in message
    assert f"the data-quality checks need great-expectations {gx.__version__}," in message


def test_no_other_module_of_the_data_quality_layer_imports_gx():
    """GX behind one adapter: a new GX reaches only ``expectations/gx_adapter.py``, where the pin is checked."""
    package = Path(gx_adapter.__file__).parent
    importers = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name.split(".")[0] == "great_expectations" for name in names):
                importers.add(path.relative_to(package.parent).as_posix())
    assert importers == {"expectations/gx_adapter.py"}
