#!/usr/bin/env bash
# Real-Lucene test harness: index JSON-lines events, run query_string queries, print the hits.
# Compiles the harness into target/lucene-harness/ when its sources changed, then runs it.
# Usage: tools/lucene-harness/run.sh --events EVENTS.jsonl[.gz] --queries QUERIES.jsonl [--out HITS.jsonl]
# Heap: LUCENE_HARNESS_HEAP (default 6g); more JVM options: LUCENE_HARNESS_JAVA_OPTS. See tools/lucene-harness/README.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$ROOT/target/lucene-harness"
APT_HINT="apt-get install -y openjdk-17-jdk-headless liblucene8-java libjackson2-core-java"

die() {
    echo "lucene-harness: $*" >&2
    echo "lucene-harness: install the prerequisites with: $APT_HINT" >&2
    exit 2
}

command -v java >/dev/null 2>&1 || die "java not found"
command -v javac >/dev/null 2>&1 || die "javac not found (a JDK is needed, not only a JRE)"

# Debian's liblucene8-java keeps stable 8.x names in its maven-repo; fall back to /usr/share/java.
find_jar() {
    local artifact="$1" jar
    jar="/usr/share/maven-repo/org/apache/lucene/$artifact/8.x/$artifact-8.x.jar"
    if [ -f "$jar" ]; then echo "$jar"; return 0; fi
    for jar in /usr/share/java/"$artifact"-8*.jar; do
        if [ -f "$jar" ]; then echo "$jar"; return 0; fi
    done
    return 1
}

CP=""
for artifact in lucene-core lucene-queryparser lucene-analyzers-common lucene-queries; do
    jar="$(find_jar "$artifact")" || die "Lucene 8 jar $artifact not found (Debian package liblucene8-java)"
    CP="$CP:$jar"
done
JACKSON=/usr/share/java/jackson-core.jar
[ -f "$JACKSON" ] || die "$JACKSON not found (Debian package libjackson2-core-java)"
CP="${CP#:}:$JACKSON"

# Recompile when any source (or this script, which holds the class path) is newer than the stamp.
STAMP="$OUT/classes/.stamp"
if [ ! -f "$STAMP" ] || [ -n "$(find "$HERE/src" "$HERE/run.sh" -newer "$STAMP" -print -quit)" ]; then
    rm -rf "$OUT/classes"
    mkdir -p "$OUT/classes"
    mapfile -t SOURCES < <(find "$HERE/src" -name '*.java' | sort)
    javac --release 17 -Xlint:all,-serial -Werror -encoding UTF-8 -cp "$CP" -d "$OUT/classes" "${SOURCES[@]}" >&2 \
        || { echo "lucene-harness: compilation failed" >&2; exit 2; }
    touch "$STAMP"
fi

# shellcheck disable=SC2086 # LUCENE_HARNESS_JAVA_OPTS is a list of options
exec java -Xmx"${LUCENE_HARNESS_HEAP:-6g}" -Xss8m -XX:+UseParallelGC ${LUCENE_HARNESS_JAVA_OPTS:-} \
    -cp "$OUT/classes:$CP" sigwatch.luceneharness.Main "$@"
