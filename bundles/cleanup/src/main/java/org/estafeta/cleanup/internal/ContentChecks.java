package org.estafeta.cleanup.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.estafeta.api.message.Reply;
import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.tables.TableService;

/**
 * header_checks(5) for one message: {@code header_checks}, {@code mime_header_checks}, {@code nested_header_checks}
 * and {@code body_checks}, each a list of tables opened through the table SPI (so regexp, pcre and any plugin type
 * work), the first table that answers wins. A table's temporary failure is reported as a {@link Verdict#defer};
 * cleanup turns it into {@code 451 4.3.0}, so nothing passes unchecked.
 */
final class ContentChecks implements AutoCloseable {
    /** Which list applies: Postfix's header classes plus the body. */
    enum Kind {
        HEADER("header_checks", "header"), MIME_HEADER("mime_header_checks", "header"),
        NESTED_HEADER("nested_header_checks", "header"), BODY("body_checks", "body");

        final String parameter;
        /** The word in the log line ({@code reject: header ...}, {@code reject: body ...}). */
        final String what;

        Kind(String parameter, String what) {
            this.parameter = parameter;
            this.what = what;
        }
    }

    /**
     * What a table asked for: {@code name} upper-cased ({@code REJECT}, {@code WARN} ...), {@code text} the rest
     * (possibly empty).
     */
    record Action(String name, String text) {
        static Action parse(String value) {
            String v = value.strip();
            int sp = 0;
            while (sp < v.length() && !Character.isWhitespace(v.charAt(sp))) {
                sp++;
            }
            return new Action(v.substring(0, sp).toUpperCase(Locale.ROOT), v.substring(sp).strip());
        }

        /**
         * The reply of a REJECT (Postfix: {@code 550 5.7.1 message content rejected}, or the action's text with
         * its own enhanced status code when it starts with one), or of a numeric action ({@code 554 5.7.1 text},
         * {@code 450 text}).
         */
        Reply rejectReply() {
            String text = this.text;
            int code = 550;
            if (name.matches("[45]\\d\\d")) {
                code = Integer.parseInt(name);
            }
            String cls = code >= 500 ? "5" : "4";
            Matcher m = STATUS.matcher(text);
            String status = cls + ".7.1";
            if (m.lookingAt() && m.group(1).charAt(0) == cls.charAt(0)) {
                status = m.group(1);
                text = text.substring(m.end()).strip();
            }
            return new Reply(code, status, text.isEmpty() ? "message content rejected" : text);
        }
    }

    private static final Pattern STATUS = Pattern.compile("([245]\\.\\d{1,3}\\.\\d{1,3})(?:\\s+|$)");

    /** A check's outcome: an action, or a temporary failure of one of the tables (the reason). */
    record Verdict(Optional<Action> action, Optional<String> defer) {
        static final Verdict NONE = new Verdict(Optional.empty(), Optional.empty());
    }

    private final List<List<LookupTable>> byKind = new ArrayList<>();
    private final List<List<String>> specsByKind = new ArrayList<>();
    private final long bodySizeLimit;

    private ContentChecks(long bodySizeLimit) {
        this.bodySizeLimit = bodySizeLimit;
    }

    /**
     * Opens the check tables the snapshot names; returns empty when none is configured. Throws when a table cannot
     * be opened (unknown type, unreadable file), with the parameter in the message.
     */
    static Optional<ContentChecks> open(ConfigSnapshot c, TableService tables) throws TableOpenException {
        boolean any = false;
        for (Kind k : Kind.values()) {
            any |= !c.list(k.parameter).isEmpty();
        }
        if (!any) {
            return Optional.empty();
        }
        if (tables == null) {
            throw new TableOpenException("header/body checks are configured but no table service is active");
        }
        ContentChecks checks = new ContentChecks(c.integer("body_checks_size_limit"));
        try {
            for (Kind k : Kind.values()) {
                List<LookupTable> list = new ArrayList<>();
                List<String> specs = c.list(k.parameter);
                for (String spec : specs) {
                    try {
                        list.add(tables.open(spec));
                    } catch (TableOpenException e) {
                        throw new TableOpenException(k.parameter + ": " + e.getMessage(), e);
                    }
                }
                checks.byKind.add(list);
                checks.specsByKind.add(specs);
            }
        } catch (TableOpenException | RuntimeException e) {
            checks.close();
            throw e;
        }
        return Optional.of(checks);
    }

    boolean has(Kind k) {
        return !byKind.get(k.ordinal()).isEmpty();
    }

    long bodySizeLimit() {
        return bodySizeLimit;
    }

    /** Looks {@code text} (a logical header with its line breaks as {@code \n}, or one body line) up. */
    Verdict check(Kind k, String text) {
        List<LookupTable> list = byKind.get(k.ordinal());
        for (int i = 0; i < list.size(); i++) {
            LookupResult r = list.get(i).lookup(text);
            if (r instanceof LookupResult.Found f) {
                return new Verdict(Optional.of(Action.parse(f.value())), Optional.empty());
            }
            if (r instanceof LookupResult.TemporaryFailure t) {
                return new Verdict(Optional.empty(),
                        Optional.of(k.parameter + " map lookup problem: " + specsByKind.get(k.ordinal()).get(i)));
            }
        }
        return Verdict.NONE;
    }

    @Override
    public void close() {
        for (List<LookupTable> list : byKind) {
            for (LookupTable t : list) {
                try {
                    t.close();
                } catch (RuntimeException e) {
                    // a handle; nothing to save
                }
            }
        }
    }
}
