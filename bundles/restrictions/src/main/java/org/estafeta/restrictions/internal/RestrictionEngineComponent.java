package org.estafeta.restrictions.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.estafeta.api.message.Reply;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.restriction.Restriction;
import org.estafeta.api.restriction.RestrictionRequest;
import org.estafeta.api.restriction.RestrictionVerdict;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.SnapshotPluginContext;
import org.estafeta.dns.DnsResolver;
import org.estafeta.restrictions.Decision;
import org.estafeta.restrictions.RestrictionEngine;
import org.estafeta.restrictions.SessionFacts;
import org.estafeta.tables.TableService;
import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link RestrictionEngine} service: a bounded worker pool of its own, the table service, the DNS resolver
 * (optional: without it DNS checks are temporary failures), and the plugin restrictions by name.
 */
@Component(service = RestrictionEngine.class, immediate = true)
public final class RestrictionEngineComponent implements RestrictionEngine {
    /** Logger name: Postfix logs restriction warnings as smtpd. */
    static final String LOGGER = "smtpd";

    private static final int THREADS = Math.max(8, Runtime.getRuntime().availableProcessors() * 4);
    private static final int QUEUE = 4096;
    /** Longest wait for one DNS answer; the resolver itself answers within estafeta_dns_timeout. */
    private static final long DNS_WAIT_MILLIS = 120_000;

    private final Logger log;
    private volatile TableService tables;
    private volatile DnsResolver dns;
    private final Map<String, List<Registered>> plugins = new ConcurrentHashMap<>();
    private volatile ThreadPoolExecutor pool;

    private record Registered(Restriction restriction, int arguments, long id, int ranking) {
        boolean betterThan(Registered o) {
            return ranking != o.ranking ? ranking > o.ranking : id < o.id;
        }
    }

    public RestrictionEngineComponent() {
        this(LoggerFactory.getLogger(LOGGER));
    }

    /** For tests: a logger of the test's choosing. */
    public RestrictionEngineComponent(Logger log) {
        this.log = log;
    }

    @Reference
    public void setTables(TableService tables) {
        this.tables = tables;
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    public void setDns(DnsResolver dns) {
        this.dns = dns;
    }

    public void unsetDns(DnsResolver dns) {
        if (this.dns == dns) {
            this.dns = null;
        }
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    public void addRestriction(Restriction restriction, Map<String, Object> properties) {
        Object name = properties.get(Restriction.NAME);
        if (!(name instanceof String n) || n.isBlank()) {
            log.warn("ignoring a restriction service without the {} property: {}", Restriction.NAME, restriction);
            return;
        }
        Registered r = new Registered(restriction, intProperty(properties.get(org.estafeta.api.restriction.Restriction.ARGUMENTS)),
                longProperty(properties.get(Constants.SERVICE_ID)), (int) longProperty(properties.get(Constants.SERVICE_RANKING)));
        plugins.compute(n, (k, list) -> {
            List<Registered> l = list == null ? new ArrayList<>() : new ArrayList<>(list);
            l.add(r);
            l.sort((a, b) -> a.betterThan(b) ? -1 : b.betterThan(a) ? 1 : 0);
            return List.copyOf(l);
        });
    }

    public void removeRestriction(Restriction restriction, Map<String, Object> properties) {
        Object name = properties.get(Restriction.NAME);
        if (name instanceof String n) {
            plugins.computeIfPresent(n, (k, list) -> {
                List<Registered> l = list.stream().filter(r -> r.restriction != restriction).toList();
                return l.isEmpty() ? null : l;
            });
        }
    }

    private static int intProperty(Object o) {
        if (o instanceof Number n) {
            return Math.max(0, n.intValue());
        }
        if (o instanceof String s) {
            try {
                return Math.max(0, Integer.parseInt(s.strip()));
            } catch (NumberFormatException e) {
                return 0;
            }
        }
        return 0;
    }

    private static long longProperty(Object o) {
        return o instanceof Number n ? n.longValue() : 0;
    }

    @Activate
    public void activate() {
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor p = new ThreadPoolExecutor(THREADS, THREADS, 60, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(QUEUE), r -> {
                    Thread t = new Thread(r, "restrictions-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        p.allowCoreThreadTimeOut(true);
        pool = p;
    }

    @Deactivate
    public void deactivate() {
        ThreadPoolExecutor p = pool;
        pool = null;
        if (p != null) {
            p.shutdown();
        }
    }

    @Override
    public CompletionStage<Decision> evaluate(String list, SessionFacts facts, ConfigSnapshot snapshot) {
        if (!LISTS.contains(list)) {
            throw new IllegalArgumentException("not a restriction list: " + list);
        }
        CompletableFuture<Decision> result = new CompletableFuture<>();
        ThreadPoolExecutor p = pool;
        if (p == null) {
            result.complete(busy(facts, "the restriction engine is stopped"));
            return result;
        }
        try {
            p.execute(() -> {
                try {
                    // smtpd refuses to start on a configuration with errors; this guards the sessions of an
                    // instance that started before the engine was there to ask: never relay for everyone
                    if (list.equals(RECIPIENT)) {
                        List<String> errors = configurationErrors(snapshot);
                        if (!errors.isEmpty()) {
                            log.warn("{}: fatal: {}", facts.namaddr(), errors.get(0));
                            result.complete(serverError(facts));
                            return;
                        }
                    }
                    result.complete(evaluateNow(list, facts, snapshot));
                } catch (RuntimeException | Error e) {
                    log.warn("{}: restriction evaluation failed: {}", list, e.toString());
                    result.complete(serverError(facts));
                }
            });
        } catch (RejectedExecutionException e) {
            log.warn("{}: all {} restriction workers are busy and {} requests wait; deferring {}", list, THREADS,
                    QUEUE, facts.namaddr());
            result.complete(busy(facts, "busy"));
        }
        return result;
    }

    /** Evaluates on the calling thread (the worker). */
    Decision evaluateNow(String list, SessionFacts facts, ConfigSnapshot snapshot) {
        PluginContext context = new SnapshotPluginContext(snapshot, LOGGER);
        try (Tables t = new Tables(tables, log)) {
            Evaluation e = new Evaluation(facts, new Params(snapshot), t, dns, name -> plugin(name, context), log,
                    DNS_WAIT_MILLIS);
            return e.run(list);
        }
    }

    private Optional<Evaluation.PluginRestriction> plugin(String name, PluginContext context) {
        List<Registered> l = plugins.get(name);
        if (l == null || l.isEmpty()) {
            return Optional.empty();
        }
        Registered best = l.get(0);
        return Optional.of(new Evaluation.PluginRestriction() {
            @Override
            public int arguments() {
                return best.arguments;
            }

            @Override
            public RestrictionVerdict evaluate(RestrictionRequest request) {
                return best.restriction.evaluate(request, context);
            }
        });
    }

    private static Decision serverError(SessionFacts facts) {
        return new Decision(Decision.Kind.DEFER, Optional.of(new Reply(451, "4.3.5", "Server configuration error")),
                facts.actions(), Optional.empty(), List.of());
    }

    /** Every worker busy and the queue full: a 4xx, never a wait on the caller's thread (Estafeta's own text). */
    private static Decision busy(SessionFacts facts, String why) {
        return new Decision(Decision.Kind.DEFER,
                Optional.of(new Reply(451, "4.3.2", "Server busy, try again later")), facts.actions(),
                facts.deferIfPermit(), List.of());
    }

    @Override
    public List<String> configurationErrors(ConfigSnapshot snapshot) {
        Params params = new Params(snapshot);
        List<String> errors = new ArrayList<>();
        List<String> classes = params.list("smtpd_restriction_classes");
        for (String c : classes) {
            if (params.text(c).isBlank()) {
                errors.add("restriction class `" + c + "' needs a definition");
            }
        }
        List<String> required = List.of("reject_unauth_destination", "defer_unauth_destination", "reject", "defer",
                "defer_if_permit", "check_relay_domains");
        List<String> relay = params.compatibilityBelow("1") && !snapshot.isExplicit(RELAY) ? List.of()
                : params.list(RELAY);
        if (!hasRequired(params.list(RECIPIENT), required, params, classes, 0)
                && !hasRequired(relay, required, params, classes, 0)) {
            errors.add("in parameter " + RELAY + " or " + RECIPIENT + ", specify at least one working instance of: "
                    + "reject_unauth_destination, defer_unauth_destination, reject, defer, defer_if_permit or"
                    + " check_relay_domains");
        }
        return errors;
    }

    /** has_required: a required restriction before any "permit", also inside restriction classes. */
    private static boolean hasRequired(List<String> restrictions, List<String> required, Params params,
            List<String> classes, int depth) {
        for (int i = 0; i < restrictions.size(); i++) {
            String r = restrictions.get(i);
            if (r.equalsIgnoreCase("warn_if_reject") && i + 1 < restrictions.size()) {
                i++;
                continue;
            }
            if (r.equalsIgnoreCase("permit")) {
                return false;
            }
            if (required.stream().anyMatch(r::equalsIgnoreCase)) {
                return true;
            }
            if (depth < 100 && classes.contains(r)
                    && hasRequired(HostNames.splitList(params.text(r)), required, params, classes, depth + 1)) {
                return true;
            }
        }
        return false;
    }
}
