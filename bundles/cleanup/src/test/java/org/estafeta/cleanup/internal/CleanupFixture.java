package org.estafeta.cleanup.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.LookupTableFactory;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.estafeta.cleanup.Cleanup;
import org.estafeta.cleanup.Submission;
import org.estafeta.config.ConfigLoader;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.ConfigSource;
import org.estafeta.config.ConfigWarning;
import org.estafeta.queue.FileQueueStore;
import org.estafeta.queue.QueueName;
import org.estafeta.queue.QueueStore;
import org.estafeta.table.simple.InlineTableFactory;
import org.estafeta.table.simple.TextHashTableFactory;
import org.estafeta.tables.TableService;

/**
 * A real {@link CleanupService} over a real queue in a temporary directory, configured by a main.cf text, with a
 * {@link TableService} over the real {@code texthash:} and {@code inline:} tables (bundle table-simple) plus
 * {@code fail:name}, a table whose every lookup is a temporary failure (a database that is down). Counts table
 * handles opened and closed. Test helpers for address rewriting live here, once.
 */
final class CleanupFixture {
    final Path dir;
    final FileQueueStore store;
    final AtomicInteger opened = new AtomicInteger();
    final AtomicInteger closed = new AtomicInteger();

    CleanupFixture(Path dir) throws IOException {
        this.dir = dir;
        this.store = new FileQueueStore(dir.resolve("q"));
    }

    /** A cleanup service configured by {@code mainCf} (after {@code myhostname = mx.example.com}). */
    CleanupService cleanup(String mainCf) throws Exception {
        Path conf = Files.createDirectories(dir.resolve("etc"));
        Files.writeString(conf.resolve("main.cf"), "myhostname = mx.example.com\n" + mainCf);
        ConfigSnapshot snap = ConfigLoader.load(conf, dir.resolve("var"));
        for (ConfigWarning w : snap.warnings()) {
            if (w.toString().contains("unused parameter")) {
                throw new AssertionError("main.cf of the test: " + w);
            }
        }
        CleanupService c = new CleanupService(store, CleanupFixture.fixed(snap), Clock.systemDefaultZone());
        c.tables = tables;
        return c;
    }

    /** A configuration source that always answers {@code snap} (no reloads, no listeners). */
    static ConfigSource fixed(ConfigSnapshot snap) {
        return new ConfigSource() {
            @Override
            public ConfigSnapshot current() {
                return snap;
            }

            @Override
            public ConfigSnapshot reload() {
                return snap;
            }

            @Override
            public void addListener(Consumer<ConfigSnapshot> listener) {
            }

            @Override
            public void removeListener(Consumer<ConfigSnapshot> listener) {
            }
        };
    }

    /** Writes {@code lines} to a file under the test directory; returns its path (for {@code texthash:PATH}). */
    Path file(String name, String... lines) throws IOException {
        return Files.writeString(dir.resolve(name), String.join("\n", lines) + "\n");
    }

    /** A submission from a remote SMTP client (192.0.2.7). */
    static Submission remote(String sender, String... recipients) {
        return submission("192.0.2.7", sender, recipients);
    }

    /** A submission from a client at {@code address}, without DSN parameters. */
    static Submission submission(String address, String sender, String... recipients) {
        return new Submission(sender, Map.of(), Arrays.stream(recipients)
                .map(r -> new Submission.Recipient(r, List.of(), Optional.empty())).toList(),
                new ClientInfo(address, "client.example.org", "helo.example.org", false, Optional.empty()), "ESMTP",
                Submission.Actions.NONE);
    }

    /** Sends {@code message} (CRLF lines) for {@code s}; returns the queue ID. */
    static String send(Cleanup c, Submission s, String message) throws Exception {
        Cleanup.Stream stream = c.open(s);
        byte[] b = message.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < b.length; i += 5) {
            stream.write(b, i, Math.min(5, b.length - i));
        }
        return stream.commit();
    }

    QueueStore.QueuedMessage queued(String id) throws IOException {
        return store.read(QueueName.INCOMING, id);
    }

    /** The queued message's content after the Received header cleanup adds. */
    String content(String id) throws IOException {
        try (InputStream in = queued(id).content()) {
            String all = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            int end = all.indexOf("\r\n");
            while (all.charAt(end + 2) == '\t' || all.charAt(end + 2) == ' ') {
                end = all.indexOf("\r\n", end + 2);
            }
            return all.substring(end + 2);
        }
    }

    /** The queued recipients' addresses in order. */
    List<String> recipients(String id) throws IOException {
        return queued(id).envelope().recipients().stream().map(r -> r.address()).toList();
    }

    /** Whether the queue holds no file at all, in any queue or in tmp/. */
    boolean queueIsEmpty() throws IOException {
        try (var files = Files.walk(store.directory())) {
            return files.allMatch(Files::isDirectory);
        }
    }

    final TableService tables = new TableService() {
        private final PluginContext context = new PluginContext() {
            @Override
            public System.Logger logger() {
                return System.getLogger("table");
            }

            @Override
            public Optional<String> parameter(String name) {
                return Optional.empty();
            }

            @Override
            public Clock clock() {
                return Clock.systemDefaultZone();
            }
        };

        @Override
        public LookupTable open(String text) throws TableOpenException {
            TableSpec spec = TableSpec.parse(text);
            LookupTableFactory factory = switch (spec.type()) {
                case "texthash" -> new TextHashTableFactory();
                case "inline" -> new InlineTableFactory();
                case "fail" -> (s, c) -> key -> LookupResult.temporaryFailure(s + ": server is down");
                default -> throw new TableOpenException("unsupported dictionary type: " + spec.type());
            };
            LookupTable table = factory.open(spec, context);
            opened.incrementAndGet();
            return new LookupTable() {
                @Override
                public LookupResult lookup(String key) {
                    return table.lookup(key);
                }

                @Override
                public void close() {
                    closed.incrementAndGet();
                    table.close();
                }
            };
        }

        @Override
        public Set<String> types() {
            return Set.of("texthash", "inline", "fail");
        }

        @Override
        public List<String> problems(ConfigSnapshot snapshot) {
            return List.of();
        }
    };
}
