package org.estafeta.smtpd;

import java.util.Locale;

import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.MasterEntry;

/**
 * The parameters an smtpd instance uses, read once from the entry's snapshot when the instance starts. Sessions
 * share this immutable value, so a reload never changes a session in the middle. Every parameter is in the config
 * registry with Postfix's default, so each is read with {@link ConfigSnapshot#value} and no fallback lives here.
 *
 * @param myhostname the name in the EHLO/HELO reply and in 421 replies
 * @param banner the greeting text after {@code 220 }
 * @param timeoutSeconds {@code smtpd_timeout}
 * @param lineLengthLimit {@code line_length_limit}
 * @param processLimit concurrent sessions of this entry (master.cf maxproc, or {@code default_process_limit}); 0: none
 * @param heloRequired {@code smtpd_helo_required}
 * @param disableVrfy {@code disable_vrfy_command}
 * @param messageSizeLimit {@code message_size_limit}, 0 for no limit
 * @param recipientLimit {@code smtpd_recipient_limit}, 0 for no limit
 * @param recipientOvershootLimit {@code smtpd_recipient_overshoot_limit}
 * @param softErrorLimit {@code smtpd_soft_error_limit}
 * @param hardErrorLimit {@code smtpd_hard_error_limit}
 * @param errorSleepMillis {@code smtpd_error_sleep_time}
 * @param junkCommandLimit {@code smtpd_junk_command_limit}
 * @param connectionCountLimit {@code smtpd_client_connection_count_limit}, 0 for none
 * @param connectionRateLimit {@code smtpd_client_connection_rate_limit}, 0 for none
 * @param rateTimeUnitSeconds {@code anvil_rate_time_unit}
 * @param eventLimitExceptions {@code smtpd_client_event_limit_exceptions}
 * @param delayReject {@code smtpd_delay_reject}
 * @param forbidUnauthPipelining {@code smtpd_forbid_unauth_pipelining}
 * @param bareNewline {@code smtpd_forbid_bare_newline}
 * @param bareNewlineExclusions {@code smtpd_forbid_bare_newline_exclusions}
 * @param bareNewlineRejectCode {@code smtpd_forbid_bare_newline_reject_code}
 * @param smtputf8 {@code smtputf8_enable}
 * @param peernameLookup {@code smtpd_peername_lookup}: look the client's name up (no: every client is
 *        {@code unknown}, as Postfix)
 * @param contentFilter {@code content_filter} of this service ({@code -o content_filter=} on a reinjection
 *        listener empties it): {@code transport:destination} for every message, or empty
 * @param mynetworks {@code mynetworks}
 */
record SmtpdSettings(String myhostname, String banner, long timeoutSeconds, int lineLengthLimit, int processLimit,
        boolean heloRequired, boolean disableVrfy, long messageSizeLimit, int recipientLimit,
        int recipientOvershootLimit, int softErrorLimit, int hardErrorLimit, long errorSleepMillis,
        int junkCommandLimit, int connectionCountLimit, int connectionRateLimit, long rateTimeUnitSeconds,
        Networks eventLimitExceptions, boolean delayReject, boolean forbidUnauthPipelining, BareNewline bareNewline,
        Networks bareNewlineExclusions, int bareNewlineRejectCode, boolean smtputf8, Networks mynetworks,
        String contentFilter, boolean peernameLookup) {

    /** {@code smtpd_forbid_bare_newline}: Postfix 3.9's values. */
    enum BareNewline {
        /** {@code no}: a bare LF ends a line, as in Postfix before 3.9. */
        NO(false, false),
        /** {@code normalize} (default) and {@code yes}: only CRLF.CRLF ends DATA; bare LF is accepted as a line end. */
        NORMALIZE(true, false),
        /** {@code note}: as normalize; Postfix adds {@code notes=bare_lf} to the disconnect line. */
        NOTE(true, false),
        /** {@code reject}: a command or message with a bare LF is refused. */
        REJECT(true, true);

        final boolean standardEndOfData;
        final boolean reject;

        BareNewline(boolean standardEndOfData, boolean reject) {
            this.standardEndOfData = standardEndOfData;
            this.reject = reject;
        }

        static BareNewline parse(String value) {
            return switch (value.trim().toLowerCase(Locale.ROOT)) {
                case "normalize", "yes" -> NORMALIZE;
                case "note" -> NOTE;
                case "reject" -> REJECT;
                case "no" -> NO;
                default -> throw new IllegalArgumentException("invalid smtpd_forbid_bare_newline value: " + value);
            };
        }
    }

    /** @throws IllegalArgumentException naming the parameter (or master.cf column) and the bad value */
    static SmtpdSettings from(MasterEntry entry, ConfigSnapshot config) {
        String myhostname = config.value("myhostname");
        long timeout = atLeast("smtpd_timeout", config.seconds("smtpd_timeout"), 1);
        long lineLimit = atLeast("line_length_limit", config.integer("line_length_limit"), 512);
        Networks mynetworks = Networks.parse("mynetworks", config.list("mynetworks"));
        int bareCode = (int) config.integer("smtpd_forbid_bare_newline_reject_code");
        if (bareCode != 521 && bareCode != 550) {
            // Postfix accepts only these two (smtpd.c: "521" or "550")
            throw new IllegalArgumentException("invalid smtpd_forbid_bare_newline_reject_code parameter value "
                    + bareCode + ": specify 521 or 550");
        }
        return new SmtpdSettings(
                myhostname,
                config.value("smtpd_banner"),
                timeout,
                (int) Math.min(lineLimit, Integer.MAX_VALUE - 2),
                processLimit(entry, config),
                config.bool("smtpd_helo_required"),
                config.bool("disable_vrfy_command"),
                atLeast("message_size_limit", config.integer("message_size_limit"), 0),
                intValue("smtpd_recipient_limit", config.integer("smtpd_recipient_limit"), 0),
                intValue("smtpd_recipient_overshoot_limit", config.integer("smtpd_recipient_overshoot_limit"), 0),
                intValue("smtpd_soft_error_limit", config.integer("smtpd_soft_error_limit"), 0),
                intValue("smtpd_hard_error_limit", config.integer("smtpd_hard_error_limit"), 1),
                atLeast("smtpd_error_sleep_time", config.seconds("smtpd_error_sleep_time"), 0) * 1000,
                intValue("smtpd_junk_command_limit", config.integer("smtpd_junk_command_limit"), 1),
                intValue("smtpd_client_connection_count_limit", config.integer("smtpd_client_connection_count_limit"), 0),
                intValue("smtpd_client_connection_rate_limit", config.integer("smtpd_client_connection_rate_limit"), 0),
                atLeast("anvil_rate_time_unit", config.seconds("anvil_rate_time_unit"), 1),
                Networks.parse("smtpd_client_event_limit_exceptions", config.list("smtpd_client_event_limit_exceptions")),
                config.bool("smtpd_delay_reject"),
                config.bool("smtpd_forbid_unauth_pipelining"),
                BareNewline.parse(config.value("smtpd_forbid_bare_newline")),
                Networks.parse("smtpd_forbid_bare_newline_exclusions", config.list("smtpd_forbid_bare_newline_exclusions")),
                bareCode,
                config.bool("smtputf8_enable"),
                mynetworks,
                config.get("content_filter").map(String::strip).orElse(""),
                !config.get("smtpd_peername_lookup").map(v -> v.strip().equalsIgnoreCase("no")).orElse(false));
    }

    /** Postfix's {@code ENFORCING_SIZE_LIMIT}: a limit of 0 means none. */
    boolean enforcingSizeLimit() {
        return messageSizeLimit > 0;
    }

    private static int processLimit(MasterEntry entry, ConfigSnapshot config) {
        String column = entry.maxproc();
        if (column == null || column.equals("-")) {
            return intValue("default_process_limit", config.integer("default_process_limit"), 1);
        }
        try {
            int value = Integer.parseInt(column);
            if (value >= 0) {
                return value;
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        // Postfix master: "bad numerical value for max_proc field: x"
        throw new IllegalArgumentException("bad numerical value for max_proc field: " + column);
    }

    private static int intValue(String name, long value, long minimum) {
        return (int) Math.min(atLeast(name, value, minimum), Integer.MAX_VALUE);
    }

    private static long atLeast(String name, long value, long minimum) {
        if (value < minimum) {
            // Postfix's text for a value below the parameter's minimum
            throw new IllegalArgumentException("invalid " + name + " parameter value " + value + " < " + minimum);
        }
        return value;
    }
}
