package org.estafeta.table.simple;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.LookupTableFactory;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.osgi.service.component.annotations.Component;

/**
 * Provides the {@code static:} type: every key is found, with the value written after {@code static:}.
 * {@code static:{ text with spaces }} gives the text inside the braces without surrounding white space.
 */
@Component(property = LookupTableFactory.TYPE + "=static")
public class StaticTableFactory implements LookupTableFactory {

    @Override
    public LookupTable open(TableSpec spec, PluginContext context) throws TableOpenException {
        LookupResult result;
        try {
            result = LookupResult.found(value(spec.name()));
        } catch (TableOpenException e) {
            throw new TableOpenException(spec + ": " + e.getMessage());
        }
        return new LookupTable() {
            @Override
            public LookupResult lookup(String key) {
                return result;
            }

            @Override
            public String toString() {
                return spec.toString();
            }
        };
    }

    /** The value of {@code static:name}; errors in Postfix's words. */
    static String value(String name) throws TableOpenException {
        if (name.isEmpty()) {
            throw new TableOpenException("open dictionary: expecting \"type:name\" form instead of \"static:\"");
        }
        if (name.charAt(0) != '{') {
            return name;
        }
        try {
            return PostfixText.extpar(name);
        } catch (PostfixText.SyntaxError e) {
            throw new TableOpenException("bad static:name syntax: " + e.getMessage());
        }
    }
}
