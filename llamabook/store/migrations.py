"""Numbered, append-only schema migrations. Never edit one that has shipped: add the next."""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: prompts, their immutable versions, files, responses
    """
    CREATE TABLE prompts (
        prompt_id TEXT PRIMARY KEY,
        default_version INTEGER NOT NULL,
        latest_version INTEGER NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE prompt_versions (
        prompt_id TEXT NOT NULL REFERENCES prompts(prompt_id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        template TEXT NOT NULL,
        variables_json TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (prompt_id, version)
    );
    CREATE TABLE files (
        id TEXT PRIMARY KEY,
        filename TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        purpose TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER
    );
    CREATE INDEX files_sha256 ON files(sha256);
    CREATE INDEX files_created ON files(created_at);
    CREATE TABLE responses (
        id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        model TEXT NOT NULL,
        status TEXT NOT NULL,
        prompt_id TEXT,
        prompt_version INTEGER,
        input_tokens INTEGER,
        output_tokens INTEGER,
        latency_s REAL,
        response_json TEXT NOT NULL,
        input_items_json TEXT NOT NULL,
        messages_json TEXT NOT NULL,
        engine TEXT,
        usage_source TEXT,
        finish_reason TEXT
    );
    CREATE INDEX responses_order ON responses(created_at, seq);
    CREATE INDEX responses_prompt ON responses(prompt_id, prompt_version);
    """,
    # 2: file ids uploaded to servers, by content, so identical bytes are uploaded once per server
    """
    CREATE TABLE remote_files (
        server TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        purpose TEXT NOT NULL,
        file_id TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (server, sha256, purpose)
    );
    """,
    # 3: what llamabook knows about responses made on a server (the server does not keep it)
    """
    CREATE TABLE remote_responses (
        server TEXT NOT NULL,
        response_id TEXT NOT NULL,
        trace_json TEXT NOT NULL,
        usage_json TEXT,
        prompt_json TEXT,
        PRIMARY KEY (server, response_id)
    );
    """,
    # 4: the grid's run log: one finished call per row, keyed by the full request
    """
    CREATE TABLE grid_results (
        cache_key TEXT PRIMARY KEY,
        response_id TEXT,
        result_json TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    """,
    # 5: a response that failed inside its stream is kept whole: the server may never have stored it
    """
    ALTER TABLE remote_responses ADD COLUMN response_json TEXT;
    ALTER TABLE remote_responses ADD COLUMN created_at INTEGER;
    """,
    # 6: prompt names (name -> prompt id), one table per backend: "local", or a server's base URL
    """
    CREATE TABLE prompt_names (
        scope TEXT NOT NULL,
        name TEXT NOT NULL,
        prompt_id TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (scope, name)
    );
    CREATE INDEX prompt_names_prompt ON prompt_names(scope, prompt_id);
    """,
    # 7: prompt labels (a label points at one version of a prompt), and every move of a label
    """
    CREATE TABLE prompt_labels (
        scope TEXT NOT NULL,
        prompt_id TEXT NOT NULL,
        label TEXT NOT NULL,
        version INTEGER NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (scope, prompt_id, label)
    );
    CREATE TABLE prompt_label_moves (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        scope TEXT NOT NULL,
        prompt_id TEXT NOT NULL,
        label TEXT NOT NULL,
        from_version INTEGER,
        to_version INTEGER,
        moved_at REAL NOT NULL
    );
    CREATE INDEX prompt_label_moves_prompt ON prompt_label_moves(scope, prompt_id, seq);
    """,
    # 8: a prompt version's default output schema (a JSON Schema; the Prompts API has no such field)
    """
    CREATE TABLE prompt_schemas (
        scope TEXT NOT NULL,
        prompt_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        name TEXT NOT NULL,
        schema_json TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (scope, prompt_id, version)
    );
    """,
    # 9: a grid's requests sent as one batch (a server's Batches API) or written as JSONL for another engine
    """
    CREATE TABLE grid_batches (
        plan_key TEXT PRIMARY KEY,
        scope TEXT NOT NULL,
        executor TEXT NOT NULL,
        batch_id TEXT,
        input_file_id TEXT,
        path TEXT,
        requests INTEGER NOT NULL,
        status TEXT NOT NULL,
        created_at REAL NOT NULL,
        merged_at REAL
    );
    CREATE INDEX grid_batches_batch ON grid_batches(batch_id);
    """,
    # 10: a response replayed from a cassette says so (Response.replayed; it has no latency)
    """
    ALTER TABLE responses ADD COLUMN replayed INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE remote_responses ADD COLUMN replayed INTEGER NOT NULL DEFAULT 0;
    """,
    # 11: human labels (client.annotations), one value per call and name; a call is its run-log key
    # (grid_results.cache_key), or its response id when no grid logged it. Not per backend: the run
    # log isn't either. Plus the run log's response ids indexed, to find a response's call.
    """
    CREATE TABLE annotations (
        call_key TEXT NOT NULL,
        name TEXT NOT NULL,
        value_json TEXT NOT NULL,
        note TEXT,
        response_id TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (call_key, name)
    );
    CREATE INDEX annotations_response ON annotations(response_id);
    CREATE INDEX grid_results_response ON grid_results(response_id);
    """,
    # 12: what was measured when a label moved through a gate (client.prompts.promote), as JSON
    """
    ALTER TABLE prompt_label_moves ADD COLUMN evidence_json TEXT;
    """,
]
