package org.estafeta.transport.pipe.internal;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.estafeta.api.message.Reply;
import org.estafeta.api.transport.RecipientResult;

/**
 * The fate of every recipient of one pipe delivery, with the enhanced status code and the text Postfix's pipe logs
 * in {@code status=... (text)}. The SMTP reply code is not Postfix's (pipe has none): 250, 450 or 550 by status.
 *
 * @param status delivered, deferred or bounced
 * @param dsn the RFC 3463 code
 * @param text the reason, one line
 */
record Verdict(RecipientResult.Status status, String dsn, String text) {
    /** sendmail's sysexits.h codes 64 (EX_USAGE) to 78 (EX_CONFIG): DSN code and text, as Postfix's sys_exits table. */
    private static final String[][] SYSEXITS = {
        {"5.3.0", "command line usage error"},
        {"5.6.0", "data format error"},
        {"5.3.0", "cannot open input"},
        {"5.1.1", "user unknown"},
        {"5.1.2", "host name unknown"},
        {"5.3.0", "service unavailable"},
        {"5.3.0", "internal software error"},
        {"4.3.0", "system resource problem"},
        {"5.3.0", "critical OS file missing"},
        {"5.2.0", "can't create user output file"},
        {"5.3.0", "input/output error"},
        {"4.3.0", "temporary failure"},
        {"5.5.0", "remote error in protocol"},
        {"5.7.0", "permission denied"},
        {"5.3.5", "local configuration error"},
    };
    private static final int EX_BASE = 64;
    static final int EX_TEMPFAIL = 75;

    /** Postfix's dsn_valid() at the start of the command output: the code, then white space or the end. */
    private static final Pattern OUTPUT_DSN = Pattern.compile("^([245]\\.\\d{1,3}\\.\\d{1,3})(?:\\s+|$)(.*)", Pattern.DOTALL);

    /** How much of the output a successful delivery shows: Postfix's {@code " (%.100s)"}. */
    private static final int SUCCESS_OUTPUT = 100;

    static Verdict deferred(String dsn, String text) {
        return new Verdict(RecipientResult.Status.DEFERRED, dsn, text);
    }

    static Verdict bounced(String dsn, String text) {
        return new Verdict(RecipientResult.Status.BOUNCED, dsn, text);
    }

    /** Postfix's text for a sysexits.h code, or {@code unknown mail system error N}. */
    static String sysexitsText(int code) {
        return isSysexits(code) ? SYSEXITS[code - EX_BASE][1] : "unknown mail system error " + code;
    }

    private static boolean isSysexits(int code) {
        return code >= EX_BASE && code < EX_BASE + SYSEXITS.length;
    }

    /**
     * Maps a finished command as Postfix's pipe_command() and eval_command_status() do: exit 0 is delivered; a
     * signal defers; otherwise output that starts with an enhanced status code decides, then the sysexits.h code,
     * and any other status bounces with 5.3.0. Output, when there is any, is appended.
     *
     * @param command argv[0] as expanded, for the texts
     */
    static Verdict of(CommandRunner.Outcome o, String command, String service) {
        String output = o.output();
        String suffix = output.isEmpty() ? "" : ". Command output: " + output;
        if (o.timedOut()) {
            // as Postfix's pipe_command(): the command was killed, the mail is returned with 5.3.0
            return bounced("5.3.0", "Command time limit exceeded: \"" + command + "\"" + suffix);
        }
        int status = o.exitValue();
        if (status == 0) {
            if (o.readError() != null) {
                return deferred("4.3.0", "Command failed: error reading message: " + o.readError().getMessage() + ": \""
                        + command + "\"");
            }
            String shown = output.strip();
            shown = shown.length() > SUCCESS_OUTPUT ? shown.substring(0, SUCCESS_OUTPUT) : shown;
            return new Verdict(RecipientResult.Status.DELIVERED, "2.0.0",
                    "delivered via " + service + " service" + (shown.isEmpty() ? "" : " (" + shown + ")"));
        }
        if (status > 128 && status <= 128 + 64) {
            return deferred("4.3.0", "Command died with signal " + (status - 128) + ": \"" + command + "\"" + suffix);
        }
        Matcher m = OUTPUT_DSN.matcher(output);
        if (m.matches()) {
            String dsn = m.group(1);
            return dsn.charAt(0) == '4' ? deferred(dsn, m.group(2)) : bounced(dsn.charAt(0) == '5' ? dsn : "5.0.0", m.group(2));
        }
        if (isSysexits(status)) {
            String[] e = SYSEXITS[status - EX_BASE];
            return e[0].charAt(0) == '4' ? deferred(e[0], e[1] + suffix) : bounced(e[0], e[1] + suffix);
        }
        return bounced("5.3.0", "Command died with status " + status + ": \"" + command + "\"" + suffix);
    }

    RecipientResult result(String recipient, String relay) {
        int code = switch (status) {
            case DELIVERED -> 250;
            case DEFERRED -> 450;
            case BOUNCED -> 550;
        };
        return new RecipientResult(recipient, status, new Reply(code, dsn, text), relay);
    }
}
