package org.estafeta.cleanup.internal;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;

/** A regexp-like table for the check tests: the first rule whose pattern is found in the key answers. */
final class PatternTable {
    private PatternTable() {
    }

    static LookupTable of(List<Map.Entry<Pattern, String>> rules) {
        return key -> {
            for (Map.Entry<Pattern, String> r : rules) {
                if (r.getKey().matcher(key).find()) {
                    return LookupResult.found(r.getValue());
                }
            }
            return LookupResult.notFound();
        };
    }
}
