#!/usr/bin/env bash
# JMH benchmark of the smtpd input path (command-line decoding, DATA dot-unstuffing):
# bundles/smtpd/src/test/java/org/estafeta/smtpd/bench. Never part of `mvn verify`: the JMH annotation processor
# runs only here, on a copy of the bench classes.
#
#   scripts/bench-smtpd.sh                    # the short configuration in the bench's annotations (3x2s warm-up, 5x2s, 1 fork)
#   scripts/bench-smtpd.sh -p chunk=64 -f 3   # any org.openjdk.jmh.Main option (-h lists them)
#
# Needs the modules smtpd depends on installed in ~/.m2 (mvn -o install -DskipTests once). Offline after the first
# run; the first run downloads jmh-generator-annprocess if it is not in ~/.m2 yet.
set -euo pipefail
cd "$(dirname "$0")/.."
M=bundles/smtpd
OUT=$M/target/bench
JMH_VERSION=$(sed -n 's:.*<jmh.version>\(.*\)</jmh.version>.*:\1:p' pom.xml | head -1)
REPO=${MAVEN_REPO:-$HOME/.m2/repository}
ANNPROC=$REPO/org/openjdk/jmh/jmh-generator-annprocess/$JMH_VERSION/jmh-generator-annprocess-$JMH_VERSION.jar

mvn -q -o -pl $M test-compile
mkdir -p "$OUT"
mvn -q -o -pl $M dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$PWD/$OUT/classpath.txt" >/dev/null
if [ ! -f "$ANNPROC" ]; then
    mvn -q dependency:get -Dartifact=org.openjdk.jmh:jmh-generator-annprocess:"$JMH_VERSION" >/dev/null
fi
CP="$M/target/classes:$(cat "$OUT/classpath.txt")"

rm -rf "$OUT/classes" "$OUT/generated"
mkdir -p "$OUT/classes" "$OUT/generated"
javac -nowarn -cp "$CP:$ANNPROC" -processorpath "$ANNPROC:$CP" -s "$OUT/generated" -d "$OUT/classes" \
    $(find $M/src/test/java -path '*/bench/*.java')

echo "JMH $JMH_VERSION, $(java -version 2>&1 | head -1), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
exec java -cp "$OUT/classes:$CP" org.openjdk.jmh.Main -rf text -rff "$OUT/result.txt" "$@"
