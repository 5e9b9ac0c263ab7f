package org.estafeta.restrictions.internal;

import java.text.MessageFormat;
import java.util.ResourceBundle;

import org.slf4j.Logger;

/** A {@link System.Logger} for plugin restrictions that writes through slf4j (so to the maillog). */
final class Slf4jSystemLogger implements System.Logger {
    private final Logger log;

    Slf4jSystemLogger(Logger log) {
        this.log = log;
    }

    @Override
    public String getName() {
        return log.getName();
    }

    @Override
    public boolean isLoggable(Level level) {
        return switch (level) {
            case ALL, TRACE -> log.isTraceEnabled();
            case DEBUG -> log.isDebugEnabled();
            case INFO -> log.isInfoEnabled();
            case WARNING -> log.isWarnEnabled();
            case ERROR -> log.isErrorEnabled();
            case OFF -> false;
        };
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
        write(level, msg, thrown);
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String format, Object... params) {
        write(level, params == null || params.length == 0 ? format : MessageFormat.format(format, params), null);
    }

    private void write(Level level, String msg, Throwable thrown) {
        switch (level) {
            case ALL, TRACE -> log.trace(msg, thrown);
            case DEBUG -> log.debug(msg, thrown);
            case INFO -> log.info(msg, thrown);
            case WARNING -> log.warn(msg, thrown);
            case ERROR -> log.error(msg, thrown);
            case OFF -> {
            }
        }
    }
}
