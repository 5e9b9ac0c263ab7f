package org.estafeta.launcher.log;

import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** java.util.logging (used by File Install with {@code felix.fileinstall.log.default=jul}) into the maillog. */
public final class JulBridge extends Handler {
    private static volatile boolean installed;

    /** Replaces the root JUL handlers with this bridge, once per JVM. */
    public static synchronized void install() {
        if (installed) {
            return;
        }
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        root.setLevel(Level.INFO);
        root.addHandler(new JulBridge());
        installed = true;
    }

    @Override
    public void publish(LogRecord r) {
        if (r == null) {
            return;
        }
        int v = r.getLevel().intValue();
        Maillog.Level level = v >= Level.SEVERE.intValue() ? Maillog.Level.ERROR
                : v >= Level.WARNING.intValue() ? Maillog.Level.WARN
                : v >= Level.INFO.intValue() ? Maillog.Level.INFO : Maillog.Level.DEBUG;
        String text = r.getMessage();
        if (r.getParameters() != null && text != null && text.contains("{0")) {
            text = java.text.MessageFormat.format(text, r.getParameters());
        }
        Maillog.log(Maillog.programName(r.getLoggerName()), level, text, r.getThrown());
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }
}
