package org.estafeta.config.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.estafeta.config.ConfigException;
import org.estafeta.config.ConfigWarning;

/** Reads main.cf: logical lines of {@code name = value}, as Postfix's dict_load_fp() and split_nameval(). */
final class MainCf {
    /** One {@code name = value} line. */
    record Setting(String name, String value, int line) {
    }

    private MainCf() {
    }

    /**
     * Parses main.cf text. A later setting of the same name replaces an earlier one (with Postfix's warning
     * {@code overriding earlier entry} when the values differ); the map keeps file order of first appearance.
     */
    static Map<String, Setting> parse(String content, String file, List<ConfigWarning> warnings) throws ConfigException {
        Map<String, Setting> settings = new LinkedHashMap<>();
        for (LogicalLine ll : LogicalLineReader.read(content, file, warnings::add)) {
            String[] nv = new String[2];
            String err = splitNameValue(ll.text(), nv);
            if (err != null) {
                throw new ConfigException(file, ll.firstLine(), err + ": \"" + ll.text() + "\"");
            }
            Setting old = settings.get(nv[0]);
            if (old != null && !old.value().equals(nv[1])) {
                warnings.add(new ConfigWarning(file, ll.firstLine(),
                        "overriding earlier entry: " + nv[0] + "=" + old.value()));
            }
            settings.put(nv[0], new Setting(nv[0], nv[1], ll.firstLine()));
        }
        return settings;
    }

    /**
     * Splits {@code name = value} as Postfix's split_nameval(): the name ends at white space or '=', white space
     * around '=' and at the end is dropped. Returns Postfix's error text, or null on success.
     */
    static String splitNameValue(String text, String[] out) {
        int n = text.length();
        int np = 0;
        while (np < n && LogicalLineReader.isSpace(text.charAt(np))) {
            np++;
        }
        if (np == n || text.charAt(np) == '=') {
            return "missing attribute name";
        }
        int ep = np;
        while (ep < n && !LogicalLineReader.isSpace(text.charAt(ep)) && text.charAt(ep) != '=') {
            ep++;
        }
        int cp = ep;
        while (cp < n && LogicalLineReader.isSpace(text.charAt(cp))) {
            cp++;
        }
        if (cp == n || text.charAt(cp) != '=') {
            return "missing '=' after attribute name";
        }
        int vp = cp + 1;
        while (vp < n && LogicalLineReader.isSpace(text.charAt(vp))) {
            vp++;
        }
        int end = n;
        while (end > vp && LogicalLineReader.isSpace(text.charAt(end - 1))) {
            end--;
        }
        out[0] = text.substring(np, ep);
        out[1] = text.substring(vp, end);
        return null;
    }

    static List<String> names(Map<String, Setting> settings) {
        return new ArrayList<>(settings.keySet());
    }
}
