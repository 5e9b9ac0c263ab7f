package org.estafeta.tables;

import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.estafeta.tables.internal.TableList;

/**
 * What a {@code type:name} reference says about its table before it is opened, with Postfix's rules. Callers
 * that build partial keys (parent domains, network prefixes, {@code user@}) and fold keys to lower case ask
 * {@link #isPattern} instead of keeping their own list of types, so that {@code proxy:}, {@code unionmap:},
 * {@code pipemap:} and {@code socketmap:} get the same treatment as in Postfix. Pure functions; safe from any thread.
 */
public final class TableNames {
    /** The prefix of a proxied table; Estafeta opens {@code proxy:type:name} as {@code type:name}. */
    public static final String PROXY = "proxy:";
    /** The composite types the registry itself provides. */
    public static final String UNIONMAP = "unionmap";
    public static final String PIPEMAP = "pipemap";

    /**
     * Types whose tables are DICT_FLAG_PATTERN in Postfix 3.7 (dict_regexp.c, dict_pcre.c, dict_cidr.c,
     * dict_sockmap.c, dict_tcp.c, dict_random.c, dict_fail.c): they get only the full key of a lookup, unfolded.
     */
    private static final Set<String> PATTERN_TYPES = Set.of("regexp", "pcre", "cidr", "socketmap", "tcp",
            "randmap", "fail");

    private TableNames() {
    }

    /**
     * {@code spec} without its {@code proxy:} prefixes ({@code proxy:proxy:hash:/x} is {@code hash:/x}), as Postfix's
     * proxymap strips them before it opens the table.
     */
    public static String unproxied(String spec) {
        String s = spec.trim();
        while (s.startsWith(PROXY)) {
            s = s.substring(PROXY.length());
        }
        return s;
    }

    /**
     * Whether Postfix treats {@code spec} as a pattern table (DICT_FLAG_PATTERN): regexp, pcre, cidr, socketmap,
     * tcp, randmap and fail; {@code proxy:} takes the flag of the table it names; {@code unionmap:} and
     * {@code pipemap:} take the flag of their first table, as dict_union.c and dict_pipe.c do. Every other type
     * (hash, inline, static, texthash, environ, unix, a plugin type) is a fixed-string table.
     */
    public static boolean isPattern(String spec) {
        String s = unproxied(spec);
        int colon = s.indexOf(':');
        if (colon <= 0) {
            return false;
        }
        String type = s.substring(0, colon);
        if (type.equals(UNIONMAP) || type.equals(PIPEMAP)) {
            Optional<List<String>> inner = TableList.parse(s.substring(colon + 1));
            return inner.isPresent() && isPattern(inner.get().get(0));
        }
        return PATTERN_TYPES.contains(type);
    }
}
