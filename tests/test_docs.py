"""The API docs work on a network cut off from the internet: the hub serves all they load."""

import re

import pytest
from httpx import AsyncClient

# What a docs page loads: script and style sources, links, and the spec URL the script reads.
LOADED = re.compile(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""")
CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".png": "image/png",
    ".json": "application/json",
}


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_load_only_what_the_hub_serves(client: AsyncClient, page: str) -> None:
    html = await client.get(page)
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert "http://" not in html.text
    assert "https://" not in html.text
    loaded = LOADED.findall(html.text)
    assert "/openapi.json" in loaded
    assert any(url.endswith(".js") for url in loaded)
    for url in loaded:
        assert re.match(r"/[^/]", url), f"{page} loads {url} from elsewhere"
        asset = await client.get(url)
        assert asset.status_code == 200, url
        expected = CONTENT_TYPES[url[url.rindex(".") :]]
        assert asset.headers["content-type"].startswith(expected), (url, asset.headers)
