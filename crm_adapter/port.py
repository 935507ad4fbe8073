"""The CRM port: what the bot and the `lotse leads` commands write to and read from.

`CrmPort` is the interface; `crm_adapter.store.LocalCrm` (SQLAlchemy, SQLite or
PostgreSQL) is its default implementation, and external CRMs come as further ones.
The records below are plain values. Personal data: `Lead.email`, `Lead.name`,
`Lead.phone` and the answers to PERSONAL_ATTRIBUTES; a store keeps them only while a
consent is on record, and erases them when it is withdrawn.

Errors: a store raises `CrmError` (or a subclass) for anything it cannot do; the
caller decides whether the visitor hears about it. Every method is one transaction:
it commits completely or not at all.

Notifications (`Notification`) are not sent by the store: `add_task` and
`book_meeting` keep them in an outbox, in the same transaction as the task or the
meeting (no HTTP or SMTP call inside a chat turn); the delivery worker sends them
later through `handoff.dispatch.NotificationConnector`, with retries. Their recipients,
subjects, bodies and invitations may hold personal data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

from crm_adapter.scoring import InterestEvent

T = TypeVar("T")

PERSONAL_ATTRIBUTES = frozenset({"name", "email", "phone"})
ANSWERED, DECLINED, UNKNOWN = "answered", "declined", "unknown"
STATUSES = (ANSWERED, DECLINED, UNKNOWN)
BOT, HUMAN = "bot", "human"
PROFILE = "profile"  # an answer taken from the person's messenger profile (their name)
SOURCES = (PROFILE, BOT, HUMAN)  # weakest first: see `crm_adapter.store.answers.prevails`
BY_EMAIL, BY_PHONE = "email", "phone"
MERGE_REASONS = (BY_EMAIL, BY_PHONE)
BOOKED, CANCELLED = "booked", "cancelled"
MEETING_STATUSES = (BOOKED, CANCELLED)
EMAIL, SLACK, TEAMS = "email", "slack", "teams"
CHANNELS = (EMAIL, SLACK, TEAMS)


class CrmError(Exception):
    """The CRM could not do what was asked."""


class CrmUnavailable(CrmError):
    """The CRM's store could not be reached (down, restarting, connection lost) for
    longer than its calls wait: the same call may work a moment later, so a turn that
    needs it fails and is sent again rather than going on without it."""


class ConsentRequired(CrmError):
    """Personal data offered for a lead without a consent on record."""


class UnknownLead(CrmError):
    """No lead with that id or email."""


class SlotTaken(CrmError):
    """The person already has a booked meeting overlapping that time."""


@dataclass(frozen=True)
class RetentionCandidate:
    """What the retention purge (`privacy.retention`) needs to know of a lead: no
    personal data."""

    lead_id: int
    identified: bool  # has an email
    consented: bool  # a consent in force
    stage: str | None
    last_seen: datetime


@dataclass(frozen=True)
class Visit:
    """Where an answer comes from: a conversation on a channel, maybe a known visitor."""

    conversation_id: str
    channel: str
    visitor_id: str | None = None
    language: str = "de"


@dataclass(frozen=True)
class Answer:
    """One answer to a qualification question; `value` is JSON-able, None unless answered."""

    attribute: str
    value: dict[str, Any] | None
    status: str
    at: datetime
    source: str = BOT
    conversation_id: str | None = None


@dataclass(frozen=True)
class MergeRecord:
    """One lead merged into another: `reason` is "email" or "phone" (what they shared),
    `conversation_id` the conversation whose answer caused it (None if not known)."""

    source_lead_id: int
    target_lead_id: int
    reason: str
    conversation_id: str | None
    at: datetime


@dataclass(frozen=True)
class Consent:
    purpose: str
    text_version: str
    wording: str
    language: str
    channel: str
    given_at: datetime
    withdrawn_at: datetime | None = None
    # When the person proved the email address given with this consent (the code sent
    # to it came back: double opt-in); None until then.
    confirmed_at: datetime | None = None


# Kinds of an email address claimed in a conversation (`CrmPort.claim_email`).
NEW_ADDRESS = "new"  # nobody had it: it is the lead's now, to be confirmed by the code
KNOWN_ADDRESS = "known"  # another contact has it: joined after the code, not before
# Outcomes of `CrmPort.verify_code`.
CONFIRMED, JOINED, WRONG_CODE, EXPIRED, NO_CLAIM = (
    "confirmed", "joined", "wrong", "expired", "none",
)  # fmt: skip


@dataclass(frozen=True)
class Claim:
    """An email address typed in a conversation, waiting for the code sent to it."""

    kind: str  # NEW_ADDRESS | KNOWN_ADDRESS
    address: str  # as typed (personal data: shown back to the one who typed it only)
    expires_at: datetime


@dataclass(frozen=True)
class Verification:
    """What a code typed in a conversation did: `lead_id` is the lead the conversation
    belongs to now (the claimed contact's after JOINED)."""

    outcome: str  # CONFIRMED | JOINED | WRONG_CODE | EXPIRED | NO_CLAIM
    lead_id: int
    attempts_left: int = 0


@dataclass(frozen=True)
class ScoringEvent:
    """One change of a score, with its cause ("company size 60 -> fit 100")."""

    axis: str  # "fit" or "interest"
    cause: str
    change: float
    value_after: int | None
    at: datetime


@dataclass(frozen=True)
class StageRecord:
    old: str | None
    new: str
    cause: str
    at: datetime
    actor: str = BOT


@dataclass(frozen=True)
class SalesTask:
    kind: str  # "callback", "follow_up"
    note: str
    due_at: datetime | None
    created_at: datetime
    status: str = "open"
    assignee: str | None = None  # staff id from bot/data/routing.yml, or None: the team


@dataclass(frozen=True)
class Notification:
    """A message to the sales side, sent later by the dispatcher.

    `to` (email addresses) and `ics` (an invitation to attach) are for email only;
    a Slack or Teams message is `subject` and `body` posted to the configured webhook.
    """

    channel: str  # "email" | "slack" | "teams"
    subject: str
    body: str
    to: tuple[str, ...] = ()
    ics: str | None = None


@dataclass(frozen=True)
class Meeting:
    """A meeting of a staff member with a lead, over [start, end) (aware datetimes)."""

    staff_id: str
    start: datetime
    end: datetime
    title: str
    created_at: datetime
    meeting_id: int | None = None
    lead_id: int | None = None
    status: str = BOOKED  # or CANCELLED


@dataclass(frozen=True)
class Feedback:
    """Sales' verdict on a lead, kept with the scores it had, to judge the model."""

    decision: str  # "accept" or "reject"
    reason: str
    fit: int | None
    interest: int
    actor: str
    at: datetime


@dataclass
class Lead:
    """A contact with everything the bot learnt: current answers and the history."""

    lead_id: int
    email: str | None = None
    freemail: bool = False
    name: str | None = None
    phone: str | None = None
    stage: str | None = None
    rejected: bool = False
    accepted: bool = False
    visitor_ids: list[str] = field(default_factory=list)
    conversation_ids: list[str] = field(default_factory=list)
    answers: dict[str, Answer] = field(default_factory=dict)
    answer_history: list[Answer] = field(default_factory=list)
    interest_events: list[InterestEvent] = field(default_factory=list)
    scoring_events: list[ScoringEvent] = field(default_factory=list)
    stages: list[StageRecord] = field(default_factory=list)
    consents: list[Consent] = field(default_factory=list)
    tasks: list[SalesTask] = field(default_factory=list)
    meetings: list[Meeting] = field(default_factory=list)
    feedback: list[Feedback] = field(default_factory=list)
    created_at: datetime | None = None

    @property
    def consent(self) -> Consent | None:
        """The consent in force, if any."""
        current = [c for c in self.consents if c.withdrawn_at is None]
        return current[-1] if current else None


class CrmPort(Protocol):
    def atomically(self, work: Callable[[], T], operation: str = "recording a turn") -> T:
        """`work`'s calls of this port as one unit of work: all commit or none."""

    def lead_for(self, visit: Visit) -> Lead:
        """The lead of this conversation (or of this known visitor); created if new."""

    def find_lead(self, visit: Visit) -> Lead | None:
        """The lead of this conversation or known visitor, if there is one; creates
        nothing (an anonymous visitor leaves no record just by asking)."""

    def lead(self, lead_id: int) -> Lead:
        """Raises UnknownLead."""

    def find_by_email(self, email: str) -> Lead | None:
        """Case-insensitive."""

    def find_by_phone(self, phone: str) -> list[Lead]:
        """The leads identified by this number, however it is written."""

    def save_answer(self, lead_id: int, answer: Answer) -> None:
        """Records the answer; it supersedes the earlier one for its attribute, which is
        kept in the history. Personal attributes need a consent (ConsentRequired)."""

    def record_consent(self, lead_id: int, consent: Consent) -> None: ...

    def withdraw_consent(self, lead_id: int, at: datetime) -> None:
        """Marks the consent withdrawn and erases the lead's personal data (email, name,
        phone and their answers, also in the history); anonymous answers stay."""

    def identify(
        self, lead_id: int, email: str, freemail: bool, conversation_id: str | None = None
    ) -> int:
        """Gives the lead its email (needs a consent). If another lead has that email
        (case-insensitive), this lead's records merge into it and its id is returned;
        the merge is recorded with reason "email" and `conversation_id` (the
        conversation whose answer caused it)."""

    def claim_email(
        self, lead_id: int, email: str, freemail: bool, code: str, mail: Notification,
        conversation_id: str | None = None,
    ) -> Claim | None:  # fmt: skip
        """An email address typed in a conversation: a claim, proven by `code`, which
        `mail` (its body holding the code) takes to the address through the outbox, in
        the same transaction. Needs a consent (ConsentRequired). If nobody has the
        address, the lead takes it at once, unconfirmed (NEW_ADDRESS); if another lead
        has it, nothing of that lead changes or is shown, the lead stays apart until
        `verify_code` (KNOWN_ADDRESS). None (and no mail) when the address is the
        lead's own already. A new claim replaces the lead's open one."""

    def open_claim(self, lead_id: int) -> Claim | None:
        """The lead's claim waiting for its code, if any (expired ones too)."""

    def verify_code(self, lead_id: int, code: str) -> Verification:
        """Checks a code typed in the lead's conversation against its open claim: the
        right one confirms a new address (recorded with the consent in force) or joins
        the lead into the contact that has the address (a merge, reason "email");
        a wrong one counts (MAX_CODE_ATTEMPTS, then the claim is void), an old one
        has EXPIRED."""

    def identify_phone(self, lead_id: int, phone: str, conversation_id: str | None = None) -> int:
        """Identifies the lead by a phone number, normalised to E.164 by
        `crm_adapter.phone.normalised_phone` (needs a consent; ValueError for a text it
        rejects). If another lead has that number, this lead's records merge into it
        and its id is returned, the merge recorded with reason "phone"; not if both
        leads have emails and they differ (a shared office number is not one person).
        Otherwise the lead takes the number unless it has one already (the first
        number stays), and its own id is returned. Idempotent."""

    def merges(self, lead_id: int) -> list[MergeRecord]:
        """The merges into this lead and into the leads merged into it, oldest first."""

    def add_interest_event(self, lead_id: int, event: InterestEvent) -> None: ...

    def add_scoring_events(
        self, lead_id: int, events: list[ScoringEvent], explanation: Sequence[str] = ()
    ) -> None:
        """`explanation`: the scores explained line by line after the change (for the
        external CRMs' timeline; the store derives its own reports from the events)."""

    def change_stage(self, lead_id: int, change: StageRecord) -> None: ...

    def add_task(self, lead_id: int, task: SalesTask, notify: Sequence[Notification] = ()) -> None:
        """The task and its notifications (in the outbox) in one transaction."""

    def book_meeting(
        self, lead_id: int, meeting: Meeting, notify: Sequence[Notification] = ()
    ) -> Meeting:
        """Books it (returns it with `meeting_id` and `lead_id`) with its notifications,
        in one transaction. SlotTaken if `staff_id` has a booked meeting overlapping
        [start, end) (back to back is fine), also when two bookings race: one wins."""

    def meetings(self, staff_id: str, start: datetime, end: datetime) -> list[Meeting]:
        """Booked meetings of that person overlapping [start, end), by start."""

    def record_feedback(self, lead_id: int, feedback: Feedback) -> None:
        """Also sets `accepted` / `rejected` on the lead (the latest verdict wins)."""

    def leads(self, stage: str | None = None) -> list[Lead]:
        """All leads with an email, or those at `stage`."""

    def stages(self, lead_ids: Iterable[int]) -> dict[int, str | None]:
        """The lifecycle stage of each of these leads (unknown ids left out); one query."""
