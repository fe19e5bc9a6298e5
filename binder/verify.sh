#!/usr/bin/env bash
# Check that binder/ alone builds a working environment, as mybinder.org would build it (Docker
# cannot run here): a fresh venv, `pip install -r binder/requirements.txt`, then binder/postBuild
# from the repository root, then every notebook under strict nbval in that venv, replaying its
# cassette (notebooks/cassettes/): no model call and no server, as on Binder.
#
#   bash binder/verify.sh            # PYTHON=python3.11 to choose the interpreter (runtime.txt: 3.11)
#
# Notebook 05 replays its recorded Llama Stack session: Binder has no server (nor Python 3.12).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
WORK=${BINDER_CHECK_DIR:-build/binder-check}
want=$(sed -n 's/^python-//p' binder/runtime.txt)
have=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
[ "$have" = "$want" ] || echo "note: binder/runtime.txt asks for Python $want; checking with $have ($PYTHON)"

started=$(date +%s)
rm -rf "$WORK"
"$PYTHON" -m venv "$WORK/venv"
# postBuild calls plain `pip`, as on Binder: put the new venv first on PATH.
export PATH="$PWD/$WORK/venv/bin:$PATH" VIRTUAL_ENV="$PWD/$WORK/venv"
unset PYTHONPATH LLAMABOOK_BASE_URL LLAMABOOK_HOME LLAMABOOK_CASSETTE
export LLAMABOOK_RECORD=none
python -m pip install -q --disable-pip-version-check --upgrade pip

echo "== pip install -r binder/requirements.txt"
python -m pip install -q --disable-pip-version-check -r binder/requirements.txt
echo "== binder/postBuild"
bash binder/postBuild
python -m pip check

echo "== nbval (strict, replaying the cassettes) on every notebook"
python -m pytest -p no:cacheprovider --nbval --nbval-current-env \
    --nbval-sanitize-with notebooks/nbval_sanitize.cfg notebooks/*.ipynb
echo "== binder environment OK in $(( $(date +%s) - started )) s (venv: $WORK/venv)"
