package sigwatch.luceneharness;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.queryparser.classic.ParseException;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreMode;
import org.apache.lucene.search.SimpleCollector;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Command line: index JSON-lines events, run Lucene query_string queries, print the hits.
 * See tools/lucene-harness/README.md.
 */
public final class Main {
    private static final String USAGE = """
            usage: run.sh --events EVENTS.jsonl[.gz] [--events MORE ...] --queries QUERIES.jsonl [options]
              --out FILE                 write hit lines here (default: standard output)
              --threads N                worker threads for indexing and querying (default: cores)
              --blank-lines error|empty  a blank event line is an error (default) or an empty document
              --all-keyword              map every field as keyword (no numeric fields)
              --strict                   lenient=false: a per-field failure (bad number, wildcard on a
                                         number, invalid regex) fails the query instead of a warning
              --max-states N             max determinized automaton states (default 10000, as ES)
              --max-states-fallback N    retry a too complex wildcard/regex with this limit and warn
                                         (default 1000000; 0 = no retry)
              --max-clause-count N       max clauses per boolean query and fields per expansion
                                         (default 1024, as ES 7)
              --index-dir DIR            build the index in DIR (memory-mapped) instead of the heap
              --explain                  add the parsed Lucene query ("lucene") to each output line
              --timings                  add each query's parse + search time ("ms") to its output line
              --check                    compare with each query's expect/expect_error/expect_warning;
                                         exit 1 on any difference (the self-test)
            """;

    private Main() {}

    static final class Args {
        final List<Path> events = new ArrayList<>();
        Path queries;
        Path out;
        boolean explain;
        boolean timings;
        boolean check;
        int maxClauses = 1024;
        final EventIndex.Options index = new EventIndex.Options();
        final EsQueryParser.Settings parser = new EsQueryParser.Settings();
    }

    static final class UsageError extends Exception {
        UsageError(String message) {
            super(message);
        }
    }

    public static void main(String[] argv) {
        int code;
        try {
            code = run(parseArgs(argv));
        } catch (UsageError e) {
            System.err.println("lucene-harness: " + e.getMessage());
            System.err.print(USAGE);
            code = 2;
        } catch (EventIndex.EventError | QueryFile.BadQueryLine e) {
            System.err.println("lucene-harness: " + e.getMessage());
            code = 2;
        } catch (Exception e) {
            System.err.println("lucene-harness: failed: " + e);
            e.printStackTrace(System.err);
            code = 3;
        }
        System.exit(code);
    }

    private static Args parseArgs(String[] argv) throws UsageError {
        Args a = new Args();
        for (int i = 0; i < argv.length; i++) {
            String k = argv[i];
            switch (k) {
                case "--events" -> a.events.add(Path.of(value(argv, ++i, k)));
                case "--queries" -> a.queries = Path.of(value(argv, ++i, k));
                case "--out" -> a.out = Path.of(value(argv, ++i, k));
                case "--threads" -> a.index.threads = positive(value(argv, ++i, k), k);
                case "--blank-lines" -> {
                    String v = value(argv, ++i, k);
                    a.index.blankLines = switch (v) {
                        case "error" -> EventIndex.BlankLines.ERROR;
                        case "empty" -> EventIndex.BlankLines.EMPTY;
                        default -> throw new UsageError("--blank-lines takes error or empty, not " + v);
                    };
                }
                case "--all-keyword" -> a.index.allKeyword = true;
                case "--strict" -> a.parser.lenient = false;
                case "--max-states" -> a.parser.maxStates = positive(value(argv, ++i, k), k);
                case "--max-states-fallback" -> a.parser.fallbackStates = nonNegative(value(argv, ++i, k), k);
                case "--max-clause-count" -> a.maxClauses = positive(value(argv, ++i, k), k);
                case "--index-dir" -> a.index.indexDir = Path.of(value(argv, ++i, k));
                case "--explain" -> a.explain = true;
                case "--timings" -> a.timings = true;
                case "--check" -> a.check = true;
                case "-h", "--help" -> throw new UsageError("help");
                default -> throw new UsageError("unknown argument " + k);
            }
        }
        if (a.events.isEmpty() || a.queries == null) {
            throw new UsageError("--events and --queries are required");
        }
        for (Path p : a.events) {
            if (!Files.isReadable(p)) {
                throw new UsageError("cannot read events file " + p);
            }
        }
        if (!Files.isReadable(a.queries)) {
            throw new UsageError("cannot read queries file " + a.queries);
        }
        return a;
    }

    private static String value(String[] argv, int i, String key) throws UsageError {
        if (i >= argv.length) {
            throw new UsageError(key + " needs a value");
        }
        return argv[i];
    }

    private static int positive(String v, String key) throws UsageError {
        int n = nonNegative(v, key);
        if (n == 0) {
            throw new UsageError(key + " must be positive");
        }
        return n;
    }

    private static int nonNegative(String v, String key) throws UsageError {
        try {
            int n = Integer.parseInt(v);
            if (n < 0) {
                throw new UsageError(key + " must not be negative");
            }
            return n;
        } catch (NumberFormatException e) {
            throw new UsageError(key + " takes an integer, not " + v);
        }
    }

    /** The outcome of one query. */
    record Result(QueryFile.Entry entry, boolean ok, int[] hits, String error, List<String> warnings,
                  String lucene, long nanos, int statesUsed) {}

    /** Collects every matching document (no scoring, no top-N). */
    private static final class AllHits extends SimpleCollector {
        private int base;
        private int[] docs = new int[64];
        private int size;

        @Override
        protected void doSetNextReader(LeafReaderContext context) {
            base = context.docBase;
        }

        @Override
        public void collect(int doc) {
            if (size == docs.length) {
                docs = Arrays.copyOf(docs, size * 2);
            }
            docs[size++] = base + doc;
        }

        @Override
        public ScoreMode scoreMode() {
            return ScoreMode.COMPLETE_NO_SCORES;
        }
    }

    static int run(Args a) throws Exception {
        PrintStream err = System.err;
        BooleanQuery.setMaxClauseCount(a.maxClauses);
        List<QueryFile.Entry> entries = QueryFile.read(a.queries);

        long t0 = System.nanoTime();
        try (EventIndex index = EventIndex.build(a.events, a.index)) {
            long t1 = System.nanoTime();
            reportIndex(err, index, t1 - t0);

            IndexSearcher searcher = new IndexSearcher(index.reader);
            // Lucene's query cache would scan a wildcard's terms twice (once to fill the cache) for
            // queries that are almost never repeated.
            searcher.setQueryCache(null);
            Compiled.Cache cache = new Compiled.Cache(50_000);
            ThreadLocal<EsQueryParser> parsers =
                    ThreadLocal.withInitial(() -> new EsQueryParser(index.mapping, a.parser, cache));
            ExecutorService pool = Executors.newFixedThreadPool(a.index.threads);
            List<Future<Result>> futures = new ArrayList<>(entries.size());
            long q0 = System.nanoTime();
            for (QueryFile.Entry e : entries) {
                futures.add(pool.submit(() -> runOne(e, parsers.get(), searcher, index.lineOf, a.explain)));
            }
            List<Result> slowest = new ArrayList<>();
            long parsed = 0;
            long failed = 0;
            long withWarnings = 0;
            long fallbackUsed = 0;
            long totalHits = 0;
            long passed = 0;
            List<String> mismatches = new ArrayList<>();
            // One object per line: no separator between root values (Jackson's default is a space).
            JsonFactory jf = new JsonFactory().setRootValueSeparator(null);
            try (OutputStream raw = a.out == null ? new NonClosing(System.out) : Files.newOutputStream(a.out);
                 OutputStream out = new BufferedOutputStream(raw, 1 << 16);
                 JsonGenerator g = jf.createGenerator(out)) {
                g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
                for (Future<Result> f : futures) {
                    Result r = f.get();
                    write(g, r, a.timings);
                    if (r.ok()) {
                        parsed++;
                        totalHits += r.hits().length;
                    } else {
                        failed++;
                    }
                    if (!r.warnings().isEmpty()) {
                        withWarnings++;
                    }
                    if (r.statesUsed() > a.parser.maxStates) {
                        fallbackUsed++;
                    }
                    slowest.add(r);
                    slowest.sort(Comparator.comparingLong(Result::nanos).reversed());
                    if (slowest.size() > 5) {
                        slowest.remove(5);
                    }
                    if (a.check) {
                        String problem = check(r);
                        if (problem == null) {
                            passed++;
                        } else {
                            mismatches.add(r.entry().where() + " [" + r.entry().id() + "] " + problem);
                        }
                    }
                }
                g.flush();
            } finally {
                pool.shutdown();
            }
            long q1 = System.nanoTime();
            err.printf(Locale.ROOT, "queries: %d, parsed: %d, failed: %d, with warnings: %d, needing the states fallback: %d, total hits: %d, query time: %.2f s (%d threads)%n",
                    entries.size(), parsed, failed, withWarnings, fallbackUsed, totalHits, (q1 - q0) / 1e9, a.index.threads);
            for (Result r : slowest) {
                err.printf(Locale.ROOT, "  slow: %.1f ms %s%n", r.nanos() / 1e6, r.entry().id());
            }
            err.printf(Locale.ROOT, "total time: %.2f s, CPU: %.1f s%n", (q1 - t0) / 1e9, cpuSeconds());
            if (a.check) {
                for (String m : mismatches) {
                    err.println("FAIL " + m);
                }
                err.println(passed + " passed, " + mismatches.size() + " failed");
                return mismatches.isEmpty() ? 0 : 1;
            }
            return 0;
        }
    }

    /** CPU time of the whole process so far (all threads), for comparisons on a shared machine. */
    private static double cpuSeconds() {
        return ProcessHandle.current().info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(Double.NaN);
    }

    private static void reportIndex(PrintStream err, EventIndex index, long nanos) {
        Mapping m = index.mapping;
        err.printf(Locale.ROOT, "events: %d (blank: %d), fields: %d (keyword %d, long %d, double %d)%n",
                index.events, index.blankLines, m.fields().size(), m.count(Mapping.Kind.KEYWORD),
                m.count(Mapping.Kind.LONG), m.count(Mapping.Kind.DOUBLE));
        for (Map.Entry<String, Mapping.Stats> e : m.stats().entrySet()) {
            Mapping.Stats s = e.getValue();
            if (s.numbers() > 0 && s.strings + s.booleans > 0) {
                err.printf(Locale.ROOT, "  mixed field %s: %d numbers, %d strings, %d booleans -> %s%n", e.getKey(),
                        s.numbers(), s.strings, s.booleans, m.kind(e.getKey()).esName);
            }
        }
        if (index.oversizedValues > 0) {
            err.printf(Locale.ROOT, "  %d values longer than %d UTF-8 bytes were not indexed as terms: %s%n",
                    index.oversizedValues, EventIndex.MAX_TERM_BYTES, index.oversizedByField);
        }
        err.printf(Locale.ROOT, "index time: %.2f s (indexing %.2f s, opening %.2f s; %d segments), CPU so far: %.1f s%n",
                nanos / 1e9, index.indexNanos / 1e9, index.openNanos / 1e9, index.segments, cpuSeconds());
    }

    private static Result runOne(QueryFile.Entry e, EsQueryParser parser, IndexSearcher searcher, int[] lineOf,
                                 boolean explain) {
        long s = System.nanoTime();
        EsQueryParser.Parsed p;
        try {
            p = parser.parseQuery(e.query());
        } catch (ParseException | RuntimeException ex) {
            String msg = ex.getMessage() == null ? ex.toString() : ex.getMessage();
            return new Result(e, false, null, shorten(msg.strip(), e.query()), List.of(), null, System.nanoTime() - s, 0);
        }
        AllHits c = new AllHits();
        try {
            searcher.search(p.query(), c);
        } catch (IOException | RuntimeException ex) {
            return new Result(e, false, null, "search failed: " + ex, p.warnings(), null, System.nanoTime() - s,
                    p.statesUsed());
        }
        int[] hits = new int[c.size];
        for (int i = 0; i < c.size; i++) {
            hits[i] = lineOf[c.docs[i]];
        }
        Arrays.sort(hits);
        Query q = p.query();
        return new Result(e, true, hits, null, p.warnings(), explain ? q.toString() : null, System.nanoTime() - s,
                p.statesUsed());
    }

    /** The parser quotes the whole query in its messages; keep the start of a long one. */
    static String shorten(String msg, String query) {
        String quoted = "'" + query + "'";
        if (query.length() > 300 && msg.contains(quoted)) {
            return msg.replace(quoted, "'" + query.substring(0, 200) + "...' (" + query.length() + " characters)");
        }
        return msg;
    }

    private static void write(JsonGenerator g, Result r, boolean timings) throws IOException {
        g.writeStartObject();
        g.writeStringField("id", r.entry().id());
        g.writeBooleanField("ok", r.ok());
        if (r.ok()) {
            g.writeArrayFieldStart("hits");
            for (int h : r.hits()) {
                g.writeNumber(h);
            }
            g.writeEndArray();
            g.writeNumberField("count", r.hits().length);
        } else {
            g.writeStringField("error", r.error());
        }
        if (!r.warnings().isEmpty()) {
            g.writeArrayFieldStart("warnings");
            for (String w : r.warnings()) {
                g.writeString(w);
            }
            g.writeEndArray();
        }
        if (r.lucene() != null) {
            g.writeStringField("lucene", r.lucene());
        }
        if (timings) {
            g.writeNumberField("ms", Math.round(r.nanos() / 1e4) / 100.0);
        }
        g.writeEndObject();
        g.writeRaw('\n');
    }

    /** Null when the result is what the entry expects, else what differs. */
    static String check(Result r) {
        QueryFile.Entry e = r.entry();
        if (!e.hasExpectation()) {
            return "has no expect or expect_error";
        }
        if (e.expectError() != null) {
            if (r.ok()) {
                return "expected an error containing \"" + e.expectError() + "\", got hits " + Arrays.toString(r.hits());
            }
            if (!r.error().contains(e.expectError())) {
                return "expected an error containing \"" + e.expectError() + "\", got: " + r.error();
            }
            return null;
        }
        if (!r.ok()) {
            return "expected hits " + Arrays.toString(e.expect()) + ", got error: " + r.error();
        }
        if (!Arrays.equals(e.expect(), r.hits())) {
            return "expected hits " + Arrays.toString(e.expect()) + ", got " + Arrays.toString(r.hits())
                    + (r.warnings().isEmpty() ? "" : " (warnings: " + r.warnings() + ")");
        }
        if (e.expectWarning() == null) {
            if (!r.warnings().isEmpty()) {
                return "expected no warning, got " + r.warnings();
            }
        } else if (r.warnings().stream().noneMatch(w -> w.contains(e.expectWarning()))) {
            return "expected a warning containing \"" + e.expectWarning() + "\", got " + r.warnings();
        }
        return null;
    }

    /** Standard output must stay open for the summary's sake of other writers. */
    private static final class NonClosing extends java.io.FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }
}
