"""The embedded store under concurrent use: threads sharing one client, processes sharing one home.

Everything runs on real SQLite files. The two-process tests run this file as a worker script
(``python test_concurrency.py '<json spec>'``); workers meet at a file barrier so they overlap.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pytest

import llamabook as lb
from llamabook.store.migrations import MIGRATIONS
from llamabook.engines.embedded import EmbeddedEngine

T = TypeVar("T")
THREADS = 8
DEADLINE_S = 60.0
SHARED_BYTES = b"identical bytes uploaded by everyone\n" * 200
WORKERS = ("alpha", "beta")
PROCESS_THINK_S = 0.03
THINK_S = 0.001  # a pause between a writer's rounds, so that writers take turns with the lock


# ---- helpers shared by tests and workers --------------------------------------------------


def payload(owner: object, index: int) -> bytes:
    """Distinct, checkable bytes (about 1 KB) for one owner's index-th file."""
    seed = f"{owner}/{index}".encode()
    return seed + b"\n" + hashlib.sha256(seed).digest() * 32


def run_together(tasks: list[Callable[[], T]]) -> list[T]:
    """Run every task in its own thread, all released at once; re-raise the first error."""
    barrier = threading.Barrier(len(tasks), timeout=DEADLINE_S)

    def start(task: Callable[[], T]) -> T:
        barrier.wait()
        return task()

    with ThreadPoolExecutor(len(tasks)) as pool:
        return list(pool.map(start, tasks))


def with_readers(writers: list[Callable[[], T]], read: Callable[[], int], readers: int = 2) -> tuple[list[T], int]:
    """Run writers and readers together; readers repeat ``read()`` until every writer is done.

    Returns the writers' results and the sum of what the reads returned.
    """
    left, lock, done = [len(writers)], threading.Lock(), threading.Event()

    def write(task: Callable[[], T]) -> T:
        try:
            return task()
        finally:
            with lock:
                left[0] -= 1
                if not left[0]:
                    done.set()

    def keep_reading() -> int:
        total = 0
        while not done.is_set():
            total += read()
        return total

    results = run_together([partial(write, w) for w in writers] + [keep_reading] * readers)
    return results[: len(writers)], sum(results[len(writers) :])


def try_update(client: lb.Client, prompt_id: str, text: str, version: int) -> lb.Prompt | lb.VersionConflict:
    """One update attempt; the conflict is returned rather than raised."""
    try:
        return client.prompts.update(prompt_id, prompt=text, version=version)
    except lb.VersionConflict as exc:
        return exc


def update_with_retry(client: lb.Client, prompt_id: str, text: str, version: int) -> tuple[int, int]:
    """Update from ``version``, re-basing on the latest after each conflict; (new version, conflicts)."""
    conflicts = 0
    while True:
        outcome = try_update(client, prompt_id, text, version)
        if isinstance(outcome, lb.Prompt):
            return outcome.version, conflicts
        conflicts += 1
        version = outcome.latest


def file_barrier(sync: Path, tag: str, me: str, parties: int) -> None:
    """Wait until ``parties`` processes have reached ``tag``."""
    (sync / f"{tag}.{me}").touch()
    deadline = time.monotonic() + DEADLINE_S
    while len(list(sync.glob(f"{tag}.*"))) < parties:
        if time.monotonic() > deadline:
            raise TimeoutError(f"barrier {tag!r}: the other process never arrived")
        time.sleep(0.0005)


def blob_files(home: Path) -> list[Path]:
    return [p for p in (home / "files").rglob("*") if p.is_file()]


# ---- worker processes ------------------------------------------------------------------------


def write_as_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Create prompts and files, churn shared bytes and update the shared prompt, all interleaved."""
    name, count = spec["name"], spec["count"]
    with lb.Client(spec["home"], engine=EmbeddedEngine()) as client:
        client.prompts.list()  # open the database before the barrier, so both start writing at once
        file_barrier(Path(spec["sync"]), "start", name, len(WORKERS))
        started = time.time()
        prompts, files, updates, conflicts, version = [], [], [], 0, 1
        for i in range(count):
            prompts.append(client.prompts.create(f"{name} prompt {i}").prompt_id)
            files.append(client.files.create(payload(name, i), filename=f"{name}-{i}.bin").id)
            shared = client.files.create(SHARED_BYTES, filename=f"{name}-shared-{i}.txt")
            if i % 2:
                client.files.delete(shared.id)
            else:
                files.append(shared.id)
            version, missed = update_with_retry(client, spec["prompt_id"], f"{name} update {i}", version)
            updates.append(version)
            conflicts += missed
            # Across processes a waiting writer sleeps in SQLite's busy handler (1 ms … 100 ms);
            # pause long enough each round that it gets its turn.
            time.sleep(PROCESS_THINK_S)
        finished = time.time()
    return {"prompts": prompts, "files": files, "updates": updates, "conflicts": conflicts,
            "started": started, "finished": finished}


def open_as_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Open each brand-new home at the same moment as the other worker, and write one prompt."""
    spans = []
    for index, home in enumerate(spec["homes"]):
        file_barrier(Path(spec["sync"]), f"open-{index}", spec["name"], len(WORKERS))
        started = time.time()
        with lb.Client(home, engine=EmbeddedEngine()) as client:
            spans.append((started, time.time()))
            client.prompts.create(f"{spec['name']} was here")
    return {"spans": spans}


SOAK_THREADS = 4  # per process: 8 threads in all
SOAK_S = 2.5


def soak_thread(client: lb.Client, owner: str, deadline: float) -> dict[str, Any]:
    """Write and read until ``deadline``; report exactly what this thread made and removed.

    Each round: a prompt (and every other round a second version), a file (every third one
    deleted again), a response through the fault server, a run-log row; then reads of its own
    objects and of the shared lists, whose counts may never go backwards.
    """
    log = client.backend.store.runs
    made: dict[str, Any] = {"prompts": {}, "files": [], "deleted": [], "responses": [], "log": [], "reads": 0}
    seen = 0
    index = 0
    while time.time() < deadline:
        p = client.prompts.create(f"{owner}/{index} {{{{x}}}}", variables=["x"])
        versions = 1
        if index % 2:
            client.prompts.update(p.prompt_id, prompt=p.prompt + "!", version=1, variables=["x"])
            versions = 2
        made["prompts"][p.prompt_id] = versions
        f = client.files.create(payload(owner, index), filename=f"{owner}-{index}.bin")
        (made["deleted"] if index % 3 == 2 else made["files"]).append(f.id)
        if index % 3 == 2:
            client.files.delete(f.id)
        r = client.responses.create(prompt=p.prompt_id, variables={"x": str(index)})
        made["responses"].append(r.id)
        key = f"{owner}/{index}"
        log.put(key, {"response_id": r.id, "output_text": r.output_text})
        made["log"].append(key)
        assert client.prompts.retrieve(p.prompt_id).version == versions
        if index % 3 != 2:
            assert client.files.content(f.id) == payload(owner, index)
        assert log.get(key)["response_id"] == r.id
        listed = len(client.prompts.list()) + len(client.responses.list(limit=10_000))
        assert listed >= seen  # nothing another thread or process committed ever disappears
        seen = listed
        made["reads"] += 1
        index += 1
    return made


def soak_as_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """SOAK_THREADS threads on one client for SOAK_S seconds, started with the other process."""
    engine = lb.OpenAICompatibleEngine(spec["url"], models=["fake-model"], max_retries=0)
    with lb.Client(spec["home"], engine=engine) as client:
        client.prompts.list()
        file_barrier(Path(spec["sync"]), "soak", spec["name"], len(WORKERS))
        deadline = time.time() + SOAK_S
        owners = [f"{spec['name']}.{t}" for t in range(SOAK_THREADS)]
        results = run_together([partial(soak_thread, client, owner, deadline) for owner in owners])
    return {"threads": results}


def worker_main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    job = {"write": write_as_worker, "open": open_as_worker, "soak": soak_as_worker}[spec["mode"]]
    print(json.dumps(job(spec)))
    return 0


def run_workers(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Start one worker process per spec at once; return their results (failing on any error)."""
    env = {k: v for k, v in os.environ.items() if k != "LLAMABOOK_BASE_URL"}
    procs = [
        subprocess.Popen([sys.executable, __file__, json.dumps(spec)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
        for spec in specs
    ]
    try:
        outputs = [proc.communicate(timeout=DEADLINE_S) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for proc, (_, err) in zip(procs, outputs):
        assert proc.returncode == 0, f"worker failed:\n{err}"
    return [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]


# ---- threads -------------------------------------------------------------------------------


def test_threads_create_update_and_read_back_with_exact_counts(client: lb.Client) -> None:
    per_thread = 20
    total = THREADS * per_thread

    def write(t: int) -> list[tuple[str, str]]:
        made = []
        for i in range(per_thread):
            first = client.prompts.create(f"thread {t} item {i} {{{{x}}}}", variables=["x"])
            second = client.prompts.update(first.prompt_id, prompt=first.prompt + "!", version=1, variables=["x"])
            assert client.prompts.retrieve(first.prompt_id) == second
            assert client.prompts.retrieve(first.prompt_id, 1).prompt == first.prompt
            f = client.files.create(payload(t, i), filename=f"{t}-{i}.bin")
            assert client.files.content(f.id) == payload(t, i)
            made.append((first.prompt_id, f.id))
        return made

    counts: dict[int, int] = {}

    def read() -> int:
        """Counts never go backwards and no snapshot shows a half-made prompt or file."""
        prompts, files = client.prompts.list(), client.files.list()
        me = threading.get_ident()
        assert len(prompts) + len(files) >= counts.get(me, 0)
        counts[me] = len(prompts) + len(files)
        assert all((p.version == 2) == p.prompt.endswith("!") for p in prompts)
        for f in files[:3]:
            t, i = map(int, f.filename.removesuffix(".bin").split("-"))
            assert client.files.content(f.id) == payload(t, i)
        return 1

    written, snapshots = with_readers([partial(write, t) for t in range(THREADS)], read)
    prompt_ids = {p for made in written for p, _ in made}
    file_ids = {f for made in written for _, f in made}
    assert len(prompt_ids) == len(file_ids) == total
    listed = client.prompts.list()
    assert len(listed) == total and {p.prompt_id for p in listed} == prompt_ids
    assert all(p.version == 2 for p in listed)
    assert all([v.version for v in client.prompts.versions(pid)] == [1, 2] for pid in prompt_ids)
    files = client.files.list()
    assert len(files) == total and {f.id for f in files} == file_ids
    for f in files:
        t, i = map(int, f.filename.removesuffix(".bin").split("-"))
        assert client.files.content(f.id) == payload(t, i)
    assert snapshots >= 1


def test_update_race_on_the_same_version_has_exactly_one_winner(client: lb.Client) -> None:
    prompt_id = client.prompts.create("round 0").prompt_id
    for version in range(1, 6):
        outcomes = run_together(
            [partial(try_update, client, prompt_id, f"round {version} thread {t}", version) for t in range(THREADS)]
        )
        winners = [o for o in outcomes if isinstance(o, lb.Prompt)]
        losers = [o for o in outcomes if isinstance(o, lb.VersionConflict)]
        assert len(winners) == 1 and len(losers) == THREADS - 1
        assert winners[0].version == version + 1
        assert all((e.given, e.latest) == (version, version + 1) for e in losers)
        assert [v.version for v in client.prompts.versions(prompt_id)] == list(range(1, version + 2))
        assert client.prompts.retrieve(prompt_id) == winners[0]


def test_retrying_updates_give_every_version_once_without_gaps(client: lb.Client) -> None:
    prompt_id = client.prompts.create("start").prompt_id
    per_thread = 15
    total = 1 + THREADS * per_thread

    def work(t: int) -> tuple[list[int], int]:
        version, made, conflicts = 1, [], 0
        for k in range(per_thread):
            version, missed = update_with_retry(client, prompt_id, f"thread {t} update {k}", version)
            made.append(version)
            conflicts += missed
            time.sleep(THINK_S)
        return made, conflicts

    outcomes = run_together([partial(work, t) for t in range(THREADS)])
    made = [vs for vs, _ in outcomes]
    assert sum(c for _, c in outcomes) > 0, "no update ever conflicted: the threads did not race"
    versions = client.prompts.versions(prompt_id)
    assert [v.version for v in versions] == list(range(1, total + 1))
    assert sorted(v for vs in made for v in vs) == list(range(2, total + 1))
    text_of = {v.version: v.prompt for v in versions}
    for t, vs in enumerate(made):
        assert vs == sorted(vs)
        assert [text_of[v] for v in vs] == [f"thread {t} update {k}" for k in range(per_thread)]
    assert [v.is_default for v in versions] == [False] * (total - 1) + [True]
    assert client.prompts.retrieve(prompt_id).version == total


def test_upload_and_delete_of_identical_bytes_never_orphans_a_row(client: lb.Client) -> None:
    rounds = 25

    def churn(t: int, keep_every: int) -> list[str]:
        kept = []
        for i in range(rounds):
            f = client.files.create(SHARED_BYTES, filename=f"{t}-{i}.txt")
            assert client.files.content(f.id) == SHARED_BYTES
            if keep_every and i % keep_every == t % keep_every:
                kept.append(f.id)
            else:
                client.files.delete(f.id)
        return kept

    def read_any() -> int:
        """A file being deleted reads as its bytes or as FileNotFound, never as anything else."""
        reads = 0
        for f in client.files.list()[:4]:
            try:
                assert client.files.content(f.id) == SHARED_BYTES
                reads += 1
            except lb.FileNotFound:
                pass
        return reads

    home = client.backend.home
    writers = THREADS - 2
    # Everything deleted: the last reference to the bytes comes and goes all the time.
    with_readers([partial(churn, t, 0) for t in range(writers)], read_any)
    assert client.files.list() == [] and blob_files(home) == []
    # Some kept: exactly those rows survive, each readable, over one blob.
    kept, reads = with_readers([partial(churn, t, 5) for t in range(writers)], read_any)
    kept_ids = {f for ids in kept for f in ids}
    assert len(kept_ids) == writers * rounds // 5
    assert {f.id for f in client.files.list()} == kept_ids
    assert all(client.files.content(f) == SHARED_BYTES for f in kept_ids)
    assert len(blob_files(home)) == 1 and reads > 0


@pytest.mark.model
def test_four_threads_generate_and_store_responses(client: lb.Client) -> None:
    questions = [f"Say the number {n}." for n in range(4)]
    responses = run_together(
        [partial(client.responses.create, input=q, max_output_tokens=16) for q in questions]
    )
    assert len({r.id for r in responses}) == 4
    assert {r.status for r in responses} <= {"completed", "incomplete"}
    assert all(0 < r.usage.output_tokens <= 16 for r in responses)
    listed = client.responses.list()
    assert {r.id for r in listed} == {r.id for r in responses} and len(listed) == 4
    for r, q in zip(responses, questions):
        stored = client.responses.retrieve(r.id)
        assert stored.output_text == r.output_text
        assert stored.rendered_messages[-1]["content"] == q


# ---- processes -----------------------------------------------------------------------------


def test_two_processes_write_the_same_home_at_once(tmp_path: Path, engine: EmbeddedEngine) -> None:
    home, sync, count = tmp_path / "home", tmp_path / "sync", 30
    sync.mkdir()
    with lb.Client(home, engine=engine) as client:
        prompt_id = client.prompts.create("shared v1").prompt_id
    specs = [{"mode": "write", "name": n, "home": str(home), "sync": str(sync), "count": count,
              "prompt_id": prompt_id} for n in WORKERS]
    results = dict(zip(WORKERS, run_workers(specs)))
    a, b = results.values()
    assert a["started"] < b["finished"] and b["started"] < a["finished"], "the workers did not overlap"
    assert min(a["updates"]) < max(b["updates"]) and min(b["updates"]) < max(a["updates"]), "updates did not interleave"
    assert a["conflicts"] + b["conflicts"] > 0

    with lb.Client(home, engine=engine) as client:
        prompts = client.prompts.list()
        assert len(prompts) == 1 + 2 * count
        assert {p.prompt_id for p in prompts} == {prompt_id} | {p for r in results.values() for p in r["prompts"]}
        versions = client.prompts.versions(prompt_id)
        assert [v.version for v in versions] == list(range(1, 2 + 2 * count))
        text_of = {v.version: v.prompt for v in versions}
        for name, r in results.items():
            assert r["updates"] == sorted(r["updates"])
            assert [text_of[v] for v in r["updates"]] == [f"{name} update {i}" for i in range(count)]
        files = client.files.list()
        kept_shared = (count + 1) // 2
        assert len(files) == 2 * (count + kept_shared)
        assert {f.id for f in files} == {f for r in results.values() for f in r["files"]}
        for f in files:
            name, _, index = f.filename.partition("-")
            expected = SHARED_BYTES if "shared" in index else payload(name, int(index.removesuffix(".bin")))
            assert client.files.content(f.id) == expected
    assert len(blob_files(home)) == 2 * count + 1


def test_two_processes_open_a_brand_new_home_at_the_same_moment(tmp_path: Path) -> None:
    homes = [tmp_path / f"home-{i}" for i in range(8)]
    sync = tmp_path / "sync"
    sync.mkdir()
    specs = [{"mode": "open", "name": n, "homes": [str(h) for h in homes], "sync": str(sync)} for n in WORKERS]
    a, b = (r["spans"] for r in run_workers(specs))
    assert len(a) == len(b) == len(homes)
    overlapping = sum(sa < eb and sb < ea for (sa, ea), (sb, eb) in zip(a, b))
    assert overlapping >= len(homes) // 2, f"only {overlapping} of {len(homes)} opens overlapped"
    for home in homes:
        with sqlite3.connect(home / "llamabook.db") as conn:
            applied = [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
            assert applied == list(range(1, len(MIGRATIONS) + 1))
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            templates = Counter(row[0] for row in conn.execute("SELECT template FROM prompt_versions"))
            assert templates == Counter(f"{n} was here" for n in WORKERS)
        conn.close()


def test_eight_threads_in_two_processes_write_and_read_for_a_while_with_exact_counts(
    tmp_path: Path, record_property: pytest.RecordProperty
) -> None:
    from support.faultserver import FaultServer
    from support.storecheck import integrity

    server = FaultServer().start()
    home, sync = tmp_path / "home", tmp_path / "sync"
    sync.mkdir()
    try:
        specs = [{"mode": "soak", "name": n, "home": str(home), "sync": str(sync), "url": server.url} for n in WORKERS]
        threads = [t for result in run_workers(specs) for t in result["threads"]]
    finally:
        server.stop()
    assert len(threads) == 2 * SOAK_THREADS and all(t["reads"] > 0 for t in threads)
    prompts = {pid: v for t in threads for pid, v in t["prompts"].items()}
    kept = {f for t in threads for f in t["files"]}
    deleted = {f for t in threads for f in t["deleted"]}
    responses = {r for t in threads for r in t["responses"]}
    keys = {k for t in threads for k in t["log"]}
    rounds = sum(len(t["prompts"]) for t in threads)
    assert len(prompts) == len(responses) == len(keys) == rounds  # nothing reported twice
    assert integrity(home / "llamabook.db") == "ok"
    conn = sqlite3.connect(home / "llamabook.db")
    try:
        stored_versions = dict(conn.execute("SELECT prompt_id, COUNT(*) FROM prompt_versions GROUP BY prompt_id"))
        stored_files = {row[0] for row in conn.execute("SELECT id FROM files")}
        stored_responses = {row[0] for row in conn.execute("SELECT id FROM responses")}
        stored_keys = {row[0] for row in conn.execute("SELECT cache_key FROM grid_results")}
    finally:
        conn.close()
    assert stored_versions == prompts  # every prompt, with exactly its versions
    assert stored_files == kept and not stored_files & deleted
    assert stored_responses == responses and stored_keys == keys
    assert len(blob_files(home)) == len(kept)  # deleted files left no bytes behind
    with lb.Client(home, engine=lb.OpenAICompatibleEngine("http://127.0.0.1:9/v1", models=["m"])) as client:
        for f in client.files.list(limit=10_000):
            owner, _, index = f.filename.removesuffix(".bin").rpartition("-")
            assert client.files.content(f.id) == payload(owner, int(index))
    record_property("load_rounds", rounds)
    record_property("load_rows_checked", len(prompts) + len(kept) + len(deleted) + len(responses) + len(keys))


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1:]))


def test_a_writer_commits_every_unit_in_shared_transactions_and_keeps_errors_to_their_own_unit(tmp_path: Path) -> None:
    from llamabook.store.database import Database
    from llamabook.store.writer import Unit, Writer
    from support.write_counter import WriteCounter

    db = Database(tmp_path / "group.db")
    with db.write() as conn:
        conn.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)")
    transactions = WriteCounter(db)  # every transaction begun from now on, committed or rolled back
    units: dict[int, Unit] = {}

    def save(writer: Writer, n: int) -> None:
        def work(c: sqlite3.Connection) -> None:
            c.execute("INSERT INTO t (n) VALUES (?)", (n,))
            if n % 50 == 7:
                raise ValueError(f"unit {n} refuses")

        unit = Unit()
        db.apply(work, unit)
        units[n] = unit
        writer.submit(unit)

    with db.writer() as writer, ThreadPoolExecutor(32) as pool:
        list(pool.map(partial(save, writer), range(400)))
    failed = {n for n in range(400) if n % 50 == 7}
    assert len(units) == 400 and all(unit.committed.is_set() for unit in units.values())
    assert {n for n, unit in units.items() if unit.error is not None} == failed
    assert all(isinstance(units[n].error, ValueError) and str(units[n].error) == f"unit {n} refuses" for n in failed)
    stored = {row[0] for row in db.connection().execute("SELECT n FROM t")}
    assert stored == set(range(400)) - failed  # a failed unit leaves nothing; the others all land
    # units shared transactions; a failed unit cost its group one transaction more, not one per unit
    assert transactions.begun < 200  # (400 units)
    db.close()
