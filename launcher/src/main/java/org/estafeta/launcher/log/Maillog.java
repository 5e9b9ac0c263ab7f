package org.estafeta.launcher.log;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * Where log lines go and what they look like. One per JVM (slf4j has one provider per JVM); the launcher sets it
 * up with {@link #daemon} before it starts the framework, and the command-line tools with {@link #command}.
 *
 * <p>Daemon lines have Postfix's maillog shape, {@code Nov 24 04:08:10 host estafeta/smtpd[1234]: text}, as
 * Postfix's msg_logger writes them: {@code %b %d %H:%M:%S}, the first label of the host name, syslog_name and the
 * program name, the pid, and {@code warning: }/{@code error: } before the text of those levels. Command lines
 * look like Postfix's command-line tools on stderr: {@code estafeta/postmap: warning: text}.
 */
public final class Maillog {
    /** Logging levels, lowest first. */
    public enum Level { TRACE, DEBUG, INFO, WARN, ERROR }

    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("MMM dd HH:mm:ss", Locale.ENGLISH);

    private static final Object LOCK = new Object();
    private static volatile Mode mode = defaultMode();
    private static OutputStream file;
    private static Path filePath;

    private record Mode(boolean daemon, String syslogName, String host, boolean console, Level threshold,
            String commandName) {
    }

    private Maillog() {
    }

    private static Mode defaultMode() {
        return new Mode(true, "estafeta", shortHostName(null), true, thresholdFromProperty(), null);
    }

    /**
     * Daemon mode: maillog lines to {@code maillogFile} (appended; null for none) and, when {@code console}, to
     * stderr.
     */
    public static void daemon(String syslogName, String hostName, Path maillogFile, boolean console)
            throws IOException {
        synchronized (LOCK) {
            closeFile();
            if (maillogFile != null) {
                Files.createDirectories(maillogFile.toAbsolutePath().getParent());
                file = Files.newOutputStream(maillogFile, StandardOpenOption.CREATE, StandardOpenOption.APPEND,
                        StandardOpenOption.WRITE);
                filePath = maillogFile;
            }
            mode = new Mode(true, syslogName == null || syslogName.isBlank() ? "estafeta" : syslogName,
                    shortHostName(hostName), console, thresholdFromProperty(), null);
        }
    }

    /** Command mode: warnings and errors to stderr as {@code estafeta/<command>: warning: text}. */
    public static void command(String syslogName, String commandName) {
        synchronized (LOCK) {
            closeFile();
            mode = new Mode(false, syslogName == null || syslogName.isBlank() ? "estafeta" : syslogName, null,
                    true, Level.WARN, commandName);
        }
    }

    /** Closes the maillog file; later lines go to the console only. */
    public static void close() {
        synchronized (LOCK) {
            closeFile();
        }
    }

    /** The maillog file lines are appended to, or null. */
    public static Path file() {
        return filePath;
    }

    public static boolean enabled(Level level) {
        return level.ordinal() >= mode.threshold().ordinal();
    }

    /** Writes one event. {@code program} is the Postfix-style program name ({@code master}, {@code smtpd}). */
    public static void log(String program, Level level, String text, Throwable error) {
        Mode m = mode;
        if (level.ordinal() < m.threshold().ordinal()) {
            return;
        }
        StringBuilder line = new StringBuilder(128);
        if (m.daemon()) {
            line.append(STAMP.format(LocalDateTime.now())).append(' ').append(m.host()).append(' ')
                    .append(m.syslogName()).append('/').append(program)
                    .append('[').append(ProcessHandle.current().pid()).append("]: ");
        } else {
            line.append(m.syslogName()).append('/').append(m.commandName()).append(": ");
        }
        switch (level) {
            case WARN -> line.append("warning: ");
            case ERROR -> line.append("error: ");
            case DEBUG, TRACE -> line.append("debug: ");
            default -> { }
        }
        // One event, one line: a multi-line message must not break grep and pflogsumm.
        line.append(oneLine(text));
        if (error != null) {
            line.append(": ").append(oneLine(String.valueOf(error)));
            Throwable cause = error.getCause();
            for (int depth = 0; cause != null && depth < 5; depth++, cause = cause.getCause()) {
                line.append(": caused by ").append(oneLine(String.valueOf(cause)));
            }
        }
        line.append('\n');
        byte[] bytes = line.toString().getBytes(StandardCharsets.UTF_8);
        synchronized (LOCK) {
            if (m.console()) {
                PrintStream err = System.err;
                err.write(bytes, 0, bytes.length);
                err.flush();
            }
            if (m.daemon() && file != null) {
                try {
                    file.write(bytes);
                    file.flush();
                } catch (IOException e) {
                    System.err.print(m.syslogName() + "/master: warning: cannot write " + filePath + ": " + e + "\n");
                }
            }
        }
    }

    private static String oneLine(String text) {
        if (text == null) {
            return "null";
        }
        return text.indexOf('\n') < 0 && text.indexOf('\r') < 0 ? text
                : text.replace("\r\n", " ").replace('\n', ' ').replace('\r', ' ');
    }

    private static void closeFile() {
        if (file != null) {
            try {
                file.close();
            } catch (IOException e) {
                // nothing left to log to
            }
            file = null;
            filePath = null;
        }
    }

    private static Level thresholdFromProperty() {
        String level = System.getProperty("estafeta.log.level", "INFO");
        try {
            return Level.valueOf(level.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            return Level.INFO;
        }
    }

    /** The first label of the host name, as Postfix's msg_logger prints it. */
    static String shortHostName(String name) {
        String host = name;
        if (host == null || host.isBlank()) {
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                host = "localhost";
            }
        }
        int dot = host.indexOf('.');
        return dot > 0 ? host.substring(0, dot) : host;
    }

    /**
     * The Postfix-style program name for an slf4j logger name. Estafeta's bundles use the program name itself
     * ({@code smtpd}); the libraries' class-named loggers get a short name.
     */
    public static String programName(String loggerName) {
        if (loggerName == null || loggerName.isEmpty() || "ROOT".equals(loggerName)) {
            return "estafeta";
        }
        if (loggerName.indexOf('.') < 0) {
            return loggerName;
        }
        String[][] known = {
            {"org.estafeta.launcher", "master"},
            {"org.eclipse.jetty", "jetty"},
            {"org.apache.felix.http", "http"},
            {"org.apache.felix.webconsole", "webconsole"},
            {"org.apache.felix.inventory", "webconsole"},
            {"org.apache.felix.scr", "scr"},
            {"org.apache.felix.fileinstall", "fileinstall"},
            {"org.apache.felix.cm", "configadmin"},
            {"io.netty", "netty"},
            {"org.bouncycastle", "tls"},
            {"org.xbill.DNS", "dns"},
            {"org.apache.james.mime4j", "mime4j"},
        };
        for (String[] k : known) {
            if (loggerName.equals(k[0]) || loggerName.startsWith(k[0] + ".")) {
                return k[1];
            }
        }
        String[] parts = loggerName.split("\\.");
        if (parts.length >= 3 && "org".equals(parts[0]) && "estafeta".equals(parts[1])) {
            return parts[2]; // org.estafeta.smtpd.SmtpServer -> smtpd
        }
        return parts.length >= 2 ? parts[1].toLowerCase(Locale.ROOT) : parts[0].toLowerCase(Locale.ROOT);
    }
}
