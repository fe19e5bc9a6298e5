"""Structured outputs on the embedded model: validity, speed cost of constrained decoding, determinism.

Four JSON Schemas (invoice, person, city, product) together cover objects, nested objects,
arrays of strings and of objects, enums, required and optional fields, integers, numbers,
booleans and strings. 100 short texts (25 per schema, made from seeded value lists in four
phrasings each) are each asked to be turned into an object of their schema through
``lb.Client(home, engine=EmbeddedEngine())``::

    client.responses.create(input=..., temperature=0, max_output_tokens=...,
                            text={"format": {"type": "json_schema", "name": ..., "schema": ..., "strict": True}})

The embedded engine constrains decoding with llguidance (``llamabook.engines.embedded.constrained``): the
schema is compiled once into a grammar, and a logits processor (``SchemaMask``) follows the
tokens the model writes, checks the greedy choice against the grammar first and computes the full
mask over the vocabulary only when that choice is refused. Greedy decoding everywhere; a fresh
temporary home, every response stored as usual.

Every string has ``maxLength`` and every array ``maxItems``. The old llama.cpp grammar path needed
those bounds (a grammar makes output follow the schema, not end: the tiny model fills an array to
its maximum and loops inside an open string). llguidance holds far more of JSON Schema, but the
schemas, and so the requests, are kept as they were, so the numbers compare with the earlier runs.

1. **Validity**: each of the ``--n`` outputs goes through ``json.loads`` and
   ``llamabook.schemas.validate`` (jsonschema, not the grammar). Reported: how many validate, and
   apart from that how many were cut off at ``max_output_tokens`` (``status == "incomplete"``,
   ``response.cut_off``), and the most output tokens any answer took.
2. **Speed cost**: after the validity pass, ``--speed-n`` of the same requests (spread over the
   four schemas) run again with the schema and without it (same input, no ``text=``), the two back
   to back in a seeded random order per pair. The unconstrained side gets ``max_output_tokens`` =
   the tokens the constrained answer took, so both sides write (at most) as many tokens and the
   ratio is the constraint's cost per token (unconstrained, the tiny model rambles on to any limit).
   Tokens/s is output tokens over the wall time of the call, prompt evaluation included, as in
   ``bench_tokens.py``. Reported: median tokens/s and seconds per call of each side, the ratio
   constrained/unconstrained of the medians and the median of the per-pair ratios (goal ≥ 0.95).
3. **Mask time**: ``SchemaMask.__call__`` (once per generated token) and ``SchemaMask.__init__``
   (a fresh matcher per call) are wrapped in this process with a timer, nothing added to the
   library. Reported for every constrained call: steps, steps that needed the full mask (the greedy
   choice was refused), seconds inside the mask, and per step: all steps, checked-only steps and
   full-mask steps; and the mask's share of the calls' wall time.
4. **One-off costs**, timed apart before any generation: the compile of each schema
   (``guidance.grammar``, uncached: ``guidance._compiled.cache_clear()`` before each of 5 runs;
   the cache is cleared again after, so the first call with each schema compiles its own), the
   tokenizer build from the model's vocabulary (``guidance.Tokenizer``, once per context pool), a
   matcher's first compile for each grammar (``Tokenizer.matcher`` on a fresh tokenizer) against
   the per-call copy of a cached one. The first call with each schema (validity pass) is set
   against the same request sent again (speed pass).
5. **Determinism**: the speed pass's constrained answers are the same requests sent a second
   time, after everything else: their bytes must equal the validity pass's.

    .venv/bin/python bench/bench_structured.py [--n 100] [--speed-n 30] [--max-tokens 512]

Writes ``bench/results/structured.json`` with every sample (text and mask counts included), the
medians and the machine.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import shutil
import statistics
import tempfile
import time
from typing import Any

from _common import machine_info, table, write_json

# ---- the schemas ---------------------------------------------------------------------------------

_STR = {"type": "string", "maxLength": 32}  # bounded, as in every run since the first (see the docstring)

INVOICE = {
    "type": "object",
    "properties": {
        "invoice_number": _STR,
        "billed_to": _STR,
        "currency": {"type": "string", "enum": ["EUR", "USD", "GBP", "CHF"]},
        "line_items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "description": _STR,
                    "quantity": {"type": "integer"},
                    "unit_price": {"type": "number"},
                },
                "required": ["description", "quantity", "unit_price"],
                "additionalProperties": False,
            },
            "minItems": 1,
            "maxItems": 2,  # the tiny model fills an array to its maximum, and each item is ~50 tokens
        },
        "total": {"type": "number"},
    },
    "required": ["invoice_number", "billed_to", "currency", "line_items", "total"],
    "additionalProperties": False,
}

PERSON = {
    "type": "object",
    "properties": {
        "name": _STR,
        "age": {"type": "integer"},
        "occupation": _STR,
        "email": _STR,  # optional: the model may leave it out
        "address": {
            "type": "object",
            "properties": {"city": _STR, "country": _STR},
            "required": ["city", "country"],
            "additionalProperties": False,
        },
        "languages": {"type": "array", "items": _STR, "maxItems": 3},
    },
    "required": ["name", "age", "occupation", "address", "languages"],
    "additionalProperties": False,
}

CITY = {
    "type": "object",
    "properties": {
        "name": _STR,
        "country": _STR,
        "continent": {"type": "string", "enum": ["Africa", "Asia", "Europe", "North America", "South America", "Oceania"]},
        "population": {"type": "integer"},
        "is_capital": {"type": "boolean"},
        "landmarks": {"type": "array", "items": _STR, "maxItems": 2},
    },
    "required": ["name", "country", "continent", "population", "is_capital", "landmarks"],
    "additionalProperties": False,
}

PRODUCT = {
    "type": "object",
    "properties": {
        "name": _STR,
        "category": {"type": "string", "enum": ["electronics", "kitchen", "garden", "toys", "books", "clothing"]},
        "price": {"type": "number"},
        "in_stock": {"type": "boolean"},
        "dimensions_cm": {
            "type": "object",
            "properties": {"width": {"type": "number"}, "height": {"type": "number"}, "depth": {"type": "number"}},
            "required": ["width", "height", "depth"],
            "additionalProperties": False,
        },
        "tags": {"type": "array", "items": _STR, "maxItems": 2},
    },
    "required": ["name", "category", "price", "in_stock", "dimensions_cm", "tags"],
    "additionalProperties": False,
}

SCHEMAS: dict[str, dict[str, Any]] = {"invoice": INVOICE, "person": PERSON, "city": CITY, "product": PRODUCT}

# ---- the inputs ----------------------------------------------------------------------------------

_FIRST = ["Anna", "Ben", "Chiara", "Dmitri", "Elif", "Farid", "Greta", "Hiro", "Ines", "Jonas", "Kofi", "Lena",
          "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tariq", "Ulla", "Victor", "Wen", "Yara", "Zoe"]
_LAST = ["Novak", "Schmidt", "Rossi", "Ivanov", "Yilmaz", "Haddad", "Lind", "Tanaka", "Garcia", "Weber", "Mensah",
         "Berg", "Lopez", "Karimi", "Nilsson", "Patel", "Dubois", "Ferreira", "Olsen", "Aziz", "Koch", "Moreau",
         "Zhang", "Costa", "Miller"]
_JOBS = ["nurse", "software engineer", "baker", "teacher", "architect", "pilot", "carpenter", "pharmacist",
         "journalist", "electrician", "chef", "lawyer", "farmer", "librarian", "dentist"]
_PLACES = [("Lisbon", "Portugal"), ("Lyon", "France"), ("Osaka", "Japan"), ("Accra", "Ghana"), ("Porto", "Portugal"),
           ("Graz", "Austria"), ("Cordoba", "Argentina"), ("Perth", "Australia"), ("Leeds", "United Kingdom"),
           ("Izmir", "Turkey"), ("Pune", "India"), ("Bergen", "Norway"), ("Quebec City", "Canada")]
_LANGS = ["English", "French", "German", "Spanish", "Japanese", "Turkish", "Hindi", "Portuguese", "Arabic", "Swahili"]
_CITIES = [
    ("Paris", "France", "Europe", 2_100_000, True, ["Eiffel Tower", "Louvre"]),
    ("Kyoto", "Japan", "Asia", 1_460_000, False, ["Fushimi Inari", "Kinkaku-ji"]),
    ("Nairobi", "Kenya", "Africa", 4_400_000, True, ["Nairobi National Park"]),
    ("Toronto", "Canada", "North America", 2_800_000, False, ["CN Tower", "Casa Loma"]),
    ("Lima", "Peru", "South America", 9_700_000, True, ["Plaza Mayor", "Huaca Pucllana"]),
    ("Auckland", "New Zealand", "Oceania", 1_700_000, False, ["Sky Tower"]),
    ("Madrid", "Spain", "Europe", 3_300_000, True, ["Prado Museum", "Retiro Park"]),
    ("Marrakesh", "Morocco", "Africa", 930_000, False, ["Jemaa el-Fnaa", "Koutoubia Mosque"]),
    ("Hanoi", "Vietnam", "Asia", 8_000_000, True, ["Hoan Kiem Lake"]),
    ("Chicago", "United States", "North America", 2_700_000, False, ["Millennium Park", "Willis Tower"]),
    ("Bogota", "Colombia", "South America", 7_900_000, True, ["Gold Museum", "Monserrate"]),
    ("Melbourne", "Australia", "Oceania", 5_000_000, False, ["Federation Square"]),
    ("Prague", "Czech Republic", "Europe", 1_300_000, True, ["Charles Bridge", "Prague Castle"]),
    ("Cape Town", "South Africa", "Africa", 4_700_000, False, ["Table Mountain", "Robben Island"]),
    ("Seoul", "South Korea", "Asia", 9_400_000, True, ["Gyeongbokgung"]),
    ("Vancouver", "Canada", "North America", 660_000, False, ["Stanley Park"]),
    ("Santiago", "Chile", "South America", 6_200_000, True, ["Cerro San Cristobal"]),
    ("Wellington", "New Zealand", "Oceania", 215_000, True, ["Te Papa Museum"]),
    ("Munich", "Germany", "Europe", 1_500_000, False, ["Marienplatz", "English Garden"]),
    ("Cairo", "Egypt", "Africa", 10_000_000, True, ["Pyramids of Giza", "Khan el-Khalili"]),
    ("Mumbai", "India", "Asia", 12_400_000, False, ["Gateway of India", "Marine Drive"]),
    ("Mexico City", "Mexico", "North America", 9_200_000, True, ["Zocalo", "Chapultepec Castle"]),
    ("Salvador", "Brazil", "South America", 2_900_000, False, ["Pelourinho"]),
    ("Hobart", "Australia", "Oceania", 250_000, False, ["Mount Wellington"]),
    ("Oslo", "Norway", "Europe", 700_000, True, ["Opera House", "Vigeland Park"]),
]
_PRODUCTS = [
    ("wireless headphones", "electronics", ["audio", "bluetooth"]), ("cast iron skillet", "kitchen", ["cookware"]),
    ("garden hose", "garden", ["watering", "outdoor"]), ("wooden train set", "toys", ["kids", "wooden"]),
    ("paperback thriller", "books", ["fiction"]), ("rain jacket", "clothing", ["outdoor", "waterproof"]),
    ("smart speaker", "electronics", ["audio", "smart home"]), ("chef's knife", "kitchen", ["steel", "cutlery"]),
    ("pruning shears", "garden", ["tools"]), ("puzzle cube", "toys", ["puzzle"]),
    ("cookbook", "books", ["recipes", "hardcover"]), ("wool scarf", "clothing", ["winter", "wool"]),
    ("USB-C charger", "electronics", ["charging"]), ("espresso maker", "kitchen", ["coffee"]),
    ("bird feeder", "garden", ["birds", "outdoor"]), ("plush bear", "toys", ["soft", "kids"]),
    ("atlas of the world", "books", ["maps"]), ("running shoes", "clothing", ["sport"]),
    ("e-book reader", "electronics", ["reading"]), ("salad spinner", "kitchen", ["vegetables"]),
    ("watering can", "garden", ["watering"]), ("kite", "toys", ["outdoor", "wind"]),
    ("poetry collection", "books", ["poetry"]), ("denim jeans", "clothing", ["denim"]),
    ("desk lamp", "electronics", ["lighting", "LED"]),
]
_COMPANIES = ["Acme Tools Ltd", "Bergmann GmbH", "Café Lumière", "Northwind Traders", "Oak & Pine Studio",
              "Blue Harbor Logistics", "Kestrel Software AB", "Maison Dupont", "Sakura Print Co.", "Atlas Bikes"]
_ITEMS = [("hammer", 12.5), ("hours of consulting", 95.0), ("printer paper box", 24.9), ("delivery", 15.0),
          ("laptop stand", 39.0), ("website hosting (month)", 20.0), ("coffee beans 1 kg", 18.4),
          ("bicycle tyre", 32.0), ("design review", 250.0), ("cable pack", 9.99), ("office chair", 189.0)]
_CURRENCIES = [("EUR", "€"), ("USD", "$"), ("GBP", "£"), ("CHF", "CHF ")]


def _invoice(rng: random.Random, i: int) -> str:
    seller, buyer = rng.sample(_COMPANIES, 2)
    code, sign = rng.choice(_CURRENCIES)
    lines = [(name, rng.randint(1, 5), price) for name, price in rng.sample(_ITEMS, rng.randint(1, 3))]
    total = round(sum(q * p for _, q, p in lines), 2)
    number = f"{rng.choice(['INV', 'F', 'RE', 'N'])}-{2024 + i % 3}-{rng.randint(1, 999):03d}"
    listed = ", ".join(f"{q} x {name} at {sign}{p:.2f}" for name, q, p in lines)
    return [
        f"Invoice {number} from {seller}, billed to {buyer}: {listed}. Total due: {sign}{total:.2f} ({code}).",
        f"{seller} invoices {buyer} (invoice no. {number}) for {listed}. Amount due {total:.2f} {code}.",
        f"Bill to: {buyer}\nInvoice #: {number}\nItems: {listed}\nTOTAL {code} {total:.2f}",
        f"Please pay invoice {number} of {total:.2f} {code}, sent to {buyer}, covering {listed}.",
    ][i % 4]


def _person(rng: random.Random, i: int) -> str:
    name = f"{_FIRST[i]} {_LAST[(i * 7) % len(_LAST)]}"
    age, job = rng.randint(19, 78), rng.choice(_JOBS)
    city, country = rng.choice(_PLACES)
    langs = rng.sample(_LANGS, rng.randint(1, 3))
    email = f"{_FIRST[i].lower()}.{_LAST[(i * 7) % len(_LAST)].lower()}@example.org"
    spoken = " and ".join(langs)
    return [
        f"{name} is a {age}-year-old {job} living in {city}, {country}. Speaks {spoken}. Email: {email}.",
        f"Meet {name}, {age}, who works as a {job} in {city} ({country}) and speaks {spoken}.",
        f"Name: {name}; age {age}; job: {job}; home: {city}, {country}; languages: {', '.join(langs)}.",
        f"Our new {job}, {name} ({age}), moved to {city} in {country}. Languages: {spoken}. Contact {email}.",
    ][i % 4]


def _city(rng: random.Random, i: int) -> str:
    name, country, continent, population, capital, sights = _CITIES[i]
    seen = " and the ".join(sights)
    role = "the capital of" if capital else "a city in"
    return [
        f"{name} is {role} {country} ({continent}), home to about {population:,} people. Visit the {seen}.",
        f"Travel note: {name}, {country}. Population roughly {population:,}. Famous for the {seen}."
        f"{' It is the capital.' if capital else ' It is not the capital.'}",
        f"City: {name} | Country: {country} | Continent: {continent} | Inhabitants: {population} | Sights: {', '.join(sights)}",
        f"With {population:,} residents, {name} is {role} {country}. Don't miss the {seen}.",
    ][i % 4]


def _product(rng: random.Random, i: int) -> str:
    name, category, _tags = _PRODUCTS[i]
    price = round(rng.uniform(4, 300), 2)
    w, h, d = (rng.randint(2, 60) for _ in range(3))
    stock = rng.random() < 0.7
    available = "in stock" if stock else "currently sold out"
    return [
        f"New in our {category} range: a {name} for ${price:.2f}, {w} x {h} x {d} cm, {available}.",
        f"Product listing: {name.capitalize()}. Price {price:.2f} USD. Size {w}cm wide, {h}cm high, {d}cm deep. "
        f"{'Available now.' if stock else 'Out of stock.'}",
        f"{name.capitalize()} ({category}) - measures {w}x{h}x{d} cm - ${price:.2f} - {available}",
        f"Looking for a {name}? Ours costs ${price:.2f} and is {w} by {h} by {d} centimetres. Status: {available}.",
    ][i % 4]


_MAKERS = {"invoice": _invoice, "person": _person, "city": _city, "product": _product}
_NOUNS = {"invoice": "invoice", "person": "person", "city": "city", "product": "product"}


def make_inputs(n: int) -> list[dict[str, str]]:
    """``n`` requests, schemas in turn (invoice, person, city, product, invoice, ...), texts from a seeded RNG."""
    rng = random.Random(16)
    kinds = list(SCHEMAS)
    requests = []
    for k in range(n):
        kind, i = kinds[k % len(kinds)], k // len(kinds)
        text = _MAKERS[kind](rng, i % 25)
        prompt = f"Extract the {_NOUNS[kind]} described in this text as a JSON object.\n\nText: {text}"
        requests.append({"kind": kind, "text": text, "input": prompt})
    return requests


def text_format(kind: str) -> dict[str, Any]:
    return {"format": {"type": "json_schema", "name": kind, "schema": SCHEMAS[kind], "strict": True}}



# ---- timing the mask (in this process only: the library has no timing code) -------------------------


class MaskTimer:
    """Wraps ``SchemaMask.__init__`` and ``SchemaMask.__call__`` with a timer and adds up one call's share.

    ``__call__`` runs once per generated token (before it is sampled): a step. A step *needed the
    full mask* when the mask's own ``masked`` count went up during it (the greedy choice was
    refused, so every token's logit was checked); otherwise only the greedy choice was checked.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.masks = 0
        self.init_s = self.call_s = self.checked_s = self.full_s = 0.0
        self.steps = self.full = 0
        self.last: Any = None

    def install(self) -> None:
        from llamabook.engines.embedded import constrained as guidance

        init, call, timer = guidance.SchemaMask.__init__, guidance.SchemaMask.__call__, self

        @functools.wraps(init)
        def timed_init(mask: Any, *args: Any, **kwargs: Any) -> None:
            t0 = time.perf_counter()
            try:
                init(mask, *args, **kwargs)
            finally:
                timer.init_s += time.perf_counter() - t0
                timer.masks += 1
                timer.last = mask

        @functools.wraps(call)
        def timed_call(mask: Any, input_ids: Any, logits: Any) -> Any:
            before = mask.masked
            t0 = time.perf_counter()
            try:
                return call(mask, input_ids, logits)
            finally:
                elapsed = time.perf_counter() - t0
                timer.steps += 1
                timer.call_s += elapsed
                if mask.masked > before:
                    timer.full += 1
                    timer.full_s += elapsed
                else:
                    timer.checked_s += elapsed

        guidance.SchemaMask.__init__ = timed_init
        guidance.SchemaMask.__call__ = timed_call

    def sample(self) -> dict[str, Any]:
        """This call's mask figures (since the last reset)."""
        mask = self.last
        return {
            "masks": self.masks,
            "init_s": self.init_s,
            "steps": self.steps,
            "full_mask_steps": self.full,
            "mask_s": self.call_s,
            "checked_only_s": self.checked_s,
            "full_mask_s": self.full_s,
            # the mask's own counts, which the timer's must equal
            "mask_steps_counted": mask.steps if mask is not None else None,
            "mask_masked_counted": mask.masked if mask is not None else None,
            "mask_error": mask.error if mask is not None else None,
        }


def mask_summary(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Mask time over constrained call samples (each with ``mask`` and ``wall_s``)."""
    masks = [s["mask"] for s in samples]
    steps, full = sum(m["steps"] for m in masks), sum(m["full_mask_steps"] for m in masks)
    mask_s, wall_s = sum(m["mask_s"] for m in masks), sum(s["wall_s"] for s in samples)
    checked_s, full_s = sum(m["checked_only_s"] for m in masks), sum(m["full_mask_s"] for m in masks)
    return {
        "calls": len(samples),
        "steps": steps,
        "full_mask_steps": full,
        "share_of_steps_full_mask": full / steps if steps else float("nan"),
        "mask_s": mask_s,
        "us_per_step": mask_s / steps * 1e6 if steps else float("nan"),
        "us_per_checked_only_step": checked_s / (steps - full) * 1e6 if steps > full else float("nan"),
        "us_per_full_mask_step": full_s / full * 1e6 if full else float("nan"),
        "median_us_per_step_per_call": median([m["mask_s"] / m["steps"] * 1e6 for m in masks if m["steps"]]),
        "max_us_per_step_per_call": max((m["mask_s"] / m["steps"] * 1e6 for m in masks if m["steps"]), default=0.0),
        "init_ms_median": median([m["init_s"] * 1e3 for m in masks]),
        "share_of_wall_time": mask_s / wall_s if wall_s else float("nan"),
        "steps_counted_by_the_mask_agree": all(
            m["steps"] == m["mask_steps_counted"] and m["full_mask_steps"] == m["mask_masked_counted"] for m in masks
        ),
        "mask_errors": sum(m["mask_error"] is not None for m in masks),
    }


# ---- running one request -------------------------------------------------------------------------


def run_one(client: Any, request: dict[str, str], max_tokens: int, constrained: bool, timer: MaskTimer) -> dict[str, Any]:
    """One greedy call; the sample with text, status, tokens, wall/CPU time and (constrained) the mask's figures.

    An OutputInvalid is kept as its response.
    """
    import llamabook as lb

    invalid = getattr(lb, "OutputInvalid", None)
    kwargs: dict[str, Any] = {"text": text_format(request["kind"])} if constrained else {}
    timer.reset()
    start, cpu = time.perf_counter(), time.process_time()
    raised = None
    try:
        response = client.responses.create(input=request["input"], temperature=0, max_output_tokens=max_tokens, **kwargs)
    except Exception as exc:  # llamabook may refuse an output that doesn't validate: keep its stored response
        if invalid is None or not isinstance(exc, invalid) or getattr(exc, "response", None) is None:
            raise
        response, raised = exc.response, type(exc).__name__
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    tokens = response.usage.output_tokens if response.usage else 0
    sample = {
        "wall_s": wall,
        "cpu_s": cpu,
        "input_tokens": response.usage.input_tokens if response.usage else 0,
        "output_tokens": tokens,
        "tokens_per_s": tokens / wall if wall else 0.0,
        "status": response.status,
        "cut_off": response.cut_off,
        "raised": raised,
        "text": response.output_text,
    }
    if constrained:
        sample["mask"] = timer.sample()
    else:
        assert timer.masks == 0, "an unconstrained call made a mask"
    return sample


def check_output(text: str, schema: dict[str, Any]) -> list[str]:
    """Why ``text`` is not a valid instance of ``schema`` ([] when it is)."""
    from llamabook.schemas import validate

    try:
        value = json.loads(text)
    except ValueError as exc:
        return [f"not JSON: {exc}"]
    return validate(value, schema)


def one_off_costs(llm: Any) -> dict[str, Any]:
    """The new path's one-off costs, timed apart: schema compiles, the tokenizer build, matchers' first compiles.

    Leaves the compile cache empty, so the first call with each schema compiles its own; the pool's
    own tokenizer is not touched (the first constrained call builds it).
    """
    from llamabook.engines.embedded import constrained as guidance

    compiles: dict[str, dict[str, Any]] = {}
    texts: dict[str, str] = {}
    for kind, schema in SCHEMAS.items():
        runs = []
        for _ in range(5):
            guidance._compiled.cache_clear()
            t0 = time.perf_counter()
            texts[kind] = guidance.grammar(schema)
            runs.append(time.perf_counter() - t0)
        compiles[kind] = {"compile_s": median(runs), "runs_s": runs, "grammar_chars": len(texts[kind]),
                          "schema_chars": len(json.dumps(schema, ensure_ascii=False))}
    guidance._compiled.cache_clear()
    builds, tokenizer = [], None
    for _ in range(3):
        t0 = time.perf_counter()
        tokenizer = guidance.Tokenizer(llm)
        builds.append(time.perf_counter() - t0)
    assert tokenizer is not None
    matchers: dict[str, dict[str, Any]] = {}
    for kind, text in texts.items():
        t0 = time.perf_counter()
        tokenizer.matcher(text)  # compiled for this tokenizer, then copied
        first = time.perf_counter() - t0
        copies = []
        for _ in range(5):
            t0 = time.perf_counter()
            tokenizer.matcher(text)  # a copy of the cached one, as every later call gets
            copies.append(time.perf_counter() - t0)
        matchers[kind] = {"first_s": first, "copy_s": median(copies), "copies_s": copies}
    return {"compile": compiles, "tokenizer_build_s": median(builds), "tokenizer_builds_s": builds,
            "vocabulary": tokenizer.tokens.vocab_size, "matcher": matchers}


def pick(total: int, count: int) -> list[int]:
    """``count`` of ``total`` request indexes: whole rounds of the four schemas, spread evenly, the first round included."""
    per = len(SCHEMAS)
    rounds, wanted = total // per, -(-min(count, total) // per)
    starts = sorted({round(j * rounds / wanted) * per for j in range(wanted)}) if wanted else []
    return [start + k for start in starts for k in range(per)][:count]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="generations for validity (default 100)")
    parser.add_argument("--speed-n", type=int, default=30, help="request pairs for the speed cost (default 30)")
    parser.add_argument("--max-tokens", type=int, default=512, help="max_output_tokens of the constrained calls (default 512)")
    parser.add_argument("--threads", type=int, help="n_threads (default: llamabook's default)")
    args = parser.parse_args()
    started = time.perf_counter()
    machine = machine_info()

    if args.threads:
        os.environ["LLAMABOOK_THREADS"] = str(args.threads)
    os.environ.pop("LLAMABOOK_CASSETTE", None)  # every call must really generate
    import importlib.metadata

    import llama_cpp

    import llamabook as lb
    from llamabook.engines import embedded

    timer = MaskTimer()
    timer.install()
    engine = embedded.EmbeddedEngine()
    home = tempfile.mkdtemp(prefix="llamabook-bench-structured-")
    client = lb.Client(home, engine=engine)
    requests = make_inputs(args.n)
    llguidance_version = importlib.metadata.version("llguidance")

    # warm-up, untimed: loads the model (not a schema: the one-off costs are timed next)
    t0 = time.perf_counter()
    client.responses.create(input=requests[0]["input"], temperature=0, max_output_tokens=16)
    load_s = time.perf_counter() - t0

    # the one-off costs of the constrained path, timed apart
    one_off = one_off_costs(engine.llama())

    # 1. validity
    validity: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    for index, request in enumerate(requests):
        sample = run_one(client, request, args.max_tokens, constrained=True, timer=timer)
        sample["errors"] = check_output(sample["text"], SCHEMAS[request["kind"]])
        validity.append({"index": index, "kind": request["kind"], **sample})
    validity_s = time.perf_counter() - t0

    # 2. speed (and 5. determinism): both sides back to back, in a seeded random order per pair
    order = random.Random(0)
    speed: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    for index in pick(len(requests), args.speed_n):
        first = validity[index]
        pair: dict[str, Any] = {"index": index, "kind": requests[index]["kind"]}
        pair["order"] = order.sample(["constrained", "unconstrained"], 2)
        for side in pair["order"]:
            constrained = side == "constrained"
            limit = args.max_tokens if constrained else max(1, first["output_tokens"])
            pair[side] = run_one(client, requests[index], limit, constrained=constrained, timer=timer)
            pair[side]["max_output_tokens"] = limit
            pair[side]["errors"] = check_output(pair[side]["text"], SCHEMAS[requests[index]["kind"]])
        pair["identical_to_first_run"] = pair["constrained"]["text"].encode() == first["text"].encode()
        speed.append(pair)
    speed_s = time.perf_counter() - t0
    wall_s = time.perf_counter() - started

    # ---- summary
    valid = sum(not s["errors"] for s in validity)
    cut_off = sum(s["cut_off"] for s in validity)
    incomplete = sum(s["status"] == "incomplete" for s in validity)
    per_kind = {kind: {"n": sum(s["kind"] == kind for s in validity),
                       "valid": sum(s["kind"] == kind and not s["errors"] for s in validity),
                       "cut_off": sum(s["kind"] == kind and s["cut_off"] for s in validity),
                       "max_output_tokens_used": max((s["output_tokens"] for s in validity if s["kind"] == kind), default=0),
                       "median_output_tokens": median([s["output_tokens"] for s in validity if s["kind"] == kind])}
                for kind in SCHEMAS}
    sides = ["constrained", "unconstrained"]
    speed_summary = {side: {
        "median_s": median([p[side]["wall_s"] for p in speed]),
        "median_output_tokens": median([p[side]["output_tokens"] for p in speed]),
        "median_tokens_per_s": median([p[side]["tokens_per_s"] for p in speed]),
        "min_tokens_per_s": min(p[side]["tokens_per_s"] for p in speed),
        "max_tokens_per_s": max(p[side]["tokens_per_s"] for p in speed),
        "median_tokens_per_cpu_s": median([p[side]["output_tokens"] / p[side]["cpu_s"] for p in speed]),
        "cut_off": sum(p[side]["cut_off"] for p in speed),
    } for side in sides}
    c, u = speed_summary["constrained"], speed_summary["unconstrained"]
    ratio_tps = c["median_tokens_per_s"] / u["median_tokens_per_s"]
    ratio_s = c["median_s"] / u["median_s"]
    paired_tps = median([p["constrained"]["tokens_per_s"] / p["unconstrained"]["tokens_per_s"] for p in speed])
    paired_s = median([p["constrained"]["wall_s"] / p["unconstrained"]["wall_s"] for p in speed])
    unconstrained_valid = sum(not p["unconstrained"]["errors"] for p in speed)
    identical = sum(p["identical_to_first_run"] for p in speed)
    mask = {"validity": mask_summary(validity), "speed": mask_summary([p["constrained"] for p in speed])}
    again = {p["index"]: p["constrained"] for p in speed}
    first_calls: dict[str, dict[str, Any]] = {}
    for kind in SCHEMAS:  # the first call with each schema against the same request sent again
        first = next(s for s in validity if s["kind"] == kind)
        repeat = again.get(first["index"])
        first_calls[kind] = {"index": first["index"], "first_call_s": first["wall_s"],
                             "first_call_mask_init_ms": first["mask"]["init_s"] * 1e3,
                             "same_request_again_s": repeat["wall_s"] if repeat else None,
                             "same_request_again_mask_init_ms": repeat["mask"]["init_s"] * 1e3 if repeat else None}
    threads = engine.n_threads

    print(f"SmolLM2-135M-Instruct (llama-cpp-python {llama_cpp.__version__}, llguidance {llguidance_version}), greedy, "
          f"max_output_tokens={args.max_tokens}, n_threads={threads}; nproc={machine['nproc']}, CPU {machine['cpu']}, "
          f"python {machine['python']}, load average at start {machine['loadavg_at_start']}\n")
    print(f"1. validity: {valid} of {len(validity)} outputs validate (json.loads + llamabook.schemas.validate); "
          f"{cut_off} cut off at max_output_tokens={args.max_tokens} ({incomplete} with status incomplete)\n")
    print(table(["schema", "features", "generations", "valid", "cut off", "median output tokens", "most output tokens"],
                [[kind, FEATURES[kind], v["n"], v["valid"], v["cut_off"], f"{v['median_output_tokens']:g}",
                  v["max_output_tokens_used"]] for kind, v in per_kind.items()]))
    failures = [s for s in validity if s["errors"]]
    for s in failures[:10]:
        print(f"   invalid #{s['index']} ({s['kind']}, {s['status']}): {s['errors'][:3]} text={s['text'][:160]!r}")
    print(f"\n2. speed: {len(speed)} requests with and without the schema, back to back in a seeded random order; "
          "the unconstrained side limited to the constrained answer's token count\n")
    print(table(["side", "median output tokens", "median s/call", "median tokens/s", "min–max tokens/s",
                 "median tokens/CPU-s", "cut off"],
                [[side, f"{s['median_output_tokens']:g}", f"{s['median_s']:.3f}", f"{s['median_tokens_per_s']:.2f}",
                  f"{s['min_tokens_per_s']:.1f}–{s['max_tokens_per_s']:.1f}", f"{s['median_tokens_per_cpu_s']:.2f}",
                  f"{s['cut_off']}/{len(speed)}"] for side, s in speed_summary.items()]))
    goal = "met" if min(ratio_tps, paired_tps) >= 0.95 else "not met"
    print(f"\nconstrained/unconstrained tokens/s: {ratio_tps:.3f} (ratio of medians), {paired_tps:.3f} (median per-pair "
          f"ratio); goal ≥ 0.95: {goal}. Seconds per call: {ratio_s:.3f} (ratio of medians), {paired_s:.3f} (median "
          "per-pair ratio)")
    print(f"unconstrained outputs that happen to validate as they are: {unconstrained_valid} of {len(speed)}")
    print("\n3. mask time: SchemaMask.__call__ (once per generated token) timed in this process; a full-mask step is "
          "one where the greedy choice was refused\n")
    print(table(["pass", "calls", "steps", "full-mask steps", "µs/step (all)", "µs/step checked only",
                 "µs/step full mask", "median µs/step per call", "mask share of wall time", "matcher copy ms (median)"],
                [[name, m["calls"], f"{m['steps']:,}", f"{m['full_mask_steps']:,} ({m['share_of_steps_full_mask']:.1%})",
                  f"{m['us_per_step']:.1f}", f"{m['us_per_checked_only_step']:.1f}", f"{m['us_per_full_mask_step']:.1f}",
                  f"{m['median_us_per_step_per_call']:.1f}", f"{m['share_of_wall_time']:.2%}", f"{m['init_ms_median']:.3f}"]
                 for name, m in mask.items()]))
    if not all(m["steps_counted_by_the_mask_agree"] for m in mask.values()) or any(m["mask_errors"] for m in mask.values()):
        print("   WARNING: the timer's step counts differ from the mask's own, or a mask failed")
    print("\n4. one-off costs, timed apart: compile per schema (guidance.grammar, uncached, median of 5), a matcher's "
          f"first compile on a fresh tokenizer and the per-call copy of a cached one; the tokenizer build "
          f"(guidance.Tokenizer, {one_off['vocabulary']:,} tokens) took {one_off['tokenizer_build_s'] * 1000:.0f} ms "
          "(median of 3). The first call with each schema (validity pass) against the same request sent again "
          "(speed pass); the first constrained call also builds the pool's tokenizer:\n")

    def seconds(value: float | None) -> str:
        return "—" if value is None else f"{value:.3f}"

    print(table(["schema", "grammar chars", "compile ms (median of 5)", "first compile ms in run", "matcher first compile ms",
                 "matcher copy ms", "first call s", "same request again s"],
                [[kind, f"{g['grammar_chars']:,}", f"{g['compile_s'] * 1000:.2f}", f"{g['runs_s'][0] * 1000:.2f}",
                  f"{one_off['matcher'][kind]['first_s'] * 1000:.2f}", f"{one_off['matcher'][kind]['copy_s'] * 1000:.3f}",
                  seconds(first_calls[kind]["first_call_s"]), seconds(first_calls[kind]["same_request_again_s"])]
                 for kind, g in one_off["compile"].items()]))
    print(f"\n5. determinism: {identical} of {len(speed)} requests sent a second time (the speed pass's constrained "
          "side, after all the others) gave byte-identical outputs")
    print(f"\ntimes: model load {load_s:.1f} s, validity {validity_s:.1f} s, "
          f"speed {speed_s:.1f} s, whole run {wall_s:.1f} s; load average at end {list(os.getloadavg())}")

    path = write_json("structured", {
        "benchmark": "structured outputs on the embedded model: validity, speed cost, mask time, determinism",
        "machine": machine,
        "llama_cpp": llama_cpp.__version__,
        "llguidance": llguidance_version,
        "model_path": engine.model_path,
        "n_threads": threads,
        "n_ctx": engine.n_ctx,
        "max_output_tokens": args.max_tokens,
        "schemas": SCHEMAS,
        "requests": requests,
        "one_off": one_off,
        "first_calls": first_calls,
        "validity": {"n": len(validity), "valid": valid, "cut_off": cut_off, "incomplete": incomplete,
                     "per_schema": per_kind, "wall_s": validity_s, "samples": validity},
        "speed": {"n": len(speed), "summary": speed_summary,
                  "ratio_tokens_per_s_constrained_vs_unconstrained": ratio_tps,
                  "median_per_pair_ratio_tokens_per_s": paired_tps,
                  "ratio_s_per_call_constrained_vs_unconstrained": ratio_s,
                  "median_per_pair_ratio_s_per_call": paired_s,
                  "unconstrained_outputs_valid_as_is": unconstrained_valid,
                  "wall_s": speed_s, "pairs": speed},
        "mask": mask,
        "determinism": {"n": len(speed), "identical": identical,
                        "what": "the speed pass's constrained answers against the validity pass's, byte for byte"},
        "model_load_s": load_s,
        "loadavg_at_end": list(os.getloadavg()),
        "wall_s": wall_s,
    })
    print(f"wrote {path}")
    client.close()
    shutil.rmtree(home, ignore_errors=True)


FEATURES = {
    "invoice": "required strings, enum, array of 1–2 nested objects (string, integer, number), number",
    "person": "strings, integer, optional string, nested object, array of ≤ 3 strings",
    "city": "strings, enum, integer, boolean, array of ≤ 2 strings",
    "product": "string, enum, number, boolean, nested object of 3 numbers, array of ≤ 2 strings",
}


if __name__ == "__main__":
    main()
