package sigwatch.luceneharness;

import org.apache.lucene.search.Query;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The outcome of building one multi-term query: the query and maybe a warning, or a failure
 * message. Shared across queries and threads through {@link Cache}.
 */
record Compiled(Query query, String warning, String failure) {
    /** Bounded, thread-safe memo of compiled queries for one run (one mapping and settings). */
    static final class Cache {
        private record Key(String what, String field, String term) {}

        private final ConcurrentHashMap<Key, Compiled> map = new ConcurrentHashMap<>();
        private final int maxEntries;

        Cache(int maxEntries) {
            this.maxEntries = maxEntries;
        }

        Compiled get(String what, String field, String term, Supplier<Compiled> build) {
            Key k = new Key(what, field, term);
            Compiled c = map.get(k);
            if (c != null) {
                return c;
            }
            c = build.get();
            if (map.size() < maxEntries) {
                map.putIfAbsent(k, c);
            }
            return c;
        }
    }
}
