"""Fuzzing the pure parsers of untrusted input: no input crashes any of them with an error
other than the one it documents, and every value they return keeps its bounds.

Covers what `test_answer_properties.py` (the answer parsers' `parse_*` and
`extract_all`) and `test_text_input.py` (`clean_visitor_text`) do not: the answer
parsers' word-level helpers, the rendering's menu choices and text splitting, the
inbound signature checks with arbitrary headers (Sanic decodes header bytes with
`surrogateescape`, so lone surrogates are real input), the messengers' profile names,
the CRM's phone normaliser, the console's body helpers, the YAML loaders (CRM
connectors, routing, scoring, handoff rules) with arbitrary YAML data, the demo site's
route lookup and the log redaction. HTTP payloads are fuzzed in `test_fuzz_payloads.py`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import re
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jwt
import phonenumbers
import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sanic.request import RequestParameters

from bot.channels.authenticity import (
    BotFrameworkVerifier,
    meta_signature_ok,
    slack_signature_ok,
    telegram_secret_ok,
    twilio_signature,
    twilio_signature_ok,
)
from bot.channels.botframework import LotseBotFrameworkInput
from bot.channels.messenger import MAX_PROFILE_NAME_CHARS
from bot.channels.telegram import LotseTelegramInput
from bot.channels.twilio import LotseTwilioInput
from console.web import body_of, text_of
from conversations.address_book import MAX_CONVERSATION_CHARS, conversation_id_for
from conversations.rendering import (
    LIMITS,
    MAX_PAYLOAD_CHARS,
    MAX_TITLE_UNITS,
    Button,
    buttons_from,
    chosen_payload,
    numbered_menu,
    render,
    shorten,
    split_text,
    utf16_units,
)
from crm_adapter.crm_config import DELIVERY_KEYS, CrmConfig, load_crm_config
from crm_adapter.delivery import ConnectorConfigError
from crm_adapter.phone import MAX_DIGITS, normalised_phone, whatsapp_phone
from crm_adapter.scoring_model import (
    SCORING_FILE,
    ScoringModel,
    ScoringModelError,
    parse_scoring_model,
)
from dialogue.answers.contact import email_from_word
from dialogue.answers.contact import normalised_phone as answer_phone
from dialogue.answers.number_words import digits_value, word_value
from dialogue.answers.pipeline import MAX_ANSWER_CHARS, bounded, fold, pipeline_language
from handoff.routing_model import ROUTING_FILE, RoutingModel, RoutingModelError, parse_routing_model
from handoff.triggers import HandoffRule, HandoffRuleError, parse_rules
from lotse.log_redaction import REDACTED, redacted
from website.pages import ROUTES, find_route

FUZZ = settings(
    max_examples=150,
    deadline=None,
    # The autouse environment fixture of conftest.py is harmless to share between examples.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SOME = settings(FUZZ, max_examples=60)  # for the slower loaders

any_character = st.characters(exclude_categories=())  # surrogates and controls included
texts = st.text(max_size=300) | st.text(any_character, max_size=300)
# What Sanic makes of arbitrary header bytes: UTF-8, undecodable bytes as lone surrogates.
header_values = (
    st.none()
    | texts
    | st.binary(max_size=200).map(lambda raw: raw.decode("utf-8", "surrogateescape"))
)
json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),  # fmt: skip
    max_leaves=20,
)


def no_whitespace(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace())


# --- the answer parsers' helpers -------------------------------------------------------


@FUZZ
@given(word=texts)
def test_number_words_and_digit_strings_give_a_number_or_none(word):
    for value in (word_value(word), digits_value(word)):
        assert value is None or (isinstance(value, float) and value >= 0)


@FUZZ
@given(word=texts)
def test_a_word_is_a_valid_email_address_or_none(word):
    email = email_from_word(word)
    if email is not None:
        local, domain = email.address.split("@")
        assert 0 < len(local) <= 64 and "." in domain and len(email.address) <= 254
        assert domain == domain.lower() and not re.search(r"\s", email.address)


@FUZZ
@given(raw=texts, country=st.sampled_from(["DE", "AT", "CH", "GB", "XX"]) | st.text(max_size=4))
def test_the_answer_phone_normaliser_gives_e164_or_none(raw, country):
    number = answer_phone(raw, country)
    assert number is None or re.fullmatch(r"\+[1-9][0-9]{5,14}", number)


@FUZZ
@given(text=st.none() | st.integers() | json_values | texts, language=json_values | texts)
def test_answer_text_is_bounded_and_any_language_hint_picks_a_pipeline(text, language):
    cleaned = bounded(text)
    assert isinstance(cleaned, str) and len(cleaned) <= MAX_ANSWER_CHARS
    assert pipeline_language(language) in ("de", "en")
    assert isinstance(fold(cleaned), str)


# --- rendering: buttons, menus, parts --------------------------------------------------

raw_buttons = st.lists(
    st.fixed_dictionaries({"title": st.text(any_character, max_size=250) | json_scalars,
                           "payload": st.text(any_character, max_size=1100) | json_scalars})
    | json_values,
    max_size=16,
)  # fmt: skip
buttons = st.lists(
    st.builds(Button, title=st.text(any_character, min_size=1, max_size=80),
              payload=st.text(any_character, min_size=1, max_size=80)),
    max_size=16,
)  # fmt: skip


@FUZZ
@given(raw=st.none() | raw_buttons)
def test_buttons_from_raw_dicts_keep_only_usable_bounded_ones(raw):
    for button in buttons_from(raw):
        assert button.title and button.payload == button.payload.strip()
        assert utf16_units(button.title) <= MAX_TITLE_UNITS
        assert len(button.payload) <= MAX_PAYLOAD_CHARS


@FUZZ
@given(reply=texts | st.integers(-5, 30).map(str), choices=buttons)
def test_a_reply_chooses_one_of_the_shown_payloads_or_none(reply, choices):
    payload = chosen_payload(reply, tuple(choices))
    assert payload is None or payload in {button.payload for button in choices}


@FUZZ
@given(choices=buttons.filter(bool), padding=st.sampled_from(["", " ", "  ", "\t"]),
       mark=st.sampled_from(["", ".", ")"]))  # fmt: skip
def test_every_number_of_a_menu_chooses_its_button_and_no_other_number_does(choices, padding, mark):
    shown = tuple(choices)
    for number, button in enumerate(shown, 1):
        assert chosen_payload(f"{padding}{number}{mark}{padding}", shown) == button.payload
    assert chosen_payload(str(len(shown) + 1), shown) is None
    assert chosen_payload("0", shown) is None


@FUZZ
@given(text=st.text(any_character, max_size=3000), max_units=st.integers(2, 300))
def test_split_text_keeps_every_visible_character_within_the_bound(text, max_units):
    parts = split_text(text, max_units)
    for part in parts:
        assert part and not part.isspace() and utf16_units(part) <= max_units
    assert no_whitespace("".join(parts)) == no_whitespace(text)


@FUZZ
@given(text=st.text(any_character, max_size=500), max_units=st.integers(1, 100))
def test_shorten_fits_the_bound(text, max_units):
    short = shorten(text, max_units)
    assert utf16_units(short) <= max_units
    assert short == text or short.endswith("…")


@FUZZ
@given(text=st.text(any_character, max_size=5000), choices=buttons,
       platform=st.sampled_from(sorted(LIMITS)))  # fmt: skip
def test_every_rendered_part_fits_its_platform_and_no_choice_is_lost(text, choices, platform):
    limits = LIMITS[platform]
    parts = render(text, tuple(choices), limits)
    for part in parts:
        assert utf16_units(part.text) <= limits.text_units
        assert part.text or part.buttons
    native = [button for part in parts for button in part.buttons]
    if native:
        assert all(not part.buttons for part in parts[:-1]) and len(native) <= limits.max_buttons
        assert [b.payload for b in native] == [b.payload for b in choices]
        assert all(utf16_units(b.title) <= limits.button_title_units for b in native)
    elif choices:  # a numbered menu: its text is sent in full
        menu = numbered_menu(tuple(choices))
        assert no_whitespace(menu) in no_whitespace("".join(part.text for part in parts))


# --- inbound signature checks with arbitrary headers -----------------------------------

secrets = st.text(st.characters(codec="utf-8"), min_size=1, max_size=40)


@FUZZ
@given(secret=secrets, body=st.binary(max_size=500), header=header_values)
def test_meta_and_telegram_checks_answer_yes_or_no_to_any_header(secret, body, header):
    good = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert meta_signature_ok(secret.encode(), body, header) is (header is not None and
                                                               header.strip() == good)  # fmt: skip
    assert meta_signature_ok(secret.encode(), body, good)
    answer = telegram_secret_ok(secret, header)
    assert answer is (header is not None and header.strip() == secret)


form_values = st.text(st.characters(codec="utf-8"), max_size=30)


@FUZZ
@given(token=secrets, url=st.text(st.characters(codec="utf-8"), max_size=60),
       params=st.dictionaries(form_values, form_values | st.lists(form_values, max_size=3),
                              max_size=6),
       header=header_values)  # fmt: skip
def test_twilio_check_answers_yes_or_no_to_any_header(token, url, params, header):
    good = twilio_signature(token, url, params)
    assert twilio_signature_ok(token, url, params, good)
    assert twilio_signature_ok(token, url, params, header) is (
        header is not None and header.strip() == good
    )


timestamps = (
    header_values
    | st.integers(0, 2 * 10**9).map(str)
    | st.sampled_from(["²", "١٧٠٠٠٠٠٠٠٠", "9" * 5000, " 1700000000 ", "-1", "+1700000000", "1e9"])
)


@FUZZ
@given(secret=secrets, body=st.binary(max_size=300), stamp=timestamps, header=header_values,
       now=st.integers(1000, 2 * 10**9))  # fmt: skip
def test_slack_check_answers_yes_or_no_to_any_timestamp_and_header(
    secret, body, stamp, header, now
):
    answer = slack_signature_ok(secret.encode(), body, stamp, header, now=now)
    assert isinstance(answer, bool)
    if answer:
        assert stamp is not None and abs(now - int(stamp.strip())) <= 300
    signed = str(now - 10)
    base = b"v0:" + signed.encode() + b":" + body
    good = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    assert slack_signature_ok(secret.encode(), body, signed, good, now=now)


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def bot_framework_token(key: rsa.RSAPrivateKey, kid: Any = "key-1") -> str:
    now = int(time.time())
    claims = {"iss": "https://api.botframework.com", "aud": "bot-app-id", "nbf": now - 10,
              "exp": now + 3600, "serviceUrl": "https://smba.example/"}  # fmt: skip
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


jwt_headers = st.dictionaries(st.sampled_from(["alg", "kid", "typ", "crit", "b64"]),
                              json_values, max_size=4)  # fmt: skip
forged_tokens = st.builds(
    lambda header, payload, signature: ".".join(
        (b64(json.dumps(header).encode()), b64(payload), b64(signature))
    ),
    jwt_headers, st.binary(max_size=80), st.binary(max_size=80),
)  # fmt: skip


def test_bot_framework_check_answers_yes_or_no_to_any_authorization(signing_key):
    verifier = BotFrameworkVerifier("bot-app-id", lambda: {"key-1": signing_key.public_key()})
    good = bot_framework_token(signing_key)
    assert verifier.verify(f"Bearer {good}", "https://smba.example/")

    @FUZZ
    @given(authorization=header_values | forged_tokens.map("Bearer {}".format)
           | header_values.map(lambda value: f"Bearer {good[:20]}{value}"),
           service_url=st.none() | texts)  # fmt: skip
    def run(authorization, service_url):
        assert verifier.verify(authorization, service_url) is False

    run()


# --- what the messengers send about a person -------------------------------------------

telegram_updates = st.fixed_dictionaries(
    {},
    optional={key: st.fixed_dictionaries({}, optional={"from": st.fixed_dictionaries(
        {}, optional={"first_name": json_values | texts, "last_name": json_values | texts}
    ) | json_values}) | json_values for key in ("message", "edited_message", "callback_query")},
)  # fmt: skip
activities = st.fixed_dictionaries(
    {}, optional={"from": st.fixed_dictionaries({}, optional={"name": json_values | texts})
                  | json_values, "serviceUrl": json_values},
)  # fmt: skip
twilio_forms = st.dictionaries(st.sampled_from(["ProfileName", "Body", "From"]) | form_values,
                               st.lists(st.text(any_character, max_size=200), min_size=1,
                                        max_size=2), max_size=4)  # fmt: skip


def check_metadata(metadata: dict[str, Any] | None) -> None:
    if metadata is None:
        return
    name = metadata["profile_name"]
    assert isinstance(name, str) and 0 < len(name) <= MAX_PROFILE_NAME_CHARS
    assert not re.search(r"[\x00-\x1f\x7f]", name)


@FUZZ
@given(update=telegram_updates | json_values, activity=activities | json_values,
       form=twilio_forms)  # fmt: skip
def test_profile_names_from_any_payload_are_bounded_text_or_nothing(update, activity, form):
    telegram = LotseTelegramInput.__new__(LotseTelegramInput)
    check_metadata(telegram.get_metadata(SimpleNamespace(json=update)))
    teams = LotseBotFrameworkInput.__new__(LotseBotFrameworkInput)
    check_metadata(teams.get_metadata(SimpleNamespace(json=activity)))
    twilio = LotseTwilioInput.__new__(LotseTwilioInput)
    check_metadata(twilio.get_metadata(SimpleNamespace(form=RequestParameters(form))))


@FUZZ
@given(channel=st.sampled_from(sorted(LIMITS)), platform_id=json_values | texts)
def test_conversation_ids_are_bounded_and_safe(channel, platform_id):
    conversation = conversation_id_for(channel, platform_id)
    if conversation is not None:
        assert conversation.startswith(f"{channel}:") and len(conversation) > len(channel) + 1
        assert len(conversation) <= MAX_CONVERSATION_CHARS
        assert re.fullmatch(r"[A-Za-z0-9._:@+-]+", conversation)


# --- the CRM's phone numbers -----------------------------------------------------------

phone_texts = texts | st.lists(
    st.sampled_from(["+", "00", "0", "49", "(0)", " ", "-", "/", ".", "whatsapp:", "WhatsApp:",
                     "151", "1234", "5678", "9", "١", "²", "\u00a0", "\n"]),
    max_size=12,
).map("".join)  # fmt: skip


@FUZZ
@given(raw=phone_texts, country=st.sampled_from(["DE", "AT", "CH", "it"]) | st.text(max_size=4),
       min_digits=st.integers(1, 16), min_national=st.integers(0, 12))  # fmt: skip
def test_phone_numbers_normalise_to_e164_or_none(raw, country, min_digits, min_national):
    try:
        number = normalised_phone(raw, country, min_digits=min_digits,
                                  min_national_digits=min_national)  # fmt: skip
    except ValueError:
        assert country.upper() not in phonenumbers.SUPPORTED_REGIONS
        return
    if number is not None:
        assert re.fullmatch(r"\+[1-9][0-9]*", number)
        assert min_digits <= len(number) - 1 <= MAX_DIGITS


@FUZZ
@given(conversation=phone_texts | phone_texts.map("twilio:whatsapp:{}".format))
def test_whatsapp_numbers_come_only_from_whatsapp_conversations(conversation):
    number = whatsapp_phone(conversation)
    if number is not None:
        assert conversation.startswith("twilio:whatsapp:+")
        assert re.fullmatch(r"\+[1-9][0-9]{7,14}", number)


# --- the console's body helpers --------------------------------------------------------

bodies = (
    st.binary(max_size=300)
    | json_values.map(lambda value: json.dumps(value).encode())
    | st.integers(1, 70_000).map(lambda depth: b"[" * depth + b"]" * depth)
    | st.integers(1, 70_000).map(lambda depth: b'{"a":' * depth)
    | st.just(b"1" * 5000)
)


@FUZZ
@given(raw=st.none() | bodies)
def test_a_console_body_is_a_json_object_or_a_value_error(raw):
    try:
        body = body_of(SimpleNamespace(body=raw))
    except ValueError:
        return
    assert isinstance(body, dict)


def test_json_nested_deeper_than_python_recurses_is_a_value_error():
    with pytest.raises(ValueError):
        body_of(SimpleNamespace(body=b"[" * 60_000))  # fits the console's 64 KiB bound


@FUZZ
@given(body=st.dictionaries(st.sampled_from(["text", "x"]), json_values | texts),
       limit=st.integers(1, 3000))  # fmt: skip
def test_a_body_text_is_non_empty_stripped_and_bounded_or_a_value_error(body, limit):
    try:
        value = text_of(body, "text", limit)
    except ValueError:
        assert not isinstance(body.get("text"), str) or not body["text"].strip()
        return
    assert 0 < len(value) <= limit and value == body["text"].strip()[:limit]


# --- YAML loaders with arbitrary YAML data ---------------------------------------------

yaml_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats() | st.dates() | st.text(max_size=20)
)


def yaml_data(keys: list[str]) -> st.SearchStrategy[Any]:
    key = st.sampled_from(keys) | st.text(max_size=8) | st.integers() | st.booleans()
    return st.recursive(
        yaml_scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(key, inner, max_size=5),
        max_leaves=25,
    )


TAGS = ("!x", "!!int", "!!float", "!!bool", "!!binary", "!!timestamp", "!!str", "!!null",
        "!!python/name:os.system", "!!set", "!!omap")  # fmt: skip
ANY_KEY = ["key"]


@st.composite
def mutated(draw: st.DrawFn, document: Any, keys: list[str]) -> str:
    """`document` with a few of its values replaced, removed or tagged, as YAML text."""
    data = json.loads(json.dumps(document, default=str))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "remove"]))
        if action == "remove" and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(yaml_data(keys))
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    lines = text.splitlines()
    for _ in range(draw(st.integers(0, 2))):  # a tag in front of a value, as a person might
        number = draw(st.integers(0, len(lines) - 1))
        if ": " in lines[number]:
            head, _, value = lines[number].partition(": ")
            lines[number] = f"{head}: {draw(st.sampled_from(TAGS))} {value}"
    return "\n".join(lines) + "\n"


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix] if prefix else []
    if isinstance(data, (dict, list)):
        for step, value in data.items() if isinstance(data, dict) else enumerate(data):
            found.extend(_paths(value, (*prefix, step)))
    return found


def _keys(data: Any) -> set[str]:
    if isinstance(data, dict):
        return set(data) | {k for value in data.values() for k in _keys(value)}
    if isinstance(data, list):
        return {k for value in data for k in _keys(value)}
    return set()


class _FileLoader(yaml.SafeLoader):
    """Reads the real files as the models do: `NO` (Norway) is a text, not YAML 1.1's false."""


_FileLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_FileLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile("^(?:true|false)$"), "tf")
ROUTING = yaml.load(ROUTING_FILE.read_text(encoding="utf-8"), Loader=_FileLoader)
SCORING = yaml.load(SCORING_FILE.read_text(encoding="utf-8"), Loader=_FileLoader)
ROUTING_KEYS = sorted(_keys(ROUTING))
SCORING_KEYS = sorted(_keys(SCORING))


def test_the_real_routing_and_scoring_files_load():
    assert isinstance(parse_routing_model(ROUTING_FILE.read_text("utf-8"), ROUTING_FILE),
                      RoutingModel)  # fmt: skip
    assert isinstance(parse_scoring_model(SCORING_FILE.read_text("utf-8"), SCORING_FILE),
                      ScoringModel)  # fmt: skip


@SOME
@given(text=mutated(ROUTING, ROUTING_KEYS) | yaml_data(ROUTING_KEYS).map(yaml.safe_dump)
       | st.text(max_size=200))  # fmt: skip
def test_any_routing_file_is_a_model_or_a_routing_model_error(text):
    try:
        model = parse_routing_model(text, ROUTING_FILE)
    except RoutingModelError as error:
        assert str(error).startswith(str(ROUTING_FILE))
        return
    assert model.fallback_team in model.teams
    assert all(member.team in model.teams and 1 <= member.capacity <= 50
               for member in model.staff.values())  # fmt: skip


@SOME
@given(text=mutated(SCORING, SCORING_KEYS) | yaml_data(SCORING_KEYS).map(yaml.safe_dump)
       | st.text(max_size=200))  # fmt: skip
def test_any_scoring_file_is_a_model_or_a_scoring_model_error(text):
    try:
        model = parse_scoring_model(text, SCORING_FILE)
    except ScoringModelError as error:
        assert str(error).startswith(str(SCORING_FILE))
        return
    assert 0 < model.interest.decay_factor < 1
    assert all(0 <= band.points <= 100 for band in model.fit.size_bands)


connector_entries = st.fixed_dictionaries(
    {"type": st.sampled_from(["hubspot", "dynamics", "webhook"]) | yaml_scalars},
    optional={"name": st.from_regex(r"[a-z][a-z0-9_-]{0,31}", fullmatch=True) | yaml_scalars,
              "token_env": yaml_scalars},
)  # fmt: skip
crm_sections = st.fixed_dictionaries(
    {},
    optional={
        "connectors": st.lists(connector_entries | yaml_data(["type", "name"]), max_size=4)
        | yaml_scalars,
        "delivery": st.dictionaries(st.sampled_from(sorted(DELIVERY_KEYS)) | st.text(max_size=5),
                                    yaml_scalars, max_size=5) | yaml_scalars,
    },
)  # fmt: skip


@pytest.fixture(scope="module")
def config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("crm_config") / "endpoints.yml"


def test_any_crm_section_is_a_config_or_a_connector_config_error(config_file: Path):
    @SOME
    @given(document=st.fixed_dictionaries({"crm": crm_sections}) | yaml_data(["crm"]))
    def run(document):
        config_file.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        try:
            config = load_crm_config(config_file)
        except ConnectorConfigError:
            return
        assert isinstance(config, CrmConfig)
        assert len(set(config.names)) == len(config.names)
        assert all(re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", name) for name in config.names)
        for key, kind in DELIVERY_KEYS.items():
            value = getattr(config.delivery, key)
            assert isinstance(value, kind) and math.isfinite(value) and value > 0

    run()


@FUZZ
@given(raw=st.lists(st.fixed_dictionaries(
    {"name": st.text(max_size=10) | yaml_scalars},
    optional={"description": yaml_scalars, "stage_at_least": st.sampled_from(
        ["lead", "marketing_qualified_lead", "sales_qualified_lead"]) | yaml_data(ANY_KEY),
        "any_interest": yaml_data(ANY_KEY), "fit_at_least": yaml_scalars,
        "interest_at_least": yaml_scalars},
) | yaml_data(["name"]), max_size=4) | yaml_data(["name"]))  # fmt: skip
def test_any_handoff_rules_are_rules_or_a_handoff_rule_error(raw):
    try:
        rules = parse_rules(raw)
    except HandoffRuleError:
        return
    for rule in rules:
        assert isinstance(rule, HandoffRule) and isinstance(rule.name, str)
        assert all(isinstance(kind, str) for kind in rule.any_interest)
        for bound in (rule.fit_at_least, rule.interest_at_least):
            assert bound is None or 0 <= bound <= 100


# --- the demo site's routes and the log guard ------------------------------------------


@FUZZ
@given(path=texts | st.sampled_from([r.path for r in ROUTES]).map(lambda p: p + "/" * 3))
def test_any_path_finds_a_known_route_or_none(path):
    route = find_route(path)
    assert route is None or route in ROUTES and route.path in (path, path.rstrip("/") or "/")


ADDRESSES = (
    "anna@example.com",
    "a.b+c@x-y.co.uk",
    "+4915112345678",
    "%2B4915112345678",
    "whatsapp:+49 151 1234 5678",
)
log_texts = texts | st.lists(
    st.sampled_from([*ADDRESSES, " ", "@", "+", "x", "1", ".", "-"]) | st.text(max_size=5),
    max_size=12,
).map("".join)  # fmt: skip


@FUZZ
@given(text=log_texts)
def test_redacting_a_log_text_twice_changes_nothing_more(text):
    once = redacted(text)
    assert redacted(once) == once  # no address or number pattern is left to find


@FUZZ
@given(
    words=st.lists(
        st.sampled_from(ADDRESSES) | st.text(st.characters(codec="ascii"), max_size=8), max_size=8
    )
)
def test_every_address_and_number_standing_alone_is_redacted(words):
    once = redacted(" ".join(f" {word} " for word in words))
    assert not any(address in once for address in ADDRESSES)
    assert once.count(REDACTED) >= sum(word in ADDRESSES for word in words)
