package org.estafeta.dns.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code /etc/hosts}, consulted before DNS for address and host-name lookups, as the C library does for Postfix
 * ({@code hosts: files dns} in nsswitch.conf): {@code 127.0.0.1} is {@code localhost} without a query, and a machine
 * whose name server is unreachable still knows its own names. Read again when the file changes (checked at most
 * once a second); a missing or unreadable file is an empty one.
 */
final class HostsFile {
    static final HostsFile SYSTEM = new HostsFile(Path.of("/etc/hosts"));

    private record Snapshot(FileTime modified, Map<InetAddress, List<String>> names,
            Map<String, List<InetAddress>> addresses) {
    }

    private final Path file;
    private volatile Snapshot current = new Snapshot(null, Map.of(), Map.of());
    private volatile long checkedNanos;
    private volatile boolean checkedOnce;

    HostsFile(Path file) {
        this.file = file;
    }

    /** The names of {@code address}, the canonical one first; empty when the file does not list it. */
    List<String> names(InetAddress address) {
        return snapshot().names.getOrDefault(address, List.of());
    }

    /** The addresses of {@code name} of one family (IPv4 when {@code v6} is false); empty when not listed. */
    List<InetAddress> addresses(String name, boolean v6) {
        String key = name.toLowerCase(Locale.ROOT);
        if (key.endsWith(".")) {
            key = key.substring(0, key.length() - 1);
        }
        List<InetAddress> out = new ArrayList<>();
        for (InetAddress a : snapshot().addresses.getOrDefault(key, List.of())) {
            if ((a instanceof java.net.Inet6Address) == v6) {
                out.add(a);
            }
        }
        return out;
    }

    private Snapshot snapshot() {
        long now = System.nanoTime();
        if (checkedOnce && now - checkedNanos < 1_000_000_000L) {
            return current;
        }
        checkedNanos = now;
        checkedOnce = true;
        try {
            FileTime m = Files.getLastModifiedTime(file);
            if (!m.equals(current.modified)) {
                current = parse(m, Files.readAllLines(file, StandardCharsets.ISO_8859_1));
            }
        } catch (IOException e) {
            current = new Snapshot(null, Map.of(), Map.of());
        }
        return current;
    }

    static Snapshot parse(FileTime modified, List<String> lines) {
        Map<InetAddress, List<String>> names = new LinkedHashMap<>();
        Map<String, List<InetAddress>> addresses = new LinkedHashMap<>();
        for (String line : lines) {
            int hash = line.indexOf('#');
            String[] f = (hash >= 0 ? line.substring(0, hash) : line).trim().split("\\s+");
            if (f.length < 2) {
                continue;
            }
            InetAddress a = literal(f[0]);
            if (a == null) {
                continue;
            }
            for (int i = 1; i < f.length; i++) {
                String n = f[i].toLowerCase(Locale.ROOT);
                names.computeIfAbsent(a, x -> new ArrayList<>()).add(n);
                List<InetAddress> list = addresses.computeIfAbsent(n, x -> new ArrayList<>());
                if (!list.contains(a)) {
                    list.add(a);
                }
            }
        }
        return new Snapshot(modified, names, addresses);
    }

    /** An IPv4 or IPv6 literal, never a name lookup. */
    private static InetAddress literal(String s) {
        if (!s.matches("[0-9.]+|[0-9A-Fa-f:.%a-z]*:[0-9A-Fa-f:.%a-z]*")) {
            return null;
        }
        try {
            return InetAddress.getByName(s);
        } catch (IOException e) {
            return null;
        }
    }
}
