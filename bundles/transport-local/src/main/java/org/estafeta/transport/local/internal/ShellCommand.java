package org.estafeta.transport.local.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.estafeta.api.message.MessageContent;
import org.estafeta.process.support.CannotSwitchUserException;
import org.estafeta.process.support.SetprivCommand;

/**
 * Runs a {@code |command} of an alias, {@code :include:} file or {@code .forward} (and {@code mailbox_command}) as
 * Postfix's local does: {@code /bin/sh -c command} as the given user, with the message (From_ line, Return-Path,
 * X-Original-To, Delivered-To) on its standard input, under {@code command_time_limit}, and maps its exit status as
 * pipe_command() does (sysexits.h codes, an enhanced status code at the start of the output, signals defer).
 *
 * <p>Java cannot change user, so a gateway running as root starts the shell through util-linux's {@code setpriv}, as
 * the pipe transport does (the shared {@link SetprivCommand}). The message goes to the command from a private
 * temporary file and its output (the first 4096 bytes are kept for the reason text) comes back through another, so
 * no threads are needed to feed and drain it.
 */
final class ShellCommand {
    /** How much command output is kept for the reply: Postfix's VSTREAM_BUFSIZE. */
    static final int OUTPUT_LIMIT = 4096;
    private static final Pattern OUTPUT_DSN = Pattern.compile("^([245]\\.\\d{1,3}\\.\\d{1,3})(?:\\s+|$)(.*)", Pattern.DOTALL);
    /** sysexits.h 64 (EX_USAGE) to 78 (EX_CONFIG): DSN code and text, as Postfix's sys_exits table. */
    private static final String[][] SYSEXITS = {
        {"5.3.0", "command line usage error"}, {"5.6.0", "data format error"}, {"5.3.0", "cannot open input"},
        {"5.1.1", "user unknown"}, {"5.1.2", "host name unknown"}, {"5.3.0", "service unavailable"},
        {"5.3.0", "internal software error"}, {"4.3.0", "system resource problem"},
        {"5.3.0", "critical OS file missing"}, {"5.2.0", "can't create user output file"},
        {"5.3.0", "input/output error"}, {"4.3.0", "temporary failure"}, {"5.5.0", "remote error in protocol"},
        {"5.7.0", "permission denied"}, {"5.3.5", "local configuration error"},
    };

    private ShellCommand() {
    }

    /**
     * @param environment the variables local(8) sets ({@code HOME}, {@code USER}, {@code SENDER}, {@code RECIPIENT} …)
     *        and those of {@code export_environment}
     */
    static Outcome run(String command, Mailbox.Owner who, Map<String, String> environment, MessageCopy copy,
            MessageContent content, long timeLimitSeconds) {
        List<String> argv;
        try {
            argv = SetprivCommand.commandLine(who.uid(), who.gid(), List.of("/bin/sh", "-c", command));
        } catch (CannotSwitchUserException e) {
            return Outcome.deferred("4.3.5", "mail system configuration error: "
                    + (e.setprivMissing() ? "" : "cannot run commands as uid " + who.uid() + ": ") + e.getMessage());
        } catch (IOException e) {
            return Outcome.deferred("4.3.0", "Command failed: " + Mailbox.reason(e));
        }
        Path in = null;
        Path out = null;
        try {
            in = Files.createTempFile("estafeta-local-", ".in");
            out = Files.createTempFile("estafeta-local-", ".out");
            try (OutputStream o = new java.io.BufferedOutputStream(Files.newOutputStream(in), 65536)) {
                copy.write(content, o, MessageCopy.Style.COMMAND);
            } catch (MessageCopy.ReadException e) {
                return Outcome.deferred("4.3.0", "error reading message: " + Mailbox.reason(e));
            }
            ProcessBuilder pb = new ProcessBuilder(argv).directory(Path.of("/").toFile())
                    .redirectInput(in.toFile()).redirectOutput(out.toFile()).redirectErrorStream(true);
            pb.environment().clear();
            pb.environment().putAll(environment);
            Process p = pb.start();
            boolean finished = p.waitFor(timeLimitSeconds, TimeUnit.SECONDS);
            if (!finished) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor();
            }
            String output;
            try (InputStream r = Files.newInputStream(out)) {
                output = printable(r.readNBytes(OUTPUT_LIMIT));
            }
            return verdict(finished, p.exitValue(), output, command);
        } catch (IOException e) {
            return Outcome.deferred("4.3.0", "Command failed: " + Mailbox.reason(e) + ": \"" + command + "\"");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Outcome.deferred("4.3.0", "Command failed: interrupted: \"" + command + "\"");
        } finally {
            for (Path p : new Path[] {in, out}) {
                try {
                    if (p != null) {
                        Files.deleteIfExists(p);
                    }
                } catch (IOException e) {
                    // a temporary file left in the temporary directory
                }
            }
        }
    }

    /** Postfix's pipe_command() status mapping; the success text is local's. */
    static Outcome verdict(boolean finished, int status, String output, String command) {
        String suffix = output.isEmpty() ? "" : ". Command output: " + output;
        if (!finished) {
            return Outcome.bounced("5.3.0", "Command time limit exceeded: \"" + command + "\"" + suffix);
        }
        if (status == 0) {
            return Outcome.sent("delivered to command: " + command);
        }
        if (status > 128 && status <= 128 + 64) { // how the JDK reports a signal
            return Outcome.deferred("4.3.0", "Command died with signal " + (status - 128) + ": \"" + command + "\"" + suffix);
        }
        Matcher m = OUTPUT_DSN.matcher(output);
        if (m.matches()) {
            String dsn = m.group(1);
            return Outcome.failed(dsn.charAt(0) == '2' ? "5.0.0" : dsn, m.group(2));
        }
        if (status >= 64 && status < 64 + SYSEXITS.length) {
            String[] e = SYSEXITS[status - 64];
            return Outcome.failed(e[0], e[1] + suffix);
        }
        return Outcome.bounced("5.3.0", "Command died with status " + status + ": \"" + command + "\"" + suffix);
    }

    /** Tabs and newlines become spaces, other control characters and undecodable bytes an underscore. */
    static String printable(byte[] bytes) {
        String s = new String(bytes, StandardCharsets.UTF_8).strip();
        StringBuilder sb = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            sb.append(c == '\t' || c == '\n' ? ' ' : Character.isISOControl(c) || c == '\uFFFD' ? '_' : c);
        }
        return sb.toString();
    }
}
