package org.estafeta.table.unix;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableSpec;

/**
 * One of the two {@code unix:} tables: the entries of a passwd(5) or group(5) file by name, each formatted as
 * Postfix's dict_unix formats getpwnam()/getgrnam() results. The file is read again when its modification time or
 * size changes. A file that cannot be read makes every lookup a temporary failure, as Postfix's "cannot access UNIX
 * password database".
 */
final class UnixTable implements LookupTable {
    /** How one kind of file is read. */
    record Format(int fields, String database) {
    }

    static final Format PASSWD = new Format(7, "password");
    static final Format GROUP = new Format(4, "group");

    /** The file as last read: its identity and its entries by name. */
    private record Contents(FileTime modified, long size, Map<String, String> entries) {
    }

    private final TableSpec spec;
    private final Path file;
    private final Format format;
    private volatile Contents contents;

    UnixTable(TableSpec spec, Path file, Format format) {
        this.spec = spec;
        this.file = file;
        this.format = format;
    }

    @Override
    public LookupResult lookup(String key) {
        Contents c;
        try {
            c = current();
        } catch (IOException e) {
            return LookupResult.temporaryFailure(
                    spec + ": cannot access UNIX " + format.database() + " database: " + e.getMessage());
        }
        String value = c.entries().get(key);
        return value == null ? LookupResult.notFound() : LookupResult.found(value);
    }

    private Contents current() throws IOException {
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
        Contents c = contents;
        if (c != null && c.modified().equals(a.lastModifiedTime()) && c.size() == a.size()) {
            return c;
        }
        synchronized (this) {
            c = contents;
            if (c == null || !c.modified().equals(a.lastModifiedTime()) || c.size() != a.size()) {
                c = new Contents(a.lastModifiedTime(), a.size(),
                        parse(Files.readAllLines(file, StandardCharsets.UTF_8), format));
                contents = c;
            }
            return c;
        }
    }

    /**
     * The entries of a passwd or group file: the first line of each name wins (as getpwnam() finds it); NIS
     * compatibility lines ({@code +}, {@code -}), comments and lines with the wrong number of fields are skipped.
     */
    static Map<String, String> parse(List<String> lines, Format format) {
        Map<String, String> entries = new HashMap<>();
        for (String line : lines) {
            if (line.isEmpty() || "+-#".indexOf(line.charAt(0)) >= 0) {
                continue;
            }
            String[] f = line.split(":", -1);
            if (f.length != format.fields() || f[0].isEmpty()) {
                continue;
            }
            String value = format == PASSWD ? passwd(f) : group(f);
            if (value != null) {
                entries.putIfAbsent(f[0], value);
            }
        }
        return Map.copyOf(entries);
    }

    /** {@code name:passwd:uid:gid:gecos:dir:shell}, the ids as numbers (dict_unix prints them with %ld). */
    private static String passwd(String[] f) {
        Long uid = number(f[2]);
        Long gid = number(f[3]);
        if (uid == null || gid == null) {
            return null;
        }
        return String.join(":", f[0], f[1], uid.toString(), gid.toString(), f[4], f[5], f[6]);
    }

    /** {@code name:passwd:gid:member,member}, without empty member names. */
    private static String group(String[] f) {
        Long gid = number(f[2]);
        if (gid == null) {
            return null;
        }
        List<String> members = List.of(f[3].split(",")).stream().filter(m -> !m.isEmpty()).toList();
        return f[0] + ":" + f[1] + ":" + gid + ":" + String.join(",", members);
    }

    private static Long number(String s) {
        try {
            return Long.parseLong(s.strip());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return spec.toString();
    }
}
