"""Writing what a conversation taught us about a lead to the CRM, scores included.

`record()` is the one place where answers, consent, interest events, scoring events
and stage changes reach a `CrmPort`: it saves the new facts, recomputes fit and
interest with the scoring model, writes one scoring event per change with its cause
("company size 60 (50-70): 100 -> fit 100") and moves the stage forward when the scores
earn it.

Identity: typing an address proves nothing, so an email answer is a claim
(`CrmPort.claim_email`): a one-time code goes to the address (Learnt.code_mail makes
the mail), and only the code typed back (`CrmPort.verify_code`) confirms a new address
or joins the conversation into the contact that has it; until then that contact is
neither changed nor shown. A lead counts as a lead (the lifecycle's first stage) only
once its address is proven: the double opt-in German marketing consent expects,
recorded with the consent (`Consent.confirmed_at`). A typed phone number is an
answer, never an identity (no code can be sent to it). What a platform proves is an
identity: right after a consent is recorded, a WhatsApp conversation identifies its
lead by the platform's number (`crm_adapter.phone.whatsapp_phone`), which may merge it
into the lead with that number, and a messenger's profile name becomes the "name"
answer (source PROFILE) if the lead has none and none comes in this turn. Before a
consent neither is stored: both are personal data.

One unit of work: everything `record` writes commits together or not at all
(`CrmPort.atomically`), so a crash between two writes leaves the lead as it was.

Pure Python over the port; it touches personal data only by passing the email, name
and phone answers, the profile name and a WhatsApp conversation's number through to
the store, which refuses them without consent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from crm_adapter import lifecycle
from crm_adapter.explanation import fit_explanation, interest_explanation
from crm_adapter.identity_code import new_code
from crm_adapter.lead_scores import Scores
from crm_adapter.phone import whatsapp_phone
from crm_adapter.port import (
    ANSWERED,
    CONFIRMED,
    HUMAN,
    JOINED,
    PROFILE,
    Answer,
    Consent,
    CrmPort,
    Lead,
    Notification,
    SalesTask,
    ScoringEvent,
    StageRecord,
    Verification,
)
from crm_adapter.scoring import InterestEvent
from crm_adapter.scoring_model import ScoringModel

# (code, address) -> the mail that takes the code to the address
CodeMail = Callable[[str, str], Notification]


@dataclass
class Learnt:
    """New facts from one turn of a conversation.

    `profile_name`: the name the person's messenger profile shows (bounded by the
    caller), stored only together with a consent; it is no fact of its own.
    `code_mail`: makes the mail with the code for an email answer (needed if there is
    one).
    """

    conversation_id: str
    answers: list[Answer] = field(default_factory=list)
    consent: Consent | None = None
    interest: list[str] = field(default_factory=list)  # event kinds
    withdraw: bool = False
    task: SalesTask | None = None
    profile_name: str | None = None
    code_mail: CodeMail | None = None


def given_with_consent(lead: Lead) -> bool:
    """An email address with a consent in force, proven or not."""
    return bool(lead.email) and lead.consent is not None


def proven_with_consent(lead: Lead) -> bool:
    """An email address given with consent and proven: its code came back (double
    opt-in, `Consent.confirmed_at`), or staff entered it (they know the person)."""
    consent, email = lead.consent, lead.answers.get("email")
    if not lead.email or consent is None:
        return False
    return consent.confirmed_at is not None or (email is not None and email.source == HUMAN)


def standing(lead: Lead, scores: Scores) -> lifecycle.LeadStanding:
    """What the stage rules see: a lead counts once its address is proven."""
    return lifecycle.LeadStanding(
        identified=proven_with_consent(lead),
        fit=scores.fit.value,
        interest=scores.interest.value,
        accepted=lead.accepted,
        rejected=lead.rejected,
    )


def stage_once_proven(lead: Lead, scores: Scores, model: ScoringModel) -> str | None:
    """The stage the lead has, or the one it earns as soon as its address is proven.
    The bot hands a sales-ready visitor to sales in the chat before the code comes
    back (talking to a person in the chat they are in needs no proven address); the
    stage itself waits for the code."""
    pending = replace(standing(lead, scores), identified=given_with_consent(lead))
    change = lifecycle.advance(lead.stage, model, pending)
    return change.new if change is not None else lead.stage


def is_empty(learnt: Learnt) -> bool:
    return not (learnt.answers or learnt.consent or learnt.interest or learnt.withdraw
                or learnt.task)  # fmt: skip


def record(crm: CrmPort, lead: Lead, learnt: Learnt, model: ScoringModel, now: datetime) -> int:
    """Stores `learnt` for `lead` (as just read from `crm`) in one unit of work and
    returns the lead's id (another one if a WhatsApp number merged it into a lead).

    Reads the lead once more after writing, to score it; writes nothing when `learnt`
    holds nothing new.
    """
    if is_empty(learnt):
        return lead.lead_id
    return crm.atomically(lambda: _record(crm, lead, learnt, model, now))


def _record(crm: CrmPort, lead: Lead, learnt: Learnt, model: ScoringModel, now: datetime) -> int:
    lead_id = lead.lead_id
    before = Scores.of(lead, model, now)
    if learnt.withdraw:
        crm.withdraw_consent(lead_id, now)
    if learnt.consent is not None:
        crm.record_consent(lead_id, learnt.consent)
        lead_id = after_consent(crm, lead, learnt, now)
    for answer in learnt.answers:
        claimed(crm, lead_id, answer, learnt)
        crm.save_answer(lead_id, answer)
    known = {(e.kind, e.conversation_id) for e in lead.interest_events}
    for kind in dict.fromkeys(learnt.interest):
        if kind in model.interest.events and (kind, learnt.conversation_id) not in known:
            crm.add_interest_event(lead_id, InterestEvent(kind, now, learnt.conversation_id))
    if learnt.task is not None:
        crm.add_task(lead_id, learnt.task)
    return rescored(crm, lead_id, before, model, now)


def rescored(crm: CrmPort, lead_id: int, before: Scores, model: ScoringModel,
             now: datetime) -> int:  # fmt: skip
    """Scores the lead as it is now against `before`: a scoring event per change and
    the stage moved forward when the scores earn it. Returns `lead_id`."""
    lead = crm.lead(lead_id)
    after = Scores.of(lead, model, now)
    events = scoring_events(model, before, after, now)
    if events:
        crm.add_scoring_events(lead_id, events, explained(model, after))
    change = lifecycle.advance(lead.stage, model, standing(lead, after))
    if change is not None:
        crm.change_stage(lead_id, _stage_record(change, now))
    return lead_id


def after_consent(crm: CrmPort, lead: Lead, learnt: Learnt, now: datetime) -> int:
    """What a consent just recorded for `lead` lets the store keep: a WhatsApp
    conversation's number (which may merge the lead into the one that has it) and the
    messenger's profile name, as the "name" answer unless there is one. The lead's id,
    another one after a merge."""
    lead_id = lead.lead_id
    number = whatsapp_phone(learnt.conversation_id)
    if number is not None:
        lead_id = crm.identify_phone(lead_id, number, learnt.conversation_id)
    name = learnt.profile_name
    if not name or any(answer.attribute == "name" for answer in learnt.answers):
        return lead_id
    current = lead if lead_id == lead.lead_id else crm.lead(lead_id)
    if "name" not in current.answers:
        crm.save_answer(lead_id, Answer("name", {"full": name}, ANSWERED, now, PROFILE,
                                        learnt.conversation_id))  # fmt: skip
    return lead_id


def claimed(crm: CrmPort, lead_id: int, answer: Answer, learnt: Learnt) -> None:
    """An email answer is claimed before it is saved: the code goes to the address
    (`CrmPort.claim_email`; like the saving, this needs a consent). One that staff
    entered (source HUMAN: they know the person) identifies the lead at once. A phone
    answer is only saved: nothing proves a typed number."""
    if not answer.value or answer.attribute != "email":
        return
    address, freemail = str(answer.value["address"]), bool(answer.value.get("freemail"))
    cause = answer.conversation_id or learnt.conversation_id
    if answer.source == HUMAN:
        crm.identify(lead_id, address, freemail, conversation_id=cause)
        return
    if learnt.code_mail is None:
        raise ValueError("an email answer needs Learnt.code_mail for the code's mail")
    code = new_code()
    crm.claim_email(lead_id, address, freemail, code, learnt.code_mail(code, address),
                    conversation_id=cause)  # fmt: skip


def verified(crm: CrmPort, lead_id: int, code: str, model: ScoringModel,
             now: datetime) -> Verification:  # fmt: skip
    """Checks a code typed back (`CrmPort.verify_code`) in one unit of work; a lead it
    confirmed or joined is scored anew: its answers may have changed with the join, and
    a proven address may make it a lead."""

    def work() -> Verification:
        before = Scores.of(crm.lead(lead_id), model, now)
        result = crm.verify_code(lead_id, code)
        if result.outcome in (CONFIRMED, JOINED):
            rescored(crm, result.lead_id, before, model, now)
        return result

    return crm.atomically(work, "verifying a code")


def explained(model: ScoringModel, scores: Scores) -> list[str]:
    """Both scores explained line by line (what sales reads in `lotse leads show`)."""
    return [*fit_explanation(model, scores), *interest_explanation(model, scores)]


def _stage_record(change: lifecycle.StageChange, now: datetime) -> StageRecord:
    return StageRecord(change.old, change.new, change.cause, now)


def scoring_events(
    model: ScoringModel, before: Scores, after: Scores, now: datetime
) -> list[ScoringEvent]:
    """One event per new fit line and per new interest line, each with its cause."""
    events = []
    old_fit = set(before.fit.lines)
    for line in after.fit.lines:
        if line not in old_fit:
            label = model.fit.labels[line.attribute]["en"]
            change = (after.fit.value or 0) - (before.fit.value or 0)
            events.append(
                ScoringEvent(
                    "fit",
                    f"{line.text(label)} -> fit {after.fit.value}",
                    change,
                    after.fit.value,
                    now,
                )  # fmt: skip
            )
    old_interest = {(line.kind, line.at) for line in before.interest.lines}
    for line in after.interest.lines:
        if line.kind is None or (line.kind, line.at) in old_interest:
            continue
        cause = f"{model.interest.events[line.kind].label['en']} +{round(line.change)}"
        events.append(
            ScoringEvent(
                "interest",
                f"{cause} -> interest {after.interest.value}",
                line.change,
                after.interest.value,
                now,
            )  # fmt: skip
        )
    return events
