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
 * Builds the Lucene index of the events: pass 1 decides each field's type ({@link Mapping}),
 * pass 2 indexes every event as one document. Document numbers reported to the user are line
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
        double ramBufferMb = 256;
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
    final long pass1Nanos;
    final long pass2Nanos;

    private EventIndex(Mapping mapping, Directory dir, DirectoryReader reader, int[] lineOf, long events,
                       long blankLines, long oversizedValues, Map<String, Long> oversizedByField,
                       long pass1Nanos, long pass2Nanos) {
        this.mapping = mapping;
        this.dir = dir;
        this.reader = reader;
        this.lineOf = lineOf;
        this.events = events;
        this.blankLines = blankLines;
        this.oversizedValues = oversizedValues;
        this.oversizedByField = oversizedByField;
        this.pass1Nanos = pass1Nanos;
        this.pass2Nanos = pass2Nanos;
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
        // Pass 1: field types.
        long t0 = System.nanoTime();
        List<Map<String, Mapping.Stats>> perWorker = new ArrayList<>();
        JsonEvents json = new JsonEvents();
        AtomicLong blanks = new AtomicLong();
        long n = Lines.process(files, opt.threads, () -> {
            Map<String, Mapping.Stats> local = new HashMap<>();
            synchronized (perWorker) {
                perWorker.add(local);
            }
            return line -> {
                if (line.isBlank()) {
                    if (opt.blankLines == BlankLines.ERROR) {
                        throw new EventError(line.where() + ": blank line (event " + line.number()
                                + "); use --blank-lines empty to index it as an empty document");
                    }
                    blanks.incrementAndGet();
                    return;
                }
                try {
                    json.flatten(line.data(), line.length(), (field, kind, text) -> {
                        if (field.equals(FIELD_NAMES) || field.equals(LINE)) {
                            throw new JsonEvents.BadEvent("field name " + field + " is reserved by the harness");
                        }
                        local.computeIfAbsent(field, k -> new Mapping.Stats()).add(kind);
                    });
                } catch (JsonEvents.BadEvent e) {
                    throw new EventError(line.where() + " (event " + line.number() + "): " + e.getMessage());
                }
            };
        });
        Map<String, Mapping.Stats> stats = new HashMap<>();
        for (Map<String, Mapping.Stats> m : perWorker) {
            for (Map.Entry<String, Mapping.Stats> e : m.entrySet()) {
                stats.computeIfAbsent(e.getKey(), k -> new Mapping.Stats()).merge(e.getValue());
            }
        }
        Mapping mapping = Mapping.decide(stats, opt.allKeyword);
        long t1 = System.nanoTime();

        // Pass 2: index.
        Directory dir = opt.indexDir == null ? new ByteBuffersDirectory() : new MMapDirectory(opt.indexDir);
        IndexWriterConfig cfg = new IndexWriterConfig(new KeywordAnalyzer());
        cfg.setOpenMode(IndexWriterConfig.OpenMode.CREATE);
        cfg.setRAMBufferSizeMB(opt.ramBufferMb);
        cfg.setUseCompoundFile(false);
        AtomicLong oversized = new AtomicLong();
        Map<String, Long> oversizedByField = new HashMap<>();
        long indexed;
        try (IndexWriter writer = new IndexWriter(dir, cfg)) {
            indexed = Lines.process(files, opt.threads, () -> new DocBuilder(mapping, json, writer, oversized, oversizedByField));
            writer.forceMerge(1);
            writer.commit();
        }
        if (indexed != n) {
            throw new EventError("the events files changed between the two passes (" + n + " then " + indexed + " lines)");
        }
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
                t1 - t0, t2 - t1);
    }

    /** Turns each event into a Lucene document; one per worker thread. */
    private static final class DocBuilder implements Lines.Worker {
        private static final FieldType KEYWORD = StringField.TYPE_NOT_STORED;

        private final Mapping mapping;
        private final JsonEvents json;
        private final IndexWriter writer;
        private final AtomicLong oversized;
        private final Map<String, Long> oversizedByField;
        private final Set<String> present = new HashSet<>();
        private final Set<String> names = new HashSet<>();

        DocBuilder(Mapping mapping, JsonEvents json, IndexWriter writer, AtomicLong oversized,
                   Map<String, Long> oversizedByField) {
            this.mapping = mapping;
            this.json = json;
            this.writer = writer;
            this.oversized = oversized;
            this.oversizedByField = oversizedByField;
        }

        @Override
        public void line(Lines.Line line) throws Exception {
            Document doc = new Document();
            doc.add(new NumericDocValuesField(LINE, line.number()));
            present.clear();
            if (!line.isBlank()) {
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

        private void add(Document doc, String field, JsonEvents.ValueKind kind, String text) {
            if (kind == JsonEvents.ValueKind.NULL) {
                return;
            }
            present.add(field);
            switch (mapping.kind(field)) {
                case KEYWORD -> {
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
                case LONG -> doc.add(new LongPoint(field, Long.parseLong(text)));
                case DOUBLE -> doc.add(new DoublePoint(field, Double.parseDouble(text)));
            }
        }
    }

    @Override
    public void close() throws IOException {
        reader.close();
        dir.close();
    }
}
