"""The job processor: notes -> script -> speech -> one MP3 -> storage -> saved podcast.

Steps and progress figures are the plan's: script 0-25%, speech 25-60%, combine 60-80%,
store 80-95%, save 95-100%. Each step writes `progress` and `currentStep` to Podcast and
PodcastJob; between steps the job checks whether it was cancelled.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.services import usage_charge
from notifications import services as notify
from podcasts import artwork, media, metrics, publisher, storage
from podcasts.chapters import Chapter, chapters_of
from podcasts.models import (
    ACTIVE_STATUSES,
    JobKind,
    JobStatus,
    Podcast,
    PodcastJob,
    PodcastScript,
    PodcastStatus,
)
from podcasts.pipeline.audio import LEAD_OUT_MS, AssembledAudio, audio_assemble
from podcasts.pipeline.line_cache import LineCache, ScriptCache
from podcasts.pipeline.music import MusicSet, music_hook
from podcasts.pipeline.splice import splice, splice_possible
from podcasts.pipeline.tags import mp3_tag
from podcasts.providers import registry
from podcasts.providers.base import ProviderError, Script, ScriptLine, SpeechClip
from podcasts.scripts import (
    document_from_script,
    document_of,
    lines_to_voice,
    provider_identity,
    script_from_document,
    sounding_lines,
)
from podcasts.services import podcast_event_emit, podcast_job_fail
from podcasts.speakers import (
    DEFAULT_NAMES,
    speakers_default,
    speakers_of,
    speakers_with_ids,
    voices_assign,
)
from webhooks_app.models import WebhookEvent

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, str], None]


class JobCancelled(Exception):
    """The podcast was cancelled or deleted while the job ran."""


class TransientJobError(Exception):
    """A provider failed in a way a later attempt may not; the task retries."""


@dataclass
class EpisodeRequest:
    """What the pipeline needs, free of the database (the CLI builds one from a file)."""

    notes: str
    duration: str  # "SHORT" | "LONG"
    title: str | None
    host_voice: str
    guest_voice: str
    tts_provider: str
    language: str = "en"  # ISO 639-1: the script is written in it, voices chosen for it
    instructions: str = ""  # tone and focus, for the script writer
    podcast_id: str | None = None  # set by the job: retries reuse the script written
    # [{id, name, role, voice}]; None = the default host and guest (host_voice, guest_voice)
    speakers: list[dict] | None = None
    # A stored script document to voice instead of writing one (render, retry).
    document: dict | None = None
    # Called with a newly written document before voicing, so it survives a failure.
    script_store: Callable[[dict], None] | None = None
    # The episode's current audio, for a re-render: {"key", "manifest"} (see splice.py).
    previous: dict | None = None
    music: MusicSet | None = None  # the user's intro, outro and bed (feed settings)
    cover: bytes | None = None  # the user's cover art; None: drawn from the title


@dataclass
class Episode:
    title: str
    script: Script
    audio: AssembledAudio
    document: dict | None = None
    lines_voiced: int | None = None  # sent to the provider by this job
    lines_reused: int | None = None  # taken from the line cache
    voiced_seconds: float | None = None  # speech newly voiced: what a re-render is charged
    manifest: dict | None = None  # what a later re-render needs to keep this audio
    cover: bytes = b""  # embedded in the MP3 as APIC; JPEG or PNG
    chapters: list[Chapter] = field(default_factory=list)


def episode_produce(request: EpisodeRequest, *, progress: ProgressCallback) -> Episode:
    """Run script, speech and combine. `progress(percent, step)` may raise JobCancelled."""
    document = request.document
    if document is None:
        progress(0, "Writing script")
        document = script_prepare(request)
        if request.script_store:
            request.script_store(document)
        progress(25, "Script generated")
    else:
        progress(25, "Voicing the script")
    return episode_render(
        document,
        tts_provider=request.tts_provider,
        title=request.title or document["title"],
        progress=progress,
        previous=request.previous,
        music=request.music,
        cover=request.cover,
    )


def script_prepare(request: EpisodeRequest) -> dict:
    """Speakers with distinct voices, the script written for them, as a document."""
    speakers = voices_assign(
        provider_name=request.tts_provider,
        speakers=request.speakers
        or speakers_with_ids(
            speakers_default(host_voice=request.host_voice, guest_voice=request.guest_voice)
        ),
        language=request.language,
    )
    script = _script_write(request, speakers)
    document = document_from_script(script, speakers=speakers)
    document["warnings"] = list(getattr(script, "warnings", None) or [])
    return document


@dataclass
class _Rendered:
    audio: AssembledAudio
    voiced_lines: set[int]  # lines sent to the provider by this render
    voiced_seconds: float
    speech_end: float  # where the last line's speech ends, before the closing silence


def episode_render(
    document: dict,
    *,
    tts_provider: str,
    title: str,
    progress: ProgressCallback,
    previous: dict | None = None,
    music: MusicSet | None = None,
    cover: bytes | None = None,
) -> Episode:
    """Voice a script document (unchanged lines from the line cache) and assemble it; with
    the `previous` audio of the episode, keep its frames for unchanged lines and encode
    only the changed ones (splice), falling back to a full assembly when that can't be
    (also when intro, outro or a music bed are mixed in: a spliced line would lack the bed).
    """
    speakers = {speaker["id"]: speaker for speaker in document["speakers"]}
    lines = sounding_lines(document)
    identity = provider_identity(tts_provider)
    manifest = (previous or {}).get("manifest") or {}
    rendered = None
    if manifest.get("provider") == identity and manifest.get("lines") and not music:
        rendered = _render_spliced(lines, previous["key"], manifest, tts_provider, title, progress)
    rendered = rendered or _render_whole(lines, tts_provider, title, music, progress)
    audio = rendered.audio
    for segment, line in zip(audio.segments, lines):
        # The transcript names who speaks, and which script line each segment voices;
        # chapters start where the section changes.
        segment["name"] = speakers[line["speaker"]]["name"]
        segment["lineId"] = line["id"]
        if line["section"]:
            segment["section"] = line["section"]
    cover = cover or artwork.artwork_draw(title)
    chapters = chapters_of(audio.segments, duration=audio.duration, title=title)
    audio.mp3 = mp3_tag(
        audio.mp3, chapters=chapters, artwork=cover, mime=artwork.content_type_of(cover)
    )
    progress(80, "Audio combined")
    ends = [segment["end"] for segment in audio.segments]
    ends[-1] = rendered.speech_end
    return Episode(
        title=title,
        script=script_from_document(document),
        audio=audio,
        document=document,
        lines_voiced=len(rendered.voiced_lines),
        lines_reused=len(lines) - len(rendered.voiced_lines),
        voiced_seconds=rendered.voiced_seconds,
        manifest={}
        if music
        else {  # intro and bed are mixed in: never spliced
            "provider": identity,
            "chain": audio.loudness_chain,
            "lines": [
                {
                    "sound": line["sound"],
                    "speaker": line["speaker"],
                    "start": segment["start"],
                    "end": end,
                }  # fmt: skip
                for line, segment, end in zip(lines, audio.segments, ends)
            ],
        },
        cover=cover,
        chapters=chapters,
    )


def _render_spliced(
    lines: list[dict], key: str, manifest: dict, tts_provider: str, title: str, progress
) -> _Rendered | None:
    """The earlier episode with only the changed lines voiced and encoded, or None."""
    try:
        old_mp3 = storage.audio_read(key=key)
    except OSError:  # gone from storage: assemble the whole episode instead
        return None
    if not splice_possible(old_mp3):
        return None
    needed = lines_to_voice([line["sound"] for line in manifest["lines"]],
                            [line["sound"] for line in lines])  # fmt: skip
    clips, voiced = _speech_synthesize(
        tts_provider, [(lines[j]["voice"], lines[j]["text"]) for j in needed], progress
    )
    progress(60, "Audio generated")
    spliced = splice(
        old_mp3=old_mp3,
        old_lines=manifest["lines"],
        new_lines=lines,
        clips=dict(zip(needed, clips)),
        chain=manifest.get("chain", ""),
        title=title,
    )
    if spliced is None:
        logger.info("re-render of %r: splice not possible, assembling it whole", title)
        return None
    logger.info("re-render of %r spliced: %d of %d lines encoded", title, len(needed), len(lines))
    audio = AssembledAudio(
        mp3=spliced.mp3,
        duration=spliced.duration,
        segments=spliced.segments,
        loudness_chain=manifest["chain"],
    )
    return _Rendered(
        audio=audio,
        voiced_lines={j for j, fresh in zip(needed, voiced) if fresh},
        voiced_seconds=spliced.voiced_seconds,
        speech_end=spliced.speech_end,
    )


def _render_whole(
    lines: list[dict], tts_provider: str, title: str, music: MusicSet | None, progress
) -> _Rendered:
    clips, voiced = _speech_synthesize(
        tts_provider, [(line["voice"], line["text"]) for line in lines], progress
    )
    progress(60, "Audio generated")
    audio = audio_assemble(
        lines=[(line["speaker"], line["text"], clip) for line, clip in zip(lines, clips)],
        title=title,
        artist=settings.AUDIO_ARTIST,
        pcm_hook=music_hook(music) if music else None,
    )
    voiced_lines = {index for index, fresh in enumerate(voiced) if fresh}
    return _Rendered(
        audio=audio,
        voiced_lines=voiced_lines,
        voiced_seconds=sum(
            segment["end"] - segment["start"]
            for index, segment in enumerate(audio.segments)
            if index in voiced_lines
        ),
        speech_end=max(audio.duration - LEAD_OUT_MS / 1000, audio.segments[-1]["start"]),
    )


def _script_write(request: EpisodeRequest, speakers: list[dict]) -> Script:
    """The writer's script; for a podcast, the one an earlier attempt already paid for.

    An LLM writes different words each time, so without this a retried job would voice
    all-new lines and the line cache could never hit.
    """
    writer = registry.script_writer()
    # A speaker called just "Host" or "Guest" has no personal name to be addressed by.
    cast = [
        {
            "id": s["id"],
            "name": "" if s["name"] == DEFAULT_NAMES.get(s["role"]) else s["name"],
            "role": s["role"],
        }  # fmt: skip
        for s in speakers
    ]
    params = {
        "writer": writer.name,
        "model": getattr(writer, "model", ""),
        "notes": request.notes,
        "duration": request.duration.lower(),
        "title": request.title,
        "language": request.language,
        "instructions": request.instructions,
        "speakers": cast,
    }
    cache = (
        ScriptCache(podcast_id=request.podcast_id, params=params)
        if request.podcast_id and getattr(writer, "cache_scripts", False)
        else None
    )
    if cache and (script := cache.get()):
        return script
    arguments = {
        "notes": request.notes,
        "duration": request.duration.lower(),
        "title": request.title,
        "language": request.language,
        "instructions": request.instructions,
    }
    # The offline writer varies its phrasing per podcast (reproducibly, for retries).
    if getattr(writer, "accepts_episode_key", False):
        arguments["episode_key"] = request.podcast_id
    script = _speaker_ids(writer.write(**arguments, speakers=cast), cast)
    if cache:
        cache.put(script)
    return script


def _speaker_ids(script: Script, cast: list[dict]) -> Script:
    """The writer's lines with speaker ids, whether it named speakers by id, name or role."""
    ids: dict[str, str] = {}
    for speaker in cast:
        for key in (speaker["id"], speaker["name"], speaker["role"]):
            ids.setdefault(key.casefold(), speaker["id"])
    lines = []
    for line in script.lines:
        speaker = ids.get(line.speaker.casefold())
        if speaker is None:
            raise ProviderError(
                f"The script writer gave a line to {line.speaker!r}, who is not a speaker",
                permanent=True,
            )
        lines.append(ScriptLine(speaker=speaker, text=line.text, section=line.section))
    return Script(title=script.title, lines=lines, warnings=list(script.warnings))


def _speech_synthesize(
    name: str, items: list[tuple[str, str]], progress: ProgressCallback
) -> tuple[list[SpeechClip], list[bool]]:
    """Voice every (voice, text), up to the provider's concurrency at once, in order.

    Lines already bought (same provider, voice, settings and text) come from the line
    cache; the second list says which lines were newly voiced. Progress and cancellation
    are handled here, in the calling thread: the worker threads only talk to the provider
    and to storage, never to the database.
    """
    provider = registry.speech_provider(name)
    cache = (
        LineCache(provider)
        if settings.TTS_LINE_CACHE and getattr(provider, "cache_lines", False)
        else None
    )
    total = len(items)
    voiced = [True] * total

    def voice_line(index: int) -> SpeechClip:
        voice, text = items[index]
        if cache and (clip := cache.get(voice=voice, text=text)):
            voiced[index] = False
            return clip
        clip = provider.synthesize(text=text, voice=voice)
        if cache:
            cache.put(voice=voice, text=text, clip=clip)
        return clip

    clips: list[SpeechClip | None] = [None] * total

    def line_done(done: int) -> None:
        progress(25 + (35 * done) // max(total, 1), f"Voicing line {done} of {total}")

    concurrency = min(registry.speech_concurrency(name), max(total, 1))
    if concurrency == 1:
        # One at a time: no thread, and a cancel stops the job before the next line.
        for index in range(total):
            clips[index] = voice_line(index)
            line_done(index + 1)
        return clips, voiced  # type: ignore[return-value]

    # A sliding window rather than submitting every line up front: when the job fails or
    # is cancelled, at most `concurrency` lines are in flight, and those finish (into the
    # cache) before we return, so a retry knows exactly what was already bought.
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=f"tts-{name}") as pool:
        pending: dict[Future, int] = {}
        next_index = 0
        done = 0
        try:
            while pending or next_index < total:
                while next_index < total and len(pending) < concurrency:
                    pending[pool.submit(voice_line, next_index)] = next_index
                    next_index += 1
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    clips[pending.pop(future)] = future.result()
                    done += 1
                    line_done(done)
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    return clips, voiced  # type: ignore[return-value]


# --- The Celery job around it --------------------------------------------------------------


def podcast_generate(*, podcast_id: str, job_id: str, final_attempt: bool = True) -> None:
    """Run the whole job for one podcast. Safe to run again for the same job (re-delivery).

    A generate job writes the script (and stops at SCRIPT_READY when the podcast asked for
    review); a render job voices the stored script. Both store it as a document first.
    """
    podcast = _job_start(podcast_id=podcast_id, job_id=job_id)
    if podcast is None:
        return
    tracker = _ProgressTracker(podcast_id=podcast_id, job_id=job_id)
    try:
        request = _request_of(podcast)
        kind = PodcastJob.objects.filter(job_id=job_id).values_list("kind", flat=True).first()
        if podcast.review and kind == JobKind.GENERATE and request.document is None:
            tracker(0, "Writing script")
            _script_ready(podcast_id=podcast_id, job_id=job_id, document=script_prepare(request))
            return
        episode = episode_produce(request, progress=tracker)
        tracker(80, "Uploading audio")
        key = storage.audio_key(
            user_id=podcast.user_id,
            podcast_id=podcast.id,
            version=job_id[:8] if podcast.audio_url else "",
        )
        key = storage.audio_upload(key=key, data=episode.audio.mp3)
        if episode.cover:
            media.episode_cover_store(podcast, episode.cover)
        tracker(95, "Saving podcast")
        _job_complete(podcast_id=podcast_id, job_id=job_id, episode=episode, key=key)
    except JobCancelled:
        logger.info("podcast %s cancelled during job %s", podcast_id, job_id)
    except ProviderError as exc:
        metrics.provider_error_observe(job_id=job_id, permanent=exc.permanent)
        if exc.permanent or final_attempt:
            podcast_job_fail(podcast_id=podcast_id, job_id=job_id, message=exc.message)
        else:
            _job_note_retry(job_id=job_id, message=exc.message)
            raise TransientJobError(exc.message) from exc
    except Exception as exc:  # noqa: BLE001 - a bug must still end the job, not leave it hanging
        logger.exception("podcast %s job %s crashed", podcast_id, job_id)
        podcast_job_fail(podcast_id=podcast_id, job_id=job_id, message=f"Internal error: {exc}")


def _request_of(podcast: Podcast) -> EpisodeRequest:
    stored = PodcastScript.objects.filter(podcast_id=podcast.id).first()
    uploads = media.user_media(user_id=podcast.user_id, podcast_id=podcast.id)
    music = MusicSet(intro=uploads.intro, outro=uploads.outro, bed=uploads.bed)
    return EpisodeRequest(
        music=music or None,
        cover=uploads.cover,
        notes=podcast.note_content,
        duration=podcast.duration,
        title=podcast.title,
        host_voice=podcast.host_voice,
        guest_voice=podcast.guest_voice,
        tts_provider=podcast.tts_provider,
        language=podcast.language,
        instructions=podcast.instructions,
        podcast_id=podcast.id,
        speakers=speakers_of(podcast),
        document=document_of(stored) if stored else None,
        script_store=lambda document: _script_save(podcast_id=podcast.id, document=document),
        previous=(
            {"key": podcast.audio_url, "manifest": stored.rendered}
            if stored and podcast.audio_url and stored.rendered
            else None
        ),
    )


def _script_save(*, podcast_id: str, document: dict) -> None:
    if "warnings" in document:  # what the writer said about the notes, kept on the podcast
        Podcast.objects.filter(id=podcast_id).update(warnings=document.pop("warnings"))
    PodcastScript.objects.update_or_create(
        podcast_id=podcast_id,
        defaults={
            "title": document["title"][:200],
            "speakers": document["speakers"],
            "sections": document["sections"],
        },
    )


def _script_ready(*, podcast_id: str, job_id: str, document: dict) -> None:
    """The review stop: store the script and hand the podcast to its owner."""
    now = timezone.now()
    with transaction.atomic():
        # Lock: a delete racing this step either wins (we stop) or waits for us.
        podcast = Podcast.objects.select_for_update().get(id=podcast_id)
        if podcast.status != PodcastStatus.PROCESSING or podcast.deleted_at:
            raise JobCancelled()
        _script_save(podcast_id=podcast_id, document=document)
        podcast.title = podcast.title or document["title"][:200]
        podcast.status = PodcastStatus.SCRIPT_READY
        podcast.progress = 25
        podcast.current_step = "Script ready for review"
        podcast.error = None
        podcast.save()
        # The reservation stays: the podcast is under way until it is rendered or deleted.
        PodcastJob.objects.filter(job_id=job_id).update(
            status=JobStatus.SCRIPT_READY,
            progress=25,
            current_step="Script ready for review",
            completed_at=now,
            error=None,
        )
        podcast_event_emit(podcast=podcast, event=WebhookEvent.PODCAST_SCRIPT_READY)
        transaction.on_commit(lambda: publisher.status_publish(podcast_id=podcast_id))


def _job_start(*, podcast_id: str, job_id: str) -> Podcast | None:
    """Mark the job running, or return None when there is nothing (left) to do."""
    now = timezone.now()
    with transaction.atomic():
        # Lock: a delete arriving now must either see PROCESSING or cancel us before we start.
        podcast = Podcast.objects.select_for_update().filter(id=podcast_id).first()
        job = PodcastJob.objects.select_for_update().filter(job_id=job_id).first()
        if podcast is None or job is None:
            return None
        if (
            podcast.deleted_at
            or podcast.status not in ACTIVE_STATUSES
            or job.status not in ACTIVE_STATUSES
        ):
            return None
        # A re-delivered job (its worker died) finds the podcast PROCESSING already: it runs
        # again, but subscribers heard "processing" once, under one webhook-id.
        announce = podcast.status == PodcastStatus.QUEUED
        podcast.status = PodcastStatus.PROCESSING
        podcast.progress = 0
        podcast.current_step = "Starting generation"
        podcast.started_at = podcast.started_at or now
        podcast.error = None
        podcast.save()
        job.status = JobStatus.PROCESSING
        job.progress = 0
        job.current_step = "Starting generation"
        job.attempts += 1
        job.started_at = job.started_at or now
        job.save()
        if announce:
            podcast_event_emit(podcast=podcast, event=WebhookEvent.PODCAST_PROCESSING)
    return podcast


class _ProgressTracker:
    """Writes progress to both rows and stops the job if the podcast was cancelled."""

    def __init__(self, *, podcast_id: str, job_id: str):
        self.podcast_id = podcast_id
        self.job_id = job_id

    def __call__(self, percent: int, step: str) -> None:
        updated = Podcast.objects.filter(
            id=self.podcast_id, status=PodcastStatus.PROCESSING, deleted_at__isnull=True
        ).update(progress=percent, current_step=step, updated_at=timezone.now())
        if not updated:
            raise JobCancelled()
        live = PodcastJob.objects.filter(job_id=self.job_id, status=JobStatus.PROCESSING).update(
            progress=percent, current_step=step
        )
        if not live:
            raise JobCancelled()  # superseded: the sweeper gave up on this worker
        publisher.progress_publish(
            podcast_id=self.podcast_id, job_id=self.job_id, percent=percent, step=step
        )


def _job_complete(*, podcast_id: str, job_id: str, episode: Episode, key: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        # Lock: a delete racing the last step either wins (we drop the audio) or waits.
        podcast = Podcast.objects.select_for_update().get(id=podcast_id)
        live = PodcastJob.objects.filter(job_id=job_id, status=JobStatus.PROCESSING).exists()
        if podcast.status != PodcastStatus.PROCESSING or podcast.deleted_at or not live:
            transaction.on_commit(lambda: storage.audio_delete(key=key))
            raise JobCancelled()
        previous_key = podcast.audio_url  # a re-render: the earlier audio goes once saved
        podcast.title = podcast.title or episode.title
        podcast.status = PodcastStatus.COMPLETED
        podcast.progress = 100
        podcast.current_step = "Completed"
        podcast.audio_url = key
        podcast.audio_duration = round(episode.audio.duration, 3)
        podcast.audio_size = len(episode.audio.mp3)
        podcast.transcript = episode.audio.segments
        if warnings := getattr(episode.script, "warnings", None):
            podcast.warnings = list(warnings)
        podcast.completed_at = now
        podcast.error = None
        podcast.save()
        if episode.document is not None:
            _script_save(podcast_id=podcast_id, document=episode.document)
            PodcastScript.objects.filter(podcast_id=podcast_id).update(
                rendered=episode.manifest or {}
            )
        if previous_key:
            # Charged for the speech it newly voiced only, once per job.
            usage_charge(podcast=podcast, seconds=episode.voiced_seconds or 0, charge_key=job_id)
            if previous_key != key:
                transaction.on_commit(lambda: storage.audio_delete(key=previous_key))
        else:
            usage_charge(podcast=podcast)
        PodcastJob.objects.filter(job_id=job_id).update(
            status=JobStatus.COMPLETED,
            progress=100,
            current_step="Completed",
            completed_at=now,
            error=None,
            lines_voiced=episode.lines_voiced,
            lines_reused=episode.lines_reused,
        )
        podcast_event_emit(podcast=podcast, event=WebhookEvent.PODCAST_COMPLETED)
        notify.episode_completed(
            user_id=podcast.user_id,
            podcast_id=podcast.id,
            title=podcast.title,
            duration_seconds=podcast.audio_duration,
        )
        # Streams learn the final state at once (progress writes are published as they go).
        transaction.on_commit(lambda: publisher.status_publish(podcast_id=podcast_id))


def _job_note_retry(*, job_id: str, message: str) -> None:
    """The job will run again after a backoff; pollers see why it paused."""
    job = PodcastJob.objects.filter(job_id=job_id).first()
    if job is None:
        return
    step = f"Retrying after a provider error: {message}"[:100]
    Podcast.objects.filter(id=job.podcast_id, status=PodcastStatus.PROCESSING).update(
        current_step=step, updated_at=timezone.now()
    )
    PodcastJob.objects.filter(job_id=job_id).update(
        current_step=step, error=message, stack_trace=traceback.format_exc()
    )
