package org.estafeta.table.ldap;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * Postfix's {@code db_common} %-templates for one table: {@code search_base} and {@code query_filter} expanded
 * with the lookup key, {@code result_format} with each result value. As in Postfix, the templates of a table
 * share one set of requirements: when any template uses {@code %d} (or {@code %D}, {@code %1}..{@code %9}) a key
 * without a domain part is not searched at all, and when any uses {@code %u} (or {@code %U}) a key with an empty
 * local part ({@code @domain}) is not searched; keys with fewer domain labels than the highest {@code %1}..
 * {@code %9} are not searched either.
 *
 * <ul>
 * <li>{@code %%}: a literal {@code %}; {@code %s}: the key (in result_format: the value);</li>
 * <li>{@code %u}: the local part of {@code user@domain}, or the whole key when it has no {@code @};</li>
 * <li>{@code %d}: the domain part;</li>
 * <li>{@code %S}, {@code %U}, {@code %D}: the same parts of the lookup key (in result_format too);</li>
 * <li>{@code %1}..{@code %9}: the key's domain labels, {@code %1} the last ({@code com}).</li>
 * </ul>
 * Expanded key parts are quoted with the caller's quoting function (RFC 4514 for the search base, RFC 4515 for
 * the filter); result values are not quoted.
 *
 * <p>Immutable and thread-safe once built.
 */
final class Templates {
    private static final int KEY_DOMAIN = 1;
    private static final int KEY_USER = 2;
    private static final int VALUE_DOMAIN = 4;
    private static final int VALUE_USER = 8;

    private final String table;
    private int flags;
    private int nparts;

    Templates(String table) {
        this.table = table;
    }

    /**
     * Registers a template (all of them before any expansion) and reports whether it depends on the key or
     * value (Postfix's "dynamic").
     *
     * @param query true for a query template (search_base, query_filter), false for result_format
     * @throws IllegalArgumentException for a {@code %} followed by anything else than the expansions above
     */
    boolean parse(String parameter, String format, boolean query) {
        boolean dynamic = false;
        for (int i = 0; i < format.length(); i++) {
            if (format.charAt(i) != '%') {
                continue;
            }
            char c = ++i < format.length() ? format.charAt(i) : '\0';
            switch (c) {
                case '%' -> {
                }
                case 'u' -> {
                    flags |= query ? KEY_USER : VALUE_USER;
                    dynamic = true;
                }
                case 'd' -> {
                    flags |= query ? KEY_DOMAIN : VALUE_DOMAIN;
                    dynamic = true;
                }
                case 's', 'S' -> dynamic = true;
                case 'U' -> {
                    flags |= KEY_USER;
                    dynamic = true;
                }
                case '1', '2', '3', '4', '5', '6', '7', '8', '9' -> {
                    nparts = Math.max(nparts, c - '0');
                    flags |= KEY_DOMAIN;
                    dynamic = true;
                }
                case 'D' -> {
                    flags |= KEY_DOMAIN;
                    dynamic = true;
                }
                default -> throw new IllegalArgumentException(
                        "invalid " + (query ? "query" : "result") + " template for " + parameter + ": " + format);
            }
        }
        return dynamic;
    }

    /**
     * Expands a query template with the lookup {@code key}: the text, or null when the key cannot fill the
     * template (the lookup then finds nothing). An empty key gives null and Postfix's warning.
     */
    String expandQuery(String format, String key, UnaryOperator<String> quote, Consumer<String> warn) {
        if (key.isEmpty()) {
            warn.accept("table \"" + table + "\": empty query string -- ignored");
            return null;
        }
        int at = key.lastIndexOf('@');
        String domain = (flags & (KEY_DOMAIN | KEY_USER)) != 0 && at >= 0 ? key.substring(at + 1) : null;
        if ((flags & KEY_DOMAIN) != 0 && (domain == null || domain.isEmpty())
                || (flags & KEY_USER) != 0 && domain != null && at == 0) {
            return null;
        }
        List<String> labels = labels(domain);
        if (labels == null) {
            return null;
        }
        String user = domain == null ? key : key.substring(0, at);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%') {
                out.append(c);
                continue;
            }
            c = format.charAt(++i);
            switch (c) {
                case '%' -> out.append('%');
                case 's', 'S' -> out.append(quote.apply(key));
                case 'u', 'U' -> out.append(quote.apply(user));
                case 'd', 'D' -> out.append(quote.apply(domain));
                default -> out.append(quote.apply(labels.get(labels.size() - (c - '0'))));
            }
        }
        return out.toString();
    }

    /**
     * Appends {@code value} expanded with the result template to {@code result} (a comma first when it is not
     * empty); returns false, appending nothing, when the value cannot fill the template (Postfix skips it) or is
     * empty (with Postfix's warning).
     */
    boolean appendResult(StringBuilder result, String format, String value, String key, Consumer<String> warn) {
        if (value.isEmpty()) {
            warn.accept("table \"" + table + "\": empty lookup result for: \"" + key + "\" -- ignored");
            return false;
        }
        int vat = value.lastIndexOf('@');
        String vdomain = (flags & (VALUE_DOMAIN | VALUE_USER)) != 0 && vat >= 0 ? value.substring(vat + 1) : null;
        if ((flags & VALUE_DOMAIN) != 0 && (vdomain == null || vdomain.isEmpty())
                || (flags & VALUE_USER) != 0 && vdomain != null && vat == 0) {
            return false;
        }
        int kat = key.lastIndexOf('@');
        String kdomain = (flags & (KEY_DOMAIN | KEY_USER)) != 0 && kat >= 0 ? key.substring(kat + 1) : null;
        if ((flags & KEY_DOMAIN) != 0 && (kdomain == null || kdomain.isEmpty())
                || (flags & KEY_USER) != 0 && kdomain != null && kat == 0) {
            warn.accept("db_common_expand: " + table + ": lookup key '" + value + "' skipped after query");
            return false;
        }
        List<String> labels = labels(kdomain);
        if (labels == null) {
            return false;
        }
        if (result.length() > 0) {
            result.append(',');
        }
        String vuser = vdomain == null ? value : value.substring(0, vat);
        String kuser = kdomain == null ? key : key.substring(0, kat);
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%') {
                result.append(c);
                continue;
            }
            c = format.charAt(++i);
            switch (c) {
                case '%' -> result.append('%');
                case 's' -> result.append(value);
                case 'u' -> result.append(vuser);
                case 'd' -> result.append(vdomain);
                case 'S' -> result.append(key);
                case 'U' -> result.append(kuser);
                case 'D' -> result.append(kdomain);
                default -> result.append(labels.get(labels.size() - (c - '0')));
            }
        }
        return true;
    }

    /** The domain's non-empty labels, an empty list when no %1..%9 is used, or null when there are too few. */
    private List<String> labels(String domain) {
        if (nparts == 0) {
            return List.of();
        }
        List<String> labels = new ArrayList<>();
        for (String label : domain.split("\\.")) {
            if (!label.isEmpty()) {
                labels.add(label);
            }
        }
        return labels.size() < nparts ? null : labels;
    }
}
