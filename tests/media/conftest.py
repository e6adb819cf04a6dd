import pytest

from nguon.kit.settings import Settings
from tests.conftest import with_s3


@pytest.fixture(params=["local", "s3"])
def settings(request: pytest.FixtureRequest, settings: Settings, s3_server: str) -> Settings:
    """Every media test runs on local disk and on a real S3 API server."""
    return with_s3(settings, s3_server) if request.param == "s3" else settings
