"""``Client`` and ``AsyncClient``: prompts, files, responses and models on one backend."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import config
from .backends.base import Backend, ServerInfo
from .cassette import Recorder, from_environment, open_cassette
from .engines.base import Engine
from .errors import InvalidRequest
from .resources import Annotations, Batches, Files, Models, Prompts, Responses

if TYPE_CHECKING:
    import pandas


#: makes a client's backend, given the cassette's recorder (or None)
BackendBuilder = Callable[["Recorder | None"], Backend]


class Client:
    """The llamabook client: prompts, files, responses and models on one backend.

    Three ways to make one:

    * ``Client.embedded(home, …)``: the embedded backend, a SQLite database and file store under
      ``home`` (default ``$LLAMABOOK_HOME``, else ``~/.llamabook``) and the tiny SmolLM2 model in this
      process. Pass ``engine=OpenAICompatibleEngine(base_url=..., api_key=...)`` to generate with any
      OpenAI-compatible server instead, or ``engines=[...]`` for several.
    * ``Client.connect(base_url, …)``: a Llama Stack / OGX server (or another Responses server):
      the same methods return the same types. ``model_accepts`` declares what a server's models
      take (default: text, image and file), e.g. ``{"llamacpp/smollm2": ["text"]}``. A server
      without a Prompts API (api.openai.com) keeps prompts in the local store and renders them on
      the client (``prompts="auto"`` finds out; ``"local"``/``"server"`` force it).
    * ``Client(backend=…)``: any object that follows :class:`~llamabook.backends.base.Backend`.

    ``Client()`` and ``Client(home, …)`` choose between the first two: ``base_url=`` (or
    ``$LLAMABOOK_BASE_URL``) means :meth:`connect`, otherwise :meth:`embedded`.

    ``cassette="session.jsonl"`` records every model call (on a server: every request) to
    that file and replays it on later runs, with no model or server needed; ``record`` is
    ``"new"`` (replay what is there, record the rest), ``"none"`` (replay only; a miss raises
    :class:`~llamabook.CassetteMiss`) or ``"all"`` (record again). ``$LLAMABOOK_CASSETTE`` applies
    when ``cassette`` is not given, and ``$LLAMABOOK_RECORD`` overrides ``record`` when set.
    ``prices={model: (input_per_million, output_per_million)}`` (USD) is recorded with every grid,
    so ``lb.scores(grid)`` can say what it cost.

    >>> client = Client()
    >>> p = client.prompts.create("Hello {{name}}!", variables=["name"])
    >>> client.responses.create(prompt=p, variables={"name": "Ada"}).output_text
    """

    def __init__(
        self,
        home: str | Path | None = None,
        *,
        backend: Backend | None = None,
        engine: Engine | None = None,
        engines: Sequence[Engine] | None = None,
        max_file_bytes: int | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        model_accepts: dict[str, list[str]] | None = None,
        model: str | None = None,
        prompts: str = "auto",
        cassette: str | Path | None = None,
        record: str | None = None,
        prices: Mapping[str, tuple[float, float]] | None = None,
    ) -> None:
        build: BackendBuilder
        if backend is not None:
            _refuse_builder_options(home, prompts, engine, engines, max_file_bytes, base_url, api_key, model_accepts, model)
            build = partial(_given_backend, backend)
        elif url := base_url or config.base_url():
            build = partial(_server_backend, url, home, api_key, model_accepts, model, prompts)
        else:
            build = partial(_embedded_backend, home, engine, engines, max_file_bytes)
        self._start(build, cassette, record, prices)

    @classmethod
    def embedded(
        cls,
        home: str | Path | None = None,
        *,
        engine: Engine | None = None,
        engines: Sequence[Engine] | None = None,
        max_file_bytes: int | None = None,
        cassette: str | Path | None = None,
        record: str | None = None,
        prices: Mapping[str, tuple[float, float]] | None = None,
    ) -> Client:
        """A client on the embedded backend, whatever ``$LLAMABOOK_BASE_URL`` says.

        ``home`` defaults to ``$LLAMABOOK_HOME`` (else ``~/.llamabook``); ``engine=`` / ``engines=``
        replace the embedded model; ``max_file_bytes`` caps an upload. The other options are as
        for :class:`Client`.
        """
        build = partial(_embedded_backend, home, engine, engines, max_file_bytes)
        return cls._made(build, cassette, record, prices)

    @classmethod
    def connect(
        cls,
        base_url: str,
        *,
        api_key: str | None = None,
        home: str | Path | None = None,
        model_accepts: dict[str, list[str]] | None = None,
        model: str | None = None,
        prompts: str = "auto",
        cassette: str | Path | None = None,
        record: str | None = None,
        prices: Mapping[str, tuple[float, float]] | None = None,
    ) -> Client:
        """A client on the server at ``base_url`` (Llama Stack, OGX, or another Responses server).

        ``api_key`` defaults to ``$LLAMABOOK_API_KEY``; ``home`` (default ``$LLAMABOOK_HOME``, else
        ``~/.llamabook``) keeps what the server doesn't (uploads by content, rendered messages,
        prompt names); ``model`` is the default model; ``model_accepts`` and ``prompts`` are as for
        :class:`Client`. Nothing is sent until the first call.

        >>> client = Client.connect("http://127.0.0.1:8321", model="llamacpp/smollm2")
        """
        if not base_url:
            raise InvalidRequest("Client.connect() needs the server's base_url, e.g. http://127.0.0.1:8321")
        build = partial(_server_backend, base_url, home, api_key, model_accepts, model, prompts)
        return cls._made(build, cassette, record, prices)

    @classmethod
    def _made(cls, build: BackendBuilder, cassette: str | Path | None, record: str | None, prices: Any) -> Client:
        """A client on the backend ``build`` makes (the constructors' common end)."""
        client = cls.__new__(cls)
        client._start(build, cassette, record, prices)
        return client

    def _start(self, build: BackendBuilder, cassette: str | Path | None, record: str | None, prices: Any) -> None:
        """Check ``prices`` and the cassette first, then build the backend and the resources on it."""
        from .prices import check_prices

        #: ``{model: (input_per_million, output_per_million)}`` in USD, recorded with every grid
        self.prices = check_prices(prices)
        backend = build(from_environment(cassette, record))
        self.backend = backend
        self.prompts = Prompts(backend)
        self.files = Files(backend)
        self.responses = Responses(backend, self.files, self.prompts)
        self.models = Models(backend)
        #: the home's plans of batch grids (``list``, ``forget``) and the server's ``cancel``
        self.batches = Batches(backend)
        #: human labels on grid rows and responses, kept in the home database (``set``, ``attach``)
        self.annotations = Annotations(backend)

    @property
    def server(self) -> ServerInfo:
        """Which server this client talks to: ``kind`` ("embedded", "ogx", "llama-stack", "openai"),
        ``version``, ``location`` and the ``file_purposes`` it accepts; ``str()`` reads "OGX 1.5.0 at …"."""
        return self.backend.server_info()

    @property
    def cassette(self) -> Recorder | None:
        """The cassette in use (its ``path`` and ``mode``), or None."""
        return self.backend.cassette

    def use_cassette(self, cassette: str | Path | None, record: str | None = None) -> Recorder | None:
        """Record to / replay from ``cassette`` from now on (``None`` stops); returns it.

        ``record`` is ``"new"`` (default), ``"none"`` or ``"all"``; ``$LLAMABOOK_RECORD`` wins when set.
        """
        recorder = open_cassette(cassette, record) if cassette is not None else None
        self.backend.use_cassette(recorder)
        return recorder

    def grid(
        self,
        prompt_or_template: Any,
        rows: Any,
        *,
        versions: Sequence[int] | None = None,
        models: Sequence[str] | None = None,
        repeats: int = 1,
        concurrency: int = 4,
        progress: bool = True,
        cache: bool = True,
        retries: int = 3,
        checks: Mapping[str, Any] | None = None,
        schema: Any = None,
        schema_prefix: str | None = None,
        executor: str = "threads",
        path: str | Path | None = None,
        batch_output: str | Path | Sequence[str | Path] | None = None,
        batch_timeout: float | None = None,
        batch_stall: float | None = None,
        resume: bool = True,
        **options: Any,
    ) -> pandas.DataFrame:
        """Run a prompt over every row × version × model; one result row each, as a DataFrame.

        ``prompt_or_template`` is a :class:`Prompt`, a prompt id (``"pmpt_…"``, ``"pmpt_…@2"``) or a
        template string (stored as a prompt, reused when the same template runs again). ``rows``
        is a DataFrame (or list of dicts) whose columns hold the variables. ``options`` are
        response options: ``input``, ``instructions``, ``temperature``, ``top_p``,
        ``max_output_tokens``, ``describe_images``, ``pdf_to_text``, ``tools``, ``tool_choice``. With
        ``tools`` (functions or wire dicts, as for ``responses.create``; the grid doesn't run them) the
        frame adds ``tool_calls`` (every call as JSON text) and ``tool_name`` (the first call's), which
        ``checks.called(name, **args)`` and ``checks.no_tool_call()`` judge.

        Columns: the row's own columns, then ``row``, ``prompt_id``, ``version``, ``model``,
        ``output_text``, ``status``, ``cut_off``, ``error``, ``input_tokens``, ``output_tokens``,
        ``latency_s``, ``replayed``, ``response_id``, ``cached``, ``attempts`` (see ``llamabook.grid``); an answer
        replayed from a cassette has ``replayed`` True and no ``latency_s``; ``call_key`` identifies the call
        (its run-log key: human labels are kept by it). Finished calls are logged at once, so running the
        same grid again repeats none of them, and a failed call is not logged, so running it again
        re-runs only the calls that failed.

        ``repeats`` (default 1) asks each row × version × model that many times and adds a ``repeat``
        column (0 … repeats − 1) after ``model``. Repeats differ only when sampling does: give a
        ``temperature`` above 0. On the embedded model each repeat past the first samples with its own
        seed, made from the cell's key and the repeat, so the same grid gives the same answers on
        every run and machine; a server is sent the same request each time (a cassette replays them in
        order). Repeat 0 is the call a grid without repeats makes (the same run-log key), so raising
        ``repeats`` later asks only for the new ones.

        ``checks`` names checks to run on every successful result (``llamabook.evaluation.checks``: ``contains``,
        ``regex``, ``equals``, ``max_words``, ``is_json``, ``json_schema``, ``similar_to``, ``judge``,
        or a function ``(row, result) -> bool | float``), e.g. ``{"has_city": checks.contains(checks.column("city"))}``.
        Each adds ``check_<name>`` and ``check_<name>_error`` (a judge also ``check_<name>_judge_id``);
        bad checks raise :class:`~llamabook.InvalidRequest` before any call.

        ``schema`` (a pydantic model class or a JSON-schema dict of an object) is sent with every call
        (``responses.create(schema=…)``) and adds one typed column per top-level field right after
        ``output_text`` (``Int64``, ``Float64``, ``boolean``, ``string``; Arrow list / struct columns
        for lists and objects; JSON text otherwise: see ``llamabook.schema_columns``), then ``valid``.
        An output that doesn't validate is a failed row (``error`` ``"OutputInvalid: …"``, raw
        ``output_text`` kept, null fields, ``valid`` False). A field named like a grid or row column is
        an :class:`~llamabook.InvalidRequest` before any call, unless ``schema_prefix`` (e.g. ``"x_"``)
        prefixes every field column.

        ``executor`` says where the calls run. ``"threads"`` (the default): here, ``concurrency`` at a
        time. ``"batch"``: as one job on the server's Batches API (Llama Stack / OGX with batches
        enabled, or OpenAI): each request is rendered here into the chat messages the server would
        build, uploaded as JSONL, and the batch is polled with a progress bar; the rows come back with
        the same columns plus ``batch_id`` and ``custom_id`` (``response_id`` stays null). If the kernel
        stops while the batch runs, the same call again follows that batch instead of sending a new one.
        Raises :class:`~llamabook.BatchesUnsupported` before any call where there is no Batches API
        (the embedded backend). The wait has limits, in seconds: ``batch_timeout`` (default 24 h) for
        the whole wait, ``batch_stall`` (default 1 h) for no change in the server's request counts or
        status; either raises :class:`~llamabook.BatchStalled`, naming the batch, and keeps the plan.
        A batch the server reports ``cancelled``, ``expired`` or ``failed`` (or leaves ``cancelling``
        past ``batch_stall``) ends the wait: its rows without an answer are failed rows, and the next
        run submits them afresh. ``resume=False`` submits afresh even when the home follows a batch of
        the same requests; ``client.batches.forget(batch_id)`` drops that plan for good. ``"jsonl"``: the same lines are written to ``path`` for another engine
        (OpenAI's Batch API, ``vllm run-batch``; ``models`` are its names, not checked here) and the rows
        are ``pending``; the same call with ``batch_output=`` (its output file, or a list with its error
        file) reads the answers into the frame.
        """
        from .grid import GridSpec, run_grid
        from .types.requests import from_arguments

        # This signature is where the grid's options are listed for users; the spec takes each of
        # its fields from its namesake here (a test keeps the two lists equal).
        frame = run_grid(self, prompt_or_template, rows, from_arguments(GridSpec, locals()))
        if self.prices:  # lb.scores(grid) reads them, also after a Parquet round trip
            prices = {model: list(pair) for model, pair in self.prices.items()}
            frame.attrs["llamabook"] = {**frame.attrs.get("llamabook", {}), "prices": prices}
        return frame

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = self.backend.base_url or self.backend.home
        return f"<llamabook.Client backend={self.backend.name} at {where}>"


def _given_backend(backend: Backend, recorder: Recorder | None) -> Backend:
    """``Client(backend=…)``: the backend as given, on the cassette when there is one."""
    if recorder is not None:
        backend.use_cassette(recorder)
    return backend


def _refuse_builder_options(home: Any, prompts: str, *options: Any) -> None:
    """``Client(backend=…)`` builds nothing: options for building a backend would be ignored, so refuse them."""
    if home is not None or prompts != "auto" or any(option is not None for option in options):
        raise TypeError(
            "Client(backend=…) uses that backend as it is: pass only cassette=, record= and prices= with it "
            "(home=, engine=, base_url=, model= … are for Client.embedded() and Client.connect())"
        )


def _home(home: str | Path | None) -> Path:
    return Path(home).expanduser() if home else config.home()


def _server_backend(
    base_url: str,
    home: str | Path | None,
    api_key: str | None,
    model_accepts: dict[str, list[str]] | None,
    model: str | None,
    prompts: str,
    recorder: Recorder | None,
) -> Backend:
    """The HTTP backend :meth:`Client.connect` uses."""
    from .backends.http import HttpBackend

    return HttpBackend(
        base_url,
        api_key=api_key or config.api_key(),
        home=_home(home),
        model_accepts=model_accepts,
        default_model=model,
        prompts=prompts,
        cassette=recorder,
    )


def _embedded_backend(
    home: str | Path | None,
    engine: Engine | None,
    engines: Sequence[Engine] | None,
    max_file_bytes: int | None,
    recorder: Recorder | None,
) -> Backend:
    """The local backend :meth:`Client.embedded` uses: the embedded model unless engines are given."""
    from .backends.local import LocalBackend
    from .types.files import MAX_FILE_BYTES

    if engine is not None and engines is not None:
        raise ValueError("Pass engine= or engines=, not both")
    chosen: list[Engine]
    if engines is not None:
        chosen = list(engines)
    elif engine is not None:
        chosen = [engine]
    else:
        from .engines.embedded import EmbeddedEngine

        chosen = [EmbeddedEngine()]
    return LocalBackend(_home(home), chosen, max_file_bytes=max_file_bytes or MAX_FILE_BYTES, cassette=recorder)
