"""Write the app's OpenAPI document: `python -m nguon.openapi_export openapi/openapi.json`."""

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from nguon.app import create_app
from nguon.kit.settings import Settings


def openapi_document() -> dict[str, Any]:
    # Fixed settings: the document must not depend on the machine that writes it.
    settings = Settings(secret_key=SecretStr("openapi-export"), database_url="sqlite+aiosqlite://")
    return create_app(settings).openapi()


def render() -> str:
    return json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("openapi/openapi.json")
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")
