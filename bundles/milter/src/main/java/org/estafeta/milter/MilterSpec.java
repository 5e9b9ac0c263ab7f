package org.estafeta.milter;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * One milter of {@code smtpd_milters} / {@code non_smtpd_milters}: its address ({@code inet:host:port},
 * {@code inet:[ipv6]:port}, {@code unix:/path} or {@code local:/path}) and, in Postfix 3.0's form
 * {@code { inet:host:port, connect_timeout=10s, default_action=accept }}, settings that override the main.cf ones for
 * this milter only ({@code connect_timeout}, {@code command_timeout}, {@code content_timeout},
 * {@code default_action}, {@code protocol}). Immutable.
 *
 * @param address the address as written (also the milter's name in log lines and verdicts)
 * @param socket where to connect (an unresolved {@link InetSocketAddress} or a {@link UnixDomainSocketAddress})
 */
public record MilterSpec(String address, SocketAddress socket, Optional<Duration> connectTimeout,
        Optional<Duration> commandTimeout, Optional<Duration> contentTimeout, Optional<DefaultAction> defaultAction,
        Optional<String> protocol) {

    public MilterSpec {
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(socket, "socket");
    }

    /** A milter at {@code address} with the main.cf settings. */
    public static MilterSpec of(String address) {
        return parseOne("milter", address, List.of());
    }

    /**
     * Parses a list parameter such as {@code smtpd_milters}: entries separated by commas or white space, each an
     * address or a {@code { address, name=value, ... }} group. Throws {@link IllegalArgumentException} naming
     * {@code parameter} for a bad entry (Postfix would fail the milter at run time; we fail at configuration time).
     */
    public static List<MilterSpec> parseList(String parameter, String value) {
        List<MilterSpec> out = new ArrayList<>();
        String v = value;
        int i = 0;
        while (i < v.length()) {
            char c = v.charAt(i);
            if (c == ',' || Character.isWhitespace(c)) {
                i++;
            } else if (c == '{') {
                int close = v.indexOf('}', i);
                if (close < 0) {
                    throw new IllegalArgumentException(parameter + ": missing '}' in: " + v.substring(i));
                }
                List<String> words = new ArrayList<>();
                for (String w : v.substring(i + 1, close).split(",")) {
                    if (!w.isBlank()) {
                        words.add(w.strip());
                    }
                }
                if (words.isEmpty()) {
                    throw new IllegalArgumentException(parameter + ": empty milter group {}");
                }
                out.add(parseOne(parameter, words.get(0), words.subList(1, words.size())));
                i = close + 1;
            } else {
                int end = i;
                while (end < v.length() && v.charAt(end) != ',' && !Character.isWhitespace(v.charAt(end))
                        && v.charAt(end) != '{') {
                    end++;
                }
                out.add(parseOne(parameter, v.substring(i, end), List.of()));
                i = end;
            }
        }
        return List.copyOf(out);
    }

    private static MilterSpec parseOne(String parameter, String address, List<String> settings) {
        SocketAddress socket = socket(parameter, address.strip());
        Optional<Duration> connect = Optional.empty();
        Optional<Duration> command = Optional.empty();
        Optional<Duration> content = Optional.empty();
        Optional<DefaultAction> action = Optional.empty();
        Optional<String> protocol = Optional.empty();
        for (String s : settings) {
            int eq = s.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException(parameter + ": missing '=' after attribute name: " + s);
            }
            String name = s.substring(0, eq).strip().toLowerCase(Locale.ROOT);
            String val = s.substring(eq + 1).strip();
            String what = parameter + ": " + address.strip() + ": " + name;
            switch (name) {
                case "connect_timeout" -> connect = Optional.of(org.estafeta.filter.support.TimeValue.duration(what, val));
                case "command_timeout" -> command = Optional.of(org.estafeta.filter.support.TimeValue.duration(what, val));
                case "content_timeout" -> content = Optional.of(org.estafeta.filter.support.TimeValue.duration(what, val));
                case "default_action" -> action = Optional.of(DefaultAction.parse(what, val));
                case "protocol" -> {
                    ProtocolVersion.parse(what, val);
                    protocol = Optional.of(val);
                }
                default -> throw new IllegalArgumentException(parameter + ": unknown milter attribute: " + name
                        + " (expected connect_timeout, command_timeout, content_timeout, default_action or protocol)");
            }
        }
        return new MilterSpec(address.strip(), socket, connect, command, content, action, protocol);
    }

    private static SocketAddress socket(String parameter, String address) {
        int colon = address.indexOf(':');
        if (colon <= 0 || colon == address.length() - 1) {
            throw new IllegalArgumentException(parameter + ": Milter service needs transport:endpoint instead of \""
                    + address + "\"");
        }
        String transport = address.substring(0, colon);
        String endpoint = address.substring(colon + 1);
        switch (transport) {
            case "unix", "local" -> {
                return UnixDomainSocketAddress.of(Path.of(endpoint));
            }
            case "inet" -> {
                String host;
                String port;
                if (endpoint.startsWith("[")) {
                    int close = endpoint.indexOf("]:");
                    if (close < 0) {
                        throw new IllegalArgumentException(parameter + ": expected inet:[address]:port: " + address);
                    }
                    host = endpoint.substring(1, close);
                    port = endpoint.substring(close + 2);
                } else {
                    int c = endpoint.lastIndexOf(':');
                    if (c == 0) {
                        throw new IllegalArgumentException(parameter + ": expected inet:host:port: " + address);
                    }
                    // Postfix's host_port(): a bare port means localhost
                    host = c < 0 ? "localhost" : endpoint.substring(0, c);
                    port = endpoint.substring(c + 1);
                }
                int p;
                try {
                    p = Integer.parseInt(port);
                } catch (NumberFormatException e) {
                    p = -1;
                }
                if (p < 1 || p > 65535) {
                    throw new IllegalArgumentException(parameter + ": bad port in Milter service: " + address);
                }
                return InetSocketAddress.createUnresolved(host, p);
            }
            default -> throw new IllegalArgumentException(parameter + ": invalid transport name: " + transport
                    + " in Milter service: " + address);
        }
    }

    @Override
    public String toString() {
        return address;
    }
}
