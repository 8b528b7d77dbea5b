package sigwatch.luceneharness;

import org.apache.lucene.analysis.core.KeywordAnalyzer;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.DoublePoint;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.FieldType;
import org.apache.lucene.document.LongPoint;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NoMergePolicy;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.MMapDirectory;
import org.apache.lucene.util.UnicodeUtil;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Builds the Lucene index of the events in one pass, one document per event, and decides each
 * field's type ({@link Mapping}) from the values seen. Document numbers reported to the user are line
 * numbers, kept in a doc-values field so they survive concurrent indexing and merges.
 */
final class EventIndex implements AutoCloseable {
    /** Hidden field holding every non-null field name of a document, and its dotted parents. */
    static final String FIELD_NAMES = "_field_names";
    /** Hidden doc-values field: the 0-based line number of the event. */
    static final String LINE = "_line";

    /** Longest term Lucene accepts (bytes of UTF-8). */
    static final int MAX_TERM_BYTES = IndexWriter.MAX_TERM_LENGTH;

    enum BlankLines { ERROR, EMPTY }

    static final class Options {
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        BlankLines blankLines = BlankLines.ERROR;
        boolean allKeyword;
        Path indexDir;
        double ramBufferMb = 1024;
    }

    final Mapping mapping;
    final Directory dir;
    final DirectoryReader reader;
    /** Lucene doc id to line number. */
    final int[] lineOf;
    final long events;
    final long blankLines;
    final long oversizedValues;
    final Map<String, Long> oversizedByField;
    final int segments;
    final long indexNanos;
    final long openNanos;

    private EventIndex(Mapping mapping, Directory dir, DirectoryReader reader, int[] lineOf, long events,
                       long blankLines, long oversizedValues, Map<String, Long> oversizedByField, int segments,
                       long indexNanos, long openNanos) {
        this.mapping = mapping;
        this.dir = dir;
        this.reader = reader;
        this.lineOf = lineOf;
        this.events = events;
        this.blankLines = blankLines;
        this.oversizedValues = oversizedValues;
        this.oversizedByField = oversizedByField;
        this.segments = segments;
        this.indexNanos = indexNanos;
        this.openNanos = openNanos;
    }

    static final class EventError extends Exception {
        EventError(String message) {
            super(message);
        }
    }

    static EventIndex build(List<Path> files, Options opt) throws Exception {
        for (Path f : files) {
            if (!Files.isReadable(f)) {
                throw new EventError("cannot read events file " + f);
            }
        }
        // One pass: every value is indexed as its keyword text, and numbers also as points under
        // hidden per-kind names; the field's kind (which of these a query uses) is decided after
        // indexing from the statistics gathered on the way.
        long t0 = System.nanoTime();
        JsonEvents json = new JsonEvents();
        AtomicLong blanks = new AtomicLong();
        Directory dir = opt.indexDir == null ? new ByteBuffersDirectory() : new MMapDirectory(opt.indexDir);
        IndexWriterConfig cfg = new IndexWriterConfig(new KeywordAnalyzer());
        cfg.setOpenMode(IndexWriterConfig.OpenMode.CREATE);
        cfg.setRAMBufferSizeMB(opt.ramBufferMb);
        cfg.setUseCompoundFile(false);
        // Merging would re-encode the whole index for little gain: the costly queries scan term
        // dictionaries, and unique values are not duplicated across segments.
        cfg.setMergePolicy(NoMergePolicy.INSTANCE);
        AtomicLong oversized = new AtomicLong();
        Map<String, Long> oversizedByField = new HashMap<>();
        List<DocBuilder> builders = new ArrayList<>();
        long n;
        try (IndexWriter writer = new IndexWriter(dir, cfg)) {
            n = Lines.process(files, opt.threads, () -> {
                DocBuilder b = new DocBuilder(json, writer, opt.blankLines, blanks, oversized, oversizedByField);
                synchronized (builders) {
                    builders.add(b);
                }
                return b;
            });
            writer.commit();
        }
        Map<String, Mapping.Stats> stats = new HashMap<>();
        for (DocBuilder b : builders) {
            for (Map.Entry<String, Mapping.Stats> e : b.stats.entrySet()) {
                stats.computeIfAbsent(e.getKey(), k -> new Mapping.Stats()).merge(e.getValue());
            }
        }
        Mapping mapping = Mapping.decide(stats, opt.allKeyword);
        long t1 = System.nanoTime();
        DirectoryReader reader = DirectoryReader.open(dir);
        if (reader.maxDoc() != n) {
            throw new IllegalStateException("indexed " + reader.maxDoc() + " documents for " + n + " lines");
        }
        int[] lineOf = new int[reader.maxDoc()];
        boolean[] seen = new boolean[reader.maxDoc()];
        for (LeafReaderContext leaf : reader.leaves()) {
            NumericDocValues dv = leaf.reader().getNumericDocValues(LINE);
            if (dv == null) {
                throw new IllegalStateException("segment without line numbers");
            }
            int d;
            while ((d = dv.nextDoc()) != DocIdSetIterator.NO_MORE_DOCS) {
                int line = (int) dv.longValue();
                lineOf[leaf.docBase + d] = line;
                if (seen[line]) {
                    throw new IllegalStateException("line " + line + " indexed twice");
                }
                seen[line] = true;
            }
        }
        long t2 = System.nanoTime();
        return new EventIndex(mapping, dir, reader, lineOf, n, blanks.get(), oversized.get(), oversizedByField,
                reader.leaves().size(), t1 - t0, t2 - t1);
    }

    /** Where the points of a numeric field live: a hidden name per kind. */
    static String pointField(String field, Mapping.Kind kind) {
        return field + (kind == Mapping.Kind.LONG ? "\u0000long" : "\u0000double");
    }

    /** Turns each event into a Lucene document and counts value kinds; one per worker thread. */
    private static final class DocBuilder implements Lines.Worker {
        private static final FieldType KEYWORD = StringField.TYPE_NOT_STORED;

        final Map<String, Mapping.Stats> stats = new HashMap<>();
        private final JsonEvents json;
        private final IndexWriter writer;
        private final BlankLines blankLines;
        private final AtomicLong blanks;
        private final AtomicLong oversized;
        private final Map<String, Long> oversizedByField;
        private final Set<String> present = new HashSet<>();
        private final Set<String> names = new HashSet<>();

        DocBuilder(JsonEvents json, IndexWriter writer, BlankLines blankLines, AtomicLong blanks,
                   AtomicLong oversized, Map<String, Long> oversizedByField) {
            this.json = json;
            this.writer = writer;
            this.blankLines = blankLines;
            this.blanks = blanks;
            this.oversized = oversized;
            this.oversizedByField = oversizedByField;
        }

        @Override
        public void line(Lines.Line line) throws Exception {
            Document doc = new Document();
            doc.add(new NumericDocValuesField(LINE, line.number()));
            present.clear();
            if (line.isBlank()) {
                if (blankLines == BlankLines.ERROR) {
                    throw new EventError(line.where() + ": blank line (event " + line.number()
                            + "); use --blank-lines empty to index it as an empty document");
                }
                blanks.incrementAndGet();
            } else {
                try {
                    json.flatten(line.data(), line.length(), (field, kind, text) -> add(doc, field, kind, text));
                } catch (JsonEvents.BadEvent e) {
                    throw new EventError(line.where() + " (event " + line.number() + "): " + e.getMessage());
                }
            }
            names.clear();
            for (String name : present) {
                names.addAll(Mapping.withParents(name));
            }
            for (String n : names) {
                doc.add(new Field(FIELD_NAMES, n, KEYWORD));
            }
            writer.addDocument(doc);
        }

        private void add(Document doc, String field, JsonEvents.ValueKind kind, String text)
                throws JsonEvents.BadEvent {
            if (field.equals(FIELD_NAMES) || field.equals(LINE) || field.indexOf('\u0000') >= 0) {
                throw new JsonEvents.BadEvent("field name " + field + " is reserved by the harness");
            }
            stats.computeIfAbsent(field, k -> new Mapping.Stats()).add(kind);
            if (kind == JsonEvents.ValueKind.NULL) {
                return;
            }
            present.add(field);
            switch (kind) {
                case INTEGER -> {
                    long v = Long.parseLong(text);
                    doc.add(new LongPoint(pointField(field, Mapping.Kind.LONG), v));
                    doc.add(new DoublePoint(pointField(field, Mapping.Kind.DOUBLE), (double) v));
                }
                case BIG_INTEGER, FLOAT ->
                        doc.add(new DoublePoint(pointField(field, Mapping.Kind.DOUBLE), Double.parseDouble(text)));
                default -> {
                    // strings and booleans: keyword only
                }
            }
            if (text.length() * 3L > MAX_TERM_BYTES
                    && UnicodeUtil.calcUTF16toUTF8Length(text, 0, text.length()) > MAX_TERM_BYTES) {
                oversized.incrementAndGet();
                synchronized (oversizedByField) {
                    oversizedByField.merge(field, 1L, Long::sum);
                }
                return;
            }
            doc.add(new Field(field, text, KEYWORD));
        }
    }

    @Override
    public void close() throws IOException {
        reader.close();
        dir.close();
    }
}
