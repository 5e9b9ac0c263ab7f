package org.estafeta.api.message;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * An SMTP reply as a client sees it: a three-digit code, an RFC 3463 enhanced status code and text,
 * for example {@code 554 5.7.1 <bad@example.com>: Recipient address rejected: Access denied}.
 *
 * <p>The enhanced status class must agree with the reply code (a 4xx reply carries a 4.x.x status, a
 * 5xx reply a 5.x.x status), so that a plugin cannot send a client contradictory signals.
 *
 * @param code SMTP reply code, 200 to 599
 * @param enhancedStatus enhanced status code such as {@code 5.7.1}; its class matches the first digit of {@code code}
 * @param text human-readable text; one line, no CR or LF
 */
public record Reply(int code, String enhancedStatus, String text) {
    private static final Pattern STATUS = Pattern.compile("[245]\\.\\d{1,3}\\.\\d{1,3}");

    public Reply {
        if (code < 200 || code > 599) {
            throw new IllegalArgumentException("SMTP reply code out of range: " + code);
        }
        Objects.requireNonNull(enhancedStatus, "enhancedStatus");
        Objects.requireNonNull(text, "text");
        if (!STATUS.matcher(enhancedStatus).matches()) {
            throw new IllegalArgumentException("not an enhanced status code: " + enhancedStatus);
        }
        if (enhancedStatus.charAt(0) != Integer.toString(code).charAt(0)) {
            throw new IllegalArgumentException("enhanced status " + enhancedStatus + " contradicts reply code " + code);
        }
        if (text.indexOf('\r') >= 0 || text.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("reply text must be a single line");
        }
    }

    /** A permanent rejection, {@code 5xx}. */
    public static Reply reject(int code, String enhancedStatus, String text) {
        if (code < 500) {
            throw new IllegalArgumentException("a rejection needs a 5xx code: " + code);
        }
        return new Reply(code, enhancedStatus, text);
    }

    /** A temporary failure, {@code 4xx}: the client is expected to try again later. */
    public static Reply tempfail(int code, String enhancedStatus, String text) {
        if (code < 400 || code > 499) {
            throw new IllegalArgumentException("a temporary failure needs a 4xx code: " + code);
        }
        return new Reply(code, enhancedStatus, text);
    }

    public boolean isPermanent() {
        return code >= 500;
    }

    public boolean isTransient() {
        return code >= 400 && code < 500;
    }

    /** The reply as it goes on the wire, without the line ending. */
    @Override
    public String toString() {
        return code + " " + enhancedStatus + " " + text;
    }
}
