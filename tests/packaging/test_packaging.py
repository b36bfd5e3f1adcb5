"""What a new user's first commands rely on: the README's two commands, CI, the constraints file,
and a server that refuses to start when its web UI or scenarios are missing."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from attune.app import create_app
from attune.cli import main
from attune.config import Settings
from tests.support.paths import DATA, ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def readme_command(section: str) -> str:
    """The one shell command in a README section."""
    body = README.partition(f"## {section}\n")[2].partition("\n## ")[0]
    (command,) = re.findall(r"```sh\n(.*?)\n```", body, re.S)
    return str(command)


def pinned() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version
    return pins


def test_the_run_command_installs_the_server_alone_with_the_constraints() -> None:
    command = readme_command("Run it")
    assert "-c constraints.txt ." in command and "[" not in command, "no extras to run it"
    assert command.endswith("attune serve")


def test_ci_runs_the_readme_test_command() -> None:
    command = readme_command("Test it")
    assert "-c constraints.txt" in command and "'.[test]'" in command, "no competitors installed"
    ci = (ROOT / ".ci" / "run").read_text()
    # CI runs it with the constraints in a variable, so that --newest can drop them.
    assert command.replace("python -m pip install -c constraints.txt",
                           'python -m pip install -q "${constraints[@]}"') in ci
    assert "constraints=(-c constraints.txt)" in ci and '"--newest"' in ci
    assert "git status --porcelain" in ci, "the dirty-checkout check stays"
    assert "'.[test,bench]'" in ci and "bench/test_peers.py" in ci, "--peers compares the peers"


@pytest.mark.parametrize("extra", [None, *PROJECT["optional-dependencies"]])
def test_every_dependency_is_bounded_and_pinned_within_its_range(extra: str | None) -> None:
    pins = pinned()
    wanted = PROJECT["dependencies"] if extra is None else PROJECT["optional-dependencies"][extra]
    for line in wanted:
        requirement = Requirement(line)
        if requirement.name == PROJECT["name"]:
            continue  # another extra of Attune itself, checked on its own
        assert any(s.operator in ("<", "<=", "==", "~=") for s in requirement.specifier), \
            f"{line}: no upper bound"
        name = canonicalize_name(requirement.name)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        assert name in pins, f"{name} is missing from constraints.txt: run bash .ci/lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), \
            f"constraints.txt pins {name}=={pins[name]} outside {requirement.specifier}"


def test_uvicorn_is_bounded_because_the_transport_uses_its_internals() -> None:
    (uvicorn,) = [Requirement(d) for d in PROJECT["dependencies"] if d.startswith("uvicorn")]
    assert any(s.operator == "<" for s in uvicorn.specifier)


def test_the_server_refuses_to_start_without_its_web_ui(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=f"the web UI .*{tmp_path}"):
        create_app(Settings(backend="memory://", scenarios=DATA, web_root=tmp_path))


def test_serve_names_a_missing_scenarios_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["serve", "--scenarios", str(tmp_path / "nowhere"), "--port", "1"]) == 2
    assert f"the scenarios folder {tmp_path / 'nowhere'}" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["--version"])
    assert exit.value.code == 0
    assert capsys.readouterr().out.strip() == f"attune {metadata.version('attune-server')}"
