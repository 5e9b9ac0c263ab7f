package org.estafeta.config;

/**
 * A problem that does not stop the configuration from loading, for example
 * {@code /etc/estafeta/main.cf, line 12: unused parameter: relay=}. {@link #toString()} gives the log text.
 *
 * @param file the file
 * @param line the line number, or 0 when the warning is not about one line
 * @param message what is wrong, naming the parameter
 */
public record ConfigWarning(String file, int line, String message) {
    @Override
    public String toString() {
        return line > 0 ? file + ", line " + line + ": " + message : file + ": " + message;
    }
}
