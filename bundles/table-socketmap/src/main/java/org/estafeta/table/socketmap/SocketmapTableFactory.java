package org.estafeta.table.socketmap;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.LookupTableFactory;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.osgi.service.component.annotations.Component;

/**
 * Provides the {@code socketmap:} type (Postfix 2.10, socketmap_table(5)): {@code socketmap:inet:host:port:name}
 * or {@code socketmap:unix:/path:name}, a Sendmail-style socketmap server that answers each lookup, so that a
 * table can be written in any language. The map name is the text after the last {@code :}.
 *
 * <p>Opening checks the syntax only; nothing is connected until the first lookup (as Postfix), so a server that
 * is down makes lookups temporary failures, not the open. Errors at open use Postfix's texts.
 *
 * <p><b>Threading:</b> {@link #open} and the tables it returns are safe from any thread.
 */
@Component(property = LookupTableFactory.TYPE + "=socketmap")
public class SocketmapTableFactory implements LookupTableFactory {
    private final Limits limits;

    public SocketmapTableFactory() {
        this(Limits.POSTFIX);
    }

    /** For tests: other limits than Postfix's. */
    SocketmapTableFactory(Limits limits) {
        this.limits = limits;
    }

    @Override
    public LookupTable open(TableSpec spec, PluginContext context) throws TableOpenException {
        String name = spec.name();
        int last = name.lastIndexOf(':');
        if (last < 0) {
            throw new TableOpenException(spec + ": socketmap requires server:socketmap argument");
        }
        Endpoint endpoint;
        try {
            endpoint = Endpoint.parse(name.substring(0, last));
        } catch (IllegalArgumentException e) {
            throw new TableOpenException(spec + ": " + e.getMessage());
        }
        return new SocketmapTable(spec.toString(), endpoint, name.substring(last + 1), limits, context.logger());
    }
}
