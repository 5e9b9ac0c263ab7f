package org.estafeta.master.internal;

import java.util.ArrayList;
import java.util.List;

import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/** An slf4j logger that keeps every line ("INFO text"), for tests. */
final class RecordingLogger extends LegacyAbstractLogger {
    private static final long serialVersionUID = 1L;
    private final List<String> lines = new ArrayList<>();

    RecordingLogger() {
        this.name = "master";
    }

    synchronized List<String> lines() {
        return List.copyOf(lines);
    }

    synchronized List<String> lines(Level level) {
        return lines.stream().filter(l -> l.startsWith(level + " ")).map(l -> l.substring(level.toString().length() + 1))
                .toList();
    }

    synchronized void clear() {
        lines.clear();
    }

    @Override
    protected String getFullyQualifiedCallerName() {
        return null;
    }

    @Override
    protected synchronized void handleNormalizedLoggingCall(Level level, Marker marker, String pattern,
            Object[] arguments, Throwable throwable) {
        lines.add(level + " " + MessageFormatter.basicArrayFormat(pattern, arguments));
    }

    @Override
    public boolean isTraceEnabled() {
        return true;
    }

    @Override
    public boolean isDebugEnabled() {
        return true;
    }

    @Override
    public boolean isInfoEnabled() {
        return true;
    }

    @Override
    public boolean isWarnEnabled() {
        return true;
    }

    @Override
    public boolean isErrorEnabled() {
        return true;
    }
}
