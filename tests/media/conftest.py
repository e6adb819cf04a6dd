import pytest

from nguon.identity.roles import Role
from nguon.kit.settings import Settings
from tests.conftest import AN_GIANG, MakeUser, with_s3


@pytest.fixture(params=["local", "s3"])
def settings(request: pytest.FixtureRequest, settings: Settings, s3_server: str) -> Settings:
    """Every media test runs on local disk and on a real S3 API server."""
    return with_s3(settings, s3_server) if request.param == "s3" else settings


@pytest.fixture
async def publisher(make_user: MakeUser) -> dict[str, str]:
    return await make_user("media.publisher", Role.publisher, AN_GIANG)
