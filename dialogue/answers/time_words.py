"""The words of time answers, German and English, in folded form (see `pipeline.fold`).

Pure data plus the calendar arithmetic of answers (`months_between`, `month_answer`,
`span_answer`). Months are calendar months 1-12; durations are given in months per unit
(a week is 1/4.345 month, a day 1/30.44).
"""

from __future__ import annotations

from datetime import date

from dialogue.answers.pipeline import fold, folded_words

MONTHS: dict[str, int] = {
    fold(word): number
    for number, words in enumerate(
        (
            "Januar Jänner Jan January",
            "Februar Feber Feb February",
            "März Mär Mar March",
            "April Apr",
            "Mai May",
            "Juni Jun June",
            "Juli Jul July",
            "August Aug",
            "September Sep Sept",
            "Oktober Okt Oct October",
            "November Nov",
            "Dezember Dez Dec December",
        ),
        start=1,
    )
    for word in words.split()
}
SEASONS: dict[str, tuple[int, int]] = {
    fold(word): months
    for months, words in (
        ((3, 5), "Frühjahr Frühling spring springtime"),
        ((6, 8), "Sommer summer"),
        ((9, 11), "Herbst autumn fall"),
        ((12, 2), "Winter"),
    )
    for word in words.split()
}
"""Season -> (first month, last month)."""

DURATIONS: dict[str, float] = {
    fold(word): months
    for months, words in (
        (1 / 30.44, "Tag Tage Tagen Tages day days"),
        (1 / 4.345, "Woche Wochen week weeks wk wks"),
        (1.0, "Monat Monate Monaten Monats month months"),
        (3.0, "Quartal Quartale Quartalen Quartals quarter quarters"),
        (6.0, "Halbjahr Halbjahre Halbjahres"),
        (12.0, "Jahr Jahre Jahren Jahres year years yr yrs"),
    )
    for word in words.split()
}
YEAR_WORDS = folded_words("Jahr Jahre Jahres Jahren year")
QUARTER_WORDS = folded_words("Quartal Quartals quarter")
ORDINALS: dict[str, int] = {
    fold(word): number
    for number, words in enumerate(
        (
            "erste ersten erstes erster first 1st",
            "zweite zweiten zweites zweiter second 2nd",
            "dritte dritten drittes dritter third 3rd",
            "vierte vierten viertes vierter fourth 4th letzte letzten last",
        ),
        start=1,
    )
    for word in words.split()
}
NEXT = folded_words(
    "nächste nächsten nächstes nächster nächstem kommende kommenden kommendes kommender "
    "folgende folgenden next coming upcoming following"
)
THIS = folded_words("diese diesen dieses dieser diesem this current laufenden laufende")
PAST = folded_words("seit vor since ago last past letzte letzten letztes vergangenen")
ANCHORS = folded_words(
    "in innerhalb binnen within during spätestens latest bis by until timeline timeframe "
    "zeitplan zeitrahmen"
)
CONTEXT = (
    folded_words(
        "im in bis ab zum zur vor gegen um anfang mitte ende spätestens by until till before "
        "from early mid late end of during after nach the des der beginning start middle"
    )
    | NEXT
    | THIS
)
"""Words before a month or season name that make it a time answer ("im März", "by June")."""
IMMEDIATE = folded_words(
    "sofort asap a.s.a.p. umgehend unverzüglich schnellstmöglich schnellstens baldmöglichst "
    "dringend eilig immediately urgent urgently"
)
NOW = folded_words("gestern heute jetzt now today yesterday")
""""Now" words are an answer to "when?", but in a sentence they say nothing about buying."""
IMMEDIATE_PHRASES = tuple(
    tuple(fold(word) for word in phrase.split())
    for phrase in (
        "so schnell wie möglich",
        "so bald wie möglich",
        "so früh wie möglich",
        "as soon as possible",
        "as soon as we can",
        "right away",
        "am besten gestern",
    )
)
SOON = folded_words("bald zeitnah kurzfristig demnächst soon shortly short-term")
START_WORDS = folded_words("Anfang Beginn beginning start early")
MIDDLE_WORDS = folded_words("Mitte mid middle mid-")
END_WORDS = folded_words("Ende end late")
BOUNDARY_COMPOUNDS: dict[str, int] = {
    fold(word): month
    for month, words in (
        (1, "Jahresanfang Jahresbeginn Jahreswechsel"),
        (7, "Jahresmitte mid-year midyear"),
        (12, "Jahresende year-end yearend"),
    )
    for word in words.split()
}
FEW: dict[str, float] = {"paar": 3, "few": 3, "einige": 3, "einigen": 3, "several": 3,
                         "wenige": 3, "wenigen": 3, "couple": 2}  # fmt: skip


def months_between(today: date, year: int, month: int) -> int:
    """Calendar months from today's month to `month` of `year` (negative if past)."""
    return (year - today.year) * 12 + (month - today.month)


def full_year(year: str) -> int:
    return int(year) if len(year) == 4 else 2000 + int(year)


def month_answer(today: date, month: int, year: int | None) -> int | None:
    """Months to `month`: of `year`, or the next one (0 in the current month)."""
    if year is not None:
        months = months_between(today, year, month)
        return months if months >= 0 else None
    months = months_between(today, today.year, month)
    return months if months >= 0 else months + 12


def span_answer(today: date, first: int, last: int, year: int | None) -> int | None:
    """Months to a period (season, quarter) starting in `first`; 0 while it is under way."""
    length = (last - first) % 12 + 1
    if year is not None:
        months = months_between(today, year, first)
        return months if months >= 0 else (0 if months > -length else None)
    since_start = (today.month - first) % 12
    return 0 if since_start < length else 12 - since_start
