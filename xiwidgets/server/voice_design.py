"""Voice design: a description becomes three preview voices; a kept preview becomes a voice.

Independent of HTTP: failures are :mod:`~xiwidgets.server.domain_errors`.

Method
------
* The description's words give :class:`~xiwidgets.server.voice_description.VoiceTraits`
  (gender, age, accent, pitch, pace, tone words).
* Every English premade voice that can speak now is scored against them: gender (±4), accent
  (+2 / -1), age (+1.5 / -0.5) and one point per tone word shared with the voice's tone label
  ("deep", "bright", "warm", ...). With the Kokoro voices installed only they take part,
  otherwise Joe and the espeak-ng voices do.
* The three best voices are the nearest, less any scoring 3 below the best (the wrong gender).
  Preview *i* is centred on the *i*-th nearest (cycling when fewer). With Kokoro it is a
  blend of the nearest: the centre weighs 0.55–0.8, the others share the rest (Dirichlet),
  drawn from the seed. Without Kokoro the centre voice speaks it alone.
* The description's pitch and pace become ``pitch_factor`` = 2^(4·pitch/12) (±4 semitones;
  varispeed also moves the formants, the timbre shift the cloning code uses) and
  ``rate_factor`` = 2^(0.45·pace), each with a small seeded jitter per preview (±0.6 semitone
  and ±4 % at the default ``guidance_scale`` of 5; a higher guidance or quality narrows it).
* The seed (drawn when not given) decides the blends and jitters: the same description, text
  and seed give the same three voices.
* ``loudness`` -1..1 sets the previews' speech level: -24 dBFS RMS at 0 (the API's "roughly
  -24 LUFS"), down to -32 at -1 and up to -20 at 1, the level the synthesizer's speaker boost
  gives; so the previews are only ever turned down, and never clip.

Each preview's audio is made once and kept, encoded as MP3 (``STREAM_OUTPUT_FORMAT``): by the
design itself, or with ``stream_previews`` by the first stream of it (or its save); every
later stream replays the kept bytes, and a stream that starts while the audio is being made
waits for the rest of it (:mod:`~xiwidgets.server.preview_audio`). A design bills the preview
text once (as the hosted API does), whatever the number of previews; streaming and saving are
free, which is why nothing is ever spoken twice. At most ``MAX_KEPT_PREVIEWS`` previews holding
at most ``MAX_KEPT_PREVIEW_BYTES`` of audio in all are kept, each for
``PREVIEW_LIFETIME_SECONDS``, in memory (a restart forgets them); past either cap the oldest
go. Previews are not history items.

A design with audio makes its previews side by side, as many at once as the server has
synthesis slots (one per two cores by default).
"""

from __future__ import annotations

import contextlib
import itertools
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, overload

import numpy as np

from xiwidgets.formats import OutputFormat
from xiwidgets.server import catalog
from xiwidgets.server.concurrency import Concurrency
from xiwidgets.server.config import ServerConfig
from xiwidgets.server.domain_errors import (
    GeneratedVoiceNotFoundError,
    InvalidTextError,
    NoLongerWantedError,
    QuotaExceededError,
    ServerStoppingError,
    VoiceLimitReachedError,
)
from xiwidgets.server.engines.base import SynthesisSettings, VoiceSpec
from xiwidgets.server.engines.registry import engine_info
from xiwidgets.server.preview_audio import PreviewAudio
from xiwidgets.server.store import QuotaExceededError as QuotaRefusedError
from xiwidgets.server.store import Store, Usage, VoiceLimitError, new_id
from xiwidgets.server.text import text_problem
from xiwidgets.server.voice_description import VoiceTraits, parse_description

if TYPE_CHECKING:
    from xiwidgets.server.audio import FloatAudio
    from xiwidgets.server.workers import SpeechMaker

PREVIEWS_PER_DESIGN = 3
MAX_KEPT_PREVIEWS = 300
# A preview of the longest text (1000 characters, about 70 s) is about 1.1 MB at 128 kbit/s;
# a 100-character one about 110 kB.
MAX_KEPT_PREVIEW_BYTES = 64 * 2**20
PREVIEW_LIFETIME_SECONDS = 24 * 3600
DEFAULT_GUIDANCE_SCALE = 5.0
PITCH_SEMITONES = 4.0
PACE_OCTAVES = 0.45
STREAM_OUTPUT_FORMAT = "mp3_44100_128"
# What a design's characters are counted under in the usage breakdown by voice.
USAGE_VOICE_ID = "voice_design"
_SPEAKER_BOOST_DBFS = -20.0  # the level the synthesizer's speaker boost sets (audio module)
_BLEND_SIZE = 3
_NEAREST_MARGIN = 3.0
# Tone-label words every voice of an engine has: they say nothing about the voice.
_ENGINE_WORDS = frozenset({"neural", "synthetic"})
# Texts the previews read when the request asks for one (auto_generate_text), by what the
# description suggests; each is 100-1000 characters, as the API requires of a text.
_AUTO_TEXTS = {
    "story": (
        "Once upon a time, in a village at the edge of a great forest, there lived an old "
        "clockmaker who could fix anything except his own broken heart. Every evening he "
        "wound the tower clock and told the children a story."
    ),
    "news": (
        "Good evening. Tonight, the city council approved a new plan for the riverside "
        "park, with more trees, a longer cycle path and a small open-air theatre. Work "
        "begins in the spring and should finish within two years."
    ),
    "calm": (
        "Take a slow, deep breath in, and let it go. Feel your shoulders soften and your "
        "hands rest. There is nothing you need to do right now; simply notice the quiet "
        "around you, and let each breath be a little longer than the last."
    ),
    "lively": (
        "Hey everyone, welcome back to the channel! Today we are trying the spiciest "
        "noodles in town, and honestly, I am a little scared. Grab a snack, hit that "
        "button, and let's find out together whether I survive the challenge!"
    ),
    "general": (
        "Every act of kindness, no matter how small, carries value and can make a "
        "difference. A kind word, a held door or a shared smile can change the course of "
        "someone's day, and sometimes the course of our own."
    ),
}
_AUTO_TEXT_WORDS = {
    "story": {"narrator", "storyteller", "story", "stories", "audiobook", "fairy", "tale",
              "wise", "old", "elderly", "grandfather", "grandmother"},
    "news": {"news", "anchor", "newsreader", "reporter", "professional", "formal",
             "announcer", "broadcaster", "corporate"},
    "calm": {"calm", "soothing", "meditation", "gentle", "soft", "relaxed", "whisper",
             "sleepy", "peaceful"},
    "lively": {"energetic", "excited", "lively", "upbeat", "youtuber", "influencer",
               "cheerful", "bubbly", "fast", "enthusiastic"},
}


@dataclass(frozen=True)
class DesignOptions:
    """The request's choices beside the description and text.

    Parameters
    ----------
    model_id : str
        The voice-design model named (both design the same way locally; billed under it).
    loudness : float
        -1 (quietest) to 1 (loudest); see the module docstring.
    seed : int or None
        Same seed, description and text: same previews. None draws one.
    guidance_scale : float
        0–100; how closely the previews keep to the description (narrower jitter when higher).
    quality : float or None
        -1–1; higher narrows the jitter too ("less variety").
    """

    model_id: str = "eleven_multilingual_ttv_v2"
    loudness: float = 0.5
    seed: int | None = None
    guidance_scale: float = DEFAULT_GUIDANCE_SCALE
    quality: float | None = None


@dataclass(frozen=True)
class Measure:
    """What a spoken preview measures (kept in the saved voice's profile, as for clones)."""

    median_f0_hz: float
    syllables_per_second: float
    seconds: float

    @classmethod
    def of_encoded(cls, audio: bytes) -> Measure:
        """The measure of an encoded preview (decoded at the analysis rate)."""
        from xiwidgets.server.cloning import ANALYSIS_RATE, decode_audio

        return cls.of(decode_audio(audio, "preview"), ANALYSIS_RATE)

    @classmethod
    def of(cls, samples: FloatAudio, rate: int) -> Measure:
        """Median F0 and syllable rate (``cloning``'s measures) and length of ``samples``."""
        from xiwidgets.server.cloning import median_f0, syllable_rate

        return cls(
            round(median_f0(samples, rate), 2),
            round(syllable_rate(samples, rate), 3),
            round(len(samples) / rate, 3),
        )


@dataclass(frozen=True)
class PreviewRecipe:
    """What makes one preview, kept so it can be spoken (once) and saved as a voice."""

    generated_voice_id: str
    description: str
    text: str
    spec: VoiceSpec
    labels: dict[str, str]
    loudness: float
    seed: int
    made_at: float


@dataclass
class _KeptPreview:
    """A preview's recipe and its audio (None until something asks for it)."""

    recipe: PreviewRecipe
    audio: PreviewAudio | None = None


@dataclass(frozen=True)
class Preview:
    """One designed voice's preview, encoded."""

    generated_voice_id: str
    audio: bytes
    media_type: str
    duration_secs: float
    language: str


@dataclass(frozen=True)
class Design:
    """The answer to a design: the previews and the text they read."""

    previews: list[Preview]
    text: str


class VoiceDesignService:
    """Designs voices from descriptions, keeps their previews, saves one as a voice.

    Parameters
    ----------
    config : ServerConfig
        The voice limit (saved voices count as added voices).
    store : Store
        The quota and the stored voices.
    synthesizer : Synthesizer or WorkerPool
        Speaks the previews.
    concurrency : Concurrency
        Its synthesis slots are held while a preview is spoken; a design is a request in
        flight, counted against ``max_concurrent_requests`` like a take.
    """

    def __init__(
        self, config: ServerConfig, store: Store, synthesizer: SpeechMaker,
        concurrency: Concurrency,
    ) -> None:
        self._config = config
        self._store = store
        self._synthesizer = synthesizer
        self._concurrency = concurrency
        self._slots = concurrency.synthesis_slots
        self._lock = threading.Lock()
        # One save at a time: a retried save must find the voice the first one made.
        self._save_lock = threading.Lock()
        self._kept: OrderedDict[str, _KeptPreview] = OrderedDict()
        # Previews being made in the background, and the signal for them to stop (close()).
        self._makers: set[threading.Thread] = set()
        self._closing = threading.Event()
        self._saved: dict[str, str] = {}  # generated_voice_id -> voice_id

    def design(
        self,
        *,
        request_id: str,
        description: str,
        text: str | None,
        options: DesignOptions,
        output_format: OutputFormat,
        with_audio: bool = True,
        stop: threading.Event | None = None,
    ) -> Design:
        """Make three previews of voices that fit ``description``, billing ``text`` once.

        Parameters
        ----------
        request_id : str
            Tags the characters' reservation.
        description : str
            The voice wanted, in English words.
        text : str or None
            What the previews say; None picks a text that suits the description.
        options : DesignOptions
            Model, loudness, seed, guidance, quality.
        output_format : OutputFormat
            The previews' encoding.
        with_audio : bool
            False keeps the previews only as recipes (``stream_previews``): each is spoken
            when first streamed (or saved), and the answer carries empty audio.
        stop : threading.Event, optional
            Set when the answer is no longer wanted (its client hung up): the previews stop
            being made, none is kept and the text is not billed.

        Raises
        ------
        NoLongerWantedError
            ``stop`` was set before the design was complete.
        InvalidTextError
            For text that is not valid Unicode or has nothing to say.
        QuotaExceededError
            When the text would pass the character quota (nothing is charged).
        TooManyConcurrentRequestsError
            When ``max_concurrent_requests`` takes and designs are already in flight.
        """
        text = text if text is not None else auto_text(description)
        problem = text_problem(text)
        if problem is not None:
            raise InvalidTextError(problem)
        seed = options.seed if options.seed is not None else secrets.randbelow(2**31)
        traits = parse_description(description)
        specs = design_specs(traits, options, seed)
        # A request in flight like a take: past the plan's limit it is refused (429) at once.
        self._concurrency.admit()
        try:
            return self._design(request_id, description, text, traits, specs, options, seed,
                                output_format, with_audio, stop)
        finally:
            self._concurrency.change_in_flight(-1)

    def _design(
        self, request_id: str, description: str, text: str, traits: VoiceTraits,
        specs: list[VoiceSpec], options: DesignOptions, seed: int, output_format: OutputFormat,
        with_audio: bool, stop: threading.Event | None,
    ) -> Design:
        """The admitted part of :meth:`design`: reserve, make, bill (or refund), keep."""
        try:
            reservation = self._store.reserve_characters(len(text), request_id)
        except QuotaRefusedError as exc:
            reset_unix = self._store.account()["next_reset_unix"]
            raise QuotaExceededError(exc.needed, exc.left, reset_unix) from None
        try:
            recipes = [
                PreviewRecipe(
                    generated_voice_id=new_id(),
                    description=description,
                    text=text,
                    spec=spec,
                    labels={**traits.labels(), "language": spec.language},
                    loudness=options.loudness,
                    seed=seed + index,
                    made_at=time.time(),
                )
                for index, spec in enumerate(specs)
            ]
            kept = [_KeptPreview(recipe, PreviewAudio() if with_audio else None)
                    for recipe in recipes]
            if with_audio:
                previews = self._make_side_by_side(kept, output_format, stop)
            else:
                previews = [
                    Preview(recipe.generated_voice_id, b"", output_format.media_type, 0.0,
                            recipe.spec.language)
                    for recipe in recipes
                ]
            if stop is not None and stop.is_set():
                raise NoLongerWantedError
            self._store.settle_take(reservation, Usage(USAGE_VOICE_ID, options.model_id, len(text)))
        except BaseException:
            self._store.refund_characters(reservation)
            raise
        with self._lock:
            for entry in kept:
                self._kept[entry.recipe.generated_voice_id] = entry
            self._forget_old()
        return Design(previews, text)

    def recipe(self, generated_voice_id: str) -> PreviewRecipe:
        """The preview kept under this id.

        Raises
        ------
        GeneratedVoiceNotFoundError
            For an id never made here, expired, or forgotten by a restart.
        """
        return self._entry(generated_voice_id).recipe

    def stream_preview(self, generated_voice_id: str) -> Iterator[bytes]:
        """MP3 bytes of a kept preview: the kept audio, or as it is made the first time.

        Waits for the first bytes, so an unknown id or a preview that cannot be spoken
        raises here, before anything is sent.

        Raises
        ------
        GeneratedVoiceNotFoundError
            For an unknown or expired id.
        """
        chunks = self._audio(generated_voice_id).stream()
        first = next(chunks, b"")
        return itertools.chain([first], chunks)

    def save(
        self,
        generated_voice_id: str,
        name: str,
        description: str,
        labels: dict[str, str] | None,
    ) -> str:
        """Store a kept preview as a voice (category ``generated``) and return its voice_id.

        Saving the same preview again (a retried request) returns the voice made the first
        time while it exists, rather than a copy.

        Raises
        ------
        GeneratedVoiceNotFoundError
            For an unknown or expired id.
        VoiceLimitReachedError
            When the server holds ``max_cloned_voices`` added voices already.
        """
        recipe = self.recipe(generated_voice_id)
        with self._save_lock:
            with self._lock:
                earlier = self._saved.get(generated_voice_id)
            if earlier is not None and self._store.get_voice(earlier) is not None:
                return earlier
            voice_id = self._save(recipe, name, description, labels)
            with self._lock:
                self._saved[generated_voice_id] = voice_id
            return voice_id

    def _save(
        self, recipe: PreviewRecipe, name: str, description: str, labels: dict[str, str] | None
    ) -> str:
        from xiwidgets.server.cloning import VoiceProfile

        limit = self._config.max_cloned_voices
        if self._store.count_voices() >= limit:
            raise VoiceLimitReachedError(limit)
        measure = Measure.of_encoded(self._audio(recipe.generated_voice_id).whole())
        spec = recipe.spec
        profile = VoiceProfile(
            median_f0_hz=measure.median_f0_hz,
            syllables_per_second=measure.syllables_per_second,
            speech_seconds=measure.seconds,
            engine=spec.engine,
            engine_voice=spec.engine_voice,
            language=spec.language,
            variant=spec.variant,
            pitch_factor=spec.pitch_factor,
            rate_factor=spec.rate_factor,
            analysed_seconds=measure.seconds,
        )
        voice_id = new_id()
        try:
            self._store.add_voice(
                voice_id, name, description, {**recipe.labels, **(labels or {})},
                profile.to_dict(), voice_limit=limit, category="generated",
            )
        except VoiceLimitError:
            raise VoiceLimitReachedError(limit) from None
        return voice_id

    def _entry(self, generated_voice_id: str) -> _KeptPreview:
        with self._lock:
            self._forget_old()
            entry = self._kept.get(generated_voice_id)
        if entry is None:
            raise GeneratedVoiceNotFoundError(
                generated_voice_id, MAX_KEPT_PREVIEWS, MAX_KEPT_PREVIEW_BYTES,
                PREVIEW_LIFETIME_SECONDS,
            )
        return entry

    def _audio(self, generated_voice_id: str) -> PreviewAudio:
        """The preview's audio, its making started in the background if nothing made it yet
        (or the last try failed); one lock decides, so concurrent callers share one maker."""
        entry = self._entry(generated_voice_id)
        with self._lock:
            audio = entry.audio
            if audio is None or audio.failed:
                if self._closing.is_set():
                    raise ServerStoppingError()
                audio = entry.audio = PreviewAudio()
                maker = threading.Thread(
                    target=self._make_and_trim, args=(entry.recipe, audio),
                    name="xiwidgets-preview", daemon=True,
                )
                self._makers.add(maker)
                maker.start()
        return audio

    def _make_and_trim(self, recipe: PreviewRecipe, audio: PreviewAudio) -> None:
        try:
            # A failure reaches every stream waiting on the audio (PreviewAudio.fail).
            with contextlib.suppress(Exception):
                self._make(recipe, audio, None)
            with self._lock:
                self._forget_old()
        finally:
            with self._lock:
                self._makers.discard(threading.current_thread())

    def close(self, timeout: float = 60.0) -> None:
        """Stop the previews being made in the background (at their next clause) and wait
        for them, so no synthesis outlives the server."""
        self._closing.set()
        with self._lock:
            makers = list(self._makers)
        for maker in makers:
            maker.join(timeout)

    def _forget_old(self) -> None:
        """Drop expired previews and the oldest past either cap (caller holds the lock)."""
        oldest_kept = time.time() - PREVIEW_LIFETIME_SECONDS
        kept_bytes = sum(entry.audio.size for entry in self._kept.values() if entry.audio)
        while self._kept:
            first = next(iter(self._kept.values()))
            within_caps = (len(self._kept) <= MAX_KEPT_PREVIEWS
                           and kept_bytes <= MAX_KEPT_PREVIEW_BYTES)
            if within_caps and first.recipe.made_at >= oldest_kept:
                break
            self._kept.popitem(last=False)
            kept_bytes -= first.audio.size if first.audio else 0
            self._saved.pop(first.recipe.generated_voice_id, None)

    def _spoken_chunks(self, recipe: PreviewRecipe) -> Iterator[FloatAudio]:
        """Float audio of each clause (at the engine's rate), at the recipe's loudness."""
        gain = np.float32(10 ** ((loudness_dbfs(recipe.loudness) - _SPEAKER_BOOST_DBFS) / 20))
        settings = SynthesisSettings(seed=recipe.seed)
        chunks = self._synthesizer.synthesize(recipe.text, recipe.spec, settings)
        try:
            while True:
                # A slot per clause, never across a yield: a stream whose client stops
                # reading (or never finishes) must not keep a synthesis slot.
                with self._slots:
                    chunk = next(chunks, None)
                if chunk is None:
                    return
                yield chunk.pcm.astype(np.float32) / np.float32(32768.0) * gain
        finally:
            if isinstance(chunks, Generator):  # an abandoned stream ends the engine's session
                chunks.close()

    def _make_side_by_side(
        self, kept: list[_KeptPreview], fmt: OutputFormat, stop: threading.Event | None
    ) -> list[Preview]:
        """Make the previews' audio, as many at once as there are synthesis slots."""
        def make(entry: _KeptPreview) -> Preview:
            assert entry.audio is not None
            return self._make(entry.recipe, entry.audio, fmt, stop)

        with ThreadPoolExecutor(min(len(kept), self._slots.limit)) as pool:
            return list(pool.map(make, kept))

    @overload
    def _make(self, recipe: PreviewRecipe, audio: PreviewAudio, fmt: OutputFormat,
              stop: threading.Event | None = None) -> Preview:
        ...

    @overload
    def _make(self, recipe: PreviewRecipe, audio: PreviewAudio, fmt: None,
              stop: threading.Event | None = None) -> None:
        ...

    def _make(
        self, recipe: PreviewRecipe, audio: PreviewAudio, fmt: OutputFormat | None,
        stop: threading.Event | None = None,
    ) -> Preview | None:
        """Speak ``recipe`` once into ``audio`` (MP3), and also in ``fmt`` when given.

        Raises
        ------
        Exception
            Whatever stopped the synthesis; ``audio`` is then marked failed.
        """
        from xiwidgets.server.audio import float_to_int16, make_encoder

        rate = engine_info(recipe.spec.engine).sample_rate
        try:
            kept = make_encoder(OutputFormat.parse(STREAM_OUTPUT_FORMAT), rate)
            answer = make_encoder(fmt, rate) if fmt is not None else None
            encoded = bytearray()
            samples = 0
            for chunk in self._spoken_chunks(recipe):
                if self._closing.is_set():
                    raise ServerStoppingError()
                if stop is not None and stop.is_set():
                    raise NoLongerWantedError
                pcm = float_to_int16(chunk)
                audio.append(kept.encode(pcm))
                if answer is not None:
                    encoded += answer.encode(pcm)
                samples += len(pcm)
            audio.append(kept.finish())
            if answer is not None:
                encoded += answer.finish()
        except BaseException as error:
            audio.fail(error)
            raise
        audio.finish()
        if fmt is None:
            return None
        return Preview(recipe.generated_voice_id, bytes(encoded), fmt.media_type,
                       round(samples / rate, 3), recipe.spec.language)


def loudness_dbfs(loudness: float) -> float:
    """The speech RMS level (dBFS) of a preview at the API's ``loudness`` (-1..1)."""
    quiet, middle, loud = -32.0, -24.0, _SPEAKER_BOOST_DBFS
    return middle + loudness * ((loud - middle) if loudness > 0 else (middle - quiet))


def auto_text(description: str) -> str:
    """A preview text that suits the description (a story, news, calm, lively or general)."""
    words = parse_description(description).words
    for kind, cues in _AUTO_TEXT_WORDS.items():
        if words & cues:
            return _AUTO_TEXTS[kind]
    return _AUTO_TEXTS["general"]


def candidate_voices() -> list[catalog.PremadeVoice]:
    """The English voices designs are made of: Kokoro's when installed, else Joe and espeak."""
    english = [voice for voice in catalog.premade_voices() if voice.spec.language == "en"]
    kokoro = [voice for voice in english if voice.spec.engine == "kokoro"]
    return kokoro or english


def nearest_voices(
    traits: VoiceTraits, voices: list[catalog.PremadeVoice]
) -> list[catalog.PremadeVoice]:
    """The (up to) three voices that fit ``traits`` best, best first (catalog order breaks
    ties); a voice that scores ``_NEAREST_MARGIN`` below the best (one of the wrong gender)
    is left out, so a design never mixes what the description tells apart."""
    scores = {voice.voice_id: _score(traits, voice) for voice in voices}
    ranked = sorted(voices, key=lambda voice: -scores[voice.voice_id])
    best = scores[ranked[0].voice_id]
    return [v for v in ranked[:_BLEND_SIZE] if scores[v.voice_id] > best - _NEAREST_MARGIN]


def _score(traits: VoiceTraits, voice: catalog.PremadeVoice) -> float:
    labels = voice.labels
    score = 0.0
    if traits.gender is not None:
        score += 4.0 if labels.get("gender") == traits.gender else -4.0
    if traits.accent is not None:
        score += 2.0 if labels.get("accent") == traits.accent else -1.0
    if traits.age is not None:
        score += 1.5 if labels.get("age") == traits.age else -0.5
    tone = set(labels.get("description", "").replace(",", " ").split()) - _ENGINE_WORDS
    score += len(tone & traits.words)
    return score


def design_specs(traits: VoiceTraits, options: DesignOptions, seed: int) -> list[VoiceSpec]:
    """The voice specs of the previews of one design (see the module docstring)."""
    from xiwidgets.server.cloning import PITCH_FACTOR_RANGE, RATE_FACTOR_RANGE
    from xiwidgets.server.engines.kokoro_engine import format_blend, normalize_blend

    nearest = nearest_voices(traits, candidate_voices())
    rng = np.random.default_rng(seed)
    spread = min(2.0, DEFAULT_GUIDANCE_SCALE / max(options.guidance_scale, 0.5))
    if options.quality is not None:
        spread *= 1.0 - 0.5 * options.quality
    specs = []
    for index in range(PREVIEWS_PER_DESIGN):
        centre = nearest[index % len(nearest)]
        spec = centre.spec
        if spec.engine == "kokoro" and len(nearest) > 1:
            others = [voice for voice in nearest if voice is not centre]
            main = float(rng.uniform(0.55, 0.8))
            shares = rng.dirichlet(np.ones(len(others))) * (1.0 - main)
            weights = [(centre.spec.engine_voice, main)] + [
                (voice.spec.engine_voice, float(share))
                for voice, share in zip(others, shares, strict=True)
            ]
            spec = replace(spec, engine_voice=format_blend(normalize_blend(weights)))
        semitones = traits.pitch * PITCH_SEMITONES + float(
            np.clip(rng.normal(0.0, 0.6 * spread), -1.5, 1.5)
        )
        octaves = traits.pace * PACE_OCTAVES + float(
            np.clip(rng.normal(0.0, 0.055 * spread), -0.12, 0.12)
        )
        specs.append(
            replace(
                spec,
                pitch_factor=round(float(np.clip(2 ** (semitones / 12), *PITCH_FACTOR_RANGE)), 4),
                rate_factor=round(float(np.clip(2**octaves, *RATE_FACTOR_RANGE)), 4),
            )
        )
    return specs
