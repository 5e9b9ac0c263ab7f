package org.estafeta.transport.smtp.internal;

import org.estafeta.api.message.Reply;

/**
 * Why recipients are not delivered (Postfix's DSN_BUF): an enhanced status, the text Postfix logs, and the
 * server's reply code when a server said it (0 when the reason is local).
 */
record Why(String status, String text, int code) {

    static Why local(String status, String text) {
        return new Why(status, text, 0);
    }

    /**
     * A failure reported with the server's reply, as vsmtp_fill_dsn() does: a status that is not 4.x.x or 5.x.x
     * (a 2xx or 3xx reply where a failure is seen) becomes {@code Protocol error: ...} with 5.5.0.
     */
    static Why remote(Response r, String text) {
        if (r.dsn().charAt(0) != '4' && r.dsn().charAt(0) != '5') {
            return new Why("5.5.0", "Protocol error: " + text, r.code());
        }
        return new Why(r.dsn(), text, r.code());
    }

    boolean isSoft() {
        return status.charAt(0) == '4';
    }

    Why soft() {
        return isSoft() ? this : new Why("4" + status.substring(1), text, code);
    }

    Why withStatus(String newStatus) {
        return new Why(newStatus, text, code);
    }

    /** The api reply: the server's code when its class agrees with the status, else 450 or 550. */
    Reply reply() {
        char cls = status.charAt(0);
        int c = code / 100 == cls - '0' ? code : (cls - '0') * 100 + 50;
        return new Reply(c, status, text);
    }
}
