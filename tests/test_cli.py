"""The `nguon` command line as an operator runs it; where the environment a process starts in
is the point, in a separate process."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from nguon.cli import app as cli
from nguon.demo.service import DEMO_PASSWORD, LEGACY_CSV
from nguon.identity.roles import Holder, Role, roles_for
from tests.commands import nguon
from tests.conftest import AN_GIANG

COMMANDS = [
    [],
    ["serve"],
    ["db"],
    ["db", "upgrade"],
    ["demo"],
    ["areas"],
    ["areas", "import"],
    ["users"],
    ["users", "create"],
    ["keys"],
    ["keys", "create"],
    ["keys", "revoke"],
    ["audit"],
    ["audit", "verify"],
    ["endpoints"],
    ["endpoints", "create"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "nguon")
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


async def test_demo_is_idempotent_and_its_admin_signs_in(
    engine: AsyncEngine, database_url: str, client: AsyncClient
) -> None:
    first = nguon(database_url, "demo")
    assert first.returncode == 0, first.stderr
    assert "accounts created: 10" in first.stdout
    assert re.search(rf"^\s+admin\s+admin\s+{AN_GIANG}\s+{DEMO_PASSWORD}$", first.stdout, re.M)
    board_key = re.search(r"^\s+AG-DEMO-BOARD\s+display\s+(ngn_\S+)$", first.stdout, re.M)
    assert board_key, first.stdout
    second = nguon(database_url, "demo")
    assert second.returncode == 0, second.stderr
    assert "accounts created: 0" in second.stdout
    assert "0 created" in second.stdout
    assert "AG-DEMO-BOARD" in second.stdout
    assert "ngn_" not in second.stdout
    login = await client.post(
        "/api/v1/auth/token", data={"username": "admin", "password": DEMO_PASSWORD}
    )
    assert login.status_code == 200
    # The demo e-board has the demo bulletins on air, once, whatever the time of day.
    playlist = await client.get(
        "/api/v1/device/playlist", headers={"X-Api-Key": board_key.group(1)}
    )
    assert playlist.status_code == 200, playlist.text
    titles = [i["title"] for i in playlist.json()["items"] + playlist.json()["upcoming"]]
    assert "Cảnh báo lũ trên sông Hậu" in titles
    assert len(set(titles)) == 3


async def test_users_and_keys_from_the_console(
    engine: AsyncEngine, database_url: str, client: AsyncClient
) -> None:
    assert (
        nguon(database_url, "areas", "import", "--current", "--province", AN_GIANG).returncode == 0
    )
    created = nguon(
        database_url,
        "users",
        "create",
        "so.admin",
        "--role",
        "admin",
        "--area",
        AN_GIANG,
        "--password",
        "console-made-password",
    )
    assert created.returncode == 0, created.stderr
    key_run = nguon(
        database_url, "keys", "create", "central", "--role", "central", "--area", AN_GIANG
    )
    assert key_run.returncode == 0, key_run.stderr
    key = key_run.stdout.strip().splitlines()[-1]
    assert key.startswith("ngn_")
    assert (await client.get("/api/v1/areas", headers={"X-Api-Key": key})).status_code == 200
    login = await client.post(
        "/api/v1/auth/token", data={"username": "so.admin", "password": "console-made-password"}
    )
    assert login.status_code == 200
    audit = await client.get(
        "/api/v1/audit", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
    )
    assert {"cli users create", "cli keys create"} <= {r["action"] for r in audit.json()["items"]}


async def test_console_errors_are_one_clear_line(engine: AsyncEngine, database_url: str) -> None:
    result = nguon(
        database_url,
        "users",
        "create",
        "x.y",
        "--role",
        "admin",
        "--area",
        "00000",
        "--password",
        "console-made-password",
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "error: No administrative unit has the code '00000'."


@pytest.mark.parametrize(("command", "holder"), [("users", Holder.user), ("keys", Holder.api_key)])
def test_create_offers_exactly_the_roles_it_takes(command: str, holder: Holder) -> None:
    """`--help` lists the roles the account or key may have, and every other role is refused
    before anything is asked, with the words the API uses."""
    runner = CliRunner()
    shown = runner.invoke(cli, [command, "create", "--help"], env={"COLUMNS": "300"})
    offered = re.search(r"--role\s+ROLE\s+One of: ([a-z_, ]+)", shown.output)
    assert offered, shown.output
    assert offered.group(1).strip().split(", ") == list(roles_for(holder))
    for role in Role:
        if role in roles_for(holder):
            continue
        refused = runner.invoke(cli, [command, "create", "x.y", "--role", role.value])
        assert refused.exit_code == 2
        assert f"Role {role} is not for {holder.value}" in refused.output


async def test_areas_import_from_csv(engine: AsyncEngine, database_url: str) -> None:
    result = nguon(database_url, "areas", "import", "--csv", str(LEGACY_CSV))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("units: ")
    assert nguon(database_url, "areas", "import", "--csv", str(LEGACY_CSV)).stdout.startswith(
        "units: 0 created"
    )


def test_embedded_default_keeps_everything_under_the_data_dir(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NGUON_")}
    env["NGUON_DATA_DIR"] = str(tmp_path / "hub")
    result = subprocess.run(
        [sys.executable, "-m", "nguon", "db", "upgrade"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd="/",
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "hub" / "nguon.db").is_file()


async def test_a_bad_csv_is_refused_naming_the_line(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,level,parent_code,valid_from,valid_until\n1,X,province,,,\n")
    result = nguon(database_url, "areas", "import", "--csv", str(bad))
    assert result.returncode == 1
    assert result.stderr.strip() == "error: bad.csv: line 2: '1' is not a province code"
