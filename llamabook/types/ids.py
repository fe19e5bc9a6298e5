"""Id formats shared with Llama Stack: ``pmpt_`` + 48 hex, ``file-`` + 32 hex, ``resp_`` + uuid4."""

from __future__ import annotations

import re
import secrets
import uuid

PROMPT_ID = re.compile(r"^pmpt_[0-9a-f]{48}$")
FILE_ID = re.compile(r"^file-[0-9a-f]{1,64}$")
RESPONSE_ID = re.compile(r"^resp_[0-9A-Za-z_-]+$")


def new_prompt_id() -> str:
    return "pmpt_" + secrets.token_hex(24)


def new_file_id() -> str:
    return "file-" + uuid.uuid4().hex


def new_response_id() -> str:
    return f"resp_{uuid.uuid4()}"


def new_message_id() -> str:
    return f"msg_{uuid.uuid4()}"
