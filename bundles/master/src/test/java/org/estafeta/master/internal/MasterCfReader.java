package org.estafeta.master.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.estafeta.config.MasterEntry;

/**
 * A small master.cf reader for tests only (the real parser is the config bundle's): comments, continuation
 * lines, eight columns, {@code -o name=value} and the remaining arguments.
 */
final class MasterCfReader {
    private MasterCfReader() {
    }

    static List<MasterEntry> read(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file);
        List<MasterEntry> out = new ArrayList<>();
        StringBuilder logical = null;
        int start = 0;
        for (int i = 0; i <= lines.size(); i++) {
            String line = i < lines.size() ? lines.get(i) : "";
            boolean eof = i == lines.size();
            if (!eof && (line.isBlank() || line.stripLeading().startsWith("#"))) {
                continue;
            }
            if (!eof && Character.isWhitespace(line.charAt(0)) && logical != null) {
                logical.append(' ').append(line.strip());
                continue;
            }
            if (logical != null) {
                out.add(entry(logical.toString(), file.toString(), start));
            }
            logical = eof ? null : new StringBuilder(line.strip());
            start = i + 1;
        }
        return out;
    }

    private static MasterEntry entry(String text, String file, int line) {
        String[] f = text.split("\\s+");
        if (f.length < 8) {
            throw new IllegalArgumentException(file + ", line " + line + ": fewer than 8 fields: " + text);
        }
        Map<String, String> overrides = new LinkedHashMap<>();
        List<String> args = new ArrayList<>();
        for (int i = 8; i < f.length; i++) {
            if (f[i].equals("-o") && i + 1 < f.length) {
                String kv = f[++i];
                int eq = kv.indexOf('=');
                overrides.put(kv.substring(0, eq), kv.substring(eq + 1));
            } else {
                args.add(f[i]);
            }
        }
        return new MasterEntry(f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], overrides, args, file, line);
    }
}
