package org.estafeta.milter;

/**
 * The current value of a Sendmail macro for a session, asked for at each event: {@code j}, {@code _},
 * {@code {client_addr}}, {@code {mail_addr}}, {@code i} (the queue ID) and so on, named exactly as in the
 * {@code milter_*_macros} lists (braces included). Called on the session's thread.
 */
@FunctionalInterface
public interface MilterMacroSource {
    /** The value, or null when the macro is not defined now (then {@code milter_macro_defaults} applies). */
    String value(String name);
}
