"""The engine stays readable: no module of tap_twilio/ over 400 lines, no class over 300
(docs/architecture.md: a layer that grows past them is doing two jobs); reading Twilio
(tap_twilio/twilio/) needs no Singer; what the package imports is what it declares."""

from __future__ import annotations

import ast
import importlib.metadata
import inspect
import re
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import tap_twilio

PACKAGE = Path(tap_twilio.__file__).parent
MAX_MODULE_LINES, MAX_CLASS_LINES = 400, 300


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_module_is_over_400_lines() -> None:
    long = {path.name: n for path in modules()
            if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def test_no_class_is_over_300_lines() -> None:
    long = {}
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_CLASS_LINES:
                    long[f"{path.name}:{node.name}"] = lines
    assert long == {}


def test_no_class_with_the_package_classes_it_builds_on_is_over_400_lines() -> None:
    """A class split into bases (mixins) to fit the limit above is still one class: the
    classes that build on others of the package, counted with them."""
    from tap_twilio.stream import TwilioStream
    from tap_twilio.streams import AccountsStream
    from tap_twilio.tap import TapTwilio

    def with_bases(cls: type) -> int:
        return sum(len(inspect.getsourcelines(base)[0]) for base in cls.__mro__
                   if base.__module__.startswith("tap_twilio."))

    long = {cls.__name__: with_bases(cls) for cls in (TwilioStream, AccountsStream, TapTwilio)}
    assert max(long.values()) <= 400, long


def test_reading_twilio_imports_nothing_of_singer_sdk() -> None:
    """tap_twilio/twilio/ reads Twilio without the SDK: importing all of it loads none of it."""
    names = sorted(path.stem for path in (PACKAGE / "twilio").glob("*.py"))
    code = ("import sys\n" + "".join(f"import tap_twilio.twilio.{name}\n" for name in names)
            + "print(sorted(m for m in sys.modules if m.split('.')[0] == 'singer_sdk'))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert len(names) > 5 and loaded == "[]"


def imported_distributions() -> set[str]:
    """The distributions tap_twilio/ imports (the standard library and itself aside)."""
    owners = importlib.metadata.packages_distributions()
    found = set()
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                tops = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                tops = [node.module.split(".")[0]]
            else:
                continue
            for top in tops:
                if top not in sys.stdlib_module_names and top != "tap_twilio":
                    found.update(name.lower() for name in owners[top])
    return found


def test_dependencies_are_declared_if_and_only_if_imported() -> None:
    declared = {re.split(r"[\[<>=~ ]", spec)[0].lower() for spec in
                tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["project"][
                    "dependencies"]}
    assert imported_distributions() == declared


def test_the_docs_name_every_module() -> None:
    """README's tree and docs/architecture.md name every module of the package."""
    readme = (PACKAGE.parent / "README.md").read_text()
    tree = readme[readme.index("## Development"):readme.index("### Testing")]
    architecture = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    names = {path.name for path in modules() if path.name not in ("__init__.py", "__main__.py")
             and path.parent.name != "schemas"}
    assert {name for name in names if name not in tree} == set()
    assert {name for name in names if name not in architecture} == set()
