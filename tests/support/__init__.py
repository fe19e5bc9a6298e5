"""Helpers the tests share, imported as ``support.<module>`` (``tests/`` is on ``sys.path`` under pytest).

No tests here: the scripted engine, the fault server and batch proxy, the real-server starters, the
bad-input catalogue, the PDF maker, HTML and store checkers, and the worker scripts that tests start
as subprocesses (``crashworker.py``, ``interruptworker.py``, ``raceworker.py``).
"""
