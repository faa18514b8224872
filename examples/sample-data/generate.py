#!/usr/bin/env python3
"""Writes datasync's sample data: one pretix import document with many orders.

    python3 examples/sample-data/generate.py                  # the committed sample (60 orders)
    python3 examples/sample-data/generate.py --orders 100000 --out /tmp/big.json

The document has the shape `datasync import` reads and pretix's REST API returns:
{"event", "settings", "items", "questions", "checkinlists", "subevents", "vouchers",
"orders"}. The event-wide parts are copied from the conformance corpus
(tests/fixtures/pretix-sample/import.json, a real pretix 2026.8.0 export) and extended:
a new slug and name, a T-shirt add-on with four variations, an add-on category on the
products, a third check-in list and a third voucher. The orders are generated.

The first 60 orders are the curated sample: a fixed status plan plus "special" orders
that force the rarer cases (free order, cancellation fee, IDNA e-mail hosts, …). Orders
past the 60th are synthetic benchmark orders with exactly two positions each.

Determinism: the output depends only on --orders, --seed, the layout (--pretty/--compact)
and the corpus file, never on --jobs or the machine. Each curated order has its own RNG
(seeded with --seed and its index), so the first 60 orders of any document are the
committed sample's. Synthetic orders come in chunks of CHUNK orders with one RNG each, and
take their ids from blocks computed from their index, so chunks can be made in parallel
worker processes. Order codes are a bijection of the index (unique by construction).

Only the Python 3.11 standard library is used; nothing touches the network.
"""

from __future__ import annotations

import argparse
import bisect
import copy
import datetime as dt
import itertools
import json
import math
import multiprocessing
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CORPUS = ROOT / "tests" / "fixtures" / "pretix-sample" / "import.json"
DEFAULT_OUT = HERE / "sample-event.json"

DEFAULT_SEED = 2026
CURATED = 60  # orders 0..59: the curated sample; later orders are synthetic
PRETTY_LIMIT = 1000  # more orders than this are written compact unless --pretty

ORGANIZER = "demo"
SLUG = "democon26"
HOST = "https://tickets.example.com"
PUBLIC_URL = f"{HOST}/{ORGANIZER}/{SLUG}/"
API_BASE = f"{HOST}/api/v1/organizers/{ORGANIZER}/events/{SLUG}/"

# pretix's order-code alphabet (Order.assign_code: no 1/I, O/0, 2/Z, 4/A, 5/S, 6/G).
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ3789"
CODE_SPACE = len(CODE_ALPHABET) ** 5  # 17 210 368 codes
CODE_STEP = 6_454_009  # coprime to CODE_SPACE: index -> code is a bijection
assert math.gcd(CODE_STEP, CODE_SPACE) == 1
CHUNK = 2000  # synthetic orders per chunk (one RNG each; the unit of parallel work)

# ---------------------------------------------------------------------------------------
# Time helpers: integer microseconds since the epoch, written in pretix's API format
# (UTC with "Z"; microseconds only when non-zero).

EPOCH = dt.datetime(1970, 1, 1)
US = 1_000_000
MINUTE = 60 * US
HOUR = 60 * MINUTE
DAY = 24 * HOUR


def ts(text: str) -> int:
    d = dt.datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)
    return (d - EPOCH) // dt.timedelta(microseconds=1)


_DATES: dict[int, str] = {}
_CLOCK = [f"T{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]


def api_dt(us: int) -> str:
    days, rest = divmod(us, DAY)
    date = _DATES.get(days)
    if date is None:
        date = _DATES[days] = (EPOCH + dt.timedelta(days=days)).date().isoformat()
    seconds, micro = divmod(rest, US)
    if micro:
        return f"{date}{_CLOCK[seconds]}.{micro:06d}Z"
    return f"{date}{_CLOCK[seconds]}Z"


def api_date(us: int) -> str:
    return (EPOCH + dt.timedelta(microseconds=us)).date().isoformat()


def py_isoformat(us: int) -> str:
    """How pretix stores a date-time answer: Python's isoformat() of an aware UTC value."""
    return (EPOCH + dt.timedelta(microseconds=us)).isoformat() + "+00:00"


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


# ---------------------------------------------------------------------------------------
# Pools of values. Names and addresses deliberately carry diacritics, apostrophes,
# multi-word parts and non-Latin scripts.

GIVEN = [
    "Jürgen", "Åsa", "Zoë", "Łukasz", "Ève-Marie", "José María", "Niamh", "D'Arcy",
    "Søren", "Ōtani", "Chloé", "Dóra", "Alice", "Bob", "Charlie", "Maria", "Ahmed",
    "Priya", "Wei", "Olga", "Tom", "Lena", "Kwame", "Aylin", "Mateus", "Ingrid",
]
FAMILY = [
    "Müller", "O'Brien", "García Márquez", "Nguyễn", "Ødegård", "Straße", "Smith-Jones",
    "van der Berg", "de l'Exemple", "Šimůnek", "Çelik", "Kowalski", "Schmidt", "Rossi",
    "Yılmaz", "Papadopoulos", "Ivanova", "Tanaka", "Dvořák", "Jäätmaa", "Lefèvre",
]
ASCII_FOLD = str.maketrans({
    "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "å": "a", "ø": "o", "æ": "ae", "é": "e",
    "è": "e", "ê": "e", "ë": "e", "á": "a", "à": "a", "í": "i", "ì": "i", "ó": "o",
    "ò": "o", "ō": "o", "ú": "u", "ñ": "n", "ç": "c", "ł": "l", "š": "s", "ů": "u",
    "ř": "r", "ı": "i", "ễ": "e", "ğ": "g", "'": "", " ": ".", "-": "-",
})
COMPANIES = [
    "ACME GmbH", "Bäckerei Müller & Söhne KG", "O'Reilly Media, Inc.",
    "Société Générale d'Exemple SA", "Łódź Software Sp. z o.o.", "Ødegård & Co AS",
    "Example Corp.", "Nordlicht e.V.", "Zürcher Datenwerk AG", "株式会社サンプル",
]
ADDRESSES = [  # country, street, zipcode, city, state
    ("DE", "Hauptstraße 1\n2. OG", "10115", "Berlin", ""),
    ("DE", "Schloßallee 7", "80331", "München", ""),
    ("AT", "Mariahilfer Straße 88", "1070", "Wien", ""),
    ("CH", "Bahnhofstrasse 21", "8001", "Zürich", ""),
    ("FR", "12 Rue de l'Église", "75004", "Paris", ""),
    ("NL", "Prinsengracht 263", "1016 GV", "Amsterdam", ""),
    ("PL", "ul. Marszałkowska 10/12", "00-590", "Warszawa", ""),
    ("SE", "Drottninggatan 5", "111 51", "Stockholm", ""),
    ("US", "350 Fifth Avenue", "10118", "New York", "NY"),
    ("GB", "221B Baker Street", "NW1 6XE", "London", ""),
]
PLAIN_DOMAINS = ["example.com", "example.org", "example.net", "mail.example.com"]
IDNA_DOMAINS = [
    "bücher.example", "BÜCHER.Example", "🌈.example.org", "münchen.example",
    "straße.example", "xn--bcher-kva.example",
]
COLORS = ["Blue", "Red", "grün, hell", "#3b1c4a", "\"quoted\" & <b>tag</b>", "Türkis", "紫"]
BIOS = [
    "Line one\nLine two", "Ünïcödé bio\n\nwith a blank line", "single line",
    "Rust developer from Kraków.", "Ich organisiere Meetups in Köln.",
    "SRE, on call\tsometimes.",
]
AGES = ["0", "3.5", "19", "27", "34", "42", "58", "71"]
COUNTRIES = ["DE", "AT", "CH", "US", "FR", "PL", "NL", "SE", "GB", "JP"]
PHONES = ["+4930123456", "+12025550123", "+436601234567", "+41446681800", "+33142685300"]
ARRIVAL_TIMES = ["07:05:00", "08:30:00", "12:00:00", "23:59:59", "00:00:00"]
ORDER_COMMENTS = ["", "", "", "", "Rechnung bitte per Post.", "Invoice to accounting, PO 4711."]

# Question ids of the corpus (copied as they are).
Q_FAV_COLOR, Q_BIO, Q_AGE, Q_NEWSLETTER, Q_FOOD, Q_TOPICS = 1, 2, 3, 4, 5, 6
Q_ARRIVAL, Q_ARRIVAL_TIME, Q_DEPARTURE, Q_COUNTRY, Q_PHONE, Q_CV = 7, 8, 9, 10, 11, 12

# Products: 1 Conference Ticket, 2 Day Pass (variations 1 Friday, 2 Saturday),
# 3 Workshop, 4 Speakers' Dinner (corpus), 5 T-Shirt (variations 3–6, new).
TICKET, DAYPASS, WORKSHOP, DINNER, SHIRT = 1, 2, 3, 4, 5
BASE_PRICE = {TICKET: 14900, DAYPASS: 7950, WORKSHOP: 2500, DINNER: 4500}
SHIRT_VARIATIONS = {3: ("S", 2000), 4: ("M", 2000), 5: ("L", 2000), 6: ("XL", 2200)}
ADDON_ITEMS = (WORKSHOP, DINNER, SHIRT)
QUESTION_ITEMS = (TICKET, DAYPASS, DINNER)  # the corpus questions ask these products

# Vouchers: 1 EARLYBIRD (ticket, set 119.00), 2 SPEAKER-2026 (any, set 0.00) from the
# corpus, 3 TEAM10 (any, 10 % off) new.
EARLYBIRD, SPEAKER, TEAM10 = 1, 2, 3

# Check-in lists: 1 Main entrance (all products), 2 VIP Lounge (ticket only) from the
# corpus, 3 Workshop room (workshop only) new.
MAIN, VIP, WORKSHOP_ROOM = 1, 2, 3

ORDER_START = ts("2026-04-01T08:00:00Z")
ORDER_END = ts("2026-09-10T20:00:00Z")



def _status_plan() -> str:
    """The curated sample's statuses: 30 paid, 12 pending, 8 expired, 10 canceled, in a
    fixed shuffled order (some SPECIAL orders below override theirs)."""
    plan = list("p" * 30 + "n" * 12 + "e" * 8 + "c" * 10)
    random.Random(CURATED).shuffle(plan)
    return "".join(plan)


STATUS_PLAN = _status_plan()
assert len(STATUS_PLAN) == CURATED

# Curated orders that force a rare case (the rest is drawn at random).
SPECIAL: dict[int, dict] = {
    0: {"status": "p", "shape": [(TICKET, None, EARLYBIRD, [WORKSHOP])],
        "invoice": "business", "checkins": "full", "fee": "payment", "locale": "en"},
    1: {"locale": "de", "invoice": "private", "two_dates": True},
    2: {"email_domain": "bücher.example", "email_local": "käufer", "locale": "de"},
    3: {"shape": [(TICKET, None, None, [DINNER]), (DAYPASS, 2, None, [])],
        "addon_own_data": True},
    5: {"email": None},
    7: {"email_domain": "BÜCHER.Example", "email_local": "Kaeufer"},
    8: {"status": "p", "shape": [(TICKET, None, SPEAKER, []), (DAYPASS, 1, SPEAKER, [])]},
    9: {"email_domain": "example.net", "email_local": "jörg.müller"},
    11: {"status": "p", "shape": [(TICKET, None, None, [WORKSHOP, DINNER]),
                                  (TICKET, None, None, [])], "cancel_position": "addon"},
    13: {"shape": [(TICKET, None, TEAM10, []), (TICKET, None, TEAM10, []),
                   (DAYPASS, 1, TEAM10, [])], "invoice": "business"},
    14: {"status": "p", "cancel_fee": True},
    16: {"email_domain": "🌈.example.org", "email_local": "rainbow"},
    18: {"status": "c", "shape": [(TICKET, None, None, [SHIRT])], "refunded": True},
    19: {"status": "p", "shape": [(TICKET, None, None, [DINNER]), (DAYPASS, 2, None, [])],
         "cancel_position": "primary"},
    21: {"status": "p", "canceled_fee": True},
    23: {"email_domain": "straße.example", "email_local": "info"},
    24: {"invoice": "business_noname"},
    26: {"invoice": "no_country"},
    28: {"status": "n", "require_approval": True},
    30: {"shape": [(DAYPASS, 1, None, [WORKSHOP, SHIRT])], "addon_own_data": True},
    31: {"email_domain": "xn--bcher-kva.example", "email_local": "punycode"},
    35: {"shape": [(TICKET, None, None, [])], "nameless": True, "invoice": "none"},
    37: {"status": "p", "checkins": "full"},
    40: {"status": "p", "shape": [(TICKET, None, EARLYBIRD, [DINNER])],
         "addon_own_data": True, "checkins": "full"},
    44: {"email_domain": "münchen.example", "email_local": "Zoë.Ødegård"},
    47: {"status": "n", "valid_if_pending": True},
    52: {"fee": "payment"},
}


class Rng(random.Random):
    """random.Random with cheaper choice/randint/randrange (float-based; plenty uniform
    for sample data, and several times faster than the rejection-sampling originals)."""

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def randrange(self, start: int, stop: int) -> int:  # type: ignore[override]
        return start + int(self.random() * (stop - start))

    def weighted(self, values, cum_weights):
        """One of `values`, by cumulative weights (like choices(..., cum_weights=…)[0])."""
        return values[bisect.bisect(cum_weights, self.random() * cum_weights[-1])]


class Ids:
    """Primary keys, handed out in order like a database sequence (each counter holds
    the last id given out)."""

    def __init__(self, position: int = 0, checkin: int = 0, fee: int = 0, payment: int = 0):
        self.position = position
        self.checkin = checkin
        self.fee = fee
        self.payment = payment

    def next(self, kind: str) -> int:
        value = getattr(self, kind) + 1
        setattr(self, kind, value)
        return value

    def state(self) -> tuple[int, int, int, int]:
        return (self.position, self.checkin, self.fee, self.payment)


# A synthetic order's ids come from its own block, computed from its index, so that
# chunks of orders can be generated independently (in parallel) with the same result.
# Block sizes: 2 positions, at most 4 scans per position, 1 fee, 2 payments.
BLOCK = Ids(position=2, checkin=8, fee=1, payment=2)


class Stats:
    """What the event-wide objects count: voucher redemptions, check-in list counts."""

    def __init__(self) -> None:
        self.orders = 0
        self.positions = 0
        self.redeemed = {EARLYBIRD: 0, SPEAKER: 0, TEAM10: 0}
        self.list_positions = {MAIN: 0, VIP: 0, WORKSHOP_ROOM: 0}
        self.list_checkins = {MAIN: 0, VIP: 0, WORKSHOP_ROOM: 0}

    def add(self, other: "Stats") -> None:
        self.orders += other.orders
        self.positions += other.positions
        for mine, theirs in (
            (self.redeemed, other.redeemed),
            (self.list_positions, other.list_positions),
            (self.list_checkins, other.list_checkins),
        ):
            for k, v in theirs.items():
                mine[k] += v


def list_covers(list_id: int, item: int) -> bool:
    if list_id == MAIN:
        return True
    if list_id == VIP:
        return item == TICKET
    return item == WORKSHOP


LISTS_OF_ITEM = {
    item: [l for l in (MAIN, VIP, WORKSHOP_ROOM) if list_covers(l, item)]
    for item in (TICKET, DAYPASS, WORKSHOP, DINNER, SHIRT)
}


# ---------------------------------------------------------------------------------------
# The event-wide parts.


def event_parts(corpus: dict) -> dict:
    event = copy.deepcopy(corpus["event"])
    event["name"] = {"de": "DataSync Demo-Konferenz 2026", "en": "DataSync Demo Conference 2026"}
    event["slug"] = SLUG
    event["live"] = True
    event["location"] = {"de": "Berlin, Deutschland", "en": "Berlin, Germany"}
    event["plugins"] = [
        "pretix.plugins.banktransfer",
        "pretix.plugins.manualpayment",
        "pretix.plugins.paypal2",
        "pretix.plugins.stripe",
        "pretix.plugins.ticketoutputpdf",
    ]
    event["public_url"] = PUBLIC_URL

    settings = copy.deepcopy(corpus["settings"])

    items = copy.deepcopy(corpus["items"])
    addon_rule = {
        "addon_category": 2,
        "min_count": 0,
        "max_count": 3,
        "position": 0,
        "price_included": False,
        "multi_allowed": False,
    }
    for item in items:
        if item["id"] in (TICKET, DAYPASS):
            item["category"] = 1
            item["addons"] = [dict(addon_rule)]
        else:
            item["category"] = 2
    shirt = copy.deepcopy(next(i for i in items if i["id"] == WORKSHOP))
    variation_template = copy.deepcopy(
        next(i for i in items if i["id"] == DAYPASS)["variations"][0]
    )
    shirt.update(
        {
            "id": SHIRT,
            "name": {"de": "Konferenz-T-Shirt", "en": "Conference T-Shirt"},
            "internal_name": None,
            "default_price": "20.00",
            "position": 5,
            "has_variations": True,
            "variations": [],
        }
    )
    for position, (vid, (size, cents)) in enumerate(SHIRT_VARIATIONS.items(), start=1):
        v = copy.deepcopy(variation_template)
        v.update(
            {
                "id": vid,
                "value": {"en": size},
                "position": position,
                "default_price": money(cents),
                "price": money(cents),
            }
        )
        shirt["variations"].append(v)
    items.append(shirt)

    questions = copy.deepcopy(corpus["questions"])

    checkinlists = copy.deepcopy(corpus["checkinlists"])
    workshop_list = copy.deepcopy(next(c for c in checkinlists if c["id"] == VIP))
    workshop_list.update({"id": WORKSHOP_ROOM, "name": "Workshop room", "limit_products": [WORKSHOP]})
    checkinlists.append(workshop_list)

    subevents = copy.deepcopy(corpus["subevents"])
    for s in subevents:
        s["event"] = SLUG
        s["location"] = {"en": "Berlin"}

    vouchers = copy.deepcopy(corpus["vouchers"])
    team = copy.deepcopy(next(v for v in vouchers if v["id"] == SPEAKER))
    team.update(
        {
            "id": TEAM10,
            "created": "2026-04-15T10:30:00Z",
            "code": "TEAM10",
            "max_usages": 500,
            "price_mode": "percent",
            "value": "10.00",
            "comment": "10 % off for teams",
            "tag": "teams",
        }
    )
    vouchers.append(team)

    return {
        "event": event,
        "settings": settings,
        "items": items,
        "questions": questions,
        "checkinlists": checkinlists,
        "subevents": subevents,
        "vouchers": vouchers,
    }


def finish_counts(parts: dict, stats: Stats) -> None:
    for c in parts["checkinlists"]:
        c["position_count"] = stats.list_positions[c["id"]]
        c["checkin_count"] = stats.list_checkins[c["id"]]
    for v in parts["vouchers"]:
        v["redeemed"] = stats.redeemed[v["id"]]


# ---------------------------------------------------------------------------------------
# Orders.


class Generator:
    def __init__(self, parts: dict, seed: int, total_orders: int) -> None:
        self.seed = seed
        self.total = total_orders
        self.curated_ids = Ids()
        self.ids = self.curated_ids
        self.synthetic_base: tuple[int, int, int, int] | None = None
        self.stats = Stats()
        self.code_offset = random.Random(f"{seed}/codes").randrange(CODE_SPACE)
        self.options = {
            q["id"]: [(o["id"], o["identifier"], o["answer"]["en"]) for o in q["options"]]
            for q in parts["questions"]
        }
        self.subevents = {
            s["id"]: (ts(s["date_from"]), ts(s["date_to"]) if s["date_to"] else None)
            for s in parts["subevents"]
        }
        self.subevent_ids = sorted(self.subevents)
        self.identifiers = {q["id"]: q["identifier"] for q in parts["questions"]}
        self.pools = {s: self.answer_pools(s) for s in self.subevent_ids}
        self.local_parts: dict[tuple[str, str], str] = {}

    # -- small helpers ---------------------------------------------------------------

    @staticmethod
    def secret(rng: random.Random, n: int) -> str:
        """n random lowercase hex digits (a subset of pretix's [a-z0-9] secrets; fast)."""
        return rng.randbytes(n // 2).hex()

    PAIRS = [a + b for a in CODE_ALPHABET for b in CODE_ALPHABET]

    @classmethod
    def pseudonymization_id(cls, pos_id: int) -> str:
        """10 characters of the order-code alphabet, unique per position id."""
        pairs = cls.PAIRS
        n = (pos_id * 1_000_000_007 + 12_345_678) % len(pairs) ** 5
        n, a = divmod(n, 784)
        n, b = divmod(n, 784)
        n, c = divmod(n, 784)
        e, d = divmod(n, 784)
        return pairs[a] + pairs[b] + pairs[c] + pairs[d] + pairs[e]

    def code(self, index: int) -> str:
        """The order code: a bijection of the index onto the 28^5 codes, so codes are
        unique without bookkeeping and look random enough."""
        n = (index * CODE_STEP + self.code_offset) % CODE_SPACE
        out = []
        for _ in range(5):
            n, digit = divmod(n, 28)
            out.append(CODE_ALPHABET[digit])
        return "".join(out)

    @staticmethod
    def jitter_us(rng: random.Random, p_micro: float) -> int:
        """Sub-second part: zero (no microseconds in the text) or some microseconds."""
        return rng.randrange(1, US) if rng.random() < p_micro else 0

    @staticmethod
    def name(rng: random.Random, kind: str | None = None) -> tuple[str | None, dict]:
        kind = kind or rng.weighted(("full", "given", "family"), (90, 96, 100))
        if kind == "none":
            return None, {}
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        if kind == "given":
            return given, {"_scheme": "given_family", "given_name": given}
        if kind == "family":
            return family, {"_scheme": "given_family", "family_name": family}
        return f"{given} {family}", {
            "_scheme": "given_family",
            "given_name": given,
            "family_name": family,
        }

    def email_for(self, rng: random.Random, parts: dict, serial: int, domain: str | None = None) -> str:
        key = (parts.get("given_name", ""), parts.get("family_name", ""))
        local = self.local_parts.get(key)
        if local is None:
            base = " ".join(k for k in key if k)
            local = base.lower().translate(ASCII_FOLD)
            local = "".join(ch for ch in local if ch.isascii() and (ch.isalnum() or ch in ".-"))
            local = self.local_parts[key] = local or "guest"
        return f"{local}{serial}@{domain or rng.choice(PLAIN_DOMAINS)}"

    # -- answers ---------------------------------------------------------------------

    def answer_pools(self, subevent: int) -> dict[int, list]:
        """Every answer a question can get on this date, built once: generating an answer
        is then one pick (the same dict may appear many times in the output)."""
        start, end = self.subevents[subevent]

        def answer(qid: int, text: str, options=()) -> dict:
            return {
                "question": qid,
                "answer": text,
                "question_identifier": self.identifiers[qid],
                "options": [o[0] for o in options],
                "option_identifiers": [o[1] for o in options],
            }

        leave_base = end or start + 10 * HOUR
        leave_base -= leave_base % MINUTE
        topics = self.options[Q_TOPICS]
        return {
            Q_FAV_COLOR: [answer(Q_FAV_COLOR, t) for t in COLORS],
            Q_BIO: [answer(Q_BIO, t) for t in BIOS],
            Q_AGE: [answer(Q_AGE, t) for t in AGES],
            # "True" 11 times in 20.
            Q_NEWSLETTER: [answer(Q_NEWSLETTER, "True")] * 11 + [answer(Q_NEWSLETTER, "False")] * 9,
            Q_FOOD: [answer(Q_FOOD, o[2], [o]) for o in self.options[Q_FOOD]],
            # By number of picks: the text in the order the buyer ticked them, the
            # options in the options' order (as the API lists them).
            Q_TOPICS: [
                [
                    answer(Q_TOPICS, ", ".join(o[2] for o in picked), sorted(picked))
                    for picked in itertools.permutations(topics, n)
                ]
                for n in range(1, len(topics) + 1)
            ],
            Q_ARRIVAL: [answer(Q_ARRIVAL, api_date(start - d * DAY)) for d in (0, 1, 2)],
            Q_ARRIVAL_TIME: [answer(Q_ARRIVAL_TIME, t) for t in ARRIVAL_TIMES],
            Q_DEPARTURE: [
                answer(Q_DEPARTURE, py_isoformat(leave_base + k * 30 * MINUTE + sec * US))
                for k in range(1, 41)
                for sec in (0, 30)
            ],
            Q_COUNTRY: [answer(Q_COUNTRY, t) for t in COUNTRIES],
            Q_PHONE: [answer(Q_PHONE, t) for t in PHONES],
        }

    # (question, probability that a position answers it)
    QUESTIONS = [
        (Q_FAV_COLOR, 0.6),
        (Q_BIO, 0.45),
        (Q_AGE, 0.5),
        (Q_NEWSLETTER, 0.75),
        (Q_FOOD, 0.7),
        (Q_TOPICS, 0.6),
        (Q_ARRIVAL, 0.45),
        (Q_ARRIVAL_TIME, 0.4),
        (Q_DEPARTURE, 0.4),
        (Q_COUNTRY, 0.5),
        (Q_PHONE, 0.45),
        (Q_CV, 0.12),
    ]
    ADDON_QUESTIONS = [(Q_FOOD, 0.8), (Q_NEWSLETTER, 0.4), (Q_TOPICS, 0.3)]

    def answers(self, rng: random.Random, pos_id: int, subevent: int, table) -> list[dict]:
        pools = self.pools[subevent]
        rnd = rng.random
        out = []
        for qid, p in table:
            if rnd() >= p:
                continue
            if qid == Q_CV:  # a file: the API answers with the upload's download URL
                out.append(
                    {
                        "question": qid,
                        "answer": f"{API_BASE}orderpositions/{pos_id}/answer/{qid}/",
                        "question_identifier": self.identifiers[qid],
                        "options": [],
                        "option_identifiers": [],
                    }
                )
            elif qid == Q_TOPICS:
                out.append(rng.choice(rng.choice(pools[qid])))
            else:
                out.append(rng.choice(pools[qid]))
        return out

    # -- check-ins -------------------------------------------------------------------

    def checkins(self, rng: random.Random, item: int, subevent: int, full: bool) -> list[dict]:
        start, _ = self.subevents[subevent]
        scans: list[tuple[int, int, str]] = []  # (time, list, type)
        lists = [l for l in (MAIN, VIP, WORKSHOP_ROOM) if list_covers(l, item)]
        if item == DINNER or item == SHIRT:
            lists = []
        for list_id in lists:
            p = {MAIN: 0.5, VIP: 0.25, WORKSHOP_ROOM: 0.45}[list_id]
            if item == WORKSHOP and list_id == MAIN:
                p = 0.15
            if not full and rng.random() >= p:
                continue
            t = start + rng.randint(-30, 240) * MINUTE + rng.randint(0, 59) * US
            t += rng.randrange(1, US) if rng.random() < 0.3 else 0
            scans.append((t, list_id, "entry"))
            if list_id == MAIN and (full or rng.random() < 0.25):
                t += rng.randint(60, 300) * MINUTE + rng.randint(0, 59) * US
                scans.append((t, list_id, "exit"))
                if full or rng.random() < 0.6:
                    t += rng.randint(20, 120) * MINUTE
                    t += rng.randrange(1, US) if rng.random() < 0.5 else 0
                    scans.append((t, list_id, "entry"))
        scans.sort()
        out = []
        for t, list_id, kind in scans:
            out.append(
                {
                    "id": self.ids.next("checkin"),
                    "datetime": api_dt(t),
                    "list": list_id,
                    "auto_checked_in": False,
                    "gate": None,
                    "device": None,
                    "device_id": None,
                    "type": kind,
                }
            )
        out.reverse()  # the API lists the newest scan first
        return out

    # -- one order -------------------------------------------------------------------

    def shape(self, rng: random.Random, index: int, special: dict) -> list:
        """[(item, variation, voucher, [add-on items]), …] for each primary position."""
        if "shape" in special:
            return special["shape"]
        if index >= CURATED:  # synthetic: exactly two positions
            if rng.random() < 0.5:
                return [self.primary(rng, index), self.primary(rng, index)]
            item, variation, voucher, _ = self.primary(rng, index)
            return [(item, variation, voucher, [rng.choice(ADDON_ITEMS)])]
        n = rng.weighted((1, 2, 3, 4), (55, 85, 95, 100))
        out = []
        for _ in range(n):
            item, variation, voucher, _ = self.primary(rng, index)
            k = rng.weighted((0, 1, 2), (60, 90, 100))
            out.append((item, variation, voucher, rng.sample(ADDON_ITEMS, k)))
        return out

    @staticmethod
    def primary(rng: random.Random, index: int) -> tuple:
        if rng.random() < 0.6:
            item, variation = TICKET, None
        else:
            item, variation = DAYPASS, rng.choice([1, 2])
        r = rng.random()
        voucher = None
        if r < 0.12 and item == TICKET:
            voucher = EARLYBIRD
        elif 0.12 <= r < 0.16:
            voucher = SPEAKER
        elif 0.16 <= r < 0.22:
            voucher = TEAM10
        return (item, variation, voucher, [])

    @staticmethod
    def price(item: int, variation: int | None, voucher: int | None) -> int:
        base = SHIRT_VARIATIONS[variation][1] if item == SHIRT else BASE_PRICE[item]
        if voucher == EARLYBIRD:
            return 11900
        if voucher == SPEAKER:
            return 0
        if voucher == TEAM10:
            return (base * 9 + 5) // 10
        return base

    def order(self, index: int, rng: Rng) -> dict:
        if index < CURATED:
            self.ids = self.curated_ids
        else:
            k = index - CURATED
            base, block = self.synthetic_base, BLOCK
            self.ids = Ids(*(b + k * n for b, n in zip(base, block.state())))
            limits = [b + (k + 1) * n for b, n in zip(base, block.state())]
        special = SPECIAL.get(index, {}) if index < CURATED else {}
        if index < CURATED:
            status = STATUS_PLAN[index]
            placed = ORDER_START + (ORDER_END - ORDER_START) * index // CURATED
            placed += rng.randint(0, 40) * HOUR + rng.randint(0, 3599) * US
        else:
            status = rng.weighted("pnec", (62, 77, 87, 100))
            span = max(1, self.total - CURATED)
            placed = ORDER_START + (ORDER_END - ORDER_START) * (index - CURATED) // span
            placed += rng.randint(0, 3599) * US
        status = special.get("status", status)
        placed += self.jitter_us(rng, 0.75)

        code = self.code(index)
        secret = self.secret(rng, 16)
        locale = special.get("locale") or ("de" if rng.random() < 0.35 else "en")
        order_subevent = rng.choice(self.subevent_ids)

        # Buyer and invoice address.
        buyer_name, buyer_parts = self.name(rng, "full")
        if "email" in special and special["email"] is None:
            email = None
        elif "email_domain" in special:
            email = f"{special['email_local']}{index}@{special['email_domain']}"
        else:
            email = self.email_for(rng, buyer_parts, index)
        invoice_kind = special.get("invoice") or rng.weighted(
            ("business", "private", "none"), (35, 80, 100)
        )
        invoice = self.invoice_address(rng, invoice_kind, buyer_name, buyer_parts, placed)

        # Positions.
        positions: list[dict] = []
        full_checkins = special.get("checkins") == "full"
        addon_own = special.get("addon_own_data")
        for n, (item, variation, voucher, addons) in enumerate(self.shape(rng, index, special)):
            subevent = order_subevent
            if special.get("two_dates") and n > 0:
                subevent = self.subevent_ids[(self.subevent_ids.index(order_subevent) + 1) % 3]
            elif index < CURATED and rng.random() < 0.15:
                subevent = rng.choice(self.subevent_ids)
            if special.get("nameless"):
                name_kind = "none"
            elif n == 0 and rng.random() < 0.5:
                name_kind = "buyer"
            else:
                name_kind = rng.weighted(("full", "given", "family", "none"), (84, 90, 94, 100))
            parent = self.position(
                rng, code, len(positions) + 1, item, variation, voucher, None, subevent,
                name_kind, buyer_name, buyer_parts, index, status, full_checkins,
            )
            positions.append(parent)
            for addon in addons:
                a_variation = rng.choice(list(SHIRT_VARIATIONS)) if addon == SHIRT else None
                own = addon_own or rng.random() < 0.3
                positions.append(
                    self.position(
                        rng, code, len(positions) + 1, addon, a_variation, None, parent["id"],
                        subevent, "full" if own else "none", buyer_name, buyer_parts, index,
                        status, full_checkins, own_data=own,
                    )
                )

        # Partial cancellation: the position keeps its price, the total drops it.
        cancel = special.get("cancel_position")
        if cancel is None and index < CURATED and status == "p" and len(positions) > 1 \
                and rng.random() < 0.08:
            cancel = "any"
        if cancel:
            if cancel == "addon":
                victims = [next(p for p in positions if p["addon_to"] is not None)]
            elif cancel == "primary":
                victim = positions[0]
                victims = [victim] + [p for p in positions if p["addon_to"] == victim["id"]]
            else:
                victim = positions[-1]
                victims = [victim]
                if victim["addon_to"] is None:
                    victims += [p for p in positions if p["addon_to"] == victim["id"]]
            for p in victims:
                p["canceled"] = True
                p["checkins"] = []
        if special.get("cancel_fee"):
            for p in positions:
                p["canceled"] = True
                p["checkins"] = []

        # Fees and total.
        fees = []
        prices = [p.pop("cents") for p in positions]  # see position()
        positions_total = sum(c for c, p in zip(prices, positions) if not p["canceled"])
        if special.get("fee") == "payment" or (
            not special and status in "pc" and positions_total and rng.random() < 0.12
        ):
            fees.append(self.fee(rng, "payment", rng.choice([150, 210, 99]), False))
        if special.get("canceled_fee"):
            fees.append(self.fee(rng, "payment", 250, True))
        if special.get("cancel_fee"):
            fees.append(self.fee(rng, "cancellation", 1000, False))
        total, gross = positions_total, sum(prices)
        for f in fees:
            if not f["canceled"]:
                total += f["cents"]
                gross += f["cents"] if f["fee_type"] != "cancellation" else 0
            del f["cents"]

        # Payments, refunds, dates.
        payments, refunds = [], []
        payment_date = None
        provider = None
        cancellation_date = None
        last = placed + rng.randint(1, 6) * MINUTE

        def pay(state: str, amount: int, prov: str, at: int, done: int | None) -> dict:
            local = len(payments) + 1
            pk = self.ids.next("payment")
            payments.append(
                {
                    "local_id": local,
                    "state": state,
                    "amount": money(amount),
                    "created": api_dt(at),
                    "payment_date": api_dt(done) if done is not None else None,
                    "provider": prov,
                    "payment_url": (
                        f"{PUBLIC_URL}order/{code}/{secret}/pay/{pk}/" if state == "created" else None
                    ),
                    "details": {},
                }
            )
            return payments[-1]

        created = placed + rng.randint(1, 5) * MINUTE + self.jitter_us(rng, 0.5)
        if gross == 0 and status in "ne":
            status = "p"  # pretix confirms a free order at once
        was_paid = status == "p" or (status == "c" and (special.get("refunded") or rng.random() < 0.5))
        if was_paid and gross == 0:
            provider = "free"
            pay("confirmed", 0, "free", created, created)
            payment_date = created
        elif was_paid:
            provider = rng.choice(["banktransfer", "stripe", "paypal", "manual"])
            if rng.random() < 0.12:
                pay("failed", gross, rng.choice(["stripe", "paypal"]), created, None)
                created += rng.randint(2, 30) * MINUTE
            done = created + (
                rng.randint(1, 5) * DAY if provider == "banktransfer" else rng.randint(5, 300) * US
            )
            done += self.jitter_us(rng, 0.6)
            payment = pay("confirmed", gross, provider, created, done)
            payment_date = done
            last = max(last, done)
            # A canceled order is refunded in full; a paid order whose positions were
            # (partly) canceled gets the difference back.
            refund = gross if status == "c" else gross - total
            if refund > 0:
                when = done + rng.randint(3, 20) * DAY + self.jitter_us(rng, 0.5)
                if status == "c":
                    payment["state"] = "refunded"
                refunds.append(
                    {
                        "local_id": 1,
                        "state": "done",
                        "source": rng.choice(["admin", "buyer"]),
                        "amount": money(refund),
                        "payment": payment["local_id"],
                        "created": api_dt(when),
                        "execution_date": api_dt(when + rng.randint(1, 120) * MINUTE),
                        "comment": None,
                        "provider": provider,
                        "details": {},
                    }
                )
                if status == "c" or special.get("cancel_fee"):
                    cancellation_date = when
                last = max(last, when + 2 * HOUR)
        elif status == "n":
            if rng.random() < 0.6:
                provider = "banktransfer"
                pay("created", total, provider, created, None)
        elif status in "ec":
            if rng.random() < 0.4:
                provider = rng.choice(["banktransfer", "paypal"])
                pay("canceled", total, provider, created, None)
        if status == "c" and cancellation_date is None:
            cancellation_date = placed + rng.randint(1, 20) * DAY + self.jitter_us(rng, 0.5)
            last = max(last, cancellation_date)
        if status == "e":
            last = max(last, placed + 14 * DAY + rng.randint(1, 60) * MINUTE)

        if index >= CURATED:
            over = [n for n, limit in zip(self.ids.state(), limits) if n > limit]
            assert not over, f"order {index} overflows its id block"

        # Statistics for the event-wide counters.
        stats = self.stats
        stats.orders += 1
        stats.positions += len(positions)
        for p in positions:
            if p["canceled"]:
                continue
            if p["voucher"] and status in "np":
                stats.redeemed[p["voucher"]] += 1
            if status == "p":
                scanned = {c["list"] for c in p["checkins"]}
                for list_id in LISTS_OF_ITEM[p["item"]]:
                    stats.list_positions[list_id] += 1
                    if list_id in scanned:
                        stats.list_checkins[list_id] += 1

        return {
            "code": code,
            "event": SLUG,
            "status": status,
            "testmode": False,
            "secret": secret,
            "email": email,
            "phone": rng.choice(PHONES) if rng.random() < 0.2 else None,
            "locale": locale,
            "datetime": api_dt(placed),
            "expires": api_dt(placed + 14 * DAY),
            "payment_date": api_date(payment_date) if payment_date is not None else None,
            "payment_provider": provider,
            "fees": fees,
            "total": money(total),
            "tax_rounding_mode": "line",
            "comment": rng.choice(ORDER_COMMENTS),
            "custom_followup_at": None,
            "invoice_address": invoice,
            "positions": positions,
            "downloads": [],
            "checkin_attention": False,
            "checkin_text": None,
            "last_modified": api_dt(last),
            "payments": payments,
            "refunds": refunds,
            "require_approval": bool(special.get("require_approval")),
            "sales_channel": "web",
            "url": f"{PUBLIC_URL}order/{code}/{secret}/",
            "customer": None,
            "valid_if_pending": bool(special.get("valid_if_pending")),
            "api_meta": {},
            "cancellation_date": api_dt(cancellation_date) if cancellation_date is not None else None,
            "plugin_data": {},
        }

    def invoice_address(self, rng, kind, buyer_name, buyer_parts, placed) -> dict | None:
        if kind == "none":
            return None
        country, street, zipcode, city, state = rng.choice(ADDRESSES)
        business = kind in ("business", "business_noname")
        name, parts = buyer_name, dict(buyer_parts)
        if kind == "business_noname":
            name, parts = "", {}
        if kind == "no_country":
            country, state = "", ""
        vat_id = ""
        if business and country in ("DE", "AT", "FR", "NL", "PL", "SE") and rng.random() < 0.7:
            vat_id = country + "".join(rng.choices("0123456789", k=9))
        return {
            "last_modified": api_dt(placed + MINUTE),
            "is_business": business,
            "company": rng.choice(COMPANIES) if business else "",
            "name": name,
            "name_parts": parts,
            "street": street,
            "zipcode": zipcode,
            "city": city,
            "country": country,
            "state": state,
            "vat_id": vat_id,
            "vat_id_validated": False,
            "custom_field": None,
            "internal_reference": f"PO-{rng.randint(1000, 99999)}" if business and rng.random() < 0.3 else "",
            "transmission_type": "email",
            "transmission_info": None,
        }

    def fee(self, rng, fee_type: str, cents: int, canceled: bool) -> dict:
        return {
            "id": self.ids.next("fee"),
            "fee_type": fee_type,
            "value": money(cents),
            "description": "Payment fee" if fee_type == "payment" else "Cancellation fee",
            "internal_type": "",
            "tax_rate": "0.00",
            "tax_value": "0.00",
            "tax_rule": None,
            "tax_code": None,
            "canceled": canceled,
            "cents": cents,  # removed once the totals are known
        }

    def position(
        self, rng, code, positionid, item, variation, voucher, addon_to, subevent, name_kind,
        buyer_name, buyer_parts, index, status, full_checkins, own_data=True,
    ) -> dict:
        pos_id = self.ids.next("position")
        cents = self.price(item, variation, voucher)
        if name_kind == "buyer":
            name, parts = buyer_name, dict(buyer_parts)
        else:
            name, parts = self.name(rng, name_kind)
        has_data = name_kind != "none" and own_data
        email = None
        company = street = zipcode = city = country = None
        if has_data and parts and rng.random() < (0.8 if addon_to is None else 0.5):
            domain = rng.choice(IDNA_DOMAINS) if rng.random() < 0.05 else None
            email = self.email_for(rng, parts, pos_id, domain)
        if has_data and rng.random() < 0.12:
            company = rng.choice(COMPANIES)
        if has_data and rng.random() < 0.1:
            country, street, zipcode, city, _ = rng.choice(ADDRESSES)
        answers: list[dict] = []
        if has_data or addon_to is None:
            if item in QUESTION_ITEMS:
                table = self.QUESTIONS if addon_to is None else self.ADDON_QUESTIONS
                if addon_to is None and rng.random() < 0.1:
                    table = []
                answers = self.answers(rng, pos_id, subevent, table)
        checkins = []
        if status == "p":
            checkins = self.checkins(rng, item, subevent, full_checkins)
        return {
            "id": pos_id,
            "order": code,
            "positionid": positionid,
            "item": item,
            "variation": variation,
            "price": money(cents),
            "attendee_name": name,
            "attendee_name_parts": parts,
            "company": company,
            "street": street,
            "zipcode": zipcode,
            "city": city,
            "country": country,
            "state": None,
            "discount": None,
            "attendee_email": email,
            "voucher": voucher,
            "tax_rate": "0.00",
            "tax_value": "0.00",
            "secret": self.secret(rng, 32),
            "addon_to": addon_to,
            "subevent": subevent,
            "checkins": checkins,
            "print_logs": [],
            "downloads": [],
            "answers": answers,
            "tax_rule": None,
            "pseudonymization_id": self.pseudonymization_id(pos_id),
            "seat": None,
            "canceled": False,
            "tax_code": None,
            "valid_from": None,
            "valid_until": None,
            "blocked": None,
            "voucher_budget_use": None,
            "plugin_data": {},
            "web_secret": self.secret(rng, 32),
            "cents": cents,  # the price as a number; order() removes it
        }


# ---------------------------------------------------------------------------------------
# Writing. Orders go to part files in a temporary folder first (the event-wide counters
# in the header need every order); then header + parts are joined into the output, which
# is replaced atomically. Synthetic orders are made in chunks of CHUNK orders, each with
# its own RNG and id blocks and its own part file, in worker processes when --jobs > 1:
# the output is the same for any --jobs.


class Encoder:
    def __init__(self, pretty: bool) -> None:
        self.pretty = pretty
        if pretty:
            self.encode = json.JSONEncoder(indent=1, ensure_ascii=False).encode
            self.separator = ",\n"
        else:
            self.encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
            self.separator = ","

    def order(self, order: dict) -> str:
        text = self.encode(order)
        # An order sits two levels deep: {"orders": [ {…} ]}.
        return "  " + text.replace("\n", "\n  ") if self.pretty else text


def write_part(path: Path, encoder: Encoder, orders) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(encoder.separator.join(encoder.order(o) for o in orders))


def synthetic_chunk(gen: Generator, encoder: Encoder, k: int, path: Path) -> Stats:
    """Writes orders CURATED + k*CHUNK … (up to the total) to `path`; returns their stats."""
    gen.stats = Stats()
    rng = Rng(f"{gen.seed}/chunk/{k}")
    first = CURATED + k * CHUNK
    write_part(path, encoder, (gen.order(i, rng) for i in range(first, min(first + CHUNK, gen.total))))
    return gen.stats


_WORKER: tuple[Generator, Encoder] | None = None


def _worker_init(parts: dict, seed: int, total: int, base: tuple, pretty: bool) -> None:
    global _WORKER
    gen = Generator(parts, seed, total)
    gen.synthetic_base = base
    _WORKER = (gen, Encoder(pretty))


def _worker_chunk(task: tuple[int, Path]) -> Stats:
    assert _WORKER is not None
    return synthetic_chunk(*_WORKER, *task)


def write(out: Path, orders: int, seed: int, pretty: bool, jobs: int) -> Stats:
    corpus = json.loads(CORPUS.read_text(encoding="utf-8"))
    parts = event_parts(corpus)
    gen = Generator(parts, seed, orders)
    encoder = Encoder(pretty)
    stats = Stats()
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".sample-data-", dir=out.parent))
    try:
        # The curated orders, each with its own RNG (stable whatever --orders is).
        part_files = [work / "curated.part"]
        write_part(
            part_files[0],
            encoder,
            (gen.order(i, Rng(f"{seed}/order/{i}")) for i in range(min(orders, CURATED))),
        )
        stats.add(gen.stats)
        if orders > CURATED:
            gen.synthetic_base = gen.curated_ids.state()
            tasks = [
                (k, work / f"{k:06d}.part") for k in range(math.ceil((orders - CURATED) / CHUNK))
            ]
            part_files += [path for _, path in tasks]
            if jobs > 1 and len(tasks) > 1:
                methods = multiprocessing.get_all_start_methods()
                context = multiprocessing.get_context("fork" if "fork" in methods else None)
                pool = context.Pool(
                    min(jobs, len(tasks)),
                    initializer=_worker_init,
                    initargs=(parts, seed, orders, gen.synthetic_base, pretty),
                )
                with pool:
                    for chunk_stats in pool.imap(_worker_chunk, tasks):
                        stats.add(chunk_stats)
            else:
                for k, path in tasks:
                    stats.add(synthetic_chunk(gen, encoder, k, path))
        finish_counts(parts, stats)

        header = encoder.encode(parts)  # "{ … }" without orders
        final = work / "final.json"
        with open(final, "w", encoding="utf-8", newline="\n") as f:
            f.write(header[:-1].rstrip())
            if not orders:
                f.write(',\n "orders": []\n}\n' if pretty else ',"orders":[]}\n')
            else:
                f.write(',\n "orders": [\n' if pretty else ',"orders":[')
                for n, path in enumerate(part_files):
                    if n:
                        f.write(encoder.separator)
                    with open(path, encoding="utf-8") as part:
                        shutil.copyfileobj(part, f, 1 << 20)
                f.write("\n ]\n}\n" if pretty else "]}\n")
        os.chmod(final, 0o644)
        os.replace(final, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return stats


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=CURATED,
                        help=f"number of orders (default {CURATED}: the committed sample)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="output file (default: sample-event.json next to this script)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"RNG seed (default {DEFAULT_SEED})")
    parser.add_argument("--jobs", type=int, default=None,
                        help="worker processes for large documents (default: the CPUs "
                             "available); the output does not depend on it")
    layout = parser.add_mutually_exclusive_group()
    layout.add_argument("--pretty", action="store_true",
                        help="indent by one space like pretix's export (default up to "
                             f"{PRETTY_LIMIT} orders)")
    layout.add_argument("--compact", action="store_true",
                        help=f"no whitespace (default above {PRETTY_LIMIT} orders)")
    args = parser.parse_args(argv)
    if args.orders < 0:
        parser.error("--orders must not be negative")
    if args.orders > CODE_SPACE:
        parser.error(f"--orders must be at most {CODE_SPACE} (unique 5-character order codes)")
    jobs = args.jobs if args.jobs is not None else default_jobs()
    if jobs < 1:
        parser.error("--jobs must be at least 1")
    pretty = args.pretty or (not args.compact and args.orders <= PRETTY_LIMIT)
    stats = write(args.out, args.orders, args.seed, pretty, jobs)
    size = args.out.stat().st_size
    print(
        f"wrote {args.out}: {stats.orders} orders, {stats.positions} positions, {size} bytes",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
