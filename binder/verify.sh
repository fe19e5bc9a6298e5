#!/usr/bin/env bash
# Check that binder/ alone builds a working environment, as mybinder.org would build it (Docker
# cannot run here): a fresh venv, `pip install -r binder/requirements.txt`, then binder/postBuild
# from the repository root, then notebooks 01-04 and 06 under strict nbval in that venv.
#
#   bash binder/verify.sh            # PYTHON=python3.11 to choose the interpreter (runtime.txt: 3.11)
#
# Notebook 05 is left out: it needs a Llama Stack server (Python 3.12), which Binder does not have;
# there it explains this and runs its cells on the embedded model.
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
unset PYTHONPATH LLAMABOOK_BASE_URL LLAMABOOK_HOME
python -m pip install -q --disable-pip-version-check --upgrade pip

echo "== pip install -r binder/requirements.txt"
python -m pip install -q --disable-pip-version-check -r binder/requirements.txt
echo "== binder/postBuild"
bash binder/postBuild
python -m pip check

echo "== nbval (strict) on notebooks 01-04 and 06"
python -m pytest -p no:cacheprovider --nbval --nbval-current-env \
    --nbval-sanitize-with notebooks/nbval_sanitize.cfg \
    notebooks/01-*.ipynb notebooks/02-*.ipynb notebooks/03-*.ipynb notebooks/04-*.ipynb notebooks/06-*.ipynb
echo "== binder environment OK in $(( $(date +%s) - started )) s (venv: $WORK/venv)"
