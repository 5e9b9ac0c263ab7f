package org.estafeta.launcher.log;

import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.AbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/** An slf4j logger that writes through {@link Maillog} under the program name its logger name maps to. */
final class MaillogLogger extends AbstractLogger {
    private static final long serialVersionUID = 1L;
    private final String program;

    MaillogLogger(String name) {
        this.name = name;
        this.program = Maillog.programName(name);
    }

    @Override
    public boolean isTraceEnabled() {
        return Maillog.enabled(Maillog.Level.TRACE);
    }

    @Override
    public boolean isTraceEnabled(Marker marker) {
        return isTraceEnabled();
    }

    @Override
    public boolean isDebugEnabled() {
        return Maillog.enabled(Maillog.Level.DEBUG);
    }

    @Override
    public boolean isDebugEnabled(Marker marker) {
        return isDebugEnabled();
    }

    @Override
    public boolean isInfoEnabled() {
        return Maillog.enabled(Maillog.Level.INFO);
    }

    @Override
    public boolean isInfoEnabled(Marker marker) {
        return isInfoEnabled();
    }

    @Override
    public boolean isWarnEnabled() {
        return Maillog.enabled(Maillog.Level.WARN);
    }

    @Override
    public boolean isWarnEnabled(Marker marker) {
        return isWarnEnabled();
    }

    @Override
    public boolean isErrorEnabled() {
        return Maillog.enabled(Maillog.Level.ERROR);
    }

    @Override
    public boolean isErrorEnabled(Marker marker) {
        return isErrorEnabled();
    }

    @Override
    protected String getFullyQualifiedCallerName() {
        return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(Level level, Marker marker, String messagePattern, Object[] arguments,
            Throwable throwable) {
        String text = MessageFormatter.basicArrayFormat(messagePattern, arguments);
        Maillog.log(program, switch (level) {
            case TRACE -> Maillog.Level.TRACE;
            case DEBUG -> Maillog.Level.DEBUG;
            case INFO -> Maillog.Level.INFO;
            case WARN -> Maillog.Level.WARN;
            case ERROR -> Maillog.Level.ERROR;
        }, text, throwable);
    }
}
