package org.estafeta.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.estafeta.config.internal.BuiltinParameters;
import org.junit.jupiter.api.Test;

/** docs/configuration.md is the operator's reference: every parameter Estafeta supports has a row there. */
class ReferenceDocTest {
    @Test
    void everySupportedParameterHasARowInTheConfigurationReference() throws Exception {
        Path doc = Path.of("../../docs/configuration.md");
        // the first cell of a table row names one parameter, or several (`a`, `b`)
        Matcher row = Pattern.compile("(?m)^\\| ([^|]*`[^|]*) \\|").matcher(Files.readString(doc));
        Set<String> documented = new java.util.HashSet<>();
        while (row.find()) {
            Matcher name = Pattern.compile("`([A-Za-z0-9_]+)`").matcher(row.group(1));
            while (name.find()) {
                documented.add(name.group(1));
            }
        }
        List<String> missing = BuiltinParameters.REGISTRY.stream().map(BuiltinParameters.Parameter::name)
                .filter(n -> !documented.contains(n)).sorted().collect(Collectors.toList());
        assertEquals(List.of(), missing, "parameters in BuiltinParameters.REGISTRY without a row in " + doc);
    }
}
