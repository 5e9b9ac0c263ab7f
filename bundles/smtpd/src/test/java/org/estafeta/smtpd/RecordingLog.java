package org.estafeta.smtpd;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Collects smtpd's log lines, each prefixed {@code info: } or {@code warning: } as the maillog shows them. */
final class RecordingLog implements SmtpdLog {
    final List<String> lines = new CopyOnWriteArrayList<>();

    @Override
    public void info(String line) {
        lines.add("info: " + line);
    }

    @Override
    public void warn(String line) {
        lines.add("warning: " + line);
    }
}
