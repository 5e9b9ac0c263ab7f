package org.estafeta.transport.smtp.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.tables.TableNames;
import org.estafeta.tables.TableService;

/**
 * Postfix's smtp_sasl_passwd_lookup(): the credentials for one server from {@code *_sasl_password_maps}. Keys, in
 * Postfix's order, the first found wins:
 * <ol>
 * <li>with {@code smtp_sender_dependent_authentication} (smtp only) and a non-null sender, the sender as
 * mail_addr_find() looks it up: {@code user+ext@domain}, {@code user@domain}, then {@code user+ext} and
 * {@code user} when the domain is {@code $myorigin} or listed in {@code $mydestination}, then {@code @domain};</li>
 * <li>the remote host name (the MX host, or the host of {@code [host]}; an address for {@code [192.0.2.1]});</li>
 * <li>the next-hop destination exactly as the transport or relayhost wrote it: {@code [mail.isp.example]:587},
 * {@code [mail.isp.example]}, {@code example.com}.</li>
 * </ol>
 * Fixed-string tables get keys folded to lower case; pattern tables ({@link TableNames#isPattern}: {@code regexp},
 * {@code pcre}, {@code cidr}, {@code socketmap}, ..., and {@code proxy:}/{@code unionmap:}/{@code pipemap:} as the
 * table they start with) get them as they are, and not the partial sender keys. A value {@code user:password} is
 * split at its first colon; without one, the password is empty.
 *
 * <p>Blocking: table lookups, on the delivery thread. Not shared between threads.
 */
final class SaslPasswords {
    /** What was found: never printed with its password ({@link #toString()}). */
    record Credentials(String username, String password) {
        /** A digest that tells credentials apart (connection reuse) without keeping the password text. */
        String identity() {
            try {
                MessageDigest d = MessageDigest.getInstance("SHA-256");
                d.update(username.getBytes(StandardCharsets.UTF_8));
                d.update((byte) 0);
                d.update(password.getBytes(StandardCharsets.UTF_8));
                return HexFormat.of().formatHex(d.digest());
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public String toString() {
            return "Credentials[username=" + username + ", password=(hidden)]";
        }
    }

    /** A table could not answer; the delivery is deferred with Postfix's "local data error". */
    static final class LookupError extends Exception {
        private static final long serialVersionUID = 1L;

        LookupError(String message) {
            super(message, null, false, false);
        }
    }

    /** The mail_addr_find() context of a sender key. */
    record LocalDomains(String myorigin, List<String> mydestination, String recipientDelimiter) {
        boolean isLocal(String domain) {
            String d = domain.endsWith(".") ? domain.substring(0, domain.length() - 1) : domain;
            if (d.equalsIgnoreCase(myorigin)) {
                return true;
            }
            for (String m : mydestination) {
                if (m.equalsIgnoreCase(d)) {
                    return true;
                }
            }
            return false;
        }
    }

    private final String title;
    private final List<String> maps;
    private final TableService tables;
    private final LocalDomains local;

    SaslPasswords(SaslSettings settings, TableService tables, LocalDomains local) {
        this.title = settings.prefix() + "sasl_password_maps";
        this.maps = settings.passwordMaps();
        this.tables = tables;
        this.local = local;
    }

    /** The table title Postfix logs ({@code smtp_sasl_password_maps}). */
    String title() {
        return title;
    }

    /**
     * The credentials for {@code host} reached as next hop {@code destination}, or null when no key is in the
     * tables.
     *
     * @param sender the envelope sender when the lookup is sender-dependent, else null
     */
    Credentials find(String sender, String host, String destination) throws LookupError {
        String value = null;
        if (sender != null && !sender.isEmpty()) {
            value = findSender(sender);
        }
        if (value == null) {
            value = lookup(host, false);
        }
        if (value == null) {
            value = lookup(destination, false);
        }
        if (value == null) {
            return null;
        }
        int colon = value.indexOf(':');
        return colon < 0 ? new Credentials(value, "") : new Credentials(value.substring(0, colon),
                value.substring(colon + 1));
    }

    private String findSender(String address) throws LookupError {
        String value = lookup(address, false);
        String bare = withoutExtension(address);
        if (value == null && bare != null) {
            value = lookup(bare, true);
        }
        int at = address.lastIndexOf('@');
        if (value == null && at > 0 && local.isLocal(address.substring(at + 1))) {
            value = lookup(address.substring(0, at), true);
            if (value == null && bare != null) {
                value = lookup(bare.substring(0, bare.lastIndexOf('@')), true);
            }
        }
        if (value == null && at >= 0) {
            value = lookup(address.substring(at), true);
        }
        return value;
    }

    /** {@code user@domain} for {@code user+ext@domain}, or null (split_addr() for the common cases). */
    private String withoutExtension(String address) {
        String delimiters = local.recipientDelimiter();
        if (delimiters == null || delimiters.isEmpty()) {
            return null;
        }
        int at = address.lastIndexOf('@');
        String localPart = at < 0 ? address : address.substring(0, at);
        String lower = localPart.toLowerCase(Locale.ROOT);
        if (lower.equals("postmaster") || lower.equals("mailer-daemon")) {
            return null;
        }
        int cut = 0;
        while (cut < localPart.length() && delimiters.indexOf(localPart.charAt(cut)) < 0) {
            cut++;
        }
        if (cut == 0 || cut == localPart.length()) {
            return null;
        }
        return localPart.substring(0, cut) + (at < 0 ? "" : address.substring(at));
    }

    /** maps_find(): the first table that has {@code key}; {@code partial} keys skip pattern tables. */
    private String lookup(String key, boolean partial) throws LookupError {
        if (key == null || key.isEmpty()) {
            return null;
        }
        for (String spec : maps) {
            boolean pattern = TableNames.isPattern(spec);
            if (partial && pattern) {
                continue;
            }
            if (tables == null) {
                throw new LookupError(spec + ": no table service");
            }
            LookupResult r;
            try (LookupTable t = tables.open(spec)) {
                r = t.lookup(pattern ? key : key.toLowerCase(Locale.ROOT));
            } catch (TableOpenException | RuntimeException e) {
                throw new LookupError(spec + ": " + e.getMessage());
            }
            if (r instanceof LookupResult.TemporaryFailure f) {
                throw new LookupError(spec + ": " + f.reason());
            }
            if (r instanceof LookupResult.Found f) {
                return f.value();
            }
        }
        return null;
    }
}
