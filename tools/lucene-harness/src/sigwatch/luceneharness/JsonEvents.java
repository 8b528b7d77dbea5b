package sigwatch.luceneharness;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;

/**
 * Flattens one JSON event (one line of the events file) into (dotted field name, scalar value)
 * pairs, the way Elasticsearch sees a document: nested objects become dotted names
 * ({@code {"a":{"b":1}}} gives {@code a.b}), arrays give several values for the same name (arrays
 * of arrays and arrays of objects are flattened too), and JSON null is reported so the caller can
 * skip it.
 */
final class JsonEvents {
    /** The scalar kinds a leaf value can have. */
    enum ValueKind { STRING, INTEGER, BIG_INTEGER, FLOAT, BOOLEAN, NULL }

    /** Receives the leaf values of one event, in document order. */
    interface Sink {
        void value(String field, ValueKind kind, String text) throws BadEvent;
    }

    /** An event line that is not a single well-formed JSON object, or that breaks a rule. */
    static final class BadEvent extends Exception {
        BadEvent(String message) {
            super(message);
        }
    }

    private final JsonFactory factory;

    JsonEvents() {
        factory = new JsonFactory();
        // Elasticsearch rejects documents with duplicate keys; so do we.
        factory.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    }

    JsonFactory factory() {
        return factory;
    }

    /** Parses one line (UTF-8 bytes) as a JSON object and feeds its leaves to the sink. */
    void flatten(byte[] line, int length, Sink sink) throws BadEvent {
        try (JsonParser p = factory.createParser(line, 0, length)) {
            JsonToken first = p.nextToken();
            if (first != JsonToken.START_OBJECT) {
                throw new BadEvent("an event must be a JSON object, found " + describe(first));
            }
            readObject(p, "", sink);
            JsonToken trailing = p.nextToken();
            if (trailing != null) {
                throw new BadEvent("unexpected " + describe(trailing) + " after the JSON object");
            }
        } catch (JsonParseException e) {
            throw new BadEvent("invalid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new BadEvent("cannot read JSON: " + e.getMessage());
        }
    }

    private static String describe(JsonToken t) {
        return t == null ? "end of line" : t.toString();
    }

    private static void readObject(JsonParser p, String prefix, Sink sink) throws IOException, BadEvent {
        while (true) {
            JsonToken t = p.nextToken();
            if (t == JsonToken.END_OBJECT) {
                return;
            }
            if (t != JsonToken.FIELD_NAME) {
                throw new BadEvent("expected a field name, found " + describe(t));
            }
            String name = p.getCurrentName();
            String full = prefix.isEmpty() ? name : prefix + "." + name;
            readValue(p, p.nextToken(), full, sink);
        }
    }

    private static void readValue(JsonParser p, JsonToken t, String field, Sink sink)
            throws IOException, BadEvent {
        if (t == null) {
            throw new BadEvent("truncated JSON");
        }
        switch (t) {
            case START_OBJECT -> readObject(p, field, sink);
            case START_ARRAY -> {
                JsonToken e;
                while ((e = p.nextToken()) != JsonToken.END_ARRAY) {
                    readValue(p, e, field, sink);
                }
            }
            case VALUE_STRING -> sink.value(field, ValueKind.STRING, p.getText());
            case VALUE_NUMBER_INT -> {
                JsonParser.NumberType nt = p.getNumberType();
                ValueKind k = nt == JsonParser.NumberType.BIG_INTEGER ? ValueKind.BIG_INTEGER : ValueKind.INTEGER;
                sink.value(field, k, p.getText());
            }
            case VALUE_NUMBER_FLOAT -> sink.value(field, ValueKind.FLOAT, p.getText());
            case VALUE_TRUE -> sink.value(field, ValueKind.BOOLEAN, "true");
            case VALUE_FALSE -> sink.value(field, ValueKind.BOOLEAN, "false");
            case VALUE_NULL -> sink.value(field, ValueKind.NULL, null);
            default -> throw new BadEvent("unexpected " + t + " in field " + field);
        }
    }
}
