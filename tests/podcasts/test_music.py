"""Intro, outro and music bed: checking uploads, ducking, fades, and the loudness targets."""

from __future__ import annotations

import numpy as np
import pytest

from podcasts.pipeline import music
from podcasts.pipeline.audio import COMMON_SAMPLE_RATE, Timeline, audio_assemble
from podcasts.pipeline.clips import ClipRejected, clip_inspect
from podcasts.pipeline.music import MusicSet, music_hook, music_mix
from podcasts.providers.base import GUEST, HOST, SpeechClip
from podcasts.providers.espeak import EspeakSpeech
from tests.media_samples import loudness, tone

RATE = COMMON_SAMPLE_RATE


def _rms_db(signal: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(signal.astype(np.float64) ** 2)) + 1e-9)


@pytest.mark.parametrize("fmt", ["mp3", "wav", "ogg"])
def test_it_accepts_mp3_wav_and_ogg_and_measures_them(fmt):
    kind, seconds = clip_inspect(tone(3.0, fmt), max_seconds=60)
    assert kind == fmt
    assert abs(seconds - 3.0) < 0.1


def test_it_refuses_a_text_file_whatever_its_name():
    with pytest.raises(ClipRejected, match="not MP3, WAV or OGG"):
        clip_inspect(b"Just some notes, saved as intro.mp3\n" * 100, max_seconds=60)


def test_it_refuses_a_clip_longer_than_the_cap():
    with pytest.raises(ClipRejected, match="too long"):
        clip_inspect(tone(8.0, "ogg"), max_seconds=5)


def test_it_refuses_audio_that_only_looks_like_audio():
    broken = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 200
    with pytest.raises(ClipRejected):
        clip_inspect(broken, max_seconds=60)


def _silent_speech_with_bed(bed_seconds: float = 2.0):
    """Speech that is silence but timed as two lines, so the mix is the bed alone."""
    speech = np.zeros(RATE * 12, dtype=np.float32)
    timeline = Timeline(sample_rate=RATE, total_samples=len(speech))
    timeline.spans = [("host", "a", RATE * 1, RATE * 5), ("guest", "b", RATE * 6, RATE * 11)]
    # A reference level for matching: the silent speech has none, so give the lines a hum.
    for _speaker, _text, start, end in timeline.spans:
        speech[start:end] = 1.0
    bed = SpeechClip(tone(bed_seconds, "wav", volume_db=-3), "wav")
    return speech, timeline, MusicSet(bed=bed)


def test_the_bed_is_ducked_by_at_least_12_db_while_someone_speaks():
    speech, timeline, clips = _silent_speech_with_bed()
    mixed, moved = music_mix(speech, timeline, clips, sample_rate=RATE)
    lead = int(music.BED_LEAD_SECONDS * RATE)
    bed_only = mixed - np.pad(speech, (lead, len(mixed) - lead - len(speech)))
    lead_start = int(music.FADE_IN_SECONDS * RATE)
    alone = bed_only[lead_start : int(music.BED_LEAD_SECONDS * RATE) - RATE // 2]
    (_, _, start, end), (_, _, start2, end2) = moved.spans
    under_speech = bed_only[start + RATE // 2 : end - RATE // 2]
    # The 1 s pause between the lines is shorter than HOLD_SECONDS: still ducked.
    in_pause = bed_only[end + RATE // 5 : start2 - RATE // 5]
    assert _rms_db(alone) - _rms_db(under_speech) >= 12
    assert _rms_db(alone) - _rms_db(in_pause) >= 12
    # It fades in at the start and out at the end.
    assert _rms_db(bed_only[: RATE // 20]) < _rms_db(alone) - 20
    assert _rms_db(bed_only[-RATE // 20 :]) < _rms_db(alone) - 20


def test_intro_and_outro_open_and_close_and_the_lines_move_with_them():
    speech, timeline, _ = _silent_speech_with_bed()
    intro = SpeechClip(tone(2.0, "mp3", frequency=660), "mp3")
    outro = SpeechClip(tone(1.5, "ogg", frequency=330), "ogg")
    mixed, moved = music_mix(speech, timeline, MusicSet(intro=intro, outro=outro), sample_rate=RATE)
    shift = moved.spans[0][2] - timeline.spans[0][2]
    gap = music.CLIP_GAP_SECONDS
    assert abs(shift / RATE - (2.0 + gap)) < 0.1  # no bed: no bed lead either
    assert [s[3] - s[2] for s in moved.spans] == [s[3] - s[2] for s in timeline.spans]
    assert abs(len(mixed) / RATE - (12 + 2.0 + 1.5 + 2 * gap)) < 0.2
    assert moved.total_samples == len(mixed)
    assert _rms_db(mixed[: RATE // 2]) > -40, "the intro plays first"
    assert _rms_db(mixed[-RATE // 2 :]) > -40, "the outro plays last"


@pytest.fixture(scope="module")
def spoken_lines():
    speech = EspeakSpeech()
    voices = speech.default_voices()
    script = [
        (HOST, "Welcome to the show. Today we are talking about rain and where it comes from."),
        (GUEST, "Thanks for having me. Rain forms when droplets in a cloud grow heavy enough."),
        (HOST, "And snow?"),
        (GUEST, "Whether it falls as rain or snow depends on the temperature of the air."),
    ]
    return [(who, text, speech.synthesize(text=text, voice=voices[who])) for who, text in script]


def test_an_episode_with_loud_music_still_meets_the_loudness_targets(spoken_lines):
    clips = MusicSet(
        # A full-scale intro and a bed louder than speech: levels are matched before the mix.
        intro=SpeechClip(tone(3.0, "mp3", frequency=523, volume_db=0), "mp3"),
        outro=SpeechClip(tone(2.0, "wav", frequency=392, volume_db=-30), "wav"),
        bed=SpeechClip(tone(4.0, "ogg", frequency=220, volume_db=-1, extra="tremolo=f=2"), "ogg"),
    )
    plain = audio_assemble(lines=spoken_lines, title="Rain")
    with_music = audio_assemble(lines=spoken_lines, title="Rain", pcm_hook=music_hook(clips))

    integrated, true_peak = loudness(with_music.mp3)
    assert abs(integrated - (-16)) <= 1, integrated
    assert true_peak <= -1.0, true_peak
    extra = with_music.duration - plain.duration
    expected = 3.0 + 2.0 + 2 * music.CLIP_GAP_SECONDS + music.BED_LEAD_SECONDS
    expected += music.BED_TAIL_SECONDS
    assert abs(extra - expected) < 0.3
    # The transcript follows the speech to its new place.
    offset = 3.0 + music.CLIP_GAP_SECONDS + music.BED_LEAD_SECONDS
    for before, after in zip(plain.segments, with_music.segments):
        assert abs(after["start"] - before["start"] - offset) < 0.1
        assert after["text"] == before["text"]
