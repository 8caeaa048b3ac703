"""The password policy (NIST SP 800-63B): length and guessability, no
composition rules.

A password must have 10 to 128 characters, must not contain the person's
email or name, and must score at least 3 of 4 with the zxcvbn estimator
(which knows common and breached passwords, words, names, keyboard patterns,
dates and sequences). zxcvbn's feedback is English; Spanish comes from the
table below, keyed by zxcvbn's own sentences.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import anyio
from zxcvbn import zxcvbn

from clientzone.models.users import Locale

MIN_LENGTH = 10
MAX_LENGTH = 128
MIN_SCORE = 3
# zxcvbn's cost grows steeply with length (128 characters: ~0.3 s). Only the
# first 48 are scored (<= 15 ms); more characters never make a password weaker.
SCORED_PREFIX = 48
# zxcvbn keeps the user inputs in a module-level dict: one evaluation at a time.
_ONE_AT_A_TIME = anyio.CapacityLimiter(1)
# Pieces of a name or email shorter than this are too common to forbid.
MIN_PERSONAL_PIECE = 4


class PasswordProblem(StrEnum):
    TOO_SHORT = "TOO_SHORT"
    TOO_LONG = "TOO_LONG"
    CONTAINS_PERSONAL_INFO = "CONTAINS_PERSONAL_INFO"
    TOO_WEAK = "TOO_WEAK"


@dataclass(frozen=True)
class Strength:
    score: int  # 0 (guessed at once) to 4 (very hard)
    warning: str | None
    suggestions: list[str]
    problem: PasswordProblem | None

    @property
    def acceptable(self) -> bool:
        return self.problem is None


def personal_pieces(inputs: Iterable[str | None]) -> list[str]:
    """The email, its local part and name words, lower-cased, long enough to matter."""
    pieces: set[str] = set()
    for value in inputs:
        if not value:
            continue
        lowered = value.strip().lower()
        local = lowered.split("@", 1)[0]
        for piece in (lowered, local, *re.split(r"[\s._+\-@]+", lowered)):
            if len(piece) >= MIN_PERSONAL_PIECE:
                pieces.add(piece)
    return sorted(pieces, key=len, reverse=True)


def evaluate(password: str, personal: Iterable[str | None], locale: Locale) -> Strength:
    """Score a password for the strength meter and say whether the policy accepts it."""
    pieces = personal_pieces(personal)
    if len(password) > MAX_LENGTH:
        return Strength(0, None, [], PasswordProblem.TOO_LONG)
    scored = password[:SCORED_PREFIX]
    result = zxcvbn(scored, user_inputs=pieces, max_length=SCORED_PREFIX) if password else None
    score = int(result["score"]) if result else 0
    feedback: dict[str, Any] = result["feedback"] if result else {}
    lowered = password.lower()
    problem: PasswordProblem | None = None
    if len(password) < MIN_LENGTH:
        problem = PasswordProblem.TOO_SHORT
    elif any(piece in lowered for piece in pieces):
        problem = PasswordProblem.CONTAINS_PERSONAL_INFO
        score = min(score, 1)
    elif score < MIN_SCORE:
        problem = PasswordProblem.TOO_WEAK
    return Strength(
        score=score,
        warning=_localized(feedback.get("warning") or "", locale) or None,
        suggestions=[_localized(s, locale) for s in feedback.get("suggestions", []) if s],
        problem=problem,
    )


async def assess(password: str, personal: Iterable[str | None], locale: Locale) -> Strength:
    """`evaluate`, in a worker thread (it takes milliseconds of CPU)."""
    return await anyio.to_thread.run_sync(
        evaluate, password, list(personal), locale, limiter=_ONE_AT_A_TIME
    )


def _localized(text: str, locale: Locale) -> str:
    if locale is Locale.ES:
        return SPANISH.get(text, text)
    return text


SPANISH = {
    "Use a few words, avoid common phrases.": "Usa varias palabras y evita frases comunes.",
    "No need for symbols, digits, or uppercase letters.": (
        "No hacen falta símbolos, números ni mayúsculas."
    ),
    "Add another word or two. Uncommon words are better.": (
        "Añade una o dos palabras más. Mejor si son poco comunes."
    ),
    "Straight rows of keys are easy to guess.": (
        "Las filas seguidas del teclado son fáciles de adivinar."
    ),
    "Short keyboard patterns are easy to guess.": (
        "Los patrones cortos de teclado son fáciles de adivinar."
    ),
    "Use a longer keyboard pattern with more turns.": (
        "Usa un patrón de teclado más largo y con más giros."
    ),
    'Repeats like "aaa" are easy to guess.': 'Las repeticiones como "aaa" son fáciles de adivinar.',
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': (
        'Las repeticiones como "abcabcabc" apenas son más difíciles de adivinar que "abc".'
    ),
    "Avoid repeated words and characters.": "Evita repetir palabras y caracteres.",
    'Sequences like "abc" or "6543" are easy to guess.': (
        'Las secuencias como "abc" o "6543" son fáciles de adivinar.'
    ),
    "Avoid sequences.": "Evita las secuencias.",
    "Recent years are easy to guess.": "Los años recientes son fáciles de adivinar.",
    "Avoid recent years.": "Evita los años recientes.",
    "Avoid years that are associated with you.": "Evita años relacionados contigo.",
    "Dates are often easy to guess.": "Las fechas suelen ser fáciles de adivinar.",
    "Avoid dates and years that are associated with you.": (
        "Evita fechas y años relacionados contigo."
    ),
    "This is a top-10 common password.": "Es una de las 10 contraseñas más usadas.",
    "This is a top-100 common password.": "Es una de las 100 contraseñas más usadas.",
    "This is a very common password.": "Es una contraseña muy común.",
    "This is similar to a commonly used password.": "Se parece a una contraseña muy usada.",
    "A word by itself is easy to guess.": "Una palabra sola es fácil de adivinar.",
    "Names and surnames by themselves are easy to guess.": (
        "Los nombres y apellidos solos son fáciles de adivinar."
    ),
    "Common names and surnames are easy to guess.": (
        "Los nombres y apellidos comunes son fáciles de adivinar."
    ),
    "Capitalization doesn't help very much.": "Las mayúsculas no ayudan mucho.",
    "All-uppercase is almost as easy to guess as all-lowercase.": (
        "Todo en mayúsculas es casi tan fácil de adivinar como todo en minúsculas."
    ),
    "Reversed words aren't much harder to guess.": (
        "Las palabras al revés no son mucho más difíciles de adivinar."
    ),
    "Predictable substitutions like '@' instead of 'a' don't help very much.": (
        "Las sustituciones previsibles como '@' en lugar de 'a' no ayudan mucho."
    ),
}
