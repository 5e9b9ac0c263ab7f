package org.estafeta.testing;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Runs a Python script that uses the standard library's smtplib (Debian's {@code /usr/bin/python3}), so that
 * tests cover a second, independent client. The script gets the port as {@code sys.argv[1]} and prints what the
 * test compares; {@link #PRELUDE} gives it {@code connect(source=None)} and {@code show(code, msg)} (prints
 * {@code CODE TEXT} with multi-line texts joined by {@code |}).
 */
public final class PySmtplib {
    public static final String PRELUDE = String.join("\n",
            "import smtplib, sys",
            "PORT = int(sys.argv[1])",
            "def connect(source=None):",
            "    s = smtplib.SMTP(timeout=20, source_address=(source, 0) if source else None)",
            "    code, msg = s.connect('127.0.0.1', PORT)",
            "    return s",
            "def show(code, msg):",
            "    text = msg.decode('latin-1') if isinstance(msg, bytes) else str(msg)",
            "    print('%d %s' % (code, text.replace('\\n', '|')))",
            "");

    private PySmtplib() {
    }

    /** Runs {@link #PRELUDE} + {@code script} against 127.0.0.1:{@code port}; returns stdout's lines. */
    public static List<String> run(int port, String script) throws IOException, InterruptedException {
        Peers.require(Peers.PYTHON3, "python3");
        ProcessRunner.Result r = ProcessRunner.run(List.of(Peers.PYTHON3, "-c", PRELUDE + script, String.valueOf(port)),
                Map.of("PYTHONDONTWRITEBYTECODE", "1"), null, 60);
        if (r.exit() != 0) {
            throw new AssertionError("python3 smtplib script failed (" + r.exit() + "):\n" + r.output());
        }
        return r.stdout().lines().toList();
    }
}
