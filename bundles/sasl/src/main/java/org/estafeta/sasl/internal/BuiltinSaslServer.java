package org.estafeta.sasl.internal;

import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.sasl.SaslExchange;
import org.estafeta.api.sasl.SaslMechanism;
import org.estafeta.api.sasl.SaslMechanismInfo;
import org.estafeta.api.sasl.SaslMechanismInfo.Flag;
import org.estafeta.api.sasl.SaslServer;
import org.estafeta.api.sasl.SaslSession;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

/**
 * The built-in SASL back end, {@code smtpd_sasl_type = estafeta}, also answering to Postfix's default
 * {@code cyrus} so that a Postfix main.cf keeps working: it runs whatever {@link SaslMechanism} services are
 * present (this bundle's PLAIN, LOGIN, CRAM-MD5 and SCRAM-SHA-256, and any a plugin adds), advertised in a stable
 * order: SCRAM-SHA-256, CRAM-MD5, PLAIN, LOGIN, then the others by name.
 *
 * <p>The flags follow Cyrus SASL's security flags for its mechanisms, as Postfix's
 * {@code smtpd_sasl_security_options} filter on them with Cyrus: PLAIN and LOGIN are plaintext and open to active
 * and dictionary attacks, CRAM-MD5 to active and dictionary attacks, SCRAM-SHA-256 to a dictionary attack and it
 * authenticates the server. A plugin's mechanism is plaintext when it says so, and anonymous when it is named
 * ANONYMOUS.
 *
 * <p>Each exchange sees the session's realm as {@code smtpd_sasl_local_domain}: a user name without {@code @}
 * is looked up as {@code name@realm}.
 *
 * <p>Thread-safe; mechanisms come and go at any time (an exchange already started keeps its mechanism).
 */
@Component(property = {SaslServer.TYPE + "=estafeta", SaslServer.TYPE + "=cyrus"})
public final class BuiltinSaslServer implements SaslServer {
    private static final List<String> PREFERRED = List.of(ScramSha256Mechanism.NAME, CramMd5Mechanism.NAME,
            PlainMechanism.NAME, LoginMechanism.NAME);

    private record Bound(SaslMechanism mechanism, int ranking, long id) {
    }

    private final Map<String, List<Bound>> mechanisms = new ConcurrentHashMap<>();

    @Reference(service = SaslMechanism.class, cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void addMechanism(SaslMechanism mechanism, Map<String, Object> properties) {
        String name = name(properties);
        if (name == null) {
            return;
        }
        mechanisms.compute(name, (k, list) -> {
            List<Bound> l = list == null ? new ArrayList<>() : new ArrayList<>(list);
            l.add(new Bound(mechanism, intProperty(properties.get("service.ranking")),
                    longProperty(properties.get("service.id"))));
            return List.copyOf(l);
        });
    }

    void removeMechanism(SaslMechanism mechanism, Map<String, Object> properties) {
        String name = name(properties);
        if (name == null) {
            return;
        }
        mechanisms.computeIfPresent(name, (k, list) -> {
            List<Bound> l = list.stream().filter(b -> b.mechanism != mechanism).toList();
            return l.isEmpty() ? null : l;
        });
    }

    private static String name(Map<String, Object> properties) {
        Object v = properties.get(SaslMechanism.NAME);
        return v instanceof String s && !s.isBlank() ? s.trim().toUpperCase(Locale.ROOT) : null;
    }

    private static int intProperty(Object v) {
        return v instanceof Integer i ? i : 0;
    }

    private static long longProperty(Object v) {
        return v instanceof Long l ? l : 0L;
    }

    /** The service to use for {@code name}: highest ranking, then lowest service id, as the OSGi rule goes. */
    private Optional<SaslMechanism> mechanism(String name) {
        List<Bound> l = mechanisms.get(name);
        if (l == null) {
            return Optional.empty();
        }
        return l.stream().min(Comparator.comparingInt((Bound b) -> -b.ranking).thenComparingLong(b -> b.id))
                .map(Bound::mechanism);
    }

    @Override
    public List<SaslMechanismInfo> mechanisms(PluginContext context) {
        List<SaslMechanismInfo> out = new ArrayList<>();
        for (String name : mechanisms.keySet().stream().sorted(BuiltinSaslServer::advertisingOrder).toList()) {
            mechanism(name).ifPresent(m -> out.add(new SaslMechanismInfo(name, flags(name, m))));
        }
        return out;
    }

    static int advertisingOrder(String a, String b) {
        int ia = PREFERRED.indexOf(a);
        int ib = PREFERRED.indexOf(b);
        ia = ia < 0 ? PREFERRED.size() : ia;
        ib = ib < 0 ? PREFERRED.size() : ib;
        return ia != ib ? Integer.compare(ia, ib) : a.compareTo(b);
    }

    /** Cyrus SASL's security flags for its mechanisms, turned into the "open to" flags of the SPI. */
    static Set<Flag> flags(String name, SaslMechanism m) {
        Set<Flag> f = EnumSet.noneOf(Flag.class);
        switch (name) {
            // plain.c and login.c: SASL_SEC_NOANONYMOUS only
            case PlainMechanism.NAME, LoginMechanism.NAME -> f.addAll(EnumSet.of(Flag.ACTIVE, Flag.DICTIONARY));
            // cram.c: SASL_SEC_NOPLAINTEXT | SASL_SEC_NOANONYMOUS
            case CramMd5Mechanism.NAME -> f.addAll(EnumSet.of(Flag.ACTIVE, Flag.DICTIONARY));
            // scram.c: SASL_SEC_NOPLAINTEXT | SASL_SEC_NOACTIVE | SASL_SEC_NOANONYMOUS | SASL_SEC_MUTUAL_AUTH
            case ScramSha256Mechanism.NAME -> f.addAll(EnumSet.of(Flag.DICTIONARY, Flag.MUTUAL_AUTH));
            default -> {
            }
        }
        if (m.plaintext()) {
            f.add(Flag.PLAINTEXT);
        }
        if (name.equals("ANONYMOUS")) {
            f.add(Flag.ANONYMOUS);
        }
        return f;
    }

    @Override
    public SaslExchange start(String mechanism, SaslSession session, PluginContext context) throws IOException {
        String name = mechanism.toUpperCase(Locale.ROOT);
        SaslMechanism m = mechanism(name)
                .orElseThrow(() -> new IOException("SASL mechanism " + name + " is not available (its bundle is gone)"));
        return m.start(session.client(), new SessionContext(context, session.realm()));
    }

    /** The smtpd context, with the session's realm as {@code smtpd_sasl_local_domain}. */
    private record SessionContext(PluginContext delegate, String realm) implements PluginContext {
        @Override
        public System.Logger logger() {
            return delegate.logger();
        }

        @Override
        public Optional<String> parameter(String name) {
            return name.equals(Users.REALM_PARAMETER) ? Optional.of(realm) : delegate.parameter(name);
        }

        @Override
        public Clock clock() {
            return delegate.clock();
        }
    }
}
