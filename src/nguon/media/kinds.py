from enum import StrEnum


class MediaKind(StrEnum):
    audio = "audio"
    image = "image"
    video = "video"
    subtitle = "subtitle"  # WebVTT or SRT, shown over a display's video


# What the hub accepts, by the type the bytes show (not the name or the header).
ACCEPTED_TYPES: dict[str, tuple[MediaKind, str]] = {
    "audio/mpeg": (MediaKind.audio, "mp3"),
    "audio/mp4": (MediaKind.audio, "m4a"),
    "audio/aac": (MediaKind.audio, "aac"),
    "audio/ogg": (MediaKind.audio, "ogg"),
    "audio/x-wav": (MediaKind.audio, "wav"),
    "image/png": (MediaKind.image, "png"),
    "image/jpeg": (MediaKind.image, "jpg"),
    "image/webp": (MediaKind.image, "webp"),
    "video/mp4": (MediaKind.video, "mp4"),
    "video/webm": (MediaKind.video, "webm"),
}

# File-name extensions that say a kind; a name that says another kind than the bytes is refused.
EXTENSION_KINDS: dict[str, MediaKind] = {
    **{ext: MediaKind.audio for ext in ("mp3", "m4a", "aac", "ogg", "oga", "opus", "wav")},
    **{ext: MediaKind.image for ext in ("png", "jpg", "jpeg", "webp")},
    **{ext: MediaKind.video for ext in ("mp4", "m4v", "webm")},
    **{ext: MediaKind.subtitle for ext in ("vtt", "srt")},
}
