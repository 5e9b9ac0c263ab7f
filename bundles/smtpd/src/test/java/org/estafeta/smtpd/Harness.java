package org.estafeta.smtpd;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.estafeta.cleanup.Cleanup;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.dns.ClientName;
import org.estafeta.dns.DnsResolver;
import org.estafeta.dns.DnsResult;
import org.estafeta.dns.DnsblResult;
import org.estafeta.dns.MxRecord;
import org.estafeta.restrictions.Decision;
import org.estafeta.restrictions.RestrictionEngine;
import org.estafeta.restrictions.SessionFacts;
import org.estafeta.testing.cleanup.FakeCleanup;
import org.estafeta.testing.FakeSnapshot;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.timeout.IdleStateHandler;

/**
 * A session on an {@link EmbeddedChannel} with the services a test chooses: a {@link FakeCleanup}, a
 * {@link FakeEngine}, a {@link FakeDns}, and a {@link ManualExecutor} as the worker pool, so that everything runs on
 * the test thread and "Cleanup is slow" means "the test has not yet run the worker tasks".
 */
final class Harness implements SmtpdServices, AutoCloseable {
    final RecordingLog log = new RecordingLog();
    final ManualExecutor workers = new ManualExecutor();
    Cleanup cleanup;
    DnsResolver dns;
    RestrictionEngine engine;
    EmbeddedChannel channel;
    SmtpdSettings settings;
    FakeSnapshot config;
    String clientIp = "192.0.2.10";
    /** The queue manager's flush ETRN uses; null: none installed. */
    org.estafeta.queue.QueueFlush queueFlush;
    /** The TLS service STARTTLS uses; null: none installed. */
    org.estafeta.tls.TlsService tls;
    /** SASL back ends by smtpd_sasl_type. */
    final java.util.Map<String, org.estafeta.api.sasl.SaslServer> saslServers = new java.util.HashMap<>();
    ClientLimits authLimits = new ClientLimits(60);

    @Override
    public org.estafeta.api.sasl.SaslServer sasl(String type) {
        return saslServers.get(type);
    }

    static SmtpdSettings settings(FakeSnapshot snapshot) {
        return SmtpdSettings.from(FakeSnapshot.inet("smtp", "-"), snapshot);
    }

    @Override
    public Cleanup cleanup() {
        return cleanup;
    }

    @Override
    public DnsResolver dns() {
        return dns;
    }

    @Override
    public RestrictionEngine restrictions() {
        return engine;
    }

    @Override
    public org.estafeta.queue.QueueFlush queueFlush() {
        return queueFlush;
    }

    @Override
    public Executor workers() {
        return workers;
    }

    /** Opens the session with {@code myhostname = mx.example.org} and these parameters. */
    Harness open(String... params) {
        String[] all = new String[params.length + 2];
        all[0] = "myhostname";
        all[1] = "mx.example.org";
        System.arraycopy(params, 0, all, 2, params.length);
        config = Defaults.of(all);
        settings = settings(config);
        InetSocketAddress remote = new InetSocketAddress(clientIp, 40001);
        channel = new EmbeddedChannel(false, false,
                new IdleStateHandler(settings.timeoutSeconds(), 0, 0, TimeUnit.SECONDS),
                new SmtpLineDecoder(settings.lineLengthLimit()),
                new SmtpSession(settings, log, config, this, limits,
                        tls == null ? SmtpdTls.OFF : SmtpdTls.from(config, () -> tls, workers, log),
                        SmtpdSasl.from(config, this::sasl), authLimits)) {
            @Override
            protected SocketAddress remoteAddress0() {
                return remote;
            }
        };
        try {
            channel.register();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        channel.freezeTime();
        pump();
        return this;
    }

    ClientLimits limits = new ClientLimits(60);

    /** Runs event-loop tasks and worker tasks until neither has any left. */
    void pump() {
        for (int i = 0; i < 10_000; i++) {
            channel.runPendingTasks();
            if (!workers.runAll()) {
                channel.runPendingTasks();
                if (workers.paused || !workers.hasTasks()) {
                    return;
                }
            }
        }
        throw new AssertionError("tasks never settle");
    }

    /** Event-loop tasks only: the workers (Cleanup) make no progress. */
    void pumpLoopOnly() {
        channel.runPendingTasks();
        channel.runPendingTasks();
    }

    void sendRaw(String text) {
        channel.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
    }

    void send(String text) {
        sendRaw(text);
        pump();
    }

    /** Sends and returns what the server wrote in answer. */
    String ask(String text) {
        send(text);
        return output();
    }

    /** Everything the server wrote since the last call. */
    String output() {
        StringBuilder sb = new StringBuilder();
        ByteBuf buf;
        while ((buf = channel.readOutbound()) != null) {
            sb.append(buf.toString(StandardCharsets.UTF_8));
            buf.release();
        }
        return sb.toString();
    }

    /** Advances the channel's clock and runs what became due. */
    void advance(long millis) {
        channel.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
        channel.runScheduledPendingTasks();
        pump();
    }

    SmtpSession session() {
        return channel.pipeline().get(SmtpSession.class);
    }

    SmtpLineDecoder decoder() {
        return channel.pipeline().get(SmtpLineDecoder.class);
    }

    String client() {
        return "unknown[" + clientIp + "]";
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.finishAndReleaseAll();
        }
    }

    /** A worker pool that runs its tasks only when the test says so, on the test thread. */
    static final class ManualExecutor implements Executor {
        private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
        boolean paused;
        /** True while a worker task runs (what the worker pool's threads would be doing). */
        private volatile boolean running;

        boolean running() {
            return running;
        }

        @Override
        public synchronized void execute(Runnable command) {
            tasks.add(command);
        }

        synchronized boolean hasTasks() {
            return !tasks.isEmpty();
        }

        /** Runs tasks (and the tasks they add) until none is left; false when there was none. */
        boolean runAll() {
            if (paused) {
                return false;
            }
            boolean any = false;
            while (true) {
                Runnable next;
                synchronized (this) {
                    next = tasks.poll();
                }
                if (next == null) {
                    return any;
                }
                any = true;
                running = true;
                try {
                    next.run();
                } finally {
                    running = false;
                }
            }
        }
    }

    /**
     * A {@link RestrictionEngine} whose lists are functions of the facts; every evaluation is recorded. Lists without
     * a function answer DUNNO with the facts' actions. Answers complete at once or, with {@link #async}, only when
     * the test calls {@link #completeAll()}.
     */
    static class FakeEngine implements RestrictionEngine {
        record Call(String list, SessionFacts facts) {
        }

        final List<Call> calls = new CopyOnWriteArrayList<>();
        final java.util.Map<String, Function<SessionFacts, Decision>> lists = new java.util.HashMap<>();
        boolean async;
        private final List<Runnable> held = new ArrayList<>();

        FakeEngine on(String list, Function<SessionFacts, Decision> f) {
            lists.put(list, f);
            return this;
        }

        List<String> listsCalled() {
            return calls.stream().map(c -> c.list() + "@" + c.facts().command()).toList();
        }

        @Override
        public CompletionStage<Decision> evaluate(String list, SessionFacts facts, ConfigSnapshot snapshot) {
            if (!LISTS.contains(list)) {
                throw new IllegalArgumentException(list);
            }
            calls.add(new Call(list, facts));
            Function<SessionFacts, Decision> f = lists.get(list);
            Decision d = f != null ? f.apply(facts) : dunno(facts);
            if (!async) {
                return CompletableFuture.completedFuture(d);
            }
            CompletableFuture<Decision> future = new CompletableFuture<>();
            held.add(() -> future.complete(d));
            return future;
        }

        void completeAll() {
            List<Runnable> now = List.copyOf(held);
            held.clear();
            now.forEach(Runnable::run);
        }

        /** What configurationErrors answers (Postfix's fatal texts); empty: the configuration is fine. */
        volatile List<String> configurationErrors = List.of();

        @Override
        public List<String> configurationErrors(ConfigSnapshot snapshot) {
            return configurationErrors;
        }

        static Decision dunno(SessionFacts facts) {
            return new Decision(Decision.Kind.DUNNO, java.util.Optional.empty(), facts.actions(),
                    facts.deferIfPermit(), List.of());
        }

        static Decision reject(SessionFacts facts, String list, int code, String dsn, String text) {
            org.estafeta.api.message.Reply reply = code >= 500
                    ? org.estafeta.api.message.Reply.reject(code, dsn, text)
                    : org.estafeta.api.message.Reply.tempfail(code, dsn, text);
            StringBuilder line = new StringBuilder("NOQUEUE: reject: ").append(facts.command()).append(" from ")
                    .append(facts.namaddr()).append(": ").append(reply).append(';');
            facts.sender().ifPresent(s -> line.append(" from=<").append(s).append('>'));
            facts.recipient().ifPresent(r -> line.append(" to=<").append(r).append('>'));
            line.append(" proto=").append(facts.protocol());
            facts.helo().ifPresent(h -> line.append(" helo=<").append(h).append('>'));
            return new Decision(code >= 500 ? Decision.Kind.REJECT : Decision.Kind.DEFER, java.util.Optional.of(reply),
                    facts.actions(), java.util.Optional.empty(), List.of(line.toString()));
        }
    }

    /** A {@link DnsResolver} that knows only client names (what smtpd itself asks); optionally answers later. */
    static class FakeDns implements DnsResolver {
        final java.util.Map<InetAddress, ClientName> names = new java.util.HashMap<>();
        final List<InetAddress> asked = new CopyOnWriteArrayList<>();
        CompletableFuture<ClientName> pending;
        boolean hold;

        FakeDns verified(String ip, String name) {
            InetAddress a = address(ip);
            names.put(a, new ClientName(a, name, org.estafeta.dns.Outcome.FOUND, name, org.estafeta.dns.Outcome.FOUND, ""));
            return this;
        }

        FakeDns reverseOnly(String ip, String reverse) {
            InetAddress a = address(ip);
            names.put(a, new ClientName(a, ClientName.UNKNOWN, org.estafeta.dns.Outcome.NOT_FOUND, reverse,
                    org.estafeta.dns.Outcome.FOUND, "address not listed for hostname " + reverse));
            return this;
        }

        private static InetAddress address(String ip) {
            try {
                return InetAddress.getByName(ip);
            } catch (java.net.UnknownHostException e) {
                throw new IllegalArgumentException(e);
            }
        }

        @Override
        public CompletionStage<ClientName> clientName(InetAddress address) {
            asked.add(address);
            ClientName n = names.getOrDefault(address, new ClientName(address, ClientName.UNKNOWN,
                    org.estafeta.dns.Outcome.NOT_FOUND, ClientName.UNKNOWN, org.estafeta.dns.Outcome.NOT_FOUND,
                    "no PTR record"));
            if (hold) {
                pending = new CompletableFuture<>();
                CompletableFuture<ClientName> p = pending;
                return p.thenApply(x -> n);
            }
            return CompletableFuture.completedFuture(n);
        }

        // smtpd asks only for the client name; the restriction engine (faked separately) asks the rest.
        private static <T> CompletionStage<T> notForSmtpd() {
            return CompletableFuture.failedFuture(new UnsupportedOperationException("smtpd does not ask this"));
        }

        @Override
        public CompletionStage<DnsResult<InetAddress>> a(String name) {
            return notForSmtpd();
        }

        @Override
        public CompletionStage<DnsResult<InetAddress>> aaaa(String name) {
            return notForSmtpd();
        }

        @Override
        public CompletionStage<DnsResult<InetAddress>> addresses(String name) {
            return notForSmtpd();
        }

        @Override
        public CompletionStage<DnsResult<MxRecord>> mx(String domain) {
            return notForSmtpd();
        }

        @Override
        public CompletionStage<DnsResult<String>> ptr(InetAddress address) {
            return notForSmtpd();
        }

        @Override
        public CompletionStage<DnsResult<String>> txt(String name) {
            return notForSmtpd();
        }

        @Override
        public CompletionStage<DnsblResult> rbl(InetAddress client, String zone) {
            return notForSmtpd();
        }

        @Override
        public CompletionStage<DnsblResult> rhsbl(String domain, String zone) {
            return notForSmtpd();
        }
    }
}
