"""Who speaks in an episode: 1 to 4 speakers {id, name, role, voice}, their ids, and a
distinct voice of the podcast's provider for each.

A podcast created without `speakers` has the plan's two: a host and a guest, voiced by
`hostVoice` and `guestVoice`. Speaker ids are the role, numbered from the second speaker
of a role on ("guest", "guest2"), so the default two keep the ids "host" and "guest" that
transcripts have always used.
"""

from __future__ import annotations

from collections import Counter

from podcasts.models import Podcast, SpeakerRole
from podcasts.providers import registry
from podcasts.providers.base import GUEST, HOST, Voice

ROLES = [role.value for role in SpeakerRole]
MAX_SPEAKERS = 4
DEFAULT_NAMES = {HOST: "Host", GUEST: "Guest"}


def speakers_default(*, host_voice: str = HOST, guest_voice: str = GUEST) -> list[dict]:
    return [
        {"name": DEFAULT_NAMES[HOST], "role": HOST, "voice": host_voice},
        {"name": DEFAULT_NAMES[GUEST], "role": GUEST, "voice": guest_voice},
    ]


def speakers_with_ids(speakers: list[dict]) -> list[dict]:
    """The speakers with ids from their roles: host, guest, guest2, ..."""
    seen: Counter = Counter()
    result = []
    for speaker in speakers:
        role = speaker["role"]
        seen[role] += 1
        result.append(
            {
                "id": role if seen[role] == 1 else f"{role}{seen[role]}",
                "name": speaker["name"],
                "role": role,
                "voice": speaker.get("voice") or "",
            }
        )
    return result


def speakers_of(podcast: Podcast) -> list[dict]:
    """The podcast's speakers as asked on create (voices possibly still "host"/"")."""
    asked = podcast.speakers or speakers_default(
        host_voice=podcast.host_voice, guest_voice=podcast.guest_voice
    )
    return speakers_with_ids(asked)


def _speaking(voices: list[Voice], language: str) -> list[Voice]:
    return [v for v in voices if v.language in (language, "mul")] or voices


def voices_assign(*, provider_name: str, speakers: list[dict], language: str) -> list[dict]:
    """Each speaker with a concrete voice id of the provider, distinct where it has enough.

    A voice given by id is kept. "host"/"guest" (and an empty voice on the first two
    speakers) stand for the provider's defaults for the language. Others get the next
    unused voice that speaks the language, of another gender than the speaker before,
    so that neighbours in the conversation sound most unlike each other.
    """
    provider = registry.speech_provider(provider_name)
    pool = _speaking(provider.voices(), language)
    # A provider that knows which of its voices sound most unlike each other (eSpeak's
    # four speakers per language) has them handed out first, in its order.
    preferred = getattr(provider, "distinct_voices", lambda language: [])(language)
    pool.sort(key=lambda v: preferred.index(v.id) if v.id in preferred else len(preferred))
    genders = {v.id: v.gender for v in pool}
    explicit = {s["voice"] for s in speakers if s["voice"] and s["voice"] not in (HOST, GUEST)}
    used: set[str] = set(explicit)
    result = []
    previous_gender = None
    for index, speaker in enumerate(speakers):
        voice = speaker["voice"]
        if not voice and index < 2:
            voice = (HOST, GUEST)[index]
        if voice in (HOST, GUEST):
            resolved = registry.voice_resolve(
                provider_name=provider_name, voice=voice, language=language
            )
            voice = resolved if resolved not in used else ""
        if not voice:
            voice = _next_voice(pool, used, previous_gender)
        used.add(voice)
        previous_gender = genders.get(voice)
        result.append({**speaker, "voice": voice})
    return result


def _next_voice(pool: list[Voice], used: set[str], previous_gender: str | None) -> str:
    unused = [v for v in pool if v.id not in used]
    if not unused:  # fewer voices than speakers: share, rather than fail the episode
        return pool[len(used) % len(pool)].id
    other = [v for v in unused if v.gender != previous_gender]
    return (other or unused)[0].id


def language_supported(*, provider_name: str, language: str) -> bool:
    """Whether the provider has a voice of `language` (or one that speaks every language)."""
    voices = registry.speech_provider(provider_name).voices()
    return any(v.language in (language, "mul") for v in voices)
