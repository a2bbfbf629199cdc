"""Assembling spoken lines into one MP3: timing, broadcast-safe levels, tags, clip formats.

Levels are measured the way a loudness meter does, with ffmpeg's ebur128 (integrated
loudness, 4x-oversampled true peak) and silencedetect, on real produced episodes.
"""

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
    TRUE_PEAK_LIMIT_DB,
    AudioError,
    audio_assemble,
    configure_ffmpeg,
    decode_clip,
    encode_mp3,
    measure_levels,
    measure_loudness,
    mp3_duration,
    speech_track,
    squeeze_silences,
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


def assert_broadcast_safe(mp3: bytes) -> None:
    levels = measure_levels(mp3)
    assert levels.integrated == pytest.approx(TARGET_LUFS, abs=1.0), levels
    assert levels.true_peak <= TRUE_PEAK_LIMIT_DB, levels
    assert levels.longest_silence <= 1.5, levels


def test_an_episode_is_at_podcast_loudness_under_the_true_peak_limit(episode):
    assert_broadcast_safe(episode.mp3)
    # The meter used elsewhere in the app agrees.
    assert measure_loudness(episode.mp3) == pytest.approx(TARGET_LUFS, abs=1.0)


@pytest.mark.parametrize("factor", [0.1, 4.0], ids=["20 dB quieter", "12 dB louder, clipped"])
def test_quieter_or_louder_speech_comes_out_the_same(clips, factor):
    changed = [scaled(clip, factor) for clip in clips]  # audioop.mul saturates: real clipping
    lines = [(s, t, c) for (s, t), c in zip(SCRIPT, changed, strict=True)]

    assert_broadcast_safe(audio_assemble(lines=lines, title="Levels").mp3)


def test_mp3_lines_from_another_provider_come_out_the_same(clips):
    lines = [(s, t, mp3_of(scaled(c, 0.3))) for (s, t), c in zip(SCRIPT, clips, strict=True)]

    assert_broadcast_safe(audio_assemble(lines=lines, title="MP3 lines").mp3)


def test_a_long_episode_is_broadcast_safe_from_an_excerpt_measurement(clips):
    # Long enough (~3 min) that the loudness is measured on an excerpt, not the whole.
    lines = [(s, t, c) for _ in range(12) for (s, t), c in zip(SCRIPT, clips, strict=True)]

    episode = audio_assemble(lines=lines, title="Long")

    assert episode.duration > 150
    assert_broadcast_safe(episode.mp3)


@pytest.mark.parametrize("error_db", [-12, 12])
def test_a_wrong_first_guess_of_the_level_is_corrected_by_measuring(clips, tmp_path, error_db):
    lines = [(s, t, c) for (s, t), c in zip(SCRIPT, clips, strict=True)]
    pcm_path = tmp_path / "speech.pcm"
    with open(pcm_path, "wb") as out:
        timeline = speech_track(out, lines)

    mp3 = encode_mp3(
        str(pcm_path),
        title="Guess",
        artist="PodNex",
        sample_rate=timeline.sample_rate,
        speech_level=timeline.speech_level() + error_db,
    )

    assert_broadcast_safe(mp3)


def with_silence(clip: SpeechClip, *, before: float, inside: float, after: float) -> SpeechClip:
    """The clip spoken twice with `inside` seconds of digital silence between, padded."""
    with wave.open(io.BytesIO(clip.data)) as reader:
        params, frames = reader.getparams(), reader.readframes(reader.getnframes())
    rate = params.framerate

    def gap(seconds: float) -> bytes:
        return b"\0\0" * int(rate * seconds)

    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setparams(params)
        writer.writeframes(gap(before) + frames + gap(inside) + frames + gap(after))
    return SpeechClip(data=out.getvalue(), audio_format="wav")


def test_long_silences_in_lines_are_shortened(clips):
    padded = with_silence(clips[1], before=2.0, inside=4.0, after=3.0)
    lines = [(HOST, "one", clips[0]), (GUEST, "two", padded), (HOST, "three", clips[3])]

    episode = audio_assemble(lines=lines, title="Pauses")

    assert_broadcast_safe(episode.mp3)
    # Both sayings of the padded line are still there: only silence was taken out, down
    # to 0.4 s at each edge and 1 s inside.
    two = episode.segments[1]
    assert two["end"] - two["start"] == pytest.approx(2 * wav_seconds(clips[1]) + 1.8, abs=0.3)


def test_clips_without_long_silences_are_left_untouched(clips):
    pcm = decode_clip(clips[1], sample_rate=22050)

    assert squeeze_silences(pcm, 22050) is pcm


def test_the_episode_is_built_at_the_providers_own_rate(clips, tmp_path):
    with open(tmp_path / "speech.pcm", "wb") as out:
        timeline = speech_track(out, [(HOST, "a", clips[0]), (GUEST, "b", mp3_of(clips[1]))])

    assert timeline.sample_rate == 22050  # eSpeak's: its clips are copied, not resampled
    assert (tmp_path / "speech.pcm").stat().st_size == timeline.total_samples * 2


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

    # The silent line keeps only what a line may have at its edge (EDGE_SILENCE_MS).
    assert episode.duration == pytest.approx(0.4 + (LEAD_IN_MS + LEAD_OUT_MS) / 1000, abs=0.05)


def test_an_empty_episode_or_an_undecodable_clip_is_refused():
    with pytest.raises(AudioError):
        audio_assemble(lines=[], title="Nothing")
    with pytest.raises(AudioError):
        audio_assemble(lines=[(HOST, "x", SpeechClip(b"not audio", "mp3"))], title="Broken")


def test_pydub_is_pointed_at_the_bundled_ffmpeg():
    from pydub import AudioSegment

    assert configure_ffmpeg() == configure_ffmpeg() == imageio_ffmpeg.get_ffmpeg_exe()
    assert AudioSegment.converter == imageio_ffmpeg.get_ffmpeg_exe()
