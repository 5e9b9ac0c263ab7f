package org.estafeta.config;

/**
 * A configuration that cannot be used: a malformed line, an expansion loop, an unreadable file. The message
 * names the file and the line, as Postfix does ({@code /etc/estafeta/main.cf, line 7: missing '=' after
 * attribute name: "foo"}).
 */
public class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String file;
    private final int line;

    public ConfigException(String file, int line, String message) {
        super(line > 0 ? file + ", line " + line + ": " + message : file + ": " + message);
        this.file = file;
        this.line = line;
    }

    public String file() {
        return file;
    }

    /** The line number, or 0 when the problem is not tied to one line. */
    public int line() {
        return line;
    }
}
