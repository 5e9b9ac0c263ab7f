package org.estafeta.table.simple;

import java.util.Map;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.LookupTableFactory;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.osgi.service.component.annotations.Component;

/**
 * Provides the {@code environ:} type (Postfix's dict_env.c): the key is the name of a variable of the gateway's
 * process environment, the value is its value. The name after {@code environ:} is ignored but must not be empty.
 * The key is folded to lower case first, as Postfix folds it for a fixed-string table (so {@code PATH} looks up
 * {@code path}, and only lower-case variables can be found, exactly as with {@code postmap -q}).
 *
 * <p>Unlike a Postfix daemon, whose environment is cut down to {@code import_environment}, the gateway is one
 * JVM that keeps the environment it was started with; what the start script exports is what the table sees.
 *
 * <p><b>Threading:</b> lookups are safe from any thread and never block (the JVM's environment does not change).
 */
@Component(property = LookupTableFactory.TYPE + "=environ")
public class EnvironTableFactory implements LookupTableFactory {
    private final Map<String, String> environment;

    public EnvironTableFactory() {
        this(System.getenv());
    }

    /** For tests: a table over {@code environment} instead of the process's. */
    EnvironTableFactory(Map<String, String> environment) {
        this.environment = Map.copyOf(environment);
    }

    @Override
    public LookupTable open(TableSpec spec, PluginContext context) throws TableOpenException {
        if (spec.name().isEmpty()) {
            throw new TableOpenException("open dictionary: expecting \"type:name\" form instead of \"environ:\"");
        }
        return new LookupTable() {
            @Override
            public LookupResult lookup(String key) {
                String value = environment.get(PostfixText.fold(key));
                return value == null ? LookupResult.notFound() : LookupResult.found(value);
            }

            @Override
            public String toString() {
                return spec.toString();
            }
        };
    }
}
