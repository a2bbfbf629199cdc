"""Assembling spoken lines into one MP3: timing, loudness, tags, and clip formats."""

from __future__ import annotations

import io
import subprocess
import tempfile
import warnings
import wave

import imageio_ffmpeg
import pytest
from mutagen.mp3 import MP3

from podcasts.pipeline.audio import (
    COMMON_SAMPLE_RATE,
    LEAD_IN_MS,
    LEAD_OUT_MS,
    TARGET_LUFS,
    AudioError,
    audio_assemble,
    configure_ffmpeg,
    decode_clip,
    measure_loudness,
    mp3_duration,
)
from podcasts.providers.base import GUEST, HOST, SpeechClip
from podcasts.providers.espeak import EspeakSpeech

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

TITLE = "Wet Weather \u2014 \u201cPart One\u201d"
SCRIPT = [
    (HOST, "Welcome to the show. Today we are talking about rain."),
    (GUEST, "Thanks for having me. Rain forms when droplets in a cloud grow heavy."),
    (GUEST, "Whether it falls as rain or snow depends on the air temperature."),
    (HOST, "Fascinating. Thanks for joining us."),
]
PAUSE_MS, TURN_PAUSE_MS = 350, 600


@pytest.fixture(scope="module")
def clips() -> list[SpeechClip]:
    speech = EspeakSpeech()
    voices = speech.default_voices()
    return [speech.synthesize(text=text, voice=voices[speaker]) for speaker, text in SCRIPT]


@pytest.fixture(scope="module")
def episode(clips):
    lines = [(speaker, text, clip) for (speaker, text), clip in zip(SCRIPT, clips, strict=True)]
    return audio_assemble(
        lines=lines, title=TITLE, artist="PodNex", pause_ms=PAUSE_MS, turn_pause_ms=TURN_PAUSE_MS
    )


def wav_seconds(clip: SpeechClip) -> float:
    with wave.open(io.BytesIO(clip.data)) as reader:
        return reader.getnframes() / reader.getframerate()


def pcm_seconds(pcm: bytes, rate: int = COMMON_SAMPLE_RATE) -> float:
    return len(pcm) / 2 / rate


def scaled(clip: SpeechClip, factor: float) -> SpeechClip:
    with wave.open(io.BytesIO(clip.data)) as reader:
        params, frames = reader.getparams(), reader.readframes(reader.getnframes())
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setparams(params)
        writer.writeframes(audioop.mul(frames, 2, factor))
    return SpeechClip(data=out.getvalue(), audio_format="wav")


def test_it_makes_a_mono_mp3_that_decodes_to_its_measured_duration(episode):
    info = MP3(io.BytesIO(episode.mp3)).info
    assert (info.channels, info.sample_rate) == (1, 44100)

    # The header's gapless length is exactly what ffmpeg's decoder plays from the file.
    with tempfile.NamedTemporaryFile(suffix=".mp3") as file:
        file.write(episode.mp3)
        file.flush()
        command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", file.name]
        command += ["-f", "s16le", "-ac", "1", "pipe:1"]
        pcm = subprocess.run(command, capture_output=True, check=True).stdout
    assert pcm_seconds(pcm, 44100) == pytest.approx(episode.duration, abs=0.001)
    assert mp3_duration(episode.mp3) == episode.duration


def test_a_streamed_mp3_without_a_length_header_is_measured_by_decoding(clips):
    streamed = mp3_of(clips[0])

    assert mp3_duration(streamed.data) == pytest.approx(
        pcm_seconds(decode_clip(streamed)), abs=0.03
    )


def test_the_duration_is_the_clips_plus_the_pauses(episode, clips):
    speech = sum(wav_seconds(clip) for clip in clips)
    pauses = (LEAD_IN_MS + TURN_PAUSE_MS + PAUSE_MS + TURN_PAUSE_MS + LEAD_OUT_MS) / 1000

    assert episode.duration == pytest.approx(speech + pauses, abs=0.1)


def test_segments_follow_the_lines_in_order_without_overlap(episode):
    segments = episode.segments

    assert [(s["speaker"], s["text"]) for s in segments] == SCRIPT
    assert segments[0]["start"] == pytest.approx(LEAD_IN_MS / 1000, abs=0.05)
    for segment in segments:
        assert set(segment) == {"speaker", "text", "start", "end"}
        assert 0 <= segment["start"] < segment["end"] <= episode.duration
        assert segment["start"] == round(segment["start"], 3)
    for previous, segment in zip(segments, segments[1:], strict=False):
        assert previous["end"] < segment["start"]


def test_each_segment_spans_its_own_clip_and_pauses_sit_between(episode, clips):
    segments = episode.segments
    for segment, clip in zip(segments[:-1], clips, strict=False):
        assert segment["end"] - segment["start"] == pytest.approx(wav_seconds(clip), abs=0.05)

    gaps = [b["start"] - a["end"] for a, b in zip(segments, segments[1:], strict=False)]
    assert gaps == pytest.approx([0.6, 0.35, 0.6], abs=0.03)  # longer when the speaker changes


def test_the_last_segment_ends_with_the_audio(episode):
    end = episode.segments[-1]["end"]

    assert end <= episode.duration
    assert episode.duration - end < 0.1


def test_loudness_is_at_podcast_level(episode):
    assert measure_loudness(episode.mp3) == pytest.approx(TARGET_LUFS, abs=1.5)


def test_quiet_speech_is_brought_up_to_the_same_loudness(clips):
    quiet = [scaled(clip, 0.1) for clip in clips]  # 20 dB down
    lines = [(s, t, c) for (s, t), c in zip(SCRIPT, quiet, strict=True)]

    episode = audio_assemble(lines=lines, title="Quiet")

    assert measure_loudness(episode.mp3) == pytest.approx(TARGET_LUFS, abs=1.5)


def test_it_writes_the_title_and_artist_tags(episode):
    tags = MP3(io.BytesIO(episode.mp3)).tags

    assert str(tags["TIT2"]) == TITLE
    assert str(tags["TPE1"]) == "PodNex"


def mp3_of(clip: SpeechClip) -> SpeechClip:
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", "pipe:0"]
    command += ["-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3", "pipe:1"]
    encoded = subprocess.run(command, input=clip.data, capture_output=True, check=True).stdout
    return SpeechClip(data=encoded, audio_format="mp3")


def stereo_44k_of(clip: SpeechClip) -> SpeechClip:
    with wave.open(io.BytesIO(clip.data)) as reader:
        rate, frames = reader.getframerate(), reader.readframes(reader.getnframes())
    frames, _ = audioop.ratecv(frames, 2, 1, rate, 44100, None)
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(2)
        writer.setsampwidth(2)
        writer.setframerate(44100)
        writer.writeframes(audioop.tostereo(frames, 2, 1, 1))
    return SpeechClip(data=out.getvalue(), audio_format="wav")


def test_clips_in_other_formats_decode_to_the_common_format(clips):
    original = clips[1]
    expected = wav_seconds(original)

    # A streamed MP3 has no gapless header, so its encoder padding (~60 ms) stays in.
    for clip, tolerance in [
        (original, 0.01),
        (stereo_44k_of(original), 0.01),
        (mp3_of(original), 0.1),
    ]:
        pcm = decode_clip(clip)
        assert pcm_seconds(pcm) == pytest.approx(expected, abs=tolerance), clip.audio_format
        assert audioop.rms(pcm, 2) > 500


def test_mp3_and_wav_clips_assemble_into_one_episode(clips):
    lines = [(HOST, "one", clips[0]), (GUEST, "two", mp3_of(clips[1]))]

    episode = audio_assemble(lines=lines, title="Mixed")

    assert [s["text"] for s in episode.segments] == ["one", "two"]
    assert episode.duration > wav_seconds(clips[0]) + wav_seconds(clips[1])


def test_a_silent_episode_still_encodes():
    silent = io.BytesIO()
    with wave.open(silent, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(22050)
        writer.writeframes(b"\0\0" * 22050)

    episode = audio_assemble(lines=[(HOST, "...", SpeechClip(silent.getvalue(), "wav"))], title="")

    assert episode.duration == pytest.approx(1 + (LEAD_IN_MS + LEAD_OUT_MS) / 1000, abs=0.05)


def test_an_empty_episode_or_an_undecodable_clip_is_refused():
    with pytest.raises(AudioError):
        audio_assemble(lines=[], title="Nothing")
    with pytest.raises(AudioError):
        audio_assemble(lines=[(HOST, "x", SpeechClip(b"not audio", "mp3"))], title="Broken")


def test_pydub_is_pointed_at_the_bundled_ffmpeg():
    from pydub import AudioSegment

    assert configure_ffmpeg() == configure_ffmpeg() == imageio_ffmpeg.get_ffmpeg_exe()
    assert AudioSegment.converter == imageio_ffmpeg.get_ffmpeg_exe()
