package sigwatch.luceneharness;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the queries file: one JSON object per line with {@code id} and {@code query}. For
 * {@code --check} (the self-test) a line may also say what it must give: {@code expect} (the
 * sorted hit list), {@code expect_error} (a substring of the error), {@code expect_warning} (a
 * substring of one warning). Other keys (e.g. {@code why}) are ignored.
 */
final class QueryFile {
    private QueryFile() {}

    record Entry(int index, String where, String id, String query, int[] expect, String expectError,
                 String expectWarning) {
        boolean hasExpectation() {
            return expect != null || expectError != null;
        }
    }

    static final class BadQueryLine extends Exception {
        BadQueryLine(String message) {
            super(message);
        }
    }

    static List<Entry> read(Path path) throws IOException, BadQueryLine {
        JsonFactory factory = new JsonFactory();
        factory.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        List<Entry> out = new ArrayList<>();
        try (InputStream in = Lines.open(path)) {
            Lines.Splitter s = new Lines.Splitter(in);
            byte[] line;
            long n = 0;
            while ((line = s.next()) != null) {
                n++;
                String where = path + ":" + n;
                try {
                    out.add(parse(factory, line, out.size(), where));
                } catch (JsonParseException e) {
                    throw new BadQueryLine(where + ": invalid JSON: " + e.getOriginalMessage());
                }
            }
        }
        return out;
    }

    private static Entry parse(JsonFactory factory, byte[] line, int index, String where)
            throws IOException, BadQueryLine {
        String id = null;
        String query = null;
        int[] expect = null;
        String expectError = null;
        String expectWarning = null;
        try (JsonParser p = factory.createParser(line)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new BadQueryLine(where + ": each line must be a JSON object {\"id\": ..., \"query\": ...}");
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String key = p.getCurrentName();
                JsonToken v = p.nextToken();
                switch (key) {
                    case "id" -> {
                        if (!v.isScalarValue() || v == JsonToken.VALUE_NULL) {
                            throw new BadQueryLine(where + ": \"id\" must be a string or a number");
                        }
                        id = p.getText();
                    }
                    case "query" -> {
                        if (v != JsonToken.VALUE_STRING) {
                            throw new BadQueryLine(where + ": \"query\" must be a string");
                        }
                        query = p.getText();
                    }
                    case "expect" -> {
                        if (v != JsonToken.START_ARRAY) {
                            throw new BadQueryLine(where + ": \"expect\" must be an array of doc numbers");
                        }
                        List<Integer> xs = new ArrayList<>();
                        while ((v = p.nextToken()) != JsonToken.END_ARRAY) {
                            if (v != JsonToken.VALUE_NUMBER_INT) {
                                throw new BadQueryLine(where + ": \"expect\" must hold integers");
                            }
                            xs.add(p.getIntValue());
                        }
                        expect = xs.stream().mapToInt(Integer::intValue).sorted().toArray();
                    }
                    case "expect_error" -> {
                        if (v != JsonToken.VALUE_STRING) {
                            throw new BadQueryLine(where + ": \"expect_error\" must be a string");
                        }
                        expectError = p.getText();
                    }
                    case "expect_warning" -> {
                        if (v != JsonToken.VALUE_STRING) {
                            throw new BadQueryLine(where + ": \"expect_warning\" must be a string");
                        }
                        expectWarning = p.getText();
                    }
                    default -> p.skipChildren();
                }
            }
            if (t != JsonToken.END_OBJECT || p.nextToken() != null) {
                throw new BadQueryLine(where + ": trailing data after the JSON object");
            }
        }
        if (id == null || query == null) {
            throw new BadQueryLine(where + ": each line needs \"id\" and \"query\"");
        }
        if (expect != null && expectError != null) {
            throw new BadQueryLine(where + ": \"expect\" and \"expect_error\" exclude each other");
        }
        return new Entry(index, where, id, query, expect, expectError, expectWarning);
    }
}
