"""The knowledge base: entities (with aliases) and claims, loaded from a YAML file and validated.

The file is the source of truth; analysts edit it. The one shipped in the package
(``config/data/kb.yaml``) is distilled from the seed corpus. ``KnowledgeBase.version``
is the file's declared version plus a short hash of its content, so a changed file is a new
version even if someone forgets to bump the number.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from matching.text import normalised_key

EntityType = Literal["person", "organisation", "place", "event", "country", "group", "policy"]


class KBError(Exception):
    """The knowledge-base file is missing, not YAML, or fails validation."""


class KbEntity(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Field(min_length=1)
    type: EntityType
    aliases: tuple[str, ...] = ()
    # Aliases that are ordinary words or other things too ("Washington" the state, "Khan",
    # "TTP" the blood disorder): they count only near another, unambiguous theme mention.
    context_aliases: tuple[str, ...] = ()
    # A surname or short form that names this entity only once the text has named it in full
    # ("Imran Khan …, Khan said"): in Pakistani news most "Khan"s are other people, whatever
    # theme mentions stand near.
    short_aliases: tuple[str, ...] = ()
    # A city's name standing for an institution there ("Rawalpindi" for the army): a context
    # alias that also does not count where the text plainly means the place: in capitals (a
    # dateline), after "in", "at", "near" or "from", or as part of a longer proper name or a list
    # of places ("Rawalpindi Cricket Stadium", "BISE Rawalpindi", "Lahore, Rawalpindi, Peshawar").
    place_aliases: tuple[str, ...] = ()
    # A capital's name standing for its government ("New Delhi blamed Islamabad"): a mention,
    # except where the text plainly means the city: in capitals (a dateline), after "in", "at",
    # "near" or "from", or in a list of places after one ("correspondents in Islamabad, New Delhi
    # and Washington"). Unlike a place alias it needs no context, and a pair of capitals is
    # two governments ("talks between New Delhi and Islamabad"), not a list of places.
    capital_aliases: tuple[str, ...] = ()
    # Longer phrases that contain an alias but name something else ("Native American",
    # "Indian tribe", "Washington State", "US$"): nothing inside one is a mention.
    not_within: tuple[str, ...] = ()
    weight: float = Field(default=1.0, ge=0, le=1, description="how strongly a mention signals the theme")
    # The larger entity this one acts for: a capital, an army or a spy agency for its state
    # ("Islamabad armed the insurgents" is a claim about Pakistan). In claim matching a mention
    # counts for the larger entity too; entity mentions themselves are not rewritten.
    part_of: str | None = None
    description: str | None = None

    @property
    def surface_forms(self) -> tuple[str, ...]:
        """The name and every alias, without repeats."""
        forms = (
            self.name,
            *self.aliases,
            *self.context_aliases,
            *self.short_aliases,
            *self.place_aliases,
            *self.capital_aliases,
        )
        return tuple(dict.fromkeys(forms))


class KbFrame(BaseModel):
    """How the press carries a claim without its words: who does what to whom, in order.

    Each slot is an entity (``@india``; a mention of anything ``part_of`` it counts) or cue-term
    alternatives as in ``terms`` ("blam|accus|alleg"). ``order`` slots must appear in that order
    in one sentence (the accuser before the accusation: "New Delhi blamed Islamabad", not
    "Islamabad blamed New Delhi"), ``anywhere`` slots anywhere in it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    says: str = Field(min_length=5)  # the frame in our words, shown as why it matched
    order: tuple[str, ...] = ()
    anywhere: tuple[str, ...] = ()
    # Slots that, filled, make the sentence another claim's ("@aps-attack-2014": a TTP attack
    # told with the school massacre is the APS claim's instance).
    unless: tuple[str, ...] = ()
    # At most this many words between one ``order`` slot and the next ("allegations against
    # Pakistan", not "accused India of supporting terrorism within Pakistan"); None: any.
    near: int | None = Field(default=None, ge=0)
    # Fixed when the frame itself takes a side ("ties are improving" denies "ties have not
    # improved"); None: detected from the sentence as for any match.
    stance: Literal["asserts", "reports", "denies"] | None = None
    # The frame is itself someone's accusation ("India blamed Pakistan for the attack"): the
    # sentence at least reports the claim, whatever its verbs; denial cues still deny it.
    attributed: bool = False

    @model_validator(mode="after")
    def _check_slots(self) -> KbFrame:
        if len(self.order) + len(self.anywhere) < 2 or not any(
            slot.startswith("@") for slot in (*self.order, *self.anywhere)
        ):
            raise ValueError(f"frame {self.says!r} needs two slots or more, one of them an entity (@id)")
        if len(self.order) == 1:
            raise ValueError(f"frame {self.says!r}: one slot in order has nothing to come before or after")
        if self.near is not None and not self.order:
            raise ValueError(
                f"frame {self.says!r}: near bounds the words between order slots, and it has none"
            )
        return self

    @property
    def entities(self) -> tuple[str, ...]:
        slots = (*self.order, *self.anywhere, *self.unless)
        return tuple(slot[1:] for slot in slots if slot.startswith("@"))


class KbClaim(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    statement: str = Field(min_length=10)
    entities: tuple[str, ...] = Field(min_length=1)
    # Lexical cues: each group is a set of alternatives ("fund|financ"), matched as word
    # prefixes. The lexical matcher scores a sentence by the share of groups it contains.
    terms: tuple[str, ...] = Field(min_length=1)
    # Other ways the press puts the same claim (analysts' own words): the semantic matcher
    # compares a sentence with the statement and every variant and keeps the closest.
    variants: tuple[str, ...] = ()
    # How the press typically denies or contradicts the claim (analysts' words). A denial is a
    # match too, with stance "denies"; these give the encoder something close to compare it with.
    denials: tuple[str, ...] = ()
    # The press's own ways of making the claim (see KbFrame): a sentence that fills a frame
    # makes the claim, whatever the blend says.
    frames: tuple[KbFrame, ...] = ()
    source: str
    stance: Literal["asserts", "reports"] = "asserts"


class KbSource(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str
    title: str
    date: str | None = None


class KnowledgeBase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str
    description: str = ""
    sources: dict[str, KbSource] = Field(default_factory=dict)
    entities: tuple[KbEntity, ...]
    claims: tuple[KbClaim, ...]
    content_hash: str = ""

    @model_validator(mode="after")
    def _check_references(self) -> KnowledgeBase:
        entity_ids = [e.id for e in self.entities]
        claim_ids = [c.id for c in self.claims]
        for kind, ids in (("entity", entity_ids), ("claim", claim_ids)):
            repeated = sorted({i for i in ids if ids.count(i) > 1})
            if repeated:
                raise ValueError(f"duplicate {kind} ids: {', '.join(repeated)}")
        known = set(entity_ids)
        for claim in self.claims:
            unknown = [e for e in claim.entities if e not in known]
            if unknown:
                raise ValueError(f"claim {claim.id} names unknown entities: {', '.join(unknown)}")
            unknown = [e for frame in claim.frames for e in frame.entities if e not in known]
            if unknown:
                raise ValueError(f"a frame of claim {claim.id} names unknown entities: {', '.join(unknown)}")
            if self.sources and claim.source not in self.sources:
                raise ValueError(f"claim {claim.id} names unknown source {claim.source!r}")
        for entity in self.entities:
            if entity.part_of is not None and entity.part_of not in known:
                raise ValueError(f"entity {entity.id} is part_of unknown entity {entity.part_of}")
        for entity_id in entity_ids:
            self.broader(entity_id)  # raises on a part_of cycle
        owner: dict[str, str] = {}
        for entity in self.entities:
            for form in entity.surface_forms:
                key = normalised_key(form)
                if key in owner and owner[key] != entity.id:
                    raise ValueError(f"alias {form!r} belongs to both {owner[key]} and {entity.id}")
                owner[key] = entity.id
        for entity in self.entities:
            for phrase in entity.not_within:
                key = normalised_key(phrase)
                if not key or key in owner:
                    raise ValueError(
                        f"not_within phrase {phrase!r} of {entity.id} is empty or an alias itself"
                    )
        return self

    @property
    def full_version(self) -> str:
        return f"{self.version}+{self.content_hash[:12]}" if self.content_hash else self.version

    def entity(self, entity_id: str) -> KbEntity:
        return next(e for e in self.entities if e.id == entity_id)

    def broader(self, entity_id: str) -> tuple[str, ...]:
        """``entity_id`` and every entity it is (transitively) ``part_of``, nearest first."""
        parents = {e.id: e.part_of for e in self.entities}
        chain = [entity_id]
        while (parent := parents.get(chain[-1])) is not None:
            if parent in chain:
                raise ValueError(f"part_of cycle: {' -> '.join([*chain, parent])}")
            chain.append(parent)
        return tuple(chain)

    def claims_from(self, source: str) -> list[KbClaim]:
        return [c for c in self.claims if c.source == source]


def load_kb(path: Path) -> KnowledgeBase:
    """Load and validate a knowledge-base file; raise :class:`KBError` with a readable reason."""
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise KBError(f"cannot read knowledge base {path}: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(raw_bytes)
    except yaml.YAMLError as exc:
        raise KBError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise KBError(f"{path} must hold a mapping with version, entities and claims")
    data["content_hash"] = hashlib.sha256(raw_bytes).hexdigest()
    try:
        return KnowledgeBase.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
        )
        raise KBError(f"{path} is not a valid knowledge base: {problems}") from exc
