package org.estafeta.smtpd;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where smtpd's maillog lines go. Production uses the slf4j logger {@code smtpd} (the maillog provider turns WARN
 * into Postfix's {@code warning: } prefix); tests capture the lines.
 */
interface SmtpdLog {
    void info(String line);

    void warn(String line);

    /** The slf4j logger named as Postfix's program, {@code smtpd}. */
    static SmtpdLog slf4j() {
        Logger logger = LoggerFactory.getLogger("smtpd");
        return new SmtpdLog() {
            @Override
            public void info(String line) {
                logger.info(line);
            }

            @Override
            public void warn(String line) {
                logger.warn(line);
            }
        };
    }
}
