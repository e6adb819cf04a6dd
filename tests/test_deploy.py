"""The operator's files speak the same settings as the code (no Docker engine runs here)."""

import re
from pathlib import Path

import yaml

from nguon.kit.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SETTING_NAMES = {f"NGUON_{name.upper()}" for name in Settings.model_fields}


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())


def test_compose_names_only_real_settings_and_runs_the_production_shape() -> None:
    document = compose()
    environment = document["x-hub-environment"]
    assert set(environment) <= SETTING_NAMES
    assert {"postgres", "kafka", "minio", "api", "worker", "migrate"} <= set(document["services"])
    assert document["services"]["worker"]["command"] == ["nguon", "worker"]
    assert environment["NGUON_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert environment["NGUON_KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert (
        document["services"]["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    )


def test_compose_settings_are_accepted_by_the_settings_model() -> None:
    environment = {
        name.removeprefix("NGUON_").lower(): re.sub(r"\$\{[^}]*\}", "x", str(value))
        for name, value in compose()["x-hub-environment"].items()
    }
    settings = Settings(**environment)
    assert not settings.is_sqlite
    assert settings.s3_secure is False


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in SETTING_NAMES if f"`{name}`" not in readme)
    assert missing == []


def test_dockerfile_runs_as_non_root_with_a_healthcheck() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER nguon$", dockerfile, re.M)
    assert "HEALTHCHECK" in dockerfile
    assert "/healthz" in dockerfile
    assert dockerfile.count("FROM ") >= 2
