"""How a question is read for the documents and which passage answers it (issue 20):
clitics, side clauses, "wie/how" + a property, the figure a question asks for, a
subject's compound, a table's caption and first column as its rows' heading, and the
passage that holds most of what is asked winning. Pure: small lemma tables and a fake
index of the tests' own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from knowledge.answering import Answer, DocumentAnswerer, Source
from knowledge.documents import Block, Document
from knowledge.figures import figure_words, figures_asked, says_figures
from knowledge.focus import focus_words, property_words, rate_words, side_words
from knowledge.index import Hit
from knowledge.matching import Matcher
from knowledge.passages import Passage, passages, table_heading
from knowledge.terms import Term, Terms, without_clitics
from knowledge.topic_fit import TopicFit
from knowledge.vocabulary import Vocabulary, concept_token


@pytest.mark.parametrize(("word", "bare"), [
    ("d'P800", "P800"), ("s'Gerät", "Gerät"), ("dauert's", "dauert"), ("habt's", "habt"),
    ("Nordwerk's", "Nordwerk"), ("it's", "it"), ("don't", "do"), ("NW-Connect", "NW-Connect"),
    ("P400", "P400"),
])  # fmt: skip
def test_clitics_are_left_out(word: str, bare: str) -> None:
    assert without_clitics(word) == bare


def test_a_swiss_article_does_not_hide_the_product() -> None:
    words = [t.word for t in Terms().terms("bruucht d'P800 es Fundament", "de")]
    assert "p800" in words and "d'p800" not in words


def test_a_reason_clause_names_why_not_what() -> None:
    question = "Wie stark ist der Motor der P400, wegen unserem Stromnetz in der Halle?"
    assert side_words(question, "de") == "Stromnetz Halle"
    assert side_words("Was kostet die Anfahrt pro Kilometer?", "de") == ""
    assert side_words("how strong is it, because of our grid", "en") == ""


def test_the_word_after_how_is_the_property_asked() -> None:
    assert property_words("Wie alt ist euer Geschäftsführer?") == "alt"
    assert property_words("Hi! How old is the CEO? How heavy is it?") == "old heavy"
    assert property_words("Wie viele Leute arbeiten dort, wie lange schon?") == ""


@pytest.mark.parametrize(("question", "kinds"), [
    ("Wie viele Techniker habt ihr in Linz?", ["count"]), ("wieviel Strom spart man?", ["amount"]),
    ("How often must the oil be changed?", ["frequency"]), ("wieviele Leute?", ["count"]),
    ("How many logins do we get?", ["count"]), ("how long does a retrofit take", ["duration"]),
    ("Wie lange dauert der Kurs?", ["duration"]), ("What year was Nordwerk started?", ["year"]),
    ("Seit wann gibt es euch?", ["year"]), ("How big is the display?", ["size"]),
    ("Wo stehen die Server?", []), ("How heavy is the P800?", []),
])  # fmt: skip
def test_the_kind_of_figure_a_question_asks_for(question: str, kinds: list[str]) -> None:
    assert [kind.name for kind in figures_asked(question)] == kinds


@pytest.mark.parametrize(("question", "text", "says"), [
    ("how long does it take", "A retrofit typically takes 4 to 8 weeks.", True),
    ("wie lange dauert es", "Typische Projektlaufzeit: 12 bis 20 Wochen.", True),
    ("how long does it take", "The P800 needs its own foundation.", False),
    ("Wie lange dauert der Kurs?", "Der Kurs dauert 1 Tag.", True),
    ("Wie lang fährt der Stößel?", "Hub – P200: 500 mm", True),
    ("what year was it founded", "Family-owned, founded 1962, 480 employees", True),
    ("what year was it founded", "480 employees", False),
    ("how big is the display", "a 15-inch touch panel", True),
    ("how many users", "Users: unlimited per site", True),
    ("how often is it serviced", "four inspections a year", True),
    ("wie oft wird gewartet", "zwei Inspektionen pro Jahr", True),
    ("how often must the oil be changed", "The hydraulic oil is HLP 46.", False),
])  # fmt: skip
def test_a_passage_says_the_figure_asked_or_not(question: str, text: str, says: bool) -> None:
    assert says_figures(text, figures_asked(question)) is says


def test_the_words_for_a_figure_are_the_figures() -> None:
    assert figure_words(figures_asked("How long and how big?")) >= {"long", "big", "gross"}


def test_a_table_is_headed_by_its_caption_and_first_column() -> None:
    rows = (("Vertrag", "Preis"), ("Plus", "3.900 EUR"))
    assert table_heading("", "Wir bieten drei Verträge. Wartungsverträge (je Jahr):", rows) == (
        "Wartungsverträge (je Jahr): Vertrag"
    )
    assert table_heading("Service", "Ein Satz ohne Doppelpunkt.", rows) == "Service Vertrag"
    document = Document("service", "Service", (
        Block("text", "Wartungsverträge:", language="de"),
        Block("table", rows=rows, language="de"),
    ))  # fmt: skip
    cell = next(p for p in passages(document) if p.kind == "cell")
    assert cell.text == "Plus – Preis: 3.900 EUR" and cell.heading == "Wartungsverträge: Vertrag"


def _matcher(**more: object) -> Matcher:
    vocabulary = Vocabulary(
        documents={"gewicht": frozenset({"weight"}), "preis": frozenset({"price"})},
        asked={"gewicht": frozenset({"weight"}), "schwer": frozenset({"weight"}),
               "preis": frozenset({"price"}), "kostet": frozenset({"price"})},
    )  # fmt: skip
    terms = Terms(
        known={"de": frozenset({"maschine", "datum", "mess", "vertrag", "wartung"})},
        ignored=frozenset({"was", "der", "wie", "viele", "habt", "ihr", "wo", "in"}),
    )
    return Matcher(terms, vocabulary, subjects=frozenset({"maschine", "p400"}),
                   products=frozenset({"p400"}), **more)  # fmt: skip


def test_a_subjects_compound_is_about_its_last_part() -> None:
    matcher = _matcher()
    data = Term("maschinedatum", ("maschine", "datum"))
    assert matcher.covers(data, {"messdatum", "mess", "datum"})
    assert not matcher.covers(Term("wartungdatum", ("wartung", "datum")), {"datum"})


@dataclass
class FakeIndex:
    """Gives its hits for every search, in order, with their own terms."""

    hits: Sequence[Hit] = ()
    terms: dict[str, frozenset[str]] = field(default_factory=dict)

    def digests(self) -> dict[str, str]:
        return {"doc": "1"}

    def search(self, tokens: Sequence[str], language: str, limit: int = 30) -> list[Hit]:
        return list(self.hits)

    def vocabulary(self, language: str) -> dict[str, frozenset[str]]:
        return {"doc": frozenset().union(*(h.terms | h.context for h in self.hits))}


def _hit(text: str, terms: set[str], score: float, context: set[str] = frozenset()) -> Hit:
    passage = Passage("doc", "de", "sentence", text)
    return Hit(passage, frozenset(terms), frozenset(context), score)


def test_the_passage_holding_most_of_what_is_asked_wins() -> None:
    price = concept_token("price")
    general = _hit("Ein Einsatz ohne Vertrag kostet 120 EUR.", {"vertrag", "kostet", price,
                                                             "einsatz"}, 9.5)  # fmt: skip
    cell = Passage("doc", "de", "cell", "Premium – Preis: 7.500 EUR", row="Premium",
                   column="Preis")  # fmt: skip
    premium = Hit(cell, frozenset({"premium", "preis", price}), frozenset({"vertrag"}), 6.0)
    answerer = DocumentAnswerer(FakeIndex([general, premium]), _matcher())
    found = answerer.answer("Was kostet der Premium Vertrag?", "de")
    assert found is not None and "7.500 EUR" in found.text


def test_both_readings_of_a_question_come_from_one_search_made_when_first_asked() -> None:
    price = concept_token("price")
    general = _hit("Ein Einsatz ohne Vertrag kostet 120 EUR.", {"vertrag", "kostet", price,
                                                             "einsatz"}, 9.5)  # fmt: skip
    searches: list[Sequence[str]] = []

    class Counted(FakeIndex):
        def search(self, tokens: Sequence[str], language: str, limit: int = 30) -> list[Hit]:
            searches.append(tokens)
            return super().search(tokens, language, limit)

    answerer = DocumentAnswerer(Counted([general]), _matcher())
    question = "Was kostet ein Einsatz ohne Vertrag?"
    sure, loose = answerer.answers(question, "de")
    assert searches == []  # nothing searched before a reading is asked for
    assert loose() == answerer.answer(question, "de")
    assert sure() == answerer.answer(question, "de", sure=True)
    assert len(searches) == 3  # one for both readings, one for each answer() above


def test_how_many_is_not_answered_without_a_figure() -> None:
    place = _hit("Servicestützpunkte in Linz und Eindhoven.", {"servicestutzpunkte", "linz",
                                                              "techniker"}, 5.0)  # fmt: skip
    answerer = DocumentAnswerer(FakeIndex([place]), _matcher())
    assert answerer.answer("Wie viele Techniker habt ihr in Linz?", "de") is None
    assert answerer.answer("Wo habt ihr Techniker, in Linz?", "de") is not None


def test_words_held_as_themselves_count_apart_though_of_one_concept() -> None:
    control = concept_token("control")
    vocabulary = Vocabulary(
        documents={"steuerung": frozenset({"control"}), "siemens": frozenset({"control"})},
        asked={"steuerung": frozenset({"control"}), "siemens": frozenset({"control"})},
    )
    terms = Terms(ignored=frozenset({"welche", "ist", "in", "den", "oder"}))
    matcher = Matcher(terms, vocabulary, subjects=frozenset({"pressen"}))
    held = {"pressen", "siemens", "steuerung", control}
    sheet = _hit("Alle Pressen haben eine Siemens Steuerung.", held, 5.0)
    other = _hit("Maschinen anderer Hersteller", {"maschinen", "anderer", "verbaut"}, 1.0)
    answerer = DocumentAnswerer(FakeIndex([sheet, other]), matcher)
    # "verbaut" is a word of the documents the passage lacks: two held words outweigh it
    found = answerer.answer("Welche Steuerung ist in den Pressen verbaut, Siemens?", "de")
    assert found is not None and "Siemens" in found.text


def _cell_answer(text: str, pinpointed: bool) -> Answer:
    cell = Passage("nw-press", "de", "cell", text, row="Antriebsleistung", column="P400")
    return Answer(text, Source("nw-press", "Datenblatt"), cell, 1.0, frozenset(), pinpointed)


def test_a_named_cell_with_a_figure_the_topic_does_not_say_goes_to_the_documents() -> None:
    fit = TopicFit(_matcher(), {}, numbers={"faq_presses": {"200", "400", "800"}})
    power = _cell_answer("Antriebsleistung – P400: 45 kW", pinpointed=True)
    force = _cell_answer("Presskraft – P400: 400 t", pinpointed=True)
    assert fit._cell_says_more("faq_presses", power)
    assert not fit._cell_says_more("faq_presses", force)  # the topic says 400 t itself
    assert not fit._cell_says_more("faq_presses", _cell_answer("… 45 kW", pinpointed=False))
    assert not fit._cell_says_more("faq_presses", None)


@pytest.mark.parametrize(("question", "sent"), [
    ("Seid ihr auch nach ISO 45001 zertifiziert?", True),
    ("What's the table size of the P1600?", True),
    ("Seid ihr nach ISO 9001 zertifiziert?", False),  # the topic's answer says it
    ("Was kostet die P400?", False),  # a product of ours
    ("Wir brauchen eine Presse mit ca. 350 t, welche passt?", False),  # a quantity
    ("Hallo, wir haben 2 Pressen vom Typ X300. Wie erreiche ich euch?", False),  # not asked
])  # fmt: skip
def test_a_code_the_topics_answer_does_not_name_goes_to_the_documents(
        question: str, sent: bool) -> None:  # fmt: skip
    fit = TopicFit(_matcher(), {}, numbers={"faq_certifications": {"9001", "14001"}})
    assert fit._names_unsaid_code(question, "faq_certifications") is sent


def test_the_noun_asked_about_that_another_topics_answer_speaks_of_goes_on() -> None:
    fit = TopicFit(_matcher(), {"faq_press_price": frozenset({"kosten"})},
                   answers={"faq_retrofit": frozenset({"retrofit"})})  # fmt: skip
    retrofit, nothing = Term("retrofit"), lambda: None
    # "Was kostet ein Retrofit?" classified as the presses' prices: the retrofit is asked
    assert fit._sends_on(retrofit, [retrofit], frozenset(), {"retrofit"}, nothing)
    # named in passing ("Was kostet die P400, nach einem Retrofit?"): the topic stands
    assert not fit._sends_on(retrofit, [retrofit], frozenset(), set(), nothing)


def test_umlauts_typed_as_ae_oe_ue_are_read_as_umlauts() -> None:
    terms = Terms(lemmas={"de": {"größte": "groß", "fährt": "fahren", "gegründet": "gründen"}})
    assert terms.lemma("groesste", "de") == "gross"
    assert terms.lemma("faehrt", "de") == "fahren"
    assert terms.lemma("gegruendet", "de") == "grunden"
    assert terms.lemma("Steuerung", "de") == Terms().lemma("Steuerung", "de")  # none in it
    assert terms.lemma("faehrt", "en") == "fahrt"  # English has no umlauts


def test_a_specific_figure_the_topics_answer_does_not_say_goes_to_the_documents() -> None:
    fit = TopicFit(_matcher(), {}, texts={
        "faq_conveyors": "Our conveyor systems are modular; we quote after a visit.",
        "faq_company": "A machine builder from Bielefeld, founded 1962, with 480 employees.",
    })  # fmt: skip
    assert fit._figure_unsaid("how many pallets an hour does a line move?", "faq_conveyors")
    assert fit._figure_unsaid("How long until the line is running?", "faq_conveyors")
    assert not fit._figure_unsaid("How much does a conveyor line cost?", "faq_conveyors")
    assert not fit._figure_unsaid("How many people work for you?", "faq_company")
    assert not fit._figure_unsaid("Since what year have you been around?", "faq_company")


def _tables() -> Terms:
    """A few entries as spaCy's German lookup table has them."""
    lemmas = {"Aufträge": "Auftrag", "steckt": "stecken", "hängt": "hängen", "Hängen": "Hang",
              "stunde": "stunden", "Stunden": "Stunde", "normaler": "normal",
              "Firmen": "Firma"}  # fmt: skip
    words = {"wartung", "auftrag", "energie", "paket", "forder", "strecke", "ford", "erstrecke",
             "licht", "vorhang", "bleiben", "blei", "ben", "stellen", "flache", "stunde",
             "stunden", "hang", "firma", "sparen"}  # fmt: skip
    return Terms(lemmas={"de": lemmas}, known={"de": frozenset(words)},
                 lexicon={"de": frozenset({"bleiben", "stunde", "stunden"})},
                 nouns={"de": frozenset({"auftrag", "stunde", "hang", "firma"})})  # fmt: skip


def test_german_compounds_are_cut_into_their_known_parts() -> None:
    terms = _tables()
    assert terms.terms("Wartungsaufträge", "de")[0].parts == ("wartung", "auftrag")
    assert terms.terms("Energiesparpaket", "de")[0].parts == ("energie", "spar", "paket")
    # the cut whose shortest part is longest, not the longest tail first
    assert terms.terms("Förderstrecke", "de")[0].parts == ("forder", "strecke")
    assert terms.terms("Stellfläche", "de")[0].parts == ("stell", "flache")  # a verb's stem
    # a word of its own is not cut into short pieces
    assert terms.terms("bleiben", "de")[0].parts == ()


def test_verbs_typed_in_lower_case_are_plain_and_nouns_are_not() -> None:
    terms = _tables()
    steckt, haengen, stunde = (terms.terms(w, "de")[0] for w in ("steckt", "hängen", "stunde"))
    assert (steckt.word, steckt.plain) == ("stecken", True)
    assert (haengen.word, haengen.plain) == ("hangen", True)  # the verb, not "Hang"
    assert (stunde.word, stunde.plain) == ("stunde", False)  # "Stunde", not "stunden"
    assert terms.terms("Firmen", "de")[0].word == "firma"  # capitalised: the noun
    assert not terms.terms("Hängen", "de")[0].plain  # capitalised: a noun
    assert not Terms().terms("steckt", "en")[0].plain  # English: not told apart


def test_a_compound_that_is_a_concepts_word_takes_no_concept_of_its_parts() -> None:
    vocabulary = Vocabulary(
        documents={"energiesparpaket": frozenset({"energy"}), "vertrag": frozenset({"contract"})},
        asked={"energiesparpaket": frozenset({"energy"}), "paket": frozenset({"contract"}),
               "vertrag": frozenset({"contract"})},
    )  # fmt: skip
    matcher = Matcher(Terms(), vocabulary)
    package = Term("energiesparpaket", ("energie", "spar", "paket"))
    assert matcher.concepts_of(package) == {concept_token("energy")}
    assert matcher.concepts_of(Term("servicepaket", ("service", "paket"))) == {
        concept_token("contract")}


def _safety_matcher() -> Matcher:
    vocabulary = Vocabulary(
        documents={"curtain": frozenset({"safety"}), "option": frozenset({"option"})},
        asked={"curtain": frozenset({"safety"}), "safety": frozenset({"safety"}),
               "light": frozenset({"weight"}), "optional": frozenset({"option"})},
    )  # fmt: skip
    terms = Terms(ignored=frozenset({"is", "the", "or", "and", "which", "how", "much", "does"}))
    return Matcher(terms, vocabulary, subjects=frozenset({"press"}))


def test_a_property_named_beside_what_the_passage_holds_does_not_end_the_search() -> None:
    options = _hit("Options: a light curtain to category 4, fitted as standard.",
                   {"option", "curtain", "standard", concept_token("safety"),
                    concept_token("option")}, 5.0)  # fmt: skip
    answerer = DocumentAnswerer(FakeIndex([options]), _safety_matcher())
    # "light" is a word visitors use for weight; said beside three held words it lacks
    found = answerer.answer("Is the safety light curtain standard or optional?", "en")
    assert found is not None and "curtain" in found.text
    # asked for with a figure ("how much ... weigh"), the weight the passage lacks ends it
    assert answerer.answer("How much does the light curtain weigh, is it light?", "en") is None


def test_a_word_no_document_holds_counts_half_in_a_passage_holding_two() -> None:
    alarms = _hit("Alarms by email, SMS and Microsoft Teams.", {"alarms", "teams", "email",
                                                                "microsoft"}, 5.0)  # fmt: skip
    matcher = Matcher(Terms(ignored=frozenset({"can", "be", "into", "our", "by"})), Vocabulary())
    answerer = DocumentAnswerer(FakeIndex([alarms]), matcher)
    assert answerer.answer("Can alarms be pushed into our Teams channel?", "en") is not None
    # holding one word only, the unknown ones count whole
    assert answerer.answer("Can alarms be pushed into our channel?", "en") is None


def test_a_compound_whose_kind_the_passage_holds_is_not_lacking() -> None:
    delivery = _hit("Lieferung frei Haus ab einem Auftragswert von 50.000 EUR.",
                    {"lieferung", "auftragswert", "auftrag", "wert", "haus"}, 5.0)  # fmt: skip
    terms = Terms(known={"de": frozenset({"bestellen", "wert", "auftrag"})},
                  ignored=frozenset({"ab", "welchem", "ihr", "gibt", "es"}))  # fmt: skip
    answerer = DocumentAnswerer(FakeIndex([delivery]), Matcher(terms, Vocabulary()))
    assert answerer.answer("Ab welchem Bestellwert gibt es Lieferung frei Haus?", "de") is not None


def test_the_unit_a_rate_is_asked_in_is_the_noun_after_pro_per_je() -> None:
    assert rate_words("wie viele Paletten pro Stunde schafft der Kettenförderer?") == "Stunde"
    assert rate_words("Was kostet der Gurtförderer pro laufendem Meter?") == "Meter"
    assert rate_words("billed per site or per machine?") == "site machine"
    assert rate_words("Was kostet die P400?") == ""


def test_a_passage_must_say_the_unit_a_rate_is_asked_in() -> None:
    visit = _hit("Ein Techniker-Einsatz kostet 120 EUR pro Stunde zuzüglich Anfahrt.",
                 {"techniker", "einsatz", "kosten", "stunde", "anfahrt"}, 5.0)  # fmt: skip
    terms = Terms(ignored=frozenset({"was", "ihr", "für", "die", "vom", "pro", "der", "den"}))
    answerer = DocumentAnswerer(FakeIndex([visit]), Matcher(terms, Vocabulary()))
    assert answerer.answer("Was kostet ihr für die Anfahrt vom Techniker pro Stunde?", "de")
    assert answerer.answer("Was kostet ihr für die Anfahrt vom Techniker pro Kilometer?",
                           "de") is None  # fmt: skip


def test_a_rate_in_a_unit_the_topics_answer_does_not_name_goes_to_the_documents() -> None:
    terms = Terms(ignored=frozenset({"was", "ihr", "für", "die", "vom", "pro", "wie", "wird",
                                     "oder", "abgerechnet"}))  # fmt: skip
    fit = TopicFit(Matcher(terms, Vocabulary()), {},
                   answers={"faq_software_price": frozenset({"kostet", "standort", "monat"})})
    assert fit._rate_unsaid("Was kostet es pro Kilometer?", "de", "faq_software_price")
    assert not fit._rate_unsaid("Wie wird abgerechnet, pro Maschine oder pro Standort?", "de",
                                "faq_software_price")  # one of the units offered is said
    assert not fit._rate_unsaid("Was kostet es?", "de", "faq_software_price")


def test_an_english_name_where_no_sentence_starts_is_asked_about() -> None:
    assert focus_words("whose motorised rollers do you use, Interroll?", "en") == "Interroll"
    assert focus_words("Hi. Where is the server hosted?", "en") == ""  # sentences' starts
    assert focus_words("Is there an ATEX version I can get?", "en") == "ATEX"  # "I" is no name


def test_a_count_is_a_number_or_a_number_word_not_a_code() -> None:
    count = figures_asked("How many presses do you have?")
    assert not says_figures("The series P200, P400 and P800.", count)  # codes count nothing
    assert says_figures("one gateway per 20 machines", count)
    assert says_figures("vier Inspektionen pro Jahr", count)


def test_a_german_prepositional_phrase_ends_with_its_noun() -> None:
    # the noun after the phrase is what is asked about
    asked = "Gibt's für unsere Hydraulik-Instandhalter nen eigenen Kurs?"
    assert focus_words(asked, "de") == "Kurs"
    assert focus_words("Ich suche eine Presse für Tiefziehteile", "de") == "Presse"
    assert focus_words("Which course do you offer for hydraulics engineers?", "en") == ""


def test_a_rows_passage_is_made_once_and_anew_when_the_row_changed() -> None:
    from collections import namedtuple

    from knowledge.index import _hit

    Row = namedtuple("Row", "id document position language kind text heading title row_label "
                            "column_label page terms context score")  # fmt: skip
    row = Row(7, "p400", 3, "de", "cell", "P400 – Gewicht: 38 t", "Technische Daten", "P400",
              "P400", "Gewicht", None, "p400 gewicht", "technisch daten", 2.5)  # fmt: skip
    first, again = _hit(row), _hit(row._replace(score=1.5))
    assert first.passage is again.passage and again.score == 1.5
    assert first.terms == frozenset({"p400", "gewicht"})
    assert first.context == frozenset({"technisch", "daten"})
    changed = _hit(row._replace(text="P400 – Gewicht: 39 t"))
    assert changed.passage.text == "P400 – Gewicht: 39 t" and first.passage.text.endswith("38 t")
