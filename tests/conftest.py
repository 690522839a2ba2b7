from __future__ import annotations

import gc
import os
import shutil
import tempfile
from typing import TYPE_CHECKING

import pytest

from ops.plan.cache import CACHE_ENV, private_directory
from tests import fork_session

if TYPE_CHECKING:  # the xdist controller runs no test: it imports neither the SDK nor the settings (~0.45 s)
    from ops.plan.planner import Plan

STACKS = ["dev", "prod"]
_CACHE_KEY = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """Give the session (and its xdist workers, which inherit the environment) one shared plan cache."""
    preset = os.environ.get(CACHE_ENV)
    if preset and not private_directory(preset):  # the store unpickles: never one others can write
        os.environ.pop(CACHE_ENV)
    if CACHE_ENV not in os.environ and not hasattr(config, "workerinput"):
        directory = tempfile.mkdtemp(prefix="floyo-plans-")
        os.environ[CACHE_ENV] = directory
        config.stash[_CACHE_KEY] = directory
    config.addinivalue_line("markers", "waits: a module whose tests mostly wait, not compute: run first")
    fork_session.pytest_configure(config)  # the session's fork server for `python -m ops` children


def pytest_unconfigure(config: pytest.Config) -> None:
    fork_session.pytest_unconfigure(config)
    directory = config.stash.get(_CACHE_KEY, None)
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.environ.pop(CACHE_ENV, None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked `waits` first (a module marks itself: `pytestmark = pytest.mark.waits`), each group in
    its collected order, which every xdist worker collects alike, as xdist requires. Those tests spend much of
    their time waiting, not computing (a child left to overrun its timeout, a server noticing its starter is
    gone, PostgreSQL servers starting and stopping: about 6 s of a serial run's wall time with the CPU idle).
    In `./run test` they then run while pyright runs beside pytest and takes up the core they leave idle; run
    last, as their names sort, their waits left a core idle at the end (docs/test-speed.md)."""
    items.sort(key=lambda item: item.get_closest_marker("waits") is None)


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def plan(stack: str) -> Plan:
    """The offline plan of the committed stack file, for each stack."""
    from tests.planning import stack_plan

    return stack_plan(stack)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Moves what collection left alive (pytest's machinery, the test modules, the SDKs and the program) to
    the collector's permanent generation, once per process: each later plan starts with a full collection
    (ops.plan.planner.mock_runtime) that then skips them. A worker forked from the fork server inherits a
    heap frozen before pytest and the tests were imported (tests/fork_worker.py)."""
    gc.freeze()
