"""What a bulletin may carry: a body and media of several kinds beside its main form, and the
subtitles of its video (Decision 002 Điều 7)."""

from collections.abc import Mapping, Sequence
from typing import Any

from nguon.bulletins.enums import MEDIA_KIND_FOR, BulletinKind
from nguon.kit.errors import InvalidInput
from nguon.media.kinds import MediaKind
from nguon.media.models import MediaObject


def subtitled_video(choice: Mapping[str, Any], videos: Sequence[str]) -> str | None:
    """The video a subtitle file is for: the one it names, or the bulletin's only video."""
    named: str | None = choice.get("video")
    if named is not None:
        return named
    return videos[0] if len(videos) == 1 else None


def subtitle_files(
    subtitles: Sequence[Mapping[str, Any]], video_id: str, videos: Sequence[str]
) -> list[Mapping[str, Any]]:
    """The subtitle files a bulletin names for one of its videos, in the order it names them."""
    return [choice for choice in subtitles if subtitled_video(choice, videos) == video_id]


def check_media(
    bulletin_kind: BulletinKind,
    media_ids: Sequence[str],
    subtitles: Sequence[Mapping[str, Any]],
    stored: Mapping[str, MediaObject],
) -> None:
    """Every media id exists; the main form has its media (an audio bulletin at least one
    audio, ...) and other kinds may come beside it; subtitle files are named in `subtitles`,
    each for one of the bulletin's videos."""
    for media_id in (*media_ids, *(choice["media"] for choice in subtitles)):
        if media_id not in stored:
            raise InvalidInput(f"Media {media_id} does not exist; upload it first.")
    carried = [stored[media_id] for media_id in media_ids]
    for media in carried:
        if media.kind is MediaKind.subtitle:
            raise InvalidInput(
                f"Media {media.id} is a subtitle file; name it in subtitles, with its language "
                "and the video it is for."
            )
    wanted = MEDIA_KIND_FOR[bulletin_kind]
    if wanted is not None and not any(media.kind is wanted for media in carried):
        if not carried:
            raise InvalidInput(f"A {bulletin_kind} bulletin needs at least one {wanted} in media.")
        media = carried[0]
        raise InvalidInput(
            f"Media {media.id} is {media.kind}; a {bulletin_kind} bulletin takes {wanted}, and "
            "may carry other kinds beside it."
        )
    videos = [media.id for media in carried if media.kind is MediaKind.video]
    for choice in subtitles:
        subtitle = stored[choice["media"]]
        if subtitle.kind is not MediaKind.subtitle:
            raise InvalidInput(
                f"Media {subtitle.id} in subtitles is {subtitle.kind}, not a subtitle file."
            )
        video = subtitled_video(choice, videos)
        if video is None:
            count = len(videos)
            raise InvalidInput(
                f"Subtitles {subtitle.id} name no video and the bulletin carries {count} "
                "videos: say which one in video."
            )
        if video not in videos:
            raise InvalidInput(
                f"Subtitles {subtitle.id} are for video {video}, which is not among the "
                "bulletin's media."
            )


def require_subtitled(
    media_ids: Sequence[str],
    subtitles: Sequence[Mapping[str, Any]],
    stored: Mapping[str, MediaObject],
) -> None:
    """Every video has a subtitle track: a file named for it, or a stream inside it."""
    videos = [i for i in media_ids if i in stored and stored[i].kind is MediaKind.video]
    for video_id in videos:
        if not stored[video_id].subtitle_tracks and not subtitle_files(subtitles, video_id, videos):
            raise InvalidInput(
                f"Video {video_id} has no subtitles: Decision 002 Điều 7.2 shows video on "
                "public displays only with text subtitles (video có phụ đề bằng chữ). Name a "
                "WebVTT or SRT file for it in subtitles, or upload the video with a subtitle "
                "track inside it."
            )
