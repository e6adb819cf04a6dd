"""Media in console pages: the API's download, answered to a signed-in browser, whose
`<audio>`, `<video>` and `<img>` elements cannot send a bearer token."""

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from nguon.console.endpoints import CONSOLE
from nguon.console.session import ConsoleAccess
from nguon.identity.access import ANY_ROLE
from nguon.identity.principal import Principal
from nguon.media.endpoints import Media, MediaId, deliver_media
from nguon.media.renditions import ORIGINAL

router = APIRouter(prefix=CONSOLE, include_in_schema=False)


@router.get("/media/{media_id}")
async def media_file(
    media_id: MediaId, service: Media, actor: Annotated[Principal, Depends(ConsoleAccess(ANY_ROLE))]
) -> Response:
    return await deliver_media(service, actor, media_id, ORIGINAL)
