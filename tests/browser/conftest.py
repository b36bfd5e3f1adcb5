"""The one server fixture of the browser tests.

Each module says what its server serves with a mark, for example
``pytest.mark.served(DATA / "every-kind.yaml", BUILTIN / "snapped-at-friend.yaml",
min_responses=3)``: the positional arguments are scenario files copied into a fresh folder (or one
folder served as it is), the keywords are ``Settings`` fields over ``settings_for``'s defaults
(memory backend, no themes worker unless the mark says ``themes=True``). A test's own mark wins
over its module's.

Every test here runs on the session's event loop: the run's one Chromium (the ``browser`` fixture
of tests/conftest.py) is driven over a connection that lives on the loop that launched it.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Generator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.support.servers import Running, serving, settings_for


@pytest.hookimpl(wrapper=True)
def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector,
                                ) -> Generator[None, pytest.Module, pytest.Module]:
    module = yield
    module.add_marker(pytest.mark.asyncio(loop_scope="session"))
    return module


@pytest_asyncio.fixture(loop_scope="session")
async def served(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Running]:
    mark = request.node.get_closest_marker("served")
    if mark is None:
        pytest.fail(f"{request.node.nodeid}: a browser module names what its server serves "
                    "with pytest.mark.served(...) (tests/browser/conftest.py)")
    files: tuple[Path, ...] = mark.args
    if len(files) == 1 and files[0].is_dir():
        folder = files[0]
    else:
        folder = tmp_path / "scenarios"
        folder.mkdir()
        for file in files:
            shutil.copy(file, folder)
    async with serving(settings_for(scenarios=folder, **mark.kwargs)) as running:
        yield running


@pytest.fixture
def base(served: Running) -> str:
    """The served server's address, as the pages open it."""
    return served.base
