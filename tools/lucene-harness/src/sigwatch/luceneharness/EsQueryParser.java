package sigwatch.luceneharness;

import org.apache.lucene.analysis.core.KeywordAnalyzer;
import org.apache.lucene.document.DoublePoint;
import org.apache.lucene.document.LongPoint;
import org.apache.lucene.index.Term;
import org.apache.lucene.queryparser.classic.ParseException;
import org.apache.lucene.queryparser.classic.QueryParser;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.BoostQuery;
import org.apache.lucene.search.DisjunctionMaxQuery;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.MatchNoDocsQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.TermInSetQuery;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TermRangeQuery;
import org.apache.lucene.util.BytesRef;
import org.apache.lucene.util.automaton.TooComplexToDeterminizeException;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Lucene's classic {@link QueryParser} (the grammar Elasticsearch {@code query_string} is built
 * on) with the field handling Elasticsearch adds on top, re-implemented here from its documented
 * behaviour:
 * <ul>
 * <li>no analysis: every field is a keyword (exact, case-sensitive) or a number;</li>
 * <li>a field-less term searches every field ({@code index.query.default_field: *});</li>
 * <li>{@code field:*} is an exists query, {@code *:*} and a lone {@code *} match all;</li>
 * <li>{@code _exists_:name} (name may be a {@code *} pattern) tests field presence;</li>
 * <li>{@code field:>v}, {@code >=}, {@code <}, {@code <=} are one-sided ranges;</li>
 * <li>field names may be {@code *} patterns (escaped: {@code Image\*:x});</li>
 * <li>numeric fields compare numerically (terms and ranges); wildcard, prefix, regexp and fuzzy
 * queries on them fail;</li>
 * <li>a boolean group whose clauses are all negative gets an implicit match-all, at every
 * level;</li>
 * <li>lenient (the default when no default_field is given, as sigwatch's queries are run): a
 * per-field failure (bad number, wildcard on a number, invalid or too complex regex) matches
 * nothing instead of failing the query; each such case is reported as a warning.</li>
 * </ul>
 * One instance per thread; not thread-safe.
 */
final class EsQueryParser extends QueryParser {
    static final String ALL_FIELDS = "*";
    static final String EXISTS = "_exists_";

    static final class Settings {
        boolean lenient = true;
        int maxStates = 10_000;
        int fallbackStates = 1_000_000;
    }

    private final Mapping mapping;
    private final Settings settings;
    private final Compiled.Cache cache;
    private final Set<String> warnings = new LinkedHashSet<>();
    private int statesUsed;

    EsQueryParser(Mapping mapping, Settings settings, Compiled.Cache cache) {
        super(ALL_FIELDS, new KeywordAnalyzer());
        this.mapping = mapping;
        this.settings = settings;
        this.cache = cache;
        setAllowLeadingWildcard(true);
        setDefaultOperator(Operator.OR);
        setAutoGeneratePhraseQueries(false);
        setMaxDeterminizedStates(settings.maxStates);
    }

    /** A per-field failure: an error when strict, a warning and no match when lenient. */
    private static final class FieldFailure extends Exception {
        /** Whether the failure is only about the field's type (silent when the field was expanded). */
        final boolean typeMismatch;

        FieldFailure(String message, boolean typeMismatch) {
            super(message);
            this.typeMismatch = typeMismatch;
        }
    }

    @FunctionalInterface
    private interface PerField {
        Query build(String field, Mapping.Kind kind) throws ParseException, FieldFailure;
    }

    @FunctionalInterface
    private interface Builder {
        Query build() throws ParseException;
    }

    /** Result of parsing one query string. */
    record Parsed(Query query, List<String> warnings, int statesUsed) {}

    Parsed parseQuery(String text) throws ParseException {
        warnings.clear();
        statesUsed = settings.maxStates;
        setMaxDeterminizedStates(settings.maxStates);
        Query q;
        if (text.trim().isEmpty()) {
            q = new MatchNoDocsQuery("empty query string");
        } else {
            q = parse(text);
        }
        return new Parsed(fixNegative(q), List.copyOf(warnings), statesUsed);
    }

    // ---- field resolution -------------------------------------------------------------------

    private List<String> resolve(String field) throws ParseException {
        List<String> out;
        if (ALL_FIELDS.equals(field)) {
            out = mapping.fields();
        } else if (field.indexOf('*') >= 0) {
            out = Mapping.matching(field, mapping.fields());
        } else {
            return List.of(field);
        }
        int limit = BooleanQuery.getMaxClauseCount();
        if (out.size() > limit) {
            throw new ParseException("field expansion for [" + field + "] matches too many fields, limit: "
                    + limit + ", got: " + out.size());
        }
        return out;
    }

    private Query forFields(String field, PerField build) throws ParseException {
        List<String> fields = resolve(field);
        boolean expanded = !(fields.size() == 1 && fields.get(0).equals(field));
        List<Query> parts = new ArrayList<>(fields.size());
        for (String f : fields) {
            Mapping.Kind kind = mapping.kind(f);
            try {
                parts.add(build.build(f, kind));
            } catch (FieldFailure e) {
                if (!settings.lenient) {
                    throw new ParseException(e.getMessage());
                }
                if (!(expanded && e.typeMismatch)) {
                    warnings.add("lenient: " + e.getMessage() + " -> matches nothing");
                }
                parts.add(new MatchNoDocsQuery(e.getMessage()));
            }
        }
        if (parts.isEmpty()) {
            return new MatchNoDocsQuery("no field matches [" + field + "]");
        }
        if (parts.size() == 1) {
            return parts.get(0);
        }
        return new DisjunctionMaxQuery(parts, 0f);
    }

    private Query exists(String pattern) {
        if (pattern.indexOf('*') >= 0) {
            List<String> names = Mapping.matching(pattern, mapping.existsNames());
            if (names.isEmpty()) {
                return new MatchNoDocsQuery("no field matches [" + pattern + "]");
            }
            List<BytesRef> terms = new ArrayList<>(names.size());
            for (String n : names) {
                terms.add(new BytesRef(n));
            }
            return new TermInSetQuery(EventIndex.FIELD_NAMES, terms);
        }
        return new TermQuery(new Term(EventIndex.FIELD_NAMES, pattern));
    }

    private static FieldFailure notOnNumbers(String what, String field, Mapping.Kind kind) {
        return new FieldFailure(what + " queries are not supported on numeric fields: [" + field
                + "] is of type [" + kind.esName + "]", true);
    }

    /**
     * A wildcard, prefix or regexp query, built once per (kind, field, term) for the whole run:
     * Lucene compiles an automaton for each, which is the main cost of parsing big OR lists.
     * Queries are immutable, so one instance serves every query and thread. Warnings and failures
     * are replayed on reuse.
     */
    private Query automaton(String what, String field, String term, Builder b) throws FieldFailure {
        Compiled c = cache.get(what, field, term, () -> compile(what, field, term, b));
        if (c.failure() != null) {
            throw new FieldFailure(c.failure(), false);
        }
        if (c.warning() != null) {
            warnings.add(c.warning());
            statesUsed = Math.max(statesUsed, settings.fallbackStates);
        }
        return c.query();
    }

    /** Builds an automaton query; on too many states retries with the fallback limit and warns. */
    private Compiled compile(String what, String field, String term, Builder b) {
        try {
            return new Compiled(b.build(), null, null);
        } catch (TooComplexToDeterminizeException e) {
            String msg = what + " [" + term + "] on [" + field + "] needs more than " + settings.maxStates
                    + " determinized states (Elasticsearch's default max_determinized_states)";
            if (settings.fallbackStates > settings.maxStates) {
                int old = getMaxDeterminizedStates();
                setMaxDeterminizedStates(settings.fallbackStates);
                try {
                    return new Compiled(b.build(), msg + "; evaluated with a limit of " + settings.fallbackStates, null);
                } catch (TooComplexToDeterminizeException e2) {
                    return new Compiled(null, null, msg + ", and more than the fallback " + settings.fallbackStates);
                } catch (ParseException | IllegalArgumentException e2) {
                    return new Compiled(null, null, "invalid " + what + " [" + term + "]: " + e2.getMessage());
                } finally {
                    setMaxDeterminizedStates(old);
                }
            }
            return new Compiled(null, null, msg);
        } catch (ParseException | IllegalArgumentException e) {
            // Invalid regular expression syntax (RegExp reports it so).
            return new Compiled(null, null, "invalid " + what + " [" + term + "]: " + e.getMessage());
        }
    }

    /**
     * Fails as soon as a group gets more clauses than allowed, instead of compiling every clause
     * first: {@link BooleanQuery.Builder} would reject the group anyway, with the same error.
     */
    @Override
    protected void addClause(List<BooleanClause> clauses, int conj, int mods, Query q) {
        if (clauses.size() >= BooleanQuery.getMaxClauseCount()) {
            throw new BooleanQuery.TooManyClauses();
        }
        super.addClause(clauses, conj, mods, q);
    }

    // ---- numbers ----------------------------------------------------------------------------

    private static BigDecimal number(String text, String field, Mapping.Kind kind) throws FieldFailure {
        try {
            return new BigDecimal(text);
        } catch (NumberFormatException e) {
            throw new FieldFailure("failed to parse [" + text + "] as a number for [" + field + "] of type ["
                    + kind.esName + "]", true);
        }
    }

    private static double parseDouble(String text, String field) throws FieldFailure {
        try {
            return Double.parseDouble(text);
        } catch (NumberFormatException e) {
            throw new FieldFailure("failed to parse [" + text + "] as a number for [" + field + "] of type [double]", true);
        }
    }

    private static final BigDecimal LONG_MIN = BigDecimal.valueOf(Long.MIN_VALUE);
    private static final BigDecimal LONG_MAX = BigDecimal.valueOf(Long.MAX_VALUE);

    private static Query numericTerm(String field, Mapping.Kind kind, String text) throws FieldFailure {
        if (kind == Mapping.Kind.DOUBLE) {
            return DoublePoint.newExactQuery(EventIndex.pointField(field, kind), parseDouble(text, field));
        }
        BigDecimal v = number(text, field, kind);
        if (v.signum() != 0 && v.stripTrailingZeros().scale() > 0) {
            return new MatchNoDocsQuery("value [" + text + "] has a decimal part");
        }
        if (v.compareTo(LONG_MIN) < 0 || v.compareTo(LONG_MAX) > 0) {
            throw new FieldFailure("value [" + text + "] is out of range for a long", true);
        }
        return LongPoint.newExactQuery(EventIndex.pointField(field, kind), v.longValueExact());
    }

    private static Query numericRange(String field, Mapping.Kind kind, String lo, String hi, boolean incLo,
                                      boolean incHi) throws FieldFailure {
        if (kind == Mapping.Kind.DOUBLE) {
            double l = Double.NEGATIVE_INFINITY;
            double u = Double.POSITIVE_INFINITY;
            if (lo != null) {
                l = parseDouble(lo, field);
                if (!incLo) {
                    l = Math.nextUp(l);
                }
            }
            if (hi != null) {
                u = parseDouble(hi, field);
                if (!incHi) {
                    u = Math.nextDown(u);
                }
            }
            return DoublePoint.newRangeQuery(EventIndex.pointField(field, kind), l, u);
        }
        // Integer bounds: the smallest long above (or at) lo, the largest long below (or at) hi.
        BigDecimal l = LONG_MIN;
        BigDecimal u = LONG_MAX;
        if (lo != null) {
            BigDecimal v = number(lo, field, kind);
            BigDecimal c = v.setScale(0, RoundingMode.CEILING);
            l = (!incLo && c.compareTo(v) == 0) ? c.add(BigDecimal.ONE) : c;
        }
        if (hi != null) {
            BigDecimal v = number(hi, field, kind);
            BigDecimal f = v.setScale(0, RoundingMode.FLOOR);
            u = (!incHi && f.compareTo(v) == 0) ? f.subtract(BigDecimal.ONE) : f;
        }
        if (l.compareTo(u) > 0 || l.compareTo(LONG_MAX) > 0 || u.compareTo(LONG_MIN) < 0) {
            return new MatchNoDocsQuery("empty range");
        }
        return LongPoint.newRangeQuery(EventIndex.pointField(field, kind), l.max(LONG_MIN).longValueExact(),
                u.min(LONG_MAX).longValueExact());
    }

    // ---- the parser's hooks -----------------------------------------------------------------

    @Override
    protected Query getFieldQuery(String field, String queryText, boolean quoted) throws ParseException {
        if (EXISTS.equals(field)) {
            return exists(queryText);
        }
        if (!quoted && queryText.length() > 1) {
            char c0 = queryText.charAt(0);
            boolean eq = queryText.length() > 2 && queryText.charAt(1) == '=';
            if (c0 == '>') {
                return eq ? getRangeQuery(field, queryText.substring(2), null, true, true)
                        : getRangeQuery(field, queryText.substring(1), null, false, true);
            }
            if (c0 == '<') {
                return eq ? getRangeQuery(field, null, queryText.substring(2), true, true)
                        : getRangeQuery(field, null, queryText.substring(1), true, false);
            }
        }
        return forFields(field, (f, kind) -> kind == Mapping.Kind.KEYWORD
                ? newFieldQuery(getAnalyzer(), f, queryText, quoted)
                : numericTerm(f, kind, queryText));
    }

    @Override
    protected Query getFieldQuery(String field, String queryText, int slop) throws ParseException {
        // Quoted text. With no analysis a phrase is one term, so the slop never matters.
        return getFieldQuery(field, queryText, true);
    }

    @Override
    protected Query getRangeQuery(String field, String part1, String part2, boolean startInclusive,
                                  boolean endInclusive) throws ParseException {
        String lo = "*".equals(part1) ? null : part1;
        String hi = "*".equals(part2) ? null : part2;
        return forFields(field, (f, kind) -> kind == Mapping.Kind.KEYWORD
                ? TermRangeQuery.newStringRange(f, lo, hi, startInclusive, endInclusive)
                : numericRange(f, kind, lo, hi, startInclusive, endInclusive));
    }

    @Override
    protected Query getWildcardQuery(String field, String termStr) throws ParseException {
        if ("*".equals(termStr)) {
            return ALL_FIELDS.equals(field) ? new MatchAllDocsQuery() : exists(field);
        }
        return forFields(field, (f, kind) -> {
            if (kind != Mapping.Kind.KEYWORD) {
                throw notOnNumbers("wildcard", f, kind);
            }
            return automaton("wildcard", f, termStr, () -> super.getWildcardQuery(f, termStr));
        });
    }

    @Override
    protected Query getPrefixQuery(String field, String termStr) throws ParseException {
        return forFields(field, (f, kind) -> {
            if (kind != Mapping.Kind.KEYWORD) {
                throw notOnNumbers("prefix", f, kind);
            }
            return automaton("prefix", f, termStr, () -> super.getPrefixQuery(f, termStr));
        });
    }

    @Override
    protected Query getRegexpQuery(String field, String termStr) throws ParseException {
        return forFields(field, (f, kind) -> {
            if (kind != Mapping.Kind.KEYWORD) {
                throw notOnNumbers("regexp", f, kind);
            }
            return automaton("regexp", f, termStr, () -> super.getRegexpQuery(f, termStr));
        });
    }

    @Override
    protected Query getFuzzyQuery(String field, String termStr, float minSimilarity) throws ParseException {
        return forFields(field, (f, kind) -> {
            if (kind != Mapping.Kind.KEYWORD) {
                throw notOnNumbers("fuzzy", f, kind);
            }
            return automaton("fuzzy~" + minSimilarity, f, termStr, () -> super.getFuzzyQuery(f, termStr, minSimilarity));
        });
    }

    @Override
    protected Query getBooleanQuery(List<BooleanClause> clauses) throws ParseException {
        Query q = super.getBooleanQuery(clauses);
        return q == null ? null : fixNegative(q);
    }

    /** A boolean query made only of negative clauses would match nothing: add a match-all. */
    static Query fixNegative(Query q) {
        if (q instanceof BoostQuery bq) {
            return new BoostQuery(fixNegative(bq.getQuery()), bq.getBoost());
        }
        if (!(q instanceof BooleanQuery b) || b.clauses().isEmpty()) {
            return q;
        }
        for (BooleanClause c : b.clauses()) {
            if (c.getOccur() != BooleanClause.Occur.MUST_NOT) {
                return q;
            }
        }
        BooleanQuery.Builder out = new BooleanQuery.Builder();
        for (BooleanClause c : b.clauses()) {
            out.add(c);
        }
        out.setMinimumNumberShouldMatch(b.getMinimumNumberShouldMatch());
        out.add(new MatchAllDocsQuery(), BooleanClause.Occur.FILTER);
        return out.build();
    }
}
