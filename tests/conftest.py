import pytest

from ops.plan import Plan
from tests.planning import stack_plan

STACKS = ["dev", "prod"]


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def plan(stack: str) -> Plan:
    """The offline plan of the committed stack file, for each stack."""
    return stack_plan(stack)
