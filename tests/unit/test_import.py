"""``import llamabook`` must stay cheap: no heavy runtime on the import path."""

from __future__ import annotations

from support.imports import imported_modules

HEAVY = ("pandas", "pyarrow", "numpy", "openai", "ipywidgets", "IPython", "llama_cpp", "PIL", "pypdf", "httpx")


def test_import_llamabook_pulls_in_no_heavy_module() -> None:
    names = imported_modules("import llamabook")
    assert "llamabook" in names
    heavy = sorted(n for n in names if n.split(".")[0] in HEAVY)
    assert heavy == [], f"import llamabook imported {heavy}"


def test_creating_a_client_stays_light_until_generation() -> None:
    names = imported_modules("import llamabook as lb, tempfile; lb.Client(tempfile.mkdtemp()).prompts.list()")
    heavy = sorted({n.split(".")[0] for n in names} & {"pandas", "pyarrow", "openai", "ipywidgets", "llama_cpp"})
    assert heavy == []


#: The public names of ``llamabook``. Adding or removing one is an API change: edit this on purpose.
PUBLIC_API = {
    "AsyncClient", "AsyncResponseStream", "BatchStalled", "BatchesUnsupported", "CassetteMiss", "CheckErrorWarning", "Client", "EmbeddedEngine", "EngineError",
    "EngineUnavailable", "File", "FileNotFound", "FileTooLarge", "GateFailed", "InputError", "InputFile", "InputImage",
    "InputText", "InvalidRequest", "InvalidVariable", "LabelMove", "LlamabookError", "MissingVariables", "Model",
    "ModelNotFound", "ModelRejectedInput", "NotFound", "ObjectList", "OpenAICompatibleEngine", "OutputFormatUnsupported", "OutputInvalid", "Prompt", "PromptDiff",
    "PromptNotFound", "PromptRef", "PromptReference", "Response", "ResponseNotFound", "ResponseStream",
    "UndeclaredVariables", "UnknownVariables", "UnsupportedInput", "VersionConflict", "VersionNotFound",
    "__version__", "Comparison", "agreement", "assert_no_regression", "behaviour_diff", "checks", "compare", "scores",
    "significance", "FunctionCall", "FunctionTool", "InvalidTool", "ToolArgumentsInvalid", "ToolsUnsupported",
    "ToolLoopWarning", "ToolChoiceIgnored",
    "function_tool",
}  # fmt: skip


def test_the_public_api_is_exactly_the_listed_names() -> None:
    import llamabook

    assert set(llamabook.__all__) == PUBLIC_API
    assert len(llamabook.__all__) == len(PUBLIC_API), "a name is listed twice in __all__"
    assert llamabook.__all__ == sorted(llamabook.__all__, key=lambda n: (n.startswith("_"), n[:1].islower(), n))
    for name in llamabook.__all__:  # every listed name resolves (lazily for the heavy ones)
        assert getattr(llamabook, name) is not None
    assert set(llamabook.__all__) <= set(dir(llamabook))


def test_no_submodule_shadows_a_public_name() -> None:
    """Importing a submodule sets it on the package: one named like a public function would replace it."""
    import importlib
    import pkgutil
    import types

    import llamabook

    for info in pkgutil.walk_packages(llamabook.__path__, "llamabook."):
        if not info.name.startswith(("llamabook.magics", "llamabook.widgets")):
            importlib.import_module(info.name)
    modules = {"checks"}
    for name in llamabook.__all__:
        value = getattr(llamabook, name)
        assert isinstance(value, types.ModuleType) is (name in modules), f"llamabook.{name} is {value!r}"
