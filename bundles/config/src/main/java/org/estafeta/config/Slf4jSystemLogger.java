package org.estafeta.config;

import java.text.MessageFormat;
import java.util.ResourceBundle;

import org.slf4j.Logger;

/** A {@link System.Logger} that writes to an slf4j logger, so that plugin lines land in the maillog. */
public final class Slf4jSystemLogger implements System.Logger {
    private final String name;
    private final Logger log;

    public Slf4jSystemLogger(String name, Logger log) {
        this.name = name;
        this.log = log;
    }

    @Override
    public String getName() {
        return name;
    }

    @Override
    public boolean isLoggable(Level level) {
        switch (level) {
            case ALL:
            case TRACE:
                return log.isTraceEnabled();
            case DEBUG:
                return log.isDebugEnabled();
            case INFO:
                return log.isInfoEnabled();
            case WARNING:
                return log.isWarnEnabled();
            case ERROR:
                return log.isErrorEnabled();
            default:
                return false;
        }
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
        write(level, localize(bundle, msg), thrown);
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String format, Object... params) {
        String text = localize(bundle, format);
        if (params != null && params.length > 0) {
            text = MessageFormat.format(text, params);
        }
        write(level, text, null);
    }

    private static String localize(ResourceBundle bundle, String key) {
        if (bundle != null && key != null && bundle.containsKey(key)) {
            return bundle.getString(key);
        }
        return key;
    }

    private void write(Level level, String text, Throwable thrown) {
        switch (level) {
            case ALL:
            case TRACE:
                log.trace(text, thrown);
                break;
            case DEBUG:
                log.debug(text, thrown);
                break;
            case INFO:
                log.info(text, thrown);
                break;
            case WARNING:
                log.warn(text, thrown);
                break;
            case ERROR:
                log.error(text, thrown);
                break;
            default:
                break;
        }
    }
}
