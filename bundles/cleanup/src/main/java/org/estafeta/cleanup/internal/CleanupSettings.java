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
 */
record CleanupSettings(String myhostname, String mailName, boolean addMissingHeaders, int headerSizeLimit) {
    static CleanupSettings from(ConfigSnapshot c) {
        long limit = c.integer("header_size_limit");
        return new CleanupSettings(c.value("myhostname"), c.value("mail_name"), c.bool("always_add_missing_headers"),
                (int) Math.max(1024, Math.min(limit, Integer.MAX_VALUE / 2)));
    }
}
