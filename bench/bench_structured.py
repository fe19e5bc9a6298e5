"""Structured outputs on the embedded model: validity, speed cost of the grammar, determinism.

Four JSON Schemas (invoice, person, city, product) together cover objects, nested objects,
arrays of strings and of objects, enums, required and optional fields, integers, numbers,
booleans and strings (every string and array bounded, ``maxLength``/``maxItems``: a grammar makes
output follow the schema, not end). 100 short texts (25 per schema, made from seeded value lists
in four phrasings each) are each asked to be turned into an object of their schema through
``lb.Client(home, engine=EmbeddedEngine())``::

    client.responses.create(input=..., temperature=0, max_output_tokens=...,
                            text={"format": {"type": "json_schema", "name": ..., "schema": ..., "strict": True}})

The embedded engine constrains decoding with a llama.cpp grammar made from the schema. Greedy
decoding everywhere; a fresh temporary home, every response stored as usual.

1. **Validity**: each of the ``--n`` outputs goes through ``json.loads`` and
   ``llamabook.schemas.validate`` (jsonschema, not the grammar). Reported: how many validate, and
   apart from that how many were cut off at ``max_output_tokens`` (``status == "incomplete"``,
   ``response.cut_off``), and the most output tokens any answer took.
2. **Speed cost**: after the validity pass, ``--speed-n`` of the same requests (spread over the
   four schemas) run again with the schema and without it (same input, no ``text=``), the two back
   to back in a seeded random order per pair. The unconstrained side gets ``max_output_tokens`` =
   the tokens the constrained answer took, so both sides write (at most) as many tokens and the
   ratio is the grammar's cost per token (unconstrained, the tiny model rambles on to any limit).
   Tokens/s is output tokens over the wall time of the call, prompt evaluation included, as in
   ``bench_tokens.py``. Reported: median tokens/s and seconds per call of each side, the ratio
   constrained/unconstrained of the medians and the median of the per-pair ratios. The grammar
   build is timed on its own, before any generation: the first call with a schema builds it
   (``llamabook.engines.embedded.schema_grammar``, cached per schema), later calls hit the
   cache; llama-cpp-python then parses the grammar into a llama.cpp sampler at the start of every
   call, timed too.
3. **Determinism**: the speed pass's constrained answers are the same requests sent a second
   time, after everything else: their bytes must equal the validity pass's.

    .venv/bin/python bench/bench_structured.py [--n 100] [--speed-n 30] [--max-tokens 512]

Writes ``bench/results/structured.json`` with every sample (text included), the medians and the machine.
"""

from __future__ import annotations

import argparse
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

_STR = {"type": "string", "maxLength": 32}  # bounded: a grammar alone does not make a string end

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


# ---- running one request -------------------------------------------------------------------------


def run_one(client: Any, request: dict[str, str], max_tokens: int, constrained: bool) -> dict[str, Any]:
    """One greedy call; the sample with text, status, tokens and wall/CPU time (an OutputInvalid is kept as its response)."""
    import llamabook as lb

    invalid = getattr(lb, "OutputInvalid", None)
    kwargs: dict[str, Any] = {"text": text_format(request["kind"])} if constrained else {}
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
    return {
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


def check_output(text: str, schema: dict[str, Any]) -> list[str]:
    """Why ``text`` is not a valid instance of ``schema`` ([] when it is)."""
    from llamabook.schemas import validate

    try:
        value = json.loads(text)
    except ValueError as exc:
        return [f"not JSON: {exc}"]
    return validate(value, schema)


def sampler_init_s(llm: Any, grammar: Any) -> float:
    """Seconds llama.cpp takes to parse the grammar into a sampler, as llama-cpp-python does at the start of every call."""
    import llama_cpp

    t0 = time.perf_counter()
    sampler = llama_cpp.llama_sampler_init_grammar(llm._model.vocab, grammar._grammar.encode(), grammar._root.encode())
    elapsed = time.perf_counter() - t0
    llama_cpp.llama_sampler_free(sampler)
    return elapsed


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
    import llama_cpp

    import llamabook as lb
    from llamabook.engines import embedded

    engine = embedded.EmbeddedEngine()
    home = tempfile.mkdtemp(prefix="llamabook-bench-structured-")
    client = lb.Client(home, engine=engine)
    requests = make_inputs(args.n)

    # warm-up, untimed: loads the model (not a schema: the grammar builds are timed next)
    t0 = time.perf_counter()
    client.responses.create(input=requests[0]["input"], temperature=0, max_output_tokens=16)
    load_s = time.perf_counter() - t0

    # the grammar build, timed apart (uncached, so the first call with each schema below still builds its own)
    llm = engine.llama()
    grammar_build: dict[str, dict[str, float]] = {}
    for kind, schema in SCHEMAS.items():
        text = json.dumps(schema, ensure_ascii=False)
        assert text not in embedded._grammars, "grammar already cached"
        builds, grammar = [], None
        for _ in range(5):
            t0 = time.perf_counter()
            grammar = embedded._build_grammar(llm, text)
            builds.append(time.perf_counter() - t0)
        grammar_build[kind] = {"build_s": median(builds), "builds_s": builds, "grammar_chars": len(grammar._grammar),
                               "sampler_init_s": median([sampler_init_s(llm, grammar) for _ in range(5)])}

    # 1. validity
    validity: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    for index, request in enumerate(requests):
        sample = run_one(client, request, args.max_tokens, constrained=True)
        sample["errors"] = check_output(sample["text"], SCHEMAS[request["kind"]])
        validity.append({"index": index, "kind": request["kind"], **sample})
    validity_s = time.perf_counter() - t0

    # 2. speed (and 3. determinism): both sides back to back, in a seeded random order per pair
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
            pair[side] = run_one(client, requests[index], limit, constrained=constrained)
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
    again = {p["index"]: p["constrained"] for p in speed}
    for kind, g in grammar_build.items():  # the first call with each schema against the same request sent again
        first = next(s for s in validity if s["kind"] == kind)
        g["first_call_index"] = first["index"]
        g["first_call_s"] = first["wall_s"]
        g["same_request_again_s"] = again[first["index"]]["wall_s"] if first["index"] in again else None
    threads = engine.n_threads

    print(f"SmolLM2-135M-Instruct (llama-cpp-python {llama_cpp.__version__}), greedy, max_output_tokens="
          f"{args.max_tokens}, n_threads={threads}; nproc={machine['nproc']}, CPU {machine['cpu']}, "
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
    print(f"\nconstrained/unconstrained tokens/s: {ratio_tps:.3f} (ratio of medians), {paired_tps:.3f} (median per-pair "
          f"ratio); seconds per call: {ratio_s:.3f} (ratio of medians), {paired_s:.3f} (median per-pair ratio)")
    print("\ngrammar: built on the first call with a schema, then cached (schema_grammar); llama-cpp-python parses it "
          "into a llama.cpp sampler at the start of every call. The first call with each schema (validity pass) "
          "against the same request sent again (speed pass):\n")

    def seconds(value: float | None) -> str:
        return "—" if value is None else f"{value:.3f}"

    print(table(["schema", "GBNF chars", "build ms (median of 5, uncached)", "per-call sampler init ms",
                 "first call s", "same request again s"],
                [[kind, f"{g['grammar_chars']:,}", f"{g['build_s'] * 1000:.2f}", f"{g['sampler_init_s'] * 1000:.2f}",
                  seconds(g["first_call_s"]), seconds(g["same_request_again_s"])] for kind, g in grammar_build.items()]))
    print(f"unconstrained outputs that happen to validate as they are: {unconstrained_valid} of {len(speed)}")
    print(f"\n3. determinism: {identical} of {len(speed)} requests sent a second time (the speed pass's constrained "
          "side, after all the others) gave byte-identical outputs")
    print(f"\ntimes: model load {load_s:.1f} s, validity {validity_s:.1f} s, "
          f"speed {speed_s:.1f} s, whole run {wall_s:.1f} s; load average at end {list(os.getloadavg())}")

    path = write_json("structured", {
        "benchmark": "structured outputs on the embedded model: validity, speed cost, determinism",
        "machine": machine,
        "llama_cpp": llama_cpp.__version__,
        "model_path": engine.model_path,
        "n_threads": threads,
        "n_ctx": engine.n_ctx,
        "max_output_tokens": args.max_tokens,
        "schemas": SCHEMAS,
        "requests": requests,
        "grammar_build": grammar_build,
        "validity": {"n": len(validity), "valid": valid, "cut_off": cut_off, "incomplete": incomplete,
                     "per_schema": per_kind, "wall_s": validity_s, "samples": validity},
        "speed": {"n": len(speed), "summary": speed_summary,
                  "ratio_tokens_per_s_constrained_vs_unconstrained": ratio_tps,
                  "median_per_pair_ratio_tokens_per_s": paired_tps,
                  "ratio_s_per_call_constrained_vs_unconstrained": ratio_s,
                  "median_per_pair_ratio_s_per_call": paired_s,
                  "unconstrained_outputs_valid_as_is": unconstrained_valid,
                  "wall_s": speed_s, "pairs": speed},
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
