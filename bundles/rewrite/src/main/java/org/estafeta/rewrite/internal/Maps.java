package org.estafeta.rewrite.internal;

import java.util.List;

import org.estafeta.api.table.LookupResult;
import org.estafeta.rewrite.ResolutionException;

/**
 * A main.cf table list ({@code transport_maps = texthash:/etc/estafeta/transport, regexp:/etc/estafeta/transport.re}),
 * searched as Postfix's maps_find(): each table in turn, the first that has the key answers; a temporary failure
 * ends the search with a {@link ResolutionException} naming the parameter, never a silent "not found".
 */
final class Maps {
    final String parameter;
    private final List<String> specs;

    Maps(String parameter, String value) {
        this.parameter = parameter;
        this.specs = DomainList.split(value);
    }

    boolean isEmpty() {
        return specs.isEmpty();
    }

    /** The value of {@code key} in the first table that has it, or null. */
    String find(String key, boolean partial, Tables tables) throws ResolutionException {
        for (String spec : specs) {
            LookupResult r = tables.lookup(spec, key, partial);
            if (r instanceof LookupResult.Found f) {
                return f.value();
            }
            if (r instanceof LookupResult.TemporaryFailure f) {
                throw new ResolutionException(parameter + " lookup failure: " + f.reason());
            }
        }
        return null;
    }
}
