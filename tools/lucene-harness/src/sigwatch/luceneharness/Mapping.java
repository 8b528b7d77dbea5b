package sigwatch.luceneharness;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The per-field type decided from a first pass over all events, in the spirit of Elasticsearch
 * dynamic mapping but independent of event order: a field whose non-null values are all JSON
 * numbers is numeric ({@code long} if every one is an integer that fits in 64 bits, else
 * {@code double}); any other field (a string or boolean value seen at least once) is a keyword.
 */
final class Mapping {
    enum Kind {
        KEYWORD("keyword"), LONG("long"), DOUBLE("double");

        final String esName;

        Kind(String esName) {
            this.esName = esName;
        }
    }

    /** Value counts of one field, gathered in the first pass. */
    static final class Stats {
        long strings;
        long booleans;
        long integers;
        long bigIntegers;
        long floats;
        long nulls;

        void add(JsonEvents.ValueKind k) {
            switch (k) {
                case STRING -> strings++;
                case BOOLEAN -> booleans++;
                case INTEGER -> integers++;
                case BIG_INTEGER -> bigIntegers++;
                case FLOAT -> floats++;
                case NULL -> nulls++;
            }
        }

        void merge(Stats o) {
            strings += o.strings;
            booleans += o.booleans;
            integers += o.integers;
            bigIntegers += o.bigIntegers;
            floats += o.floats;
            nulls += o.nulls;
        }

        long numbers() {
            return integers + bigIntegers + floats;
        }

        long nonNull() {
            return strings + booleans + numbers();
        }
    }

    private final Map<String, Kind> kinds;
    /** Leaf fields with at least one non-null value, sorted: what {@code *} expands to. */
    private final List<String> fields;
    /** Leaf fields and all their dotted parents, sorted: what {@code _exists_:pattern} expands to. */
    private final List<String> existsNames;
    private final Map<String, Stats> stats;

    private Mapping(Map<String, Kind> kinds, List<String> fields, List<String> existsNames, Map<String, Stats> stats) {
        this.kinds = kinds;
        this.fields = fields;
        this.existsNames = existsNames;
        this.stats = stats;
    }

    static Mapping decide(Map<String, Stats> stats, boolean allKeyword) {
        Map<String, Kind> kinds = new HashMap<>();
        TreeSet<String> fields = new TreeSet<>();
        TreeSet<String> exists = new TreeSet<>();
        for (Map.Entry<String, Stats> e : stats.entrySet()) {
            Stats s = e.getValue();
            String name = e.getKey();
            Kind k;
            if (allKeyword || s.strings + s.booleans > 0 || s.numbers() == 0) {
                k = Kind.KEYWORD;
            } else if (s.bigIntegers + s.floats > 0) {
                k = Kind.DOUBLE;
            } else {
                k = Kind.LONG;
            }
            kinds.put(name, k);
            if (s.nonNull() > 0) {
                fields.add(name);
                exists.addAll(withParents(name));
            }
        }
        return new Mapping(kinds, List.copyOf(fields), List.copyOf(exists), new TreeMap<>(stats));
    }

    /** {@code a.b.c} gives {@code a}, {@code a.b}, {@code a.b.c}. */
    static List<String> withParents(String name) {
        List<String> out = new ArrayList<>(2);
        int i = name.indexOf('.');
        while (i >= 0) {
            if (i > 0) {
                out.add(name.substring(0, i));
            }
            i = name.indexOf('.', i + 1);
        }
        out.add(name);
        return out;
    }

    /** The kind of a field; fields never seen are keywords (and match nothing). */
    Kind kind(String field) {
        return kinds.getOrDefault(field, Kind.KEYWORD);
    }

    List<String> fields() {
        return fields;
    }

    List<String> existsNames() {
        return existsNames;
    }

    Map<String, Stats> stats() {
        return Collections.unmodifiableMap(stats);
    }

    int count(Kind k) {
        int n = 0;
        for (String f : fields) {
            if (kinds.get(f) == k) {
                n++;
            }
        }
        return n;
    }

    /** Elasticsearch-style simple pattern: only {@code *} is special and matches any run. */
    static boolean simpleMatch(String pattern, String s) {
        return simpleMatch(pattern, 0, s, 0);
    }

    private static boolean simpleMatch(String p, int pi, String s, int si) {
        while (pi < p.length()) {
            char c = p.charAt(pi);
            if (c == '*') {
                while (pi < p.length() && p.charAt(pi) == '*') {
                    pi++;
                }
                if (pi == p.length()) {
                    return true;
                }
                for (int k = si; k <= s.length(); k++) {
                    if (simpleMatch(p, pi, s, k)) {
                        return true;
                    }
                }
                return false;
            }
            if (si >= s.length() || s.charAt(si) != c) {
                return false;
            }
            pi++;
            si++;
        }
        return si == s.length();
    }

    static List<String> matching(String pattern, List<String> names) {
        List<String> out = new ArrayList<>();
        for (String n : names) {
            if (simpleMatch(pattern, n)) {
                out.add(n);
            }
        }
        return out;
    }
}
