package org.estafeta.cleanup.internal;

import org.estafeta.config.ConfigSnapshot;

/**
 * What cleanup reads from main.cf.
 *
 * @param myhostname for Received and Message-Id
 * @param mailName for Received ({@code mail_name})
 * @param addMissingHeaders {@code always_add_missing_headers}: add Message-Id and Date to mail that lacks them
 *        (remote mail; local submission is not there yet)
 * @param headerSizeLimit {@code header_size_limit}: the most bytes one header field, and the header section, may take
 * @param hopcountLimit {@code hopcount_limit}: a message with this many {@code Received:} headers (cleanup's own
 *        included) is refused with {@code 554 5.4.0 Error: too many hops}, as Postfix stops mail loops
 * @param dropHeaders {@code message_drop_headers}: header names (lower case) cleanup leaves out of the queue file
 */
record CleanupSettings(String myhostname, String mailName, boolean addMissingHeaders, int headerSizeLimit,
        int hopcountLimit, java.util.Set<String> dropHeaders) {
    CleanupSettings(String myhostname, String mailName, boolean addMissingHeaders, int headerSizeLimit) {
        this(myhostname, mailName, addMissingHeaders, headerSizeLimit, 50, DEFAULT_DROP);
    }

    /** Postfix's default message_drop_headers. */
    static final java.util.Set<String> DEFAULT_DROP = java.util.Set.of("bcc", "content-length", "resent-bcc",
            "return-path");

    static CleanupSettings from(ConfigSnapshot c) {
        long limit = c.integer("header_size_limit");
        long hops = c.integer("hopcount_limit");
        java.util.Set<String> drop = new java.util.HashSet<>();
        for (String h : c.list("message_drop_headers")) {
            drop.add(h.toLowerCase(java.util.Locale.ROOT));
        }
        return new CleanupSettings(c.value("myhostname"), c.value("mail_name"), c.bool("always_add_missing_headers"),
                (int) Math.max(1024, Math.min(limit, Integer.MAX_VALUE / 2)),
                (int) Math.max(1, Math.min(hops, Integer.MAX_VALUE)), java.util.Set.copyOf(drop));
    }
}
