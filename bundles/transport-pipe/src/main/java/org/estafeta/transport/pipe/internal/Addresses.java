package org.estafeta.transport.pipe.internal;

import java.util.Locale;

/**
 * Address quoting and folding as pipe(8) applies them: Postfix's quote_822_local (8-bit clean), fold_addr and
 * split_addr.
 */
final class Addresses {
    private static final String SPECIALS = "()<>@,;:\\\"[]";

    private Addresses() {
    }

    /**
     * Quotes the local part (left of the right-most {@code @}, after any source route) when it is not a dot-string:
     * {@code "john doe"@example.com}. Addresses that need no quoting come back unchanged.
     */
    static String quoteLocal(String address) {
        int start = 0;
        if (address.startsWith("@") && address.indexOf(':') > 0) {
            start = address.indexOf(':') + 1;
        }
        int end = address.lastIndexOf('@');
        if (end < start) {
            end = address.length();
        }
        String local = address.substring(start, end);
        if (isDotString(local)) {
            return address;
        }
        StringBuilder sb = new StringBuilder(address.length() + 4).append(address, 0, start).append('"');
        for (char c : local.toCharArray()) {
            if (c == '"' || c == '\\' || c == '\r') {
                sb.append('\\');
            }
            sb.append(c);
        }
        return sb.append('"').append(address, end, address.length()).toString();
    }

    private static boolean isDotString(String local) {
        if (local.isEmpty() || local.charAt(0) == '.' || local.charAt(local.length() - 1) == '.' || local.contains("..")) {
            return false;
        }
        for (char c : local.toCharArray()) {
            if (c == ' ' || c < 32 || c == 127 || SPECIALS.indexOf(c) >= 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * Lower-cases the local part ({@code user}) and/or the domain ({@code host}) of an address; without an {@code @}
     * the user fold applies to all of it, the host fold to nothing.
     */
    static String fold(String address, boolean user, boolean host) {
        int at = address.lastIndexOf('@');
        if (at < 0) {
            return user ? address.toLowerCase(Locale.ROOT) : address;
        }
        String local = address.substring(0, at + 1);
        String domain = address.substring(at + 1);
        return (user ? local.toLowerCase(Locale.ROOT) : local) + (host ? domain.toLowerCase(Locale.ROOT) : domain);
    }

    /**
     * Splits a local part at the first of the recipient delimiter characters into user and extension, as Postfix's
     * split_addr: never for postmaster, MAILER-DAEMON or the double-bounce sender, nor {@code owner-x}/{@code x-request}
     * when the delimiters include '-' (owner_request_special), nor when the user part would be empty.
     *
     * @return {user, extension}; extension is null when the local part was not split
     */
    static String[] splitExtension(String local, String delimiters, String doubleBounce, boolean ownerRequestSpecial) {
        String[] whole = {local, null};
        if (delimiters.isEmpty() || local.equalsIgnoreCase("postmaster") || local.equalsIgnoreCase("MAILER-DAEMON")
                || local.equalsIgnoreCase(doubleBounce)) {
            return whole;
        }
        String lower = local.toLowerCase(Locale.ROOT);
        if (delimiters.indexOf('-') >= 0 && ownerRequestSpecial
                && (lower.startsWith("owner-") || (lower.length() > 8 && lower.endsWith("-request")))) {
            return whole;
        }
        int i = 0;
        while (i < local.length() && delimiters.indexOf(local.charAt(i)) < 0) {
            i++;
        }
        if (i == 0 || i == local.length()) {
            return whole;
        }
        return new String[] {local.substring(0, i), local.substring(i + 1)};
    }
}
