package org.estafeta.launcher;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A named set of bundles: {@code features/<name>/bundles.list} in the distribution. Each line is a comment
 * ({@code #}), {@code include <feature>}, or {@code <start level> <groupId>:<artifactId>[:<classifier>]}; the jar
 * of an entry is {@code system/<groupId>.<artifactId>[-<classifier>].jar}.
 */
record Feature(String name, List<Entry> entries) {

    /** One bundle of a feature. */
    record Entry(int startLevel, String groupId, String artifactId, String classifier, String source, int line) {
        String coordinates() {
            return groupId + ":" + artifactId + (classifier == null ? "" : ":" + classifier);
        }

        Path jar(Path systemDirectory) {
            return systemDirectory.resolve(groupId + "." + artifactId + (classifier == null ? "" : "-" + classifier)
                    + ".jar");
        }
    }

    static Feature load(Path featuresDirectory, String name) throws GatewayException {
        List<Entry> entries = new ArrayList<>();
        read(featuresDirectory, name, entries, new LinkedHashSet<>());
        return new Feature(name, List.copyOf(entries));
    }

    private static void read(Path dir, String name, List<Entry> entries, Set<String> seen) throws GatewayException {
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
            throw new GatewayException("bad feature name: " + name);
        }
        if (!seen.add(name)) {
            throw new GatewayException("feature " + name + " includes itself: " + String.join(" -> ", seen));
        }
        Path file = dir.resolve(name).resolve("bundles.list");
        if (!Files.isRegularFile(file)) {
            throw new GatewayException("unknown feature " + name + ": no file " + file);
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new GatewayException("open " + file + ": " + e.getMessage(), e);
        }
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            int lineNo = i + 1;
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] words = line.split("\\s+");
            if (words.length == 2 && words[0].equals("include")) {
                read(dir, words[1], entries, seen);
                continue;
            }
            if (words.length != 2) {
                throw new GatewayException(file + ", line " + lineNo
                        + ": expected '<start level> <groupId>:<artifactId>[:<classifier>]' or 'include <feature>'");
            }
            int level;
            try {
                level = Integer.parseInt(words[0]);
            } catch (NumberFormatException e) {
                level = -1;
            }
            if (level < 1) {
                throw new GatewayException(file + ", line " + lineNo + ": bad start level: " + words[0]);
            }
            String[] gav = words[1].split(":");
            if (gav.length < 2 || gav.length > 3 || gav[0].isEmpty() || gav[1].isEmpty()) {
                throw new GatewayException(file + ", line " + lineNo + ": bad bundle coordinates: " + words[1]);
            }
            entries.add(new Entry(level, gav[0], gav[1], gav.length == 3 ? gav[2] : null, file.toString(), lineNo));
        }
        seen.remove(name);
    }

    int highestStartLevel() {
        return entries.stream().mapToInt(Entry::startLevel).max().orElse(1);
    }
}
