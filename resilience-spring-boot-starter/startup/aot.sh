#!/usr/bin/env bash
# Spring's AOT processing of examples/spring-boot-checkout, once with the starter and once without
# its auto-configurations, for pairs.py (see README, "Startup cost"). Writes into DIR (default
# /tmp/aot): lib/ (the example's runtime jars, copied so that a later install does not change what an
# archive was made from), app.jar and app-test.jar (its classes and test classes), aot-with.jar and
# aot-without.jar (the generated code, compiled), and cp-aot.txt, the class path for pairs.py with
# "{v}" for the variant. Needs `mvn install` and `mvn test-compile -pl examples/spring-boot-checkout`
# first. Then, for example:
#   STARTUP_APP=checkout startup/pairs.py 30 DIR/cp-aot.txt -Dspring.aot.enabled=true \
#       '-XX:SharedArchiveFile=DIR/cds-{v}.jsa'
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${1:-/tmp/aot}
mkdir -p "$DIR/lib"
cd "$REPO"
mvn -B -q -o dependency:build-classpath -pl examples/spring-boot-checkout -Dmdep.includeScope=runtime \
    -Dmdep.outputFile="$DIR/deps.txt"
rm -f "$DIR"/lib/*.jar
tr ':' '\n' < "$DIR/deps.txt" | while read -r jar; do cp "$jar" "$DIR/lib/"; done
T=examples/spring-boot-checkout/target
jar cf "$DIR/app.jar" -C "$T/classes" .
jar cf "$DIR/app-test.jar" -C "$T/test-classes" .
BASE=$(ls "$DIR"/lib/*.jar | tr '\n' ':')"$DIR/app.jar:$DIR/app-test.jar"
EX="--spring.autoconfigure.exclude=$(printf 'dev.resilience.spring.autoconfigure.%s,' ResilienceAutoConfiguration \
    ResilienceWebAutoConfiguration ResilienceActuatorAutoConfiguration ResilienceWebFluxAutoConfiguration \
    ResilienceCloudAutoConfiguration | sed 's/,$//')"
for v in with without; do
    rm -rf "${DIR:?}/$v"
    mkdir -p "$DIR/$v"
    extra=()
    [ "$v" = without ] && extra=("$EX")
    # The application class is the one whose main method starts Spring: SpringApplication looks for
    # <main class>__ApplicationContextInitializer when spring.aot.enabled is set.
    java -cp "$BASE" org.springframework.boot.SpringApplicationAotProcessor \
        dev.resilience.examples.boot.CheckoutStartup "$DIR/$v/src" "$DIR/$v/res" "$DIR/$v/classes" \
        dev.resilience spring-boot-checkout --server.port=0 --payments.url=http://127.0.0.1:9 \
        --logging.level.root=WARN "${extra[@]}" > "$DIR/$v/aot.log" 2>&1
    find "$DIR/$v/src" -name '*.java' > "$DIR/$v/sources.txt"
    javac -nowarn -proc:none -cp "$BASE:$DIR/$v/classes" -d "$DIR/$v/classes" "@$DIR/$v/sources.txt"
    cp -r "$DIR/$v/res/." "$DIR/$v/classes/"
    rm -f "$DIR/aot-$v.jar"
    jar cf "$DIR/aot-$v.jar" -C "$DIR/$v/classes" .
done
echo "$BASE:$DIR/aot-{v}.jar" > "$DIR/cp-aot.txt"
echo "class path for pairs.py: $DIR/cp-aot.txt"
