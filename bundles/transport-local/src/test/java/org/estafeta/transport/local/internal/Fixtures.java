package org.estafeta.transport.local.internal;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ResourceBundle;
import java.util.Set;

import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.message.Envelope;
import org.estafeta.api.message.Header;
import org.estafeta.api.message.MessageContent;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.LookupTableFactory;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.estafeta.api.transport.DeliveryRequest;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.process.support.UnixAccount;
import org.estafeta.table.simple.InlineTableFactory;
import org.estafeta.table.simple.StaticTableFactory;
import org.estafeta.table.simple.TextHashTableFactory;
import org.estafeta.tables.TableService;
import org.estafeta.tables.UnsupportedTableTypeException;

/** Test support: a context over a map, a table service over the real simple tables, messages, accounts. */
final class Fixtures {
    /** nobody's uid and gid: the owner the tests give mailboxes (chown works when the tests run as root). */
    static final int NOBODY = 65534;

    private Fixtures() {
    }

    static boolean root() {
        try {
            return UnixAccount.currentUid() == 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** The uid deliveries in tests run as: nobody when root, else whoever runs the tests (who cannot chown). */
    static int uid() throws IOException {
        return root() ? NOBODY : UnixAccount.currentUid();
    }

    static int gid() throws IOException {
        return root() ? NOBODY : (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:gid");
    }

    /** Makes a directory usable by the test user (JUnit creates it 0700). */
    static Path open(Path dir) throws IOException {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        return dir;
    }

    static int owner(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:uid");
    }

    static Path script(Path dir, String name, String body) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    /** Accounts of the tests: each user has the given home; all have the test uid/gid. */
    static Passwd.Accounts accounts(Map<String, Path> homes) {
        return new Passwd.Accounts() {
            @Override
            public Passwd byName(String name) throws IOException {
                if (name.equals("nobody")) {
                    return new Passwd("nobody", uid(), gid(), "/nonexistent", "/usr/sbin/nologin");
                }
                Path home = homes.get(name);
                return home == null ? null : new Passwd(name, uid(), gid(), home.toString(), "/bin/sh");
            }

            @Override
            public Passwd byUid(int uid) throws IOException {
                return Passwd.SYSTEM.byUid(uid);
            }
        };
    }

    static final class Context implements PluginContext {
        final Map<String, String> params = new HashMap<>();
        final List<String> lines = new ArrayList<>();

        Context with(String name, String value) {
            params.put(name, value);
            return this;
        }

        @Override
        public Optional<String> parameter(String name) {
            return Optional.ofNullable(params.get(name));
        }

        @Override
        public Clock clock() {
            return Clock.fixed(Instant.parse("2003-01-07T12:02:20Z"), ZoneOffset.UTC);
        }

        @Override
        public System.Logger logger() {
            return new System.Logger() {
                @Override
                public String getName() {
                    return "local";
                }

                @Override
                public boolean isLoggable(Level level) {
                    return true;
                }

                @Override
                public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
                    synchronized (lines) {
                        lines.add(level + " " + msg);
                    }
                }

                @Override
                public void log(Level level, ResourceBundle bundle, String format, Object... params) {
                    log(level, bundle, params == null || params.length == 0 ? format
                            : java.text.MessageFormat.format(format, params), (Throwable) null);
                }
            };
        }
    }

    /** A TableService over the real texthash, inline and static factories. */
    static final class Tables implements TableService {
        @Override
        public LookupTable open(String text) throws TableOpenException {
            TableSpec spec = TableSpec.parse(text);
            LookupTableFactory f = switch (spec.type()) {
                case "texthash" -> new TextHashTableFactory();
                case "inline" -> new InlineTableFactory();
                case "static" -> new StaticTableFactory();
                default -> throw new UnsupportedTableTypeException(spec.type());
            };
            return f.open(spec, new Context());
        }

        @Override
        public Set<String> types() {
            return Set.of("texthash", "inline", "static");
        }

        @Override
        public List<String> problems(ConfigSnapshot snapshot) {
            return List.of();
        }
    }

    /** A message from text whose lines end with \n; they become CRLF. */
    static MessageContent message(String text) {
        byte[] bytes = text.replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8);
        return new MessageContent() {
            @Override
            public List<Header> headers() {
                List<Header> out = new ArrayList<>();
                String head = text.substring(0, Math.max(0, text.indexOf("\n\n")));
                for (String line : head.split("\n")) {
                    int colon = line.indexOf(':');
                    if (colon > 0) {
                        out.add(new Header(line.substring(0, colon), line.substring(colon + 1).strip()));
                    }
                }
                return out;
            }

            @Override
            public InputStream openBody() {
                throw new UnsupportedOperationException();
            }

            @Override
            public InputStream openMessage() {
                return new ByteArrayInputStream(bytes);
            }

            @Override
            public long size() {
                return bytes.length;
            }
        };
    }

    static DeliveryRequest request(String service, String sender, MessageContent content, String... recipients) {
        ClientInfo client = new ClientInfo("192.0.2.7", "mail.example.org", "helo.example.org", false, Optional.empty());
        Envelope env = new Envelope("4Xyz123", sender, List.of(recipients), client);
        return new DeliveryRequest("host.example.com", env, List.of(recipients), content, Map.of(), service, List.of(),
                Map.of(), Map.of());
    }
}
