package org.estafeta.table.ldap;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

import javax.naming.directory.SearchControls;

/**
 * The parameters of one ldap_table(5) file with Postfix's defaults, checks and warnings (dict_ldap.c's
 * {@code dict_ldap_open()}). Values Postfix refuses at open time, and parameters this implementation cannot honour
 * without weakening the lookup (SASL binds, STARTTLS, ldapi:// sockets), throw {@link IllegalArgumentException}
 * naming the file. Immutable.
 */
final class LdapSettings {
    /** server_host as JNDI provider URLs ({@code ldap://host:port}, {@code ldaps://host:port}). */
    final List<String> servers;
    final String searchBase;
    final String queryFilter;
    final String resultFormat;
    final int scope;
    /** bind = yes/simple (false: bind = no/none). */
    final boolean bind;
    final String bindDn;
    final String bindPw;
    /** Seconds, at least 1 (Postfix accepts 0; a wait without bound is not an option for a gateway worker). */
    final int timeout;
    final int sizeLimit;
    final int expansionLimit;
    final int recursionLimit;
    /** JNDI's java.naming.ldap.derefAliases value. */
    final String dereference;
    final boolean chaseReferrals;
    /** The protocol version the file asks for (2 or 3); LDAPv3 is always spoken. */
    final int version;
    final DomainList domains;
    final Templates templates;
    final boolean dynamicBase;
    /** terminal, leaf, ordinary, then special result attributes, as Postfix orders them. */
    final String[] attributes;
    final int numTerminal;
    final int numLeaf;
    /** The number of terminal, leaf and ordinary attributes: the index of the first special one. */
    final int numAttributes;

    private LdapSettings(ConfigFile cf, String table, Consumer<String> warn) {
        String path = cf.path();
        int serverPort = cf.integer("server_port", 389, 0);
        version = versionOf(cf, path, warn);
        servers = servers(cf.string("server_host", "localhost", 1), serverPort, path);

        String scopeText = cf.string("scope", "sub", 1);
        scope = switch (scopeText.toLowerCase(Locale.ROOT)) {
            case "one" -> SearchControls.ONELEVEL_SCOPE;
            case "base" -> SearchControls.OBJECT_SCOPE;
            case "sub" -> SearchControls.SUBTREE_SCOPE;
            default -> {
                warn.accept("dict_ldap_open: " + path + ": Unrecognized value " + scopeText
                        + " specified for scope; using sub");
                yield SearchControls.SUBTREE_SCOPE;
            }
        };
        searchBase = cf.string("search_base", "", 0);
        timeout = Math.max(1, cf.integer("timeout", 10, 0));
        queryFilter = cf.string("query_filter", "(mailacceptinggeneralid=%s)", 0);
        String format = cf.string("result_format", null, 0);
        resultFormat = format != null ? format : cf.string("result_filter", "%s", 1);

        templates = new Templates(table);
        dynamicBase = templates.parse("search_base", searchBase, true);
        if (!templates.parse("query_filter", queryFilter, true)) {
            warn.accept("dict_ldap_open: " + path + ": Fixed query_filter " + queryFilter + " is probably useless");
        }
        templates.parse("result_format", resultFormat, false);
        domains = DomainList.parse(path, cf.string("domain", "", 0));

        List<String> attrs = new ArrayList<>(split(cf.string("terminal_result_attribute", "", 0)));
        numTerminal = attrs.size();
        attrs.addAll(split(cf.string("leaf_result_attribute", "", 0)));
        numLeaf = attrs.size() - numTerminal;
        attrs.addAll(split(cf.string("result_attribute", "maildrop", 0)));
        numAttributes = attrs.size();
        attrs.addAll(split(cf.string("special_result_attribute", "", 0)));
        attributes = attrs.toArray(String[]::new);

        String bindText = cf.string("bind", "yes", 1);
        bind = switch (bindText.toLowerCase(Locale.ROOT)) {
            case "yes", "simple" -> true;
            case "no", "none" -> false;
            case "sasl" -> throw new IllegalArgumentException(path + ": bind = sasl is not supported"
                    + " (use bind = yes with bind_dn and bind_pw over ldaps://)");
            default -> throw new IllegalArgumentException(
                    path + ": unsupported parameter value: bind = " + bindText);
        };
        bindDn = cf.string("bind_dn", "", 0);
        bindPw = cf.string("bind_pw", "", 0);

        if (cf.bool("cache", false)) {
            warn.accept("dict_ldap_open: " + path + " ignoring cache");
        }
        if (cf.integer("cache_expiry", -1, 0) >= 0) {
            warn.accept("dict_ldap_open: " + path + " ignoring cache_expiry");
        }
        if (cf.integer("cache_size", -1, 0) >= 0) {
            warn.accept("dict_ldap_open: " + path + " ignoring cache_size");
        }
        recursionLimit = cf.integer("recursion_limit", 1000, 1);
        expansionLimit = cf.integer("expansion_limit", 0, 0);
        sizeLimit = cf.integer("size_limit", expansionLimit, 0);
        int deref = cf.integer("dereference", 0, 0);
        if (deref < 0 || deref > 3) {
            warn.accept("dict_ldap_open: " + path + " Unrecognized value " + deref
                    + " specified for dereference; using 0");
            deref = 0;
        }
        dereference = switch (deref) {
            case 1 -> "searching";
            case 2 -> "finding";
            case 3 -> "always";
            default -> "never";
        };
        chaseReferrals = cf.bool("chase_referrals", false);
        if (cf.bool("start_tls", false)) {
            throw new IllegalArgumentException(path + ": start_tls = yes is not supported (use an ldaps:// URL in"
                    + " server_host)");
        }
        cf.bool("tls_require_cert", false);
        cf.integer("debuglevel", 0, 0);
    }

    /** Reads the settings; warnings (Postfix's texts) go to {@code warn}. */
    static LdapSettings of(ConfigFile cf, String table, Consumer<String> warn) {
        return new LdapSettings(cf, table, warn);
    }

    private static int versionOf(ConfigFile cf, String path, Consumer<String> warn) {
        int v = cf.integer("version", 2, 2);
        if (v != 2 && v != 3) {
            warn.accept("dict_ldap_open: " + path + " Unknown version " + v + ", using 2.");
            return 2;
        }
        return v;
    }

    /** Postfix's CHARS_COMMA_SP list. */
    static List<String> split(String list) {
        return Arrays.stream(list.split("[,\\s]+")).filter(s -> !s.isEmpty()).toList();
    }

    /**
     * server_host as URLs: LDAP URLs keep their scheme, host and port (the default port of their scheme when
     * they name none; a DN or other parts after the host are ignored, as OpenLDAP ignores them when connecting);
     * bare names get {@code ldap://} and, unless they name a port, server_port.
     */
    static List<String> servers(String list, int serverPort, String path) {
        List<String> urls = new ArrayList<>();
        for (String h : split(list)) {
            String lower = h.toLowerCase(Locale.ROOT);
            if (lower.startsWith("ldapi:")) {
                throw new IllegalArgumentException(path + ": server_host: ldapi:// (UNIX-domain) URLs are not"
                        + " supported: " + h);
            }
            boolean ldaps = lower.startsWith("ldaps://");
            if (ldaps || lower.startsWith("ldap://")) {
                String rest = h.substring(ldaps ? 8 : 7);
                int slash = rest.indexOf('/');
                String hostport = slash >= 0 ? rest.substring(0, slash) : rest;
                if (hostport.isEmpty()) {
                    hostport = "localhost";
                }
                boolean hasPort = hostport.startsWith("[") ? hostport.contains("]:") : hostport.contains(":");
                urls.add((ldaps ? "ldaps://" : "ldap://") + hostport + (hasPort ? "" : ldaps ? ":636" : ":389"));
            } else if (h.lastIndexOf(':') >= 0) {
                urls.add("ldap://" + h);
            } else {
                urls.add("ldap://" + h + ":" + serverPort);
            }
        }
        if (urls.isEmpty()) {
            throw new IllegalArgumentException(path + ": server_host names no server");
        }
        return List.copyOf(urls);
    }
}
