package org.estafeta.rewrite.internal;

import java.util.Objects;

import org.estafeta.config.ConfigSnapshot;
import org.estafeta.rewrite.AddressResolver;
import org.estafeta.rewrite.Resolution;
import org.estafeta.rewrite.ResolutionException;
import org.estafeta.tables.TableService;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * rewrite - the {@link AddressResolver} service: Postfix's trivial-rewrite resolve. The tables a configuration names
 * are opened once per snapshot generation and shared by every resolve of it; when a newer generation is first asked
 * for, the older one's handles are closed as soon as the resolves still using them are done. A resolve for an older
 * snapshot than the newest seen (a delivery that started before a reload) gets tables of its own, closed after it.
 */
@Component(service = AddressResolver.class)
public final class AddressResolverComponent implements AddressResolver {
    private final TableService tableService;
    private final Object lock = new Object();
    /** The newest generation's tables. Guarded by lock. */
    private Tables current;

    @Activate
    public AddressResolverComponent(@Reference(name = "tableService") TableService tableService) {
        this.tableService = Objects.requireNonNull(tableService, "tableService");
    }

    @Deactivate
    void deactivate() {
        Tables last;
        synchronized (lock) {
            last = current;
            current = null;
        }
        if (last != null) {
            last.retire();
        }
    }

    @Override
    public Resolution resolve(ConfigSnapshot config, String sender, String recipient) throws ResolutionException {
        Objects.requireNonNull(recipient, "recipient");
        Tables tables = acquire(config.generation());
        try {
            return new Resolver(config, tables).resolve(sender == null ? "" : sender, recipient);
        } finally {
            tables.release();
        }
    }

    private Tables acquire(long generation) {
        Tables tables;
        Tables retired = null;
        synchronized (lock) {
            if (current == null || generation > current.generation) {
                retired = current;
                current = new Tables(generation, tableService);
            }
            if (generation == current.generation) {
                tables = current;
                tables.acquire();
            } else {
                tables = new Tables(generation, tableService);
                tables.acquire();
                tables.retire(); // private to this resolve: closed on release
            }
        }
        if (retired != null) {
            retired.retire();
        }
        return tables;
    }

    /** The newest generation's tables (tests). */
    Tables currentTables() {
        synchronized (lock) {
            return current;
        }
    }
}
