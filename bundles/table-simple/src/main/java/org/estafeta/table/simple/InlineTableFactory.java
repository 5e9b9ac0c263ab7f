package org.estafeta.table.simple;

import java.util.HashMap;
import java.util.Map;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.LookupTableFactory;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.osgi.service.component.annotations.Component;

/**
 * Provides the {@code inline:} type (Postfix 3.0): {@code inline:{ key=value, { key = text with spaces } }}.
 * Elements are separated by commas or white space; an element in braces may hold white space around {@code =} and
 * in the value. Keys are folded to lower case as Postfix folds them; a later duplicate replaces an earlier one.
 */
@Component(property = LookupTableFactory.TYPE + "=inline")
public class InlineTableFactory implements LookupTableFactory {

    @Override
    public LookupTable open(TableSpec spec, PluginContext context) throws TableOpenException {
        Map<String, String> entries = parse(spec.name());
        return new LookupTable() {
            @Override
            public LookupResult lookup(String key) {
                String value = entries.get(PostfixText.fold(key));
                return value == null ? LookupResult.notFound() : LookupResult.found(value);
            }

            @Override
            public String toString() {
                return spec.toString();
            }
        };
    }

    /** The entries of {@code name} (the text after {@code inline:}); errors in Postfix's words. */
    static Map<String, String> parse(String name) throws TableOpenException {
        int len = PostfixText.balpar(name);
        if (len == 0 || len != name.length() || len == 2) {
            throw new TableOpenException("bad syntax: \"inline:" + name + "\"; need \"inline:{name=value...}\"");
        }
        Map<String, String> entries = new HashMap<>();
        try {
            for (String element : org.estafeta.table.support.PostfixTokens.split(name.substring(1, len - 1))) {
                String nameval = element.charAt(0) == '{' ? PostfixText.extpar(element) : element;
                PostfixText.NameValue nv = PostfixText.splitNameValue(nameval);
                entries.put(PostfixText.fold(nv.name()), nv.value());
            }
        } catch (PostfixText.SyntaxError e) {
            throw new TableOpenException(problem(e.getMessage(), name));
        }
        if (entries.isEmpty()) {
            throw new TableOpenException(problem("empty table", name));
        }
        return Map.copyOf(entries);
    }

    private static String problem(String why, String name) {
        return why + ": \"inline:" + name + "\"; need \"inline:{name=value...}\"";
    }
}
