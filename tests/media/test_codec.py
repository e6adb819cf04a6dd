"""The media codec layer in process (PyAV): what radio plays is made on any machine."""

from pathlib import Path

import pytest

from nguon.kit.settings import Settings
from nguon.media import codec

FIXTURES = Path(__file__).parent.parent / "fixtures" / "media"


@pytest.mark.parametrize("name", ["tone.mp3", "tone.wav", "tone.ogg", "tone.m4a"])
def test_broadcast_rendition_is_mono_mp3_at_the_target_loudness(
    name: str, settings: Settings, tmp_path: Path
) -> None:
    target = tmp_path / "broadcast.mp3"
    duration = codec.broadcast_mp3(FIXTURES / name, target, settings)
    facts = codec.probe(target)
    audio = facts.first("audio")
    assert audio is not None
    assert audio.codec == "mp3"
    assert facts.duration_s == pytest.approx(codec.probe(FIXTURES / name).duration_s, abs=0.05)
    assert duration == pytest.approx(codec.decoded_seconds(target), abs=0.05)
    measured = codec.loudness(target)
    assert measured.integrated_lufs == pytest.approx(settings.broadcast_loudness_lufs, abs=1.0)
    assert measured.true_peak_dbtp <= codec.TRUE_PEAK_CEILING + 0.5


def test_a_truncated_wav_decodes_short_of_what_it_declares(tmp_path: Path) -> None:
    whole = (FIXTURES / "tone.wav").read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole[: len(whole) // 3])
    assert codec.probe(FIXTURES / "tone.wav").duration_s == pytest.approx(1.0)
    assert codec.decoded_seconds(cut) < 0.5


def test_what_is_not_media_is_unreadable(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"\x00not audio at all" * 100)
    with pytest.raises(codec.Unreadable):
        codec.probe(junk)
    with pytest.raises(codec.Unreadable, match="no audio stream"):
        codec.decoded_seconds(FIXTURES / "clip.mp4")
