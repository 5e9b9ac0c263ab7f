package org.estafeta.smtpd;

import java.util.concurrent.Executor;

import org.estafeta.cleanup.Cleanup;
import org.estafeta.dns.DnsResolver;
import org.estafeta.restrictions.RestrictionEngine;

/**
 * The services a session uses, each looked up when it is needed: any may be absent (null) and come or go while the
 * gateway runs. A transaction that has opened a Cleanup stream keeps it to the end.
 */
interface SmtpdServices {
    /** The queue's cleanup service, or null: DATA and BDAT then get {@code 451 4.3.0 Error: queue file write error}. */
    Cleanup cleanup();

    /** DNS, or null: client names are {@code unknown}, as Postfix with {@code disable_dns_lookups}. */
    DnsResolver dns();

    /** The restriction engine, or null: see {@link SmtpSession} for what is decided without it. */
    RestrictionEngine restrictions();

    /** The bounded pool for blocking work (Cleanup's disk I/O). */
    Executor workers();

    /** The queue manager's flush for ETRN, or null when no qmgr bundle is active ({@code 458}). */
    default org.estafeta.queue.QueueFlush queueFlush() {
        return null;
    }

    /** The SASL back end registered for {@code smtpd_sasl_type} {@code type}, or null when none is. */
    default org.estafeta.api.sasl.SaslServer sasl(String type) {
        return null;
    }

    /** Nothing at all: no cleanup, no DNS, no restrictions; blocking work runs on the caller. */
    SmtpdServices NONE = new SmtpdServices() {
        @Override
        public Cleanup cleanup() {
            return null;
        }

        @Override
        public DnsResolver dns() {
            return null;
        }

        @Override
        public RestrictionEngine restrictions() {
            return null;
        }

        @Override
        public Executor workers() {
            return Runnable::run;
        }
    };
}
