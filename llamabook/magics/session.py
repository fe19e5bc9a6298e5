"""The client the magics use: one slot per kernel, filled with ``lb.Client()`` on first use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..client import Client


@dataclass
class _Slot:
    client: Client | None = None
    owned: bool = False  # created here, so closed here when replaced


_slot = _Slot()


def get_client() -> Client:
    """The magics' client, created on first use (``lb.Client()``: ``$LLAMABOOK_HOME`` / ``$LLAMABOOK_BASE_URL``)."""
    if _slot.client is None:
        from ..client import Client

        _slot.client, _slot.owned = Client(), True
    return _slot.client


def current_client() -> Client | None:
    """The magics' client if there is one yet, without creating it."""
    return _slot.client


def set_client(client: Client | None, *, owned: bool = False) -> None:
    """Use ``client`` in the magics (``None``: a default client on next use).

    A client the magics created themselves is closed when replaced; one passed here is
    closed only if ``owned=True``.
    """
    previous, was_owned = _slot.client, _slot.owned
    _slot.client, _slot.owned = client, owned and client is not None
    if was_owned and previous is not None and previous is not client:
        previous.close()


def make_client(target: str, home: str | None, model: str | None) -> Client:
    """A client on the embedded backend (``target == "embedded"``) or on the server at ``target``."""
    from ..client import Client

    if target == "embedded":
        return Client.embedded(home)  # so a $LLAMABOOK_BASE_URL in the environment does not win
    return Client.connect(target, home=home, model=model)
