#!/usr/bin/env bash
# Builds the benchmarks, runs the whole suite (or the part whose names match $1) with fixed JMH
# settings, and writes the generated report section of benchmarks/RESULTS.md plus
# benchmarks/report.svg (our cost relative to each peer measured in the same run).
#
#   benchmarks/scripts/report.sh                          # everything (about an hour on 2 cores)
#   benchmarks/scripts/report.sh 'ObjectPool|Recycler'    # a named part
set -euo pipefail
cd "$(dirname "$0")/../.."
pattern="${1:-.}"
mvn -B -q package -DskipTests -pl benchmarks -am
json=benchmarks/target/report.json
java -jar benchmarks/target/benchmarks.jar "$pattern" -f 3 -wi 3 -w 1s -i 5 -r 1s -prof gc -rf json -rff "$json"
python3 benchmarks/scripts/report.py "$json" "report.sh '$pattern'" benchmarks/RESULTS.md benchmarks/report.svg
