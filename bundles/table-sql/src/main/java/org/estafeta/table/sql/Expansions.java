package org.estafeta.table.sql;

import java.util.ArrayList;
import java.util.List;

import org.estafeta.api.table.TableOpenException;

/**
 * Postfix's db_common expansions of the {@code query} and {@code result_format} templates: {@code %s %u %d},
 * {@code %S %U %D}, {@code %1}..{@code %9} and {@code %%}, with its rule that a key lacking a part the templates
 * use (a domain for {@code %d} or {@code %1}, a non-empty local part for {@code %u}) is not looked up at all.
 * Immutable and thread-safe once built.
 */
final class Expansions {
    /** Escapes one expanded value for the SQL text; {@link #NONE} leaves it as is. */
    @FunctionalInterface
    interface Quoter {
        void quote(String raw, StringBuilder out);
    }

    static final Quoter NONE = (raw, out) -> out.append(raw);

    private static final int KEY_DOMAIN = 1;
    private static final int KEY_USER = 2;
    private static final int VALUE_DOMAIN = 4;
    private static final int VALUE_USER = 8;

    private final String query;
    private final String resultFormat;
    private final int flags;
    private final int nparts;

    private Expansions(String query, String resultFormat, int flags, int nparts) {
        this.query = query;
        this.resultFormat = resultFormat;
        this.flags = flags;
        this.nparts = nparts;
    }

    /** Parses both templates (db_common_parse); refuses an unknown {@code %} sequence with Postfix's text. */
    static Expansions parse(String configName, String query, String resultFormat) throws TableOpenException {
        int[] state = new int[2];
        scan(configName, query, true, state);
        scan(configName, resultFormat, false, state);
        return new Expansions(query, resultFormat, state[0], state[1]);
    }

    private static void scan(String configName, String format, boolean isQuery, int[] state)
            throws TableOpenException {
        for (int i = 0; i < format.length(); i++) {
            if (format.charAt(i) != '%') {
                continue;
            }
            char c = ++i < format.length() ? format.charAt(i) : '\0';
            switch (c) {
                case '%', 's', 'S' -> {
                }
                case 'u' -> state[0] |= isQuery ? KEY_USER : VALUE_USER;
                case 'd' -> state[0] |= isQuery ? KEY_DOMAIN : VALUE_DOMAIN;
                case 'U' -> state[0] |= KEY_USER;
                case 'D' -> state[0] |= KEY_DOMAIN;
                case '1', '2', '3', '4', '5', '6', '7', '8', '9' -> {
                    state[1] = Math.max(state[1], c - '0');
                    state[0] |= KEY_DOMAIN;
                }
                default -> throw new TableOpenException("db_common_parse: " + configName + ": Invalid "
                        + (isQuery ? "query" : "result") + " template: " + format);
            }
        }
    }

    String query() {
        return query;
    }

    /**
     * The query for {@code key}, each expanded part escaped by {@code quoter}; {@code null} when the key lacks
     * what the templates need (the lookup is then "not found" without a query).
     */
    String expandQuery(String key, Quoter quoter) {
        String domain = null;
        if ((flags & (KEY_DOMAIN | KEY_USER)) != 0) {
            domain = domainPart(key);
        }
        if (!usable(key, domain, KEY_DOMAIN, KEY_USER)) {
            return null;
        }
        List<String> parts = labels(domain);
        if (nparts > 0 && parts == null) {
            return null;
        }
        StringBuilder out = new StringBuilder();
        String user = domain == null ? key : key.substring(0, key.length() - domain.length() - 1);
        for (int i = 0; i < query.length(); i++) {
            char c = query.charAt(i);
            if (c != '%') {
                out.append(c);
                continue;
            }
            c = query.charAt(++i);
            switch (c) {
                case '%' -> out.append('%');
                case 's', 'S' -> quoter.quote(key, out);
                case 'u', 'U' -> quoter.quote(user, out);
                case 'd', 'D' -> quoter.quote(domain, out);
                default -> quoter.quote(parts.get(parts.size() - (c - '0')), out);
            }
        }
        return out.toString();
    }

    /**
     * One result value through {@code result_format} for {@code key}, or {@code null} when the value lacks what
     * the format needs (it is then skipped, as Postfix skips it).
     */
    String expandResult(String value, String key) {
        String vdomain = null;
        if ((flags & (VALUE_DOMAIN | VALUE_USER)) != 0) {
            vdomain = domainPart(value);
        }
        if (!usable(value, vdomain, VALUE_DOMAIN, VALUE_USER)) {
            return null;
        }
        String kdomain = null;
        if ((flags & (KEY_DOMAIN | KEY_USER)) != 0) {
            kdomain = domainPart(key);
        }
        if (!usable(key, kdomain, KEY_DOMAIN, KEY_USER)) {
            return null;
        }
        List<String> parts = labels(kdomain);
        if (nparts > 0 && parts == null) {
            return null;
        }
        String vuser = vdomain == null ? value : value.substring(0, value.length() - vdomain.length() - 1);
        String kuser = kdomain == null ? key : key.substring(0, key.length() - kdomain.length() - 1);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < resultFormat.length(); i++) {
            char c = resultFormat.charAt(i);
            if (c != '%') {
                out.append(c);
                continue;
            }
            c = resultFormat.charAt(++i);
            switch (c) {
                case '%' -> out.append('%');
                case 's' -> out.append(value);
                case 'u' -> out.append(vuser);
                case 'd' -> out.append(vdomain);
                case 'S' -> out.append(key);
                case 'U' -> out.append(kuser);
                case 'D' -> out.append(kdomain);
                default -> out.append(parts.get(parts.size() - (c - '0')));
            }
        }
        return out.toString();
    }

    /** The text after the last {@code @}, or {@code null}. */
    private static String domainPart(String s) {
        int at = s.lastIndexOf('@');
        return at < 0 ? null : s.substring(at + 1);
    }

    private boolean usable(String s, String domain, int domainFlag, int userFlag) {
        if ((domain == null || domain.isEmpty()) && (flags & domainFlag) != 0) {
            return false;
        }
        // "@domain": an empty local part
        return !(domain != null && domain.length() == s.length() - 1 && (flags & userFlag) != 0);
    }

    /** The domain's labels (empty ones dropped, as argv_split does), or null when %1..%9 ask for more. */
    private List<String> labels(String domain) {
        if (nparts == 0) {
            return List.of();
        }
        List<String> parts = new ArrayList<>();
        for (String p : domain.split("\\.")) {
            if (!p.isEmpty()) {
                parts.add(p);
            }
        }
        return parts.size() < nparts ? null : parts;
    }
}
