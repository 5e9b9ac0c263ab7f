package org.estafeta.tables;

import org.estafeta.api.table.LookupTableFactory;
import org.estafeta.api.table.TableOpenException;

/**
 * No installed bundle provides a table type. The message uses Postfix's words and says what is missing:
 * {@code unsupported dictionary type: json: no installed bundle registers estafeta.table.type=json}.
 * It is a {@link TableOpenException}, so a caller that only handles that treats the lookups as temporary
 * failures (mail is deferred, never bounced) until a bundle provides the type.
 */
public class UnsupportedTableTypeException extends TableOpenException {
    private static final long serialVersionUID = 1L;
    private final String type;

    public UnsupportedTableTypeException(String type) {
        super(message(type));
        this.type = type;
    }

    /** The type main.cf names and no bundle provides. */
    public String type() {
        return type;
    }

    /** The text used for a missing type everywhere (exception, log, status). */
    public static String message(String type) {
        return "unsupported dictionary type: " + type + ": no installed bundle registers "
                + LookupTableFactory.TYPE + "=" + type;
    }
}
