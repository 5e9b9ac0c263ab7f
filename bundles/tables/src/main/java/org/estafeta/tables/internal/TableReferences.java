package org.estafeta.tables.internal;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.MasterEntry;
import org.estafeta.tables.TableNames;
import org.estafeta.tables.UnsupportedTableTypeException;

/**
 * Finds the {@code type:name} table references of a configuration and reports those whose type is not
 * registered. Which values hold tables: parameters ending in {@code _maps} or {@code _checks} (every
 * element), and restriction lists ({@code *_restrictions} and the classes named by
 * {@code smtpd_restriction_classes}), where the element after each {@code check_*_access} is a table.
 * Only what the operator wrote is checked: main.cf's explicit parameters and master.cf's {@code -o} overrides.
 * {@code proxy:type:name} is checked as {@code type:name}, and the tables inside {@code unionmap:{...}} and
 * {@code pipemap:{...}} are checked one by one, nested as deep as they are written.
 */
final class TableReferences {
    /** One table reference: where it was written and its type. */
    record Reference(String where, String parameter, String type, String table) {
        String problem() {
            return where + ": " + parameter + ": " + UnsupportedTableTypeException.message(type);
        }
    }

    private TableReferences() {
    }

    /** Problem lines for every reference whose type {@code registered} does not accept, without duplicates. */
    static List<String> problems(ConfigSnapshot snapshot, Predicate<String> registered) {
        Set<String> lines = new LinkedHashSet<>();
        for (Reference ref : references(snapshot)) {
            if (!registered.test(ref.type())) {
                lines.add(ref.problem());
            }
        }
        return List.copyOf(lines);
    }

    /** Every table reference in main.cf's explicit parameters and master.cf's overrides, in file order. */
    static List<Reference> references(ConfigSnapshot snapshot) {
        List<Reference> out = new ArrayList<>();
        Set<String> classes = new HashSet<>(
                snapshot.get("smtpd_restriction_classes").map(TableReferences::tokens).orElse(List.of()));
        for (String name : snapshot.explicitNames()) {
            snapshot.get(name).ifPresent(value -> scan("main.cf", name, value, classes, out));
        }
        for (MasterEntry entry : snapshot.services()) {
            if (entry.overrides().isEmpty()) {
                continue;
            }
            ConfigSnapshot own;
            try {
                own = snapshot.forService(entry);
            } catch (RuntimeException e) {
                continue; // a broken override is the config bundle's to report, and the master's to show
            }
            for (Map.Entry<String, String> o : entry.overrides().entrySet()) {
                String name = o.getKey();
                String value = own.get(name).orElse(o.getValue());
                scan("master.cf: " + entry.id(), "-o " + name, value, classes, out);
            }
        }
        return out;
    }

    static boolean isTableList(String name) {
        return name.endsWith("_maps") || name.endsWith("_checks");
    }

    static boolean isRestrictionList(String name, Set<String> classes) {
        return name.endsWith("_restrictions") || classes.contains(name);
    }

    private static void scan(String where, String label, String value, Set<String> classes, List<Reference> out) {
        String name = label.startsWith("-o ") ? label.substring(3) : label;
        List<String> tokens = tokens(value);
        if (isTableList(name)) {
            for (String token : tokens) {
                addIfTable(where, label, token, out);
            }
        } else if (isRestrictionList(name, classes)) {
            for (int i = 0; i + 1 < tokens.size(); i++) {
                if (isAccessCheck(tokens.get(i))) {
                    addIfTable(where, label, tokens.get(i + 1), out);
                    i++;
                }
            }
        }
    }

    static boolean isAccessCheck(String token) {
        return token.startsWith("check_") && token.endsWith("_access") && token.length() > "check__access".length();
    }

    private static void addIfTable(String where, String label, String token, List<Reference> out) {
        addTables(where, label, token, token, out);
    }

    /**
     * Adds the table {@code token} names, seen through {@code proxy:} and into the lists of {@code unionmap:} and
     * {@code pipemap:} (the registry provides those itself, so it is their inner types that must be installed).
     * A composite whose list does not parse adds nothing: opening it reports the syntax error.
     */
    private static void addTables(String where, String label, String written, String token, List<Reference> out) {
        String table = TableNames.unproxied(token);
        int colon = table.indexOf(':');
        if (colon <= 0) {
            return;
        }
        String type = table.substring(0, colon);
        if (!type.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '_' || c == '-')) {
            return;
        }
        if (Composites.isComposite(type)) {
            TableList.parse(table.substring(colon + 1))
                    .ifPresent(inner -> inner.forEach(t -> addTables(where, label, written, t, out)));
            return;
        }
        out.add(new Reference(where, label, type, written));
    }

    /**
     * Splits a list value as Postfix does: on white space and commas, except inside {@code { }}, so that
     * {@code inline:{ a=b, c=d }} stays one element.
     */
    static List<String> tokens(String value) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        int depth = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '{') {
                depth++;
            } else if (c == '}' && depth > 0) {
                depth--;
            }
            if (depth == 0 && (Character.isWhitespace(c) || c == ',')) {
                if (cur.length() > 0) {
                    out.add(cur.toString());
                    cur.setLength(0);
                }
            } else {
                cur.append(c);
            }
        }
        if (cur.length() > 0) {
            out.add(cur.toString());
        }
        return out;
    }
}
