import pytest

from tests.builders import Plant, qa_user
from tests.insight.scenario import build_insight_scenario


@pytest.fixture
def scenario(sessions):
    return build_insight_scenario(Plant(sessions, qa_user(sessions)))
