#!/usr/bin/env bash
# The registry's three-stage pipeline as command-line calls (no Python written).
# Run: bash examples/pipeline.sh      (uses $PROVKIT_HOME; set PROVKIT="python -m provkit"
# to use an interpreter instead of the installed `provkit` script)
set -euo pipefail
PROVKIT=${PROVKIT:-provkit}
work=$(mktemp -d "${TMPDIR:-/tmp}/provkit-pipeline-sh-XXXXXX")
base="my-desc-pipeline-sh/$(date -u +%Y%m%dT%H%M%S)-$$"

# stage 1 output: a folder and two files
mkdir -p "$work/snapshots"
for step in 0 1 2; do printf 'id,mass\n1,%s\n2,%s\n' "$step.1" "$step.2" > "$work/snapshots/step_$step.csv"; done
printf 'runs database\n' > "$work/runs.db"
printf '{"box": 100}\n' > "$work/params.json"

ex1=$($PROVKIT register execution pipeline-stage-1 --description "The first stage of my pipeline")
d11=$($PROVKIT register dataset "Dataset 1.1" minor --relpath "$base/dataset_1p1" \
      --old-location "$work/snapshots" --execution "$ex1" --description "A directory structure output from stage 1")
d12=$($PROVKIT register dataset "Dataset 1.2" minor --relpath "$base/dataset_1p2.db" \
      --old-location "$work/runs.db" --execution "$ex1" --description "A file output from stage 1")
d13=$($PROVKIT register dataset "Dataset 1.3" minor --relpath "$base/dataset_1p3.json" \
      --old-location "$work/params.json" --execution "$ex1" --keyword config)

ex2=$($PROVKIT register execution pipeline-stage-2 --description "The second stage" \
      --input "$d11" --input "$d12" --input "$d13")
$PROVKIT get "$d11" --to "$work/stage2-input" > /dev/null
mkdir -p "$work/catalogs"
for f in "$work"/stage2-input/*.csv; do wc -l < "$f" > "$work/catalogs/$(basename "$f" .csv).count"; done
d21=$($PROVKIT register dataset "Dataset 2.1" minor --relpath "$base/dataset_2p1" \
      --old-location "$work/catalogs" --execution "$ex2")

ex3=$($PROVKIT register execution pipeline-stage-3 --description "The third stage" --input "$d21")
cat "$work"/catalogs/*.count > "$work/summary.txt"
d31=$($PROVKIT register dataset "Dataset 3.1" minor --relpath "$base/dataset_3p1" \
      --old-location "$work/summary.txt" --execution "$ex3")

echo "datasets: $d11 $d12 $d13 $d21 $d31"
$PROVKIT keyword add pipeline-demo > /dev/null
$PROVKIT dataset modify "$d21" --set "description=Catalogs from stage 2 (checked)" --add-keyword pipeline-demo > /dev/null
$PROVKIT alias add pipeline-summary-latest "$d31"
$PROVKIT show pipeline-summary-latest --json > /dev/null
ext=$($PROVKIT register dataset "External survey" minor --relpath "$base/survey" --location-type external \
      --url "https://data.example.org/survey.fits" --contact-email survey@example.org)
$PROVKIT dataset path "$ext"
$PROVKIT ls --datasets --name "Dataset 2.1"
$PROVKIT lineage "$d31" --up
$PROVKIT lineage "$d11" --down --format json
rm -rf "$work"
