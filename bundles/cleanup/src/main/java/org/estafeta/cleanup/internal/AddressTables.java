package org.estafeta.cleanup.internal;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.tables.TableService;

/**
 * The table lookups of cleanup's address rewriting for one message: Postfix's mail_addr_find() with its default
 * strategy and mail_addr_map() (src/global/mail_addr_find.c, mail_addr_map.c), and string lists such as
 * {@code mydestination} and {@code masquerade_exceptions}. Tables are opened through the {@link TableService} on
 * first use and closed with {@link #close()}. Any failure (a table that cannot be opened, a temporary lookup
 * failure, a result that holds no address) is an {@link IOException}: the message is refused for now, never
 * rewritten half-way.
 *
 * <p>Keys follow maps_find(): fixed-string tables get them folded to lower case; pattern tables ({@code regexp},
 * {@code pcre}, {@code cidr}) get the full address only, never the derived keys. Addresses are in internal
 * (unquoted) form.
 */
final class AddressTables implements AutoCloseable {

    private final TableService service;
    private final AddressRewriter.Settings settings;
    private final Map<String, LookupTable> open = new HashMap<>();

    AddressTables(TableService service, AddressRewriter.Settings settings) {
        this.service = service;
        this.settings = settings;
    }

    /**
     * mail_addr_map(): the addresses {@code address} maps to in the tables of {@code parameter}, or null when no
     * table has it. A result {@code @domain} keeps the user part (without an unmatched extension); bare names in
     * results get {@code @$myorigin}; with {@code propagate} the unmatched {@code +extension} goes to every result.
     */
    List<String> map(String parameter, String address, boolean propagate) throws IOException {
        String[] extension = new String[1];
        String value = find(parameter, address, extension);
        if (value == null) {
            return null;
        }
        String ext = extension[0];
        if (value.startsWith("@")) {
            int at = address.lastIndexOf('@');
            String user = at < 0 ? address : address.substring(0, at);
            if (ext != null) {
                user = user.substring(0, user.length() - ext.length());
            }
            value = AddressRewriter.external(user + value);
        }
        List<String> out = new ArrayList<>();
        for (String word : words(value)) {
            String a = settings.canonicalise(AddressRewriter.internal(word), true);
            if (propagate && ext != null && !a.isEmpty()) {
                int at = a.lastIndexOf('@');
                a = at < 0 ? a + ext : a.substring(0, at) + ext + a.substring(at);
            }
            out.add(a);
        }
        if (out.isEmpty()) {
            throw new IOException(parameter + " lookup of " + address + " returns non-address result \"" + value + "\"");
        }
        return out;
    }

    /**
     * mail_addr_find()'s default strategy: {@code user+ext@domain}, {@code user@domain}; then, when the domain is
     * {@code $myorigin} or local ({@code mydestination}), {@code user+ext} and {@code user}; then {@code @domain}.
     * {@code extension[0]} receives the extension that a match without it left unmatched.
     */
    String find(String parameter, String address, String[] extension) throws IOException {
        String[] split = splitExtension(address);
        String value = lookup(parameter, address, false);
        if (value == null && split != null) {
            value = lookup(parameter, split[0], true);
            if (value != null) {
                extension[0] = split[1];
            }
        }
        int at = address.lastIndexOf('@');
        if (value == null && at >= 0) {
            String domain = address.substring(at + 1);
            if (domain.equalsIgnoreCase(settings.myorigin()) || isLocal(domain)) {
                value = lookup(parameter, address.substring(0, at), true);
                if (value == null && split != null) {
                    value = lookup(parameter, split[0].substring(0, split[0].lastIndexOf('@')), true);
                    if (value != null) {
                        extension[0] = split[1];
                    }
                }
            }
            if (value == null) {
                value = lookup(parameter, address.substring(at), true);
            }
        }
        return value;
    }

    /** resolve_local() for names: the domain is in {@code mydestination} (address literals are not recognised). */
    boolean isLocal(String domain) throws IOException {
        String d = domain.endsWith(".") ? domain.substring(0, domain.length() - 1) : domain;
        return !d.isEmpty() && matches("mydestination", settings.mydestination(), d);
    }

    /**
     * A Postfix string list ({@code string_list_match()}): names compared case-insensitively, {@code type:table}
     * elements asked the name itself, {@code !} negates, the first element that matches decides.
     */
    boolean matches(String parameter, List<String> patterns, String name) throws IOException {
        for (String p : patterns) {
            boolean positive = true;
            while (p.startsWith("!")) {
                positive = !positive;
                p = p.substring(1);
            }
            boolean match = !p.startsWith("[") && p.indexOf(':') > 0 ? lookupIn(parameter, p, name, false) != null
                    : p.equalsIgnoreCase(name);
            if (match) {
                return positive;
            }
        }
        return false;
    }

    /** The value of {@code key} in the first of the tables of {@code parameter} that has it, or null. */
    private String lookup(String parameter, String key, boolean partial) throws IOException {
        for (String spec : settings.tables(parameter)) {
            String v = lookupIn(parameter, spec, key, partial);
            if (v != null) {
                return v;
            }
        }
        return null;
    }

    private String lookupIn(String parameter, String spec, String key, boolean partial) throws IOException {
        // Postfix's pattern tables (regexp, pcre, cidr, socketmap ...; proxy: and composites included)
        boolean pattern = org.estafeta.tables.TableNames.isPattern(spec);
        if (partial && pattern) {
            return null;
        }
        LookupTable table = open.get(spec);
        if (table == null) {
            if (service == null) {
                throw new IOException(parameter + ": " + spec + ": no table service");
            }
            try {
                table = service.open(spec);
            } catch (TableOpenException | RuntimeException e) {
                throw new IOException(parameter + ": " + e.getMessage(), e);
            }
            open.put(spec, table);
        }
        LookupResult r = table.lookup(pattern ? key : key.toLowerCase(Locale.ROOT));
        if (r instanceof LookupResult.TemporaryFailure f) {
            throw new IOException(parameter + " map lookup problem for " + key + ": " + f.reason());
        }
        return r instanceof LookupResult.Found found ? found.value() : null;
    }

    /**
     * The address without its {@code recipient_delimiter} extension and the extension itself (with its delimiter),
     * or null when it has none; never for postmaster, MAILER-DAEMON, and owner-x / x-request when '-' is a
     * delimiter (split_addr()).
     */
    String[] splitExtension(String address) {
        String delimiters = settings.recipientDelimiter();
        if (delimiters.isEmpty()) {
            return null;
        }
        int at = address.lastIndexOf('@');
        String local = at < 0 ? address : address.substring(0, at);
        String lower = local.toLowerCase(Locale.ROOT);
        if (lower.equals("postmaster") || lower.equals("mailer-daemon")
                || delimiters.indexOf('-') >= 0 && settings.ownerRequestSpecial()
                        && (lower.startsWith("owner-") || lower.length() > 8 && lower.endsWith("-request"))) {
            return null;
        }
        int cut = 0;
        while (cut < local.length() && delimiters.indexOf(local.charAt(cut)) < 0) {
            cut++;
        }
        if (cut == 0 || cut == local.length()) {
            return null;
        }
        String domain = at < 0 ? "" : address.substring(at);
        return new String[] {local.substring(0, cut) + domain, local.substring(cut)};
    }

    /** A lookup result as a list of addresses: split on commas and white space outside quotes. */
    static List<String> words(String value) {
        List<String> out = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (c == '\\' && quoted && i + 1 < value.length()) {
                w.append(c);
                c = value.charAt(++i);
            } else if (!quoted && (c == ',' || Character.isWhitespace(c))) {
                if (!w.isEmpty()) {
                    out.add(w.toString());
                    w.setLength(0);
                }
                continue;
            }
            w.append(c);
        }
        if (!w.isEmpty()) {
            out.add(w.toString());
        }
        return out;
    }

    @Override
    public void close() {
        for (LookupTable t : open.values()) {
            try {
                t.close();
            } catch (RuntimeException e) {
                // a plugin's close problem must not stop the others from closing
            }
        }
        open.clear();
    }
}
