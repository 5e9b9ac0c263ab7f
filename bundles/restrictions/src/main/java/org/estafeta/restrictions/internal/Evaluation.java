package org.estafeta.restrictions.internal;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.message.Reply;
import org.estafeta.api.restriction.RestrictionRequest;
import org.estafeta.api.restriction.RestrictionVerdict;
import org.estafeta.api.table.LookupResult;
import org.estafeta.cleanup.Submission;
import org.estafeta.dns.DnsResolver;
import org.estafeta.dns.DnsResult;
import org.estafeta.dns.DnsblResult;
import org.estafeta.dns.MxRecord;
import org.estafeta.dns.Outcome;
import org.estafeta.restrictions.Decision;
import org.estafeta.restrictions.RestrictionEngine;
import org.estafeta.restrictions.SessionFacts;
import org.slf4j.Logger;

/**
 * One evaluation of one restriction list: a port of Postfix's smtpd_check.c (generic_checks and the restrictions
 * it calls), with its state (defer_if_permit, defer_if_reject, warn_if_reject, the access(5) actions) and its
 * replies. Not thread-safe; runs on one worker thread from start to end.
 */
final class Evaluation {
    static final int DUNNO = 0;
    static final int OK = 1;
    static final int REJECT = 2;

    static final String NAME_CLIENT = "Client host";
    static final String NAME_REV_CLIENT = "Unverified Client host";
    static final String NAME_HELO = "Helo command";
    static final String NAME_SENDER = "Sender address";
    static final String NAME_RECIPIENT = "Recipient address";
    static final String NAME_DATA = "Data command";
    static final String NAME_EOD = "End-of-data";

    static final String CHECK_CLIENT_ACL = "check_client_access";
    static final String CHECK_REVERSE_CLIENT_ACL = "check_reverse_client_hostname_access";
    static final String CHECK_HELO_ACL = "check_helo_access";
    static final String CHECK_SENDER_ACL = "check_sender_access";
    static final String CHECK_RECIP_ACL = "check_recipient_access";

    /** What smtpd_relay_restrictions is, below compatibility level 1 when main.cf does not set it: never rejects. */
    static final String FAKE_RELAY_CHECKS = "permit_mynetworks, permit_sasl_authenticated, permit_auth_destination";

    private enum ErrorClass {
        POLICY, SOFTWARE, DATA, RESOURCE, BOUNCE
    }

    /** A pending defer_if_permit or defer_if_reject (Postfix's SMTPD_DEFER). */
    private static final class Defer {
        boolean active;
        ErrorClass errorClass;
        int code;
        String dsn;
        String reason;
    }

    /** Postfix's longjmp out of the restrictions after a server or lookup error; the reply is already made. */
    private static final class Abort extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int status;

        Abort(int status) {
            super(null, null, false, false);
            this.status = status;
        }
    }

    /** A plugin restriction found by name. */
    interface PluginRestriction {
        int arguments();

        RestrictionVerdict evaluate(RestrictionRequest request);
    }

    private final SessionFacts facts;
    private final Params params;
    private final Tables tables;
    private final DnsResolver dns;
    private final Function<String, Optional<PluginRestriction>> plugins;
    private final Logger log;
    private final long dnsWaitMillis;
    private final AddressResolver resolver;

    // the session state as smtpd_check.c keeps it
    private String sender; // null: no MAIL FROM
    private String recipient; // null: none
    private final String helo;
    private String where;
    private RestrictionRequest.Stage stage = RestrictionRequest.Stage.CLIENT;
    private int recursion;
    private int warnIfReject;
    private final Defer deferIfPermit = new Defer();
    private final Defer deferIfReject = new Defer();
    private boolean discard;
    private Optional<String> hold;
    private Optional<String> discardText;
    private Optional<String> filter;
    private Optional<String> redirect;
    private final List<String> prepend;
    private final List<String> logLines = new ArrayList<>();
    private Reply lastReply;
    private boolean recipientMapsChecked; // recipient_rcptmap_checked
    private boolean senderMapsChecked; // sender_rcptmap_checked

    Evaluation(SessionFacts facts, Params params, Tables tables, DnsResolver dns,
            Function<String, Optional<PluginRestriction>> plugins, Logger log, long dnsWaitMillis) {
        this.facts = facts;
        this.params = params;
        this.tables = tables;
        this.dns = dns;
        this.plugins = plugins;
        this.log = log;
        this.dnsWaitMillis = dnsWaitMillis;
        this.resolver = new AddressResolver(params, tables);
        this.sender = facts.sender().orElse(null);
        this.recipient = facts.recipient().orElse(null);
        this.helo = facts.helo().orElse(null);
        this.where = facts.command();
        Submission.Actions a = facts.actions();
        this.hold = a.hold();
        this.discardText = a.discard();
        this.discard = a.discard().isPresent();
        this.filter = a.filter();
        this.redirect = a.redirect();
        this.prepend = new ArrayList<>(a.prependHeaders());
    }

    // ---------------------------------------------------------------- stages (smtpd_check_client ... _eod)

    Decision run(String list) {
        int status;
        switch (list) {
            case RestrictionEngine.CLIENT -> {
                stage = RestrictionRequest.Stage.CLIENT;
                status = stageList(params.list(list), facts.namaddr(), NAME_CLIENT, CHECK_CLIENT_ACL);
            }
            case RestrictionEngine.HELO -> {
                stage = RestrictionRequest.Stage.HELO;
                restoreDeferIfPermit();
                status = helo == null ? DUNNO : stageList(params.list(list), helo, NAME_HELO, CHECK_HELO_ACL);
            }
            case RestrictionEngine.SENDER -> {
                stage = RestrictionRequest.Stage.SENDER;
                restoreDeferIfPermit();
                status = sender == null ? DUNNO : stageList(params.list(list), sender, NAME_SENDER, CHECK_SENDER_ACL);
                if (params.bool("smtpd_reject_unlisted_sender") && status != REJECT && !senderMapsChecked && !discard
                        && sender != null && !sender.isEmpty()) {
                    status = implicitly(status, () -> checkSenderRcptMaps(sender));
                }
            }
            case RestrictionEngine.RELAY -> {
                stage = RestrictionRequest.Stage.RECIPIENT;
                restoreDeferIfPermit();
                status = recipient == null ? DUNNO
                        : stageList(relayRestrictions(), recipient, NAME_RECIPIENT, CHECK_RECIP_ACL);
            }
            case RestrictionEngine.RECIPIENT -> {
                stage = RestrictionRequest.Stage.RECIPIENT;
                status = recipientStage();
            }
            case RestrictionEngine.DATA, RestrictionEngine.END_OF_DATA -> {
                boolean data = list.equals(RestrictionEngine.DATA);
                stage = data ? RestrictionRequest.Stage.DATA : RestrictionRequest.Stage.END_OF_DATA;
                if (facts.recipientCount() > 1) {
                    recipient = null; // this applies to all recipients alike
                }
                status = stageList(params.list(list), data ? "DATA" : "END-OF-MESSAGE", data ? NAME_DATA : NAME_EOD,
                        null);
                status = applyDeferIfPermit(status);
            }
            default -> throw new IllegalArgumentException("not a restriction list: " + list);
        }
        return decision(status);
    }

    private void restoreDeferIfPermit() {
        facts.deferIfPermit().ifPresent(r -> {
            deferIfPermit.active = true;
            deferIfPermit.errorClass = ErrorClass.POLICY;
            deferIfPermit.code = r.code();
            deferIfPermit.dsn = r.enhancedStatus();
            deferIfPermit.reason = r.text();
        });
    }

    private int stageList(List<String> restrictions, String replyName, String replyClass, String defAcl) {
        recursion = 0;
        warnIfReject = 0;
        deferIfReject.active = false;
        try {
            return restrictions.isEmpty() ? DUNNO : genericChecks(restrictions, replyName, replyClass, defAcl);
        } catch (Abort a) {
            return a.status;
        }
    }

    /** smtpd_check_rcpt: the relay and recipient lists, each must pass; then a pending defer_if_permit. */
    private int recipientStage() {
        if (recipient == null || recipient.equalsIgnoreCase("postmaster")) {
            return DUNNO; // RFC 5321: "postmaster" is accepted even without a domain
        }
        restoreDeferIfPermit();
        boolean compatRelay = warnCompatBreakRelayRestrictions();
        boolean relayFirst = params.bool("smtpd_relay_before_recipient_restrictions") && !compatRelay;
        List<String> relay = compatRelay ? HostNames.splitList(FAKE_RELAY_CHECKS) : relayRestrictions();
        List<String> rcpt = params.list(RestrictionEngine.RECIPIENT);
        int status = DUNNO;
        for (int n = 0; n < 2; n++) {
            boolean isRelay = (n == 0) == relayFirst;
            status = stageList(isRelay ? relay : rcpt, recipient, NAME_RECIPIENT, CHECK_RECIP_ACL);
            if (isRelay && compatRelay && status == DUNNO) {
                log.info("using backwards-compatible default setting \"smtpd_relay_restrictions = (empty)\" to avoid"
                        + " \"Relay access denied\" error for recipient \"{}\" from client \"{}\"", recipient,
                        facts.namaddr());
            }
            if (status == REJECT) {
                break;
            }
        }
        status = applyDeferIfPermit(status);
        if (params.bool("smtpd_reject_unlisted_recipient") && status != REJECT && !recipientMapsChecked && !discard) {
            status = implicitly(status, () -> checkRecipientRcptMaps(recipient));
        }
        return status;
    }

    /**
     * An implicit reject_unlisted_* after a list that did not reject: a rejection (or a lookup failure) replaces
     * {@code status}, else the list's OK or DUNNO stands.
     */
    private int implicitly(int status, java.util.function.IntSupplier check) {
        warnIfReject = 0;
        try {
            return check.getAsInt() == REJECT ? REJECT : status;
        } catch (Abort a) {
            return a.status;
        }
    }

    private int applyDeferIfPermit(int status) {
        if (status != REJECT && deferIfPermit.active) {
            return smtpdCheckReject(deferIfPermit.errorClass, deferIfPermit.code, deferIfPermit.dsn, deferIfPermit.reason);
        }
        return status;
    }

    /** Postfix grandfathers sites from before 2.10: below level 1 an unset smtpd_relay_restrictions is empty. */
    private boolean warnCompatBreakRelayRestrictions() {
        return params.compatibilityBelow("1") && !params.snapshot().isExplicit(RestrictionEngine.RELAY);
    }

    private List<String> relayRestrictions() {
        return params.list(RestrictionEngine.RELAY);
    }

    private Decision decision(int status) {
        Submission.Actions actions = new Submission.Actions(hold, discardText, filter, redirect, prepend);
        Optional<Reply> pending = deferIfPermit.active
                ? Optional.of(new Reply(deferIfPermit.code, fixDsn(deferIfPermit.code, deferIfPermit.dsn),
                        deferIfPermit.reason))
                : Optional.empty();
        boolean finalStage = stage != RestrictionRequest.Stage.CLIENT && stage != RestrictionRequest.Stage.HELO
                && stage != RestrictionRequest.Stage.SENDER;
        if (finalStage) {
            pending = Optional.empty(); // already applied
        }
        if (status == REJECT) {
            Decision.Kind kind = lastReply.isPermanent() ? Decision.Kind.REJECT : Decision.Kind.DEFER;
            return new Decision(kind, Optional.of(lastReply), actions, pending, logLines);
        }
        return new Decision(status == OK ? Decision.Kind.OK : Decision.Kind.DUNNO, Optional.empty(), actions, pending,
                logLines);
    }

    private static String fixDsn(int code, String dsn) {
        return Integer.toString(code).charAt(0) + dsn.substring(1);
    }

    // ---------------------------------------------------------------- replies and logging

    /** smtpd_check_reject: format, validate, log and remember the reply; warn_if_reject turns it into a warning. */
    private int smtpdCheckReject(ErrorClass errorClass, int code, String dsn, String text) {
        boolean warn = warnIfReject != 0 && errorClass != ErrorClass.SOFTWARE && errorClass != ErrorClass.RESOURCE
                && errorClass != ErrorClass.DATA;
        String whatsup = warn ? "reject_warning" : "reject";
        String full = code + " " + dsn + " " + text;
        if (code < 400 || code > 599) {
            log.warn("SMTP reply code configuration error: {}", full);
            code = 450;
            dsn = "4.7.1";
            text = "Service unavailable";
        } else if (!validDsn(dsn)) {
            log.warn("DSN detail code configuration error: {}", full);
            code = 450;
            dsn = "4.7.1";
            text = "Service unavailable";
        }
        if (!warn && deferIfReject.active && code >= 500) {
            warnIfReject = 0;
            deferIfReject.active = false;
            return smtpdCheckReject(deferIfReject.errorClass, deferIfReject.code, deferIfReject.dsn,
                    deferIfReject.reason);
        }
        dsn = fixDsn(code, dsn);
        String replyText = printable(text);
        int room = 510 - 4 - dsn.length() - 1;
        if (replyText.length() > room) {
            replyText = replyText.substring(0, Math.max(0, room));
        }
        Reply reply = new Reply(code, dsn, replyText);
        logWhatsup(whatsup, reply.toString());
        if (warn) {
            return DUNNO;
        }
        lastReply = reply;
        return REJECT;
    }

    private static boolean validDsn(String dsn) {
        return dsn.matches("[245]\\.\\d{1,3}\\.\\d{1,3}");
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            b.append(c < 0x20 || c == 0x7f ? ' ' : c);
        }
        return b.toString();
    }

    /** log_whatsup: {@code NOQUEUE: reject: RCPT from name[addr]: TEXT; from=<s> to=<r> proto=ESMTP helo=<h>}. */
    private void logWhatsup(String whatsup, String text) {
        StringBuilder b = new StringBuilder();
        b.append(facts.queueId().orElse("NOQUEUE")).append(": ").append(whatsup).append(": ").append(where)
                .append(" from ").append(facts.namaddr()).append(": ").append(text).append(';');
        if (sender != null) {
            b.append(" from=<").append(sender).append('>');
        }
        if (recipient != null) {
            b.append(" to=<").append(recipient).append('>');
        }
        b.append(" proto=").append(facts.protocol());
        if (helo != null) {
            b.append(" helo=<").append(helo).append('>');
        }
        facts.saslMethod().ifPresent(m -> b.append(" sasl_method=").append(m));
        facts.saslUsername().ifPresent(u -> b.append(" sasl_username=").append(u));
        logLines.add(b.toString());
    }

    private int deferIf(Defer defer, ErrorClass errorClass, int code, String dsn, String reason) {
        if (!defer.active) {
            defer.active = true;
            defer.errorClass = errorClass;
            defer.code = code;
            defer.dsn = dsn;
            defer.reason = reason;
        }
        return DUNNO;
    }

    /**
     * DEFER_IF_PERMIT2: a temporary failure postponed (defer_if_permit) unless warn_if_reject is on or the
     * tempfail action parameter (null: always postpone) says {@code defer}.
     */
    private int deferIfPermitOrReject(String tempfailActionParam, int code, String dsn, String text) {
        String action = tempfailActionParam == null ? "defer_if_permit" : params.text(tempfailActionParam).strip();
        if (!action.equalsIgnoreCase("defer") && !action.equalsIgnoreCase("defer_if_permit")) {
            log.warn("bad configuration: {} = {}", tempfailActionParam, action);
            throw rejectServerError();
        }
        if (warnIfReject == 0 && action.equalsIgnoreCase("defer_if_permit")) {
            return deferIf(deferIfPermit, ErrorClass.POLICY, code, dsn, text);
        }
        return smtpdCheckReject(ErrorClass.POLICY, code, dsn, text);
    }

    private Abort rejectDictRetry(String replyName) {
        return new Abort(smtpdCheckReject(ErrorClass.DATA, 451, "4.3.0", "<" + replyName + ">: Temporary lookup failure"));
    }

    private Abort rejectServerError() {
        return new Abort(smtpdCheckReject(ErrorClass.SOFTWARE, 451, "4.3.5", "Server configuration error"));
    }

    // ---------------------------------------------------------------- generic_checks

    int genericChecks(List<String> restrictions, String replyName, String replyClass, String defAcl) {
        int status = DUNNO;
        int savedRecursion = recursion++;
        try {
            for (int i = 0; i < restrictions.size(); i++) {
                if (discard) {
                    break;
                }
                String name = restrictions.get(i);
                String lname = name.toLowerCase(Locale.ROOT);
                if (lname.equals("warn_if_reject")) {
                    if (warnIfReject == 0) {
                        warnIfReject = recursion;
                    }
                    continue;
                }
                String table = null;
                if (name.indexOf(':') >= 0) {
                    if (defAcl == null) {
                        log.warn("specify one of ({}, {}, {}, {}, {}, {}) before {} restriction \"{}\"",
                                CHECK_CLIENT_ACL, CHECK_REVERSE_CLIENT_ACL, CHECK_HELO_ACL, CHECK_SENDER_ACL,
                                CHECK_RECIP_ACL, "check_etrn_access", replyClass, name);
                        throw rejectServerError();
                    }
                    table = name;
                    lname = defAcl;
                }
                String next = i + 1 < restrictions.size() ? restrictions.get(i + 1) : null;
                switch (lname) {
                    case "permit" -> {
                        status = OK;
                        if (next != null) {
                            log.warn("restriction `{}' after `{}' is ignored", next, "permit");
                        }
                    }
                    case "defer" -> {
                        status = smtpdCheckReject(ErrorClass.POLICY, params.code("defer_code"), "4.3.2",
                                "<" + replyName + ">: " + replyClass + " rejected: Try again later");
                        if (next != null && warnIfReject == 0) {
                            log.warn("restriction `{}' after `{}' is ignored", next, "defer");
                        }
                    }
                    case "reject" -> {
                        status = smtpdCheckReject(ErrorClass.POLICY, params.code("reject_code"), "5.7.1",
                                "<" + replyName + ">: " + replyClass + " rejected: Access denied");
                        if (next != null && warnIfReject == 0) {
                            log.warn("restriction `{}' after `{}' is ignored", next, "reject");
                        }
                    }
                    case "defer_if_permit" -> status = deferIfPermitOrReject(null, 450, "4.7.0",
                            "<" + replyName + ">: " + replyClass + " rejected: defer_if_permit requested");
                    case "defer_if_reject" -> deferIf(deferIfReject, ErrorClass.POLICY, 450, "4.7.0",
                            "<" + replyName + ">: " + replyClass + " rejected: defer_if_reject requested");
                    case "reject_unknown_client_hostname", "reject_unknown_client" -> status = rejectUnknownClient();
                    case "reject_unknown_reverse_client_hostname" -> status = rejectUnknownReverseName();
                    case "permit_mynetworks" -> status = permitMynetworks(replyName);
                    case "permit_sasl_authenticated" -> status = permitSaslAuthenticated();
                    case "permit_tls_clientcerts" -> status = permitTlsClientcerts(false);
                    case "permit_tls_all_clientcerts" -> status = permitTlsClientcerts(true);
                    case "check_ccert_access" -> {
                        if (table == null) {
                            table = mapArgument(restrictions, i++, name);
                        }
                        status = checkCcertAccess(table, defAcl);
                    }
                    case CHECK_CLIENT_ACL -> {
                        if (table == null) {
                            table = mapArgument(restrictions, i++, name);
                        }
                        status = checkNamadrAccess(table, facts.clientName(), facts.clientAddress(), facts.namaddr(),
                                NAME_CLIENT, defAcl);
                    }
                    case CHECK_REVERSE_CLIENT_ACL -> {
                        if (table == null) {
                            table = mapArgument(restrictions, i++, name);
                        }
                        status = checkNamadrAccess(table, facts.reverseClientName(), facts.clientAddress(),
                                facts.reverseClientName(), NAME_REV_CLIENT, defAcl);
                        forbidAllowlist(name, status, facts.reverseClientName());
                    }
                    case "reject_rbl_client", "reject_rbl" -> {
                        if (next == null) {
                            log.warn("restriction {} requires domain name argument", name);
                        } else {
                            i++;
                            status = rejectRblAddr(next, facts.clientAddress(), NAME_CLIENT);
                        }
                    }
                    case "reject_rhsbl_client" -> {
                        if (next == null) {
                            log.warn("restriction {} requires domain name argument", name);
                        } else {
                            i++;
                            if (!facts.clientName().equalsIgnoreCase(SessionFacts.UNKNOWN)) {
                                status = rejectRblDomain(next, facts.clientName(), NAME_CLIENT);
                            }
                        }
                    }
                    case "reject_rhsbl_reverse_client" -> {
                        if (next == null) {
                            log.warn("restriction {} requires domain name argument", name);
                        } else {
                            i++;
                            if (!facts.reverseClientName().equalsIgnoreCase(SessionFacts.UNKNOWN)) {
                                status = rejectRblDomain(next, facts.reverseClientName(), NAME_REV_CLIENT);
                            }
                        }
                    }
                    case CHECK_HELO_ACL -> {
                        if (table == null) {
                            table = mapArgument(restrictions, i++, name);
                        }
                        if (helo != null) {
                            status = checkDomainAccess(table, helo, false, helo, NAME_HELO, defAcl).status;
                        }
                    }
                    case "reject_invalid_helo_hostname", "reject_invalid_hostname" -> {
                        if (helo != null) {
                            status = helo.startsWith("[") ? rejectInvalidHostaddr(helo, helo, NAME_HELO)
                                    : rejectInvalidHostname(helo, helo, NAME_HELO);
                        }
                    }
                    case "reject_unknown_helo_hostname", "reject_unknown_hostname" -> {
                        if (helo != null) {
                            status = helo.startsWith("[") ? rejectInvalidHostaddr(helo, helo, NAME_HELO)
                                    : rejectUnknownHostname(helo, helo, NAME_HELO);
                        }
                    }
                    case "reject_non_fqdn_helo_hostname", "reject_non_fqdn_hostname" -> {
                        if (helo != null) {
                            status = helo.startsWith("[") ? rejectInvalidHostaddr(helo, helo, NAME_HELO)
                                    : rejectNonFqdnHostname(helo, helo, NAME_HELO);
                        }
                    }
                    case "reject_rhsbl_helo" -> {
                        if (next == null) {
                            log.warn("restriction {} requires domain name argument", name);
                        } else {
                            i++;
                            if (helo != null) {
                                status = rejectRblDomain(next, helo, NAME_HELO);
                            }
                        }
                    }
                    case CHECK_SENDER_ACL -> {
                        if (table == null) {
                            table = mapArgument(restrictions, i++, name);
                        }
                        if (sender != null && !sender.isEmpty()) {
                            status = checkMailAccess(table, sender, sender, NAME_SENDER, defAcl);
                        } else if (sender != null) {
                            String key = params.optional("smtpd_null_access_lookup_key").orElse("<>");
                            status = checkAccess(table, key, false, sender, NAME_SENDER, defAcl).status;
                        }
                    }
                    case "reject_unknown_sender_domain", "reject_unknown_address" -> {
                        if (sender != null && !sender.isEmpty()) {
                            status = rejectUnknownAddress(sender, sender, NAME_SENDER);
                        }
                    }
                    case "reject_non_fqdn_sender" -> {
                        if (sender != null && !sender.isEmpty()) {
                            status = rejectNonFqdnAddress(sender, sender, NAME_SENDER);
                        }
                    }
                    case "reject_rhsbl_sender" -> {
                        if (next == null) {
                            log.warn("restriction {} requires domain name argument", name);
                        } else {
                            i++;
                            if (sender != null && !sender.isEmpty()) {
                                status = rejectRblDomain(next, sender, NAME_SENDER);
                            }
                        }
                    }
                    case CHECK_RECIP_ACL -> {
                        if (table == null) {
                            table = mapArgument(restrictions, i++, name);
                        }
                        if (recipient != null) {
                            status = checkMailAccess(table, recipient, recipient, NAME_RECIPIENT, defAcl);
                        }
                    }
                    case "permit_auth_destination" -> {
                        if (recipient != null) {
                            status = permitAuthDestination(recipient);
                        }
                    }
                    case "reject_unauth_destination" -> {
                        if (recipient != null) {
                            status = rejectUnauthDestination(recipient, params.code("relay_domains_reject_code"),
                                    "5.7.1");
                        }
                    }
                    case "defer_unauth_destination" -> {
                        if (recipient != null) {
                            status = rejectUnauthDestination(recipient,
                                    params.code("relay_domains_reject_code") - 100, "4.7.1");
                        }
                    }
                    case "reject_unknown_recipient_domain" -> {
                        if (recipient != null) {
                            status = rejectUnknownAddress(recipient, recipient, NAME_RECIPIENT);
                        }
                    }
                    case "reject_non_fqdn_recipient" -> {
                        if (recipient != null) {
                            status = rejectNonFqdnAddress(recipient, recipient, NAME_RECIPIENT);
                        }
                    }
                    case "reject_rhsbl_recipient" -> {
                        if (next == null) {
                            log.warn("restriction {} requires domain name argument", name);
                        } else {
                            i++;
                            if (recipient != null) {
                                status = rejectRblDomain(next, recipient, NAME_RECIPIENT);
                            }
                        }
                    }
                    case "reject_unlisted_sender" -> {
                        if (sender != null && !sender.isEmpty()) {
                            status = checkSenderRcptMaps(sender);
                        }
                    }
                    case "reject_unlisted_recipient", "check_recipient_maps" -> {
                        if (recipient != null && !recipient.isEmpty()) {
                            status = checkRecipientRcptMaps(recipient);
                        }
                    }
                    case "reject_multi_recipient_bounce" -> {
                        if (sender != null && sender.isEmpty()
                                && facts.recipientCount() > (where.equals("RCPT") ? 0 : 1)) {
                            status = smtpdCheckReject(ErrorClass.POLICY, params.code("multi_recipient_bounce_reject_code"),
                                    "5.5.3", "<" + replyName + ">: " + replyClass + " rejected: Multi-recipient bounce");
                        }
                    }
                    default -> {
                        List<String> cls = restrictionClass(name);
                        if (cls != null) {
                            status = genericChecks(cls, replyName, replyClass, defAcl);
                        } else {
                            Optional<PluginRestriction> plugin = plugins.apply(name);
                            if (plugin.isPresent()) {
                                int n = plugin.get().arguments();
                                List<String> args = restrictions.subList(i + 1, Math.min(restrictions.size(), i + 1 + n));
                                i += args.size();
                                status = plugin(name, plugin.get(), args);
                            } else {
                                log.warn("unknown smtpd restriction: \"{}\"", name);
                                throw rejectServerError();
                            }
                        }
                    }
                }
                if (warnIfReject >= recursion) {
                    warnIfReject = 0;
                }
                if (status != DUNNO) {
                    break;
                }
                if (deferIfPermit.active && deferIfReject.active) {
                    break;
                }
            }
        } finally {
            recursion = savedRecursion;
        }
        if (warnIfReject >= recursion) {
            warnIfReject = 0;
        }
        return status;
    }

    /** is_map_command: the next word must be a {@code type:name} table. */
    private String mapArgument(List<String> restrictions, int i, String command) {
        if (i + 1 >= restrictions.size() || restrictions.get(i + 1).indexOf(':') < 0) {
            log.warn("restriction {}: bad argument \"{}\": need maptype:mapname", command,
                    i + 1 < restrictions.size() ? restrictions.get(i + 1) : command);
            throw rejectServerError();
        }
        return restrictions.get(i + 1);
    }

    private void forbidAllowlist(String name, int status, String target) {
        if (!discard && status == OK) {
            log.warn("restriction {} returns OK for {}", name, target);
            log.warn("this is not allowed for security reasons");
            log.warn("use DUNNO instead of OK if you want to make an exception");
            throw rejectServerError();
        }
    }

    /** The definition of a smtpd_restriction_classes class, or null when {@code name} is not one. */
    private List<String> restrictionClass(String name) {
        if (!params.list("smtpd_restriction_classes").contains(name)) {
            return null;
        }
        String value = params.text(name);
        if (value.isBlank()) {
            log.warn("restriction class `{}' needs a definition", name);
            throw rejectServerError();
        }
        return HostNames.splitList(value);
    }

    private int plugin(String name, PluginRestriction plugin, List<String> args) {
        ClientInfo client = new ClientInfo(facts.clientAddress(), facts.clientName(), helo == null ? "" : helo,
                facts.tls(), facts.saslUsername());
        RestrictionRequest request = new RestrictionRequest(stage, client, sender == null ? "" : sender,
                recipient == null ? "" : recipient, args);
        RestrictionVerdict verdict;
        try {
            verdict = plugin.evaluate(request);
        } catch (RuntimeException e) {
            log.warn("restriction {}: {}", name, e.toString());
            throw rejectServerError();
        }
        if (verdict instanceof RestrictionVerdict.Permit) {
            return OK;
        }
        if (verdict instanceof RestrictionVerdict.Reject r) {
            return smtpdCheckReject(ErrorClass.POLICY, r.reply().code(), r.reply().enhancedStatus(), r.reply().text());
        }
        if (verdict instanceof RestrictionVerdict.Defer d) {
            return smtpdCheckReject(ErrorClass.POLICY, d.reply().code(), d.reply().enhancedStatus(), d.reply().text());
        }
        if (verdict == null) {
            log.warn("restriction {}: returned no verdict", name);
            throw rejectServerError();
        }
        return DUNNO;
    }

    // ---------------------------------------------------------------- unlisted recipients and senders

    /** check_recipient_rcpt_maps: once per RCPT, unless only warned about (warn_if_reject). */
    private int checkRecipientRcptMaps(String rcpt) {
        if (noUnknownRecipientChecks() || recipientMapsChecked) {
            return DUNNO;
        }
        recipientMapsChecked = warnIfReject == 0;
        return checkRcptMaps(rcpt, NAME_RECIPIENT);
    }

    /** check_sender_rcpt_maps: the same tables for the sender, once per stage. */
    private int checkSenderRcptMaps(String addr) {
        if (noUnknownRecipientChecks() || senderMapsChecked) {
            return DUNNO;
        }
        senderMapsChecked = warnIfReject == 0;
        return checkRcptMaps(addr, NAME_SENDER);
    }

    /** receive_override_options = no_unknown_recipient_checks (Postfix's INPUT_TRANSP_UNKNOWN_RCPT). */
    private boolean noUnknownRecipientChecks() {
        return params.list("receive_override_options").stream()
                .anyMatch(o -> o.equalsIgnoreCase("no_unknown_recipient_checks"));
    }

    /**
     * check_rcpt_maps: an address that a canonical or virtual alias table knows is fine; otherwise the table of its
     * address class must list it: local_recipient_maps (local domains, except postmaster, MAILER-DAEMON and
     * double_bounce_sender), virtual_mailbox_maps, relay_recipient_maps (each only when not empty). A virtual alias
     * domain has no table of its own: the address is unknown. A lookup failure is {@code 451 4.3.0 <addr>: Temporary
     * lookup failure}.
     */
    private int checkRcptMaps(String addr, String replyClass) {
        AddressResolver.Resolved r = resolver.resolve(addr);
        if (r.error()) {
            throw rejectDictRetry(addr);
        }
        boolean isSender = replyClass.equals(NAME_SENDER);
        String resolved = r.address();
        if (mailAddrFind("recipient_canonical_maps", resolved, addr)
                || isSender && mailAddrFind("sender_canonical_maps", resolved, addr)
                || mailAddrFind("canonical_maps", resolved, addr)
                || mailAddrFind("virtual_alias_maps", resolved, addr)) {
            return DUNNO;
        }
        String dsn = isSender ? "5.1.0" : "5.1.1";
        switch (r.addressClass()) {
            case ALIAS:
                // resolve.c sends these to the error transport with "5.1.1 User unknown in virtual alias table"
                return userUnknown(params.code("unknown_virtual_alias_reject_code"), dsnFix("5.1.1", replyClass), addr,
                        replyClass, "virtual alias");
            case LOCAL:
                if (!params.list("local_recipient_maps").isEmpty()
                        && !localPartIs(resolved, params.text("double_bounce_sender"))
                        && !localPartIs(resolved, "postmaster") && !localPartIs(resolved, "MAILER-DAEMON")
                        && !mailAddrFind("local_recipient_maps", resolved, addr)) {
                    return userUnknown(params.code("unknown_local_recipient_reject_code"), dsn, addr, replyClass,
                            "local recipient");
                }
                return DUNNO;
            case VIRTUAL:
                if (!mailAddrFind("virtual_mailbox_maps", resolved, addr)
                        && !params.list("virtual_mailbox_maps").isEmpty()) {
                    return userUnknown(params.code("unknown_virtual_mailbox_reject_code"), dsn, addr, replyClass,
                            "virtual mailbox");
                }
                return DUNNO;
            case RELAY:
                if (!mailAddrFind("relay_recipient_maps", resolved, addr)
                        && !params.list("relay_recipient_maps").isEmpty()) {
                    return userUnknown(params.code("unknown_relay_recipient_reject_code"), dsn, addr, replyClass,
                            "relay recipient");
                }
                return DUNNO;
            default:
                return DUNNO;
        }
    }

    private int userUnknown(int code, String dsn, String addr, String replyClass, String table) {
        return smtpdCheckReject(ErrorClass.BOUNCE, code, dsn, "<" + addr + ">: " + replyClass + " rejected: User unknown"
                + (params.bool("show_user_unknown_table_name") ? " in " + table + " table" : ""));
    }

    /** MATCH_LEFT: the address's local part is {@code name}, ignoring case. */
    private static boolean localPartIs(String address, String name) {
        return !name.isEmpty() && address.length() > name.length() && address.charAt(name.length()) == '@'
                && address.regionMatches(true, 0, name, 0, name.length());
    }

    /**
     * mail_addr_find with Postfix's default strategy over the tables of {@code param}: {@code user+ext@domain},
     * {@code user@domain}, then for a domain of this machine ($myorigin, local) {@code user+ext} and {@code user},
     * then {@code @domain}; every table is asked for one key before the next key. A table's temporary failure ends
     * the check: {@code 451 4.3.0 <replyName>: Temporary lookup failure}.
     */
    private boolean mailAddrFind(String param, String address, String replyName) {
        List<String> maps = params.list(param);
        if (maps.isEmpty()) {
            return false;
        }
        int at = address.lastIndexOf('@');
        String local = at < 0 ? address : address.substring(0, at);
        String domain = at < 0 ? "" : address.substring(at + 1);
        String bare = stripExtension(local);
        List<String> keys = new ArrayList<>();
        keys.add(address);
        if (bare != null) {
            keys.add(bare + (at < 0 ? "" : "@" + domain));
        }
        if (at >= 0) {
            boolean ours = domain.equalsIgnoreCase(params.text("myorigin"));
            if (!ours) {
                MatchList.Result l = resolver.isLocal(domain);
                if (l == MatchList.Result.ERROR) {
                    throw rejectDictRetry(replyName);
                }
                ours = l == MatchList.Result.MATCH;
            }
            if (ours) {
                keys.add(local);
                if (bare != null) {
                    keys.add(bare);
                }
            }
            keys.add("@" + domain);
        }
        for (int k = 0; k < keys.size(); k++) {
            for (String map : maps) {
                LookupResult lr = tables.lookup(map, keys.get(k), k > 0);
                if (lr instanceof LookupResult.Found) {
                    return true;
                }
                if (lr instanceof LookupResult.TemporaryFailure t) {
                    log.warn("{} lookup error for \"{}\": {}", map, keys.get(k), t.reason());
                    throw rejectDictRetry(replyName);
                }
            }
        }
        return false;
    }

    /** strip_addr: the local part without its recipient_delimiter extension, or null when it has none. */
    private String stripExtension(String local) {
        String delimiters = params.text("recipient_delimiter");
        if (delimiters.isEmpty()) {
            return null;
        }
        if (delimiters.indexOf('-') >= 0 && params.bool("owner_request_special", true)
                && (local.regionMatches(true, 0, "owner-", 0, 6)
                        || local.length() > 8 && local.regionMatches(true, local.length() - 8, "-request", 0, 8))) {
            return null;
        }
        for (int i = 1; i < local.length(); i++) {
            if (delimiters.indexOf(local.charAt(i)) >= 0) {
                return local.substring(0, i);
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- client restrictions

    private int rejectUnknownClient() {
        if (facts.clientNameStatus() != Outcome.FOUND) {
            return smtpdCheckReject(ErrorClass.POLICY,
                    facts.clientNameStatus() == Outcome.NOT_FOUND ? params.code("unknown_client_reject_code") : 450,
                    "4.7.25", "Client host rejected: cannot find your hostname, [" + facts.clientAddress() + "]");
        }
        return DUNNO;
    }

    private int rejectUnknownReverseName() {
        if (facts.reverseClientNameStatus() != Outcome.FOUND) {
            return smtpdCheckReject(ErrorClass.POLICY,
                    facts.reverseClientNameStatus() == Outcome.NOT_FOUND ? params.code("unknown_client_reject_code")
                            : 450,
                    "4.7.1", "Client host rejected: cannot find your reverse hostname, [" + facts.clientAddress() + "]");
        }
        return DUNNO;
    }

    private int permitMynetworks(String replyName) {
        MatchList.Result r = new MatchList(params.text("mynetworks"), params.parentStyle("mynetworks"), tables)
                .matchNameAddr(facts.clientName(), facts.clientAddress());
        if (r == MatchList.Result.ERROR) {
            throw rejectDictRetry(replyName);
        }
        return r == MatchList.Result.MATCH ? OK : DUNNO;
    }

    /**
     * Postfix's permit_tls_clientcerts(): a verified certificate with {@code permit_tls_all_clientcerts}; else the
     * certificate's, then the public key's fingerprint listed in {@code relay_clientcerts} (the issuer need not be
     * trusted then). Without a certificate, a warning when {@code smtpd_tls_ask_ccert} is off.
     */
    private int permitTlsClientcerts(boolean all) {
        if (!facts.tls()) {
            return DUNNO;
        }
        var cert = facts.clientCertificate();
        if (cert.isPresent() && cert.get().trusted() && all) {
            return OK;
        }
        if (cert.isPresent()) {
            for (String print : List.of(cert.get().publicKeyFingerprint(), cert.get().fingerprint())) {
                for (String map : params.list("relay_clientcerts")) {
                    LookupResult r = tables.lookup(map, print, false);
                    if (r instanceof LookupResult.Found) {
                        return OK;
                    }
                    if (r instanceof LookupResult.TemporaryFailure t) {
                        log.warn("relay_clientcerts: lookup error for fingerprint '{}', pkey fingerprint {}: {}",
                                cert.get().fingerprint(), cert.get().publicKeyFingerprint(), t.reason());
                        throw rejectDictRetry(facts.namaddr());
                    }
                }
            }
        } else if (!params.bool("smtpd_tls_ask_ccert", false)) {
            log.warn("{} is requested, but \"smtpd_tls_ask_ccert = no\"",
                    all ? "permit_tls_all_clientcerts" : "permit_tls_clientcerts");
        }
        return DUNNO;
    }

    /** check_ccert_access: the certificate's fingerprint, then its public key's, in an access table. */
    private int checkCcertAccess(String table, String defAcl) {
        var cert = facts.clientCertificate();
        if (!facts.tls() || cert.isEmpty()) {
            return DUNNO;
        }
        for (String print : List.of(cert.get().fingerprint(), cert.get().publicKeyFingerprint())) {
            // Postfix names the certificate's CN in the reply (the fingerprint would give away too much)
            Checked c = checkAccess(table, print, false, cert.get().commonName(), "Client certificate", defAcl);
            if (c.found()) {
                return c.status();
            }
        }
        return DUNNO;
    }

    private int permitSaslAuthenticated() {
        boolean authenticated = facts.saslUsername().isPresent()
                && !facts.saslMethod().map(m -> m.equalsIgnoreCase("anonymous")).orElse(false);
        return authenticated ? OK : DUNNO;
    }

    // ---------------------------------------------------------------- helo restrictions

    private int rejectInvalidHostaddr(String addr, String replyName, String replyClass) {
        String test = addr.startsWith("[") && addr.length() > 2 && addr.endsWith("]")
                ? addr.substring(1, addr.length() - 1) : addr;
        if (!HostNames.validMailhostAddr(test)) {
            return smtpdCheckReject(ErrorClass.POLICY, params.code("invalid_hostname_reject_code"), "5.5.2",
                    "<" + replyName + ">: " + replyClass + " rejected: invalid ip address");
        }
        return DUNNO;
    }

    private int rejectInvalidHostname(String name, String replyName, String replyClass) {
        String test = HostNames.truncateDot(name);
        if (!HostNames.validHostname(test) && !HostNames.validHostaddr(test)) {
            return smtpdCheckReject(ErrorClass.POLICY, params.code("invalid_hostname_reject_code"), "5.5.2",
                    "<" + replyName + ">: " + replyClass + " rejected: Invalid name");
        }
        return DUNNO;
    }

    private int rejectNonFqdnHostname(String name, String replyName, String replyClass) {
        String test = HostNames.truncateDot(name);
        if (!HostNames.validUtf8Hostname(facts.smtputf8(), test) || test.indexOf('.') < 0) {
            return smtpdCheckReject(ErrorClass.POLICY, params.code("non_fqdn_reject_code"), "5.5.2",
                    "<" + replyName + ">: " + replyClass + " rejected: need fully-qualified hostname");
        }
        return DUNNO;
    }

    /** reject_unknown_hostname: no A, AAAA or MX record. */
    private int rejectUnknownHostname(String name, String replyName, String replyClass) {
        Outcome addresses = await(dnsOrNull(d -> d.addresses(name)), name + "/A+AAAA").outcome();
        Outcome result = addresses;
        if (addresses != Outcome.FOUND) {
            Outcome mx = await(dnsOrNull(d -> d.mx(name)), name + "/MX").outcome();
            result = mx == Outcome.FOUND ? Outcome.FOUND
                    : mx == Outcome.TEMPORARY_FAILURE || addresses == Outcome.TEMPORARY_FAILURE
                            ? Outcome.TEMPORARY_FAILURE : Outcome.NOT_FOUND;
        }
        if (result == Outcome.NOT_FOUND) {
            return smtpdCheckReject(ErrorClass.POLICY, params.code("unknown_hostname_reject_code"), "4.7.1",
                    "<" + replyName + ">: " + replyClass + " rejected: Host not found");
        }
        if (result == Outcome.TEMPORARY_FAILURE) {
            return deferIfPermitOrReject("unknown_helo_hostname_tempfail_action", 450, "4.7.1",
                    "<" + replyName + ">: " + replyClass + " rejected: Host not found");
        }
        return DUNNO;
    }

    // ---------------------------------------------------------------- address restrictions

    private int rejectNonFqdnAddress(String addr, String replyName, String replyClass) {
        int at = addr.lastIndexOf('@');
        String domain = at >= 0 ? addr.substring(at + 1) : "";
        if (domain.startsWith("[") && domain.endsWith("]")) {
            return DUNNO;
        }
        String test = HostNames.truncateDot(domain);
        if (test.isEmpty() || !HostNames.validUtf8Hostname(facts.smtputf8(), test) || test.indexOf('.') < 0) {
            return smtpdCheckReject(ErrorClass.POLICY, params.code("non_fqdn_reject_code"), "4.5.2",
                    "<" + replyName + ">: " + replyClass + " rejected: need fully-qualified address");
        }
        return DUNNO;
    }

    private int rejectUnknownAddress(String addr, String replyName, String replyClass) {
        AddressResolver.Resolved r = resolver.resolve(addr);
        if (r.error()) {
            throw rejectDictRetry(addr);
        }
        if (r.addressClass().isFinal()) {
            return DUNNO;
        }
        String domain = r.domain();
        if (domain.startsWith("[") && domain.endsWith("]")) {
            return DUNNO;
        }
        return rejectUnknownMailhost(domain, replyName, replyClass);
    }

    /** reject_unknown_mailhost: MX first, then A/AAAA; a null MX does not accept mail. */
    private int rejectUnknownMailhost(String domain, String replyName, String replyClass) {
        boolean isSender = replyClass.equals(NAME_SENDER);
        DnsResult<MxRecord> mx = await(dnsOrNull(d -> d.mx(domain)), domain + "/MX");
        Outcome result;
        if (mx.isFound()) {
            if (mx.values().size() == 1 && mx.values().get(0).isNullMx()) {
                return smtpdCheckReject(ErrorClass.POLICY, isSender ? 550 : 556, isSender ? "4.7.27" : "4.1.10",
                        "<" + replyName + ">: " + replyClass + " rejected: Domain " + domain
                                + " does not accept mail (nullMX)");
            }
            result = Outcome.FOUND;
        } else {
            Outcome a = await(dnsOrNull(d -> d.addresses(domain)), domain + "/A+AAAA").outcome();
            result = a == Outcome.FOUND ? Outcome.FOUND
                    : a == Outcome.TEMPORARY_FAILURE || mx.isTemporaryFailure() ? Outcome.TEMPORARY_FAILURE
                            : Outcome.NOT_FOUND;
        }
        String dsn = isSender ? "4.1.8" : "4.1.2";
        if (result == Outcome.NOT_FOUND) {
            return smtpdCheckReject(ErrorClass.POLICY, params.code("unknown_address_reject_code"), dsn,
                    "<" + replyName + ">: " + replyClass + " rejected: Domain not found");
        }
        if (result == Outcome.TEMPORARY_FAILURE) {
            return deferIfPermitOrReject("unknown_address_tempfail_action", 450, dsn,
                    "<" + replyName + ">: " + replyClass + " rejected: Domain not found");
        }
        return DUNNO;
    }

    /** permit_auth_destination: final or relay destinations, unless source-routed. */
    private int permitAuthDestination(String rcpt) {
        AddressResolver.Resolved r = resolver.resolve(rcpt);
        if (r.error()) {
            throw rejectDictRetry(rcpt);
        }
        if (!params.bool("allow_untrusted_routing", false) && r.routed()) {
            return DUNNO;
        }
        return r.addressClass() == AddressResolver.AddressClass.DEFAULT ? DUNNO : OK;
    }

    private int rejectUnauthDestination(String rcpt, int code, String dsn) {
        if (permitAuthDestination(rcpt) == OK) {
            return DUNNO;
        }
        return smtpdCheckReject(ErrorClass.POLICY, code, dsn, "<" + rcpt + ">: Relay access denied");
    }

    // ---------------------------------------------------------------- DNS block lists

    private int rejectRblAddr(String rblDomain, String addr, String replyClass) {
        int eq = rblDomain.indexOf('=');
        String zone = eq < 0 ? rblDomain : rblDomain.substring(0, eq);
        byte[] bytes = HostNames.parseAddress(addr);
        if (bytes == null) {
            return DUNNO;
        }
        InetAddress client;
        try {
            client = InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            return DUNNO;
        }
        DnsblResult r = awaitDnsbl(dnsOrNull(d -> d.rbl(client, zone)), zone);
        return rblReply(r, rblDomain, addr, replyClass);
    }

    private int rejectRblDomain(String rblDomain, String what, String replyClass) {
        int eq = rblDomain.indexOf('=');
        String zone = eq < 0 ? rblDomain : rblDomain.substring(0, eq);
        int at = what.lastIndexOf('@');
        String domain = at >= 0 ? what.substring(at + 1) : what;
        if (domain.startsWith("[") || domain.isEmpty()) {
            return DUNNO;
        }
        int dot = domain.lastIndexOf('.');
        String last = dot < 0 ? domain : domain.substring(dot + 1);
        if (last.chars().allMatch(Character::isDigit) || !HostNames.validHostname(domain)) {
            return DUNNO; // numerical suffix or a malformed name: no query, as Postfix
        }
        DnsblResult r = awaitDnsbl(dnsOrNull(d -> d.rhsbl(domain, zone)), domain + "." + zone);
        return rblReply(r, rblDomain, what, replyClass);
    }

    private int rblReply(DnsblResult r, String rblDomain, String what, String replyClass) {
        if (r.outcome() == Outcome.TEMPORARY_FAILURE) {
            String reason = r.addresses() instanceof DnsResult.TemporaryFailure<?> t ? t.reason() : "temporary failure";
            log.warn("{}: RBL lookup error: {}", r.query(), reason);
            return DUNNO; // give the client the benefit of the doubt, as Postfix
        }
        if (!r.isListed()) {
            return DUNNO;
        }
        int eq = rblDomain.indexOf('=');
        if (eq >= 0) {
            String pattern = rblDomain.substring(eq + 1);
            boolean any = r.addresses().values().stream().anyMatch(a -> IpPattern.matches(pattern, a.getAddress()));
            if (!any) {
                return DUNNO;
            }
        }
        String zone = eq < 0 ? rblDomain : rblDomain.substring(0, eq);
        String template = params.text("default_rbl_reply");
        String why;
        try {
            why = RblTemplate.expand(template, n -> switch (n) {
                case "rbl_code" -> Integer.toString(params.code("maps_rbl_reject_code"));
                case "rbl_domain" -> zone;
                case "rbl_reason", "rbl_txt" -> r.reason();
                case "rbl_what" -> what;
                case "rbl_class" -> replyClass;
                case "client_address" -> facts.clientAddress();
                case "client_name" -> facts.clientName();
                case "client_port" -> Integer.toString(facts.clientPort());
                case "reverse_client_name" -> facts.reverseClientName();
                case "helo_name" -> helo;
                case "sender" -> sender;
                case "recipient" -> recipient;
                default -> null;
            });
        } catch (IllegalArgumentException e) {
            log.warn("rbl_reject_reply: bad default rbl reply template: {}", template);
            throw rejectServerError();
        }
        if (why.length() < 4 || (why.charAt(0) != '4' && why.charAt(0) != '5') || !Character.isDigit(why.charAt(1))
                || !Character.isDigit(why.charAt(2)) || why.charAt(3) != ' ') {
            log.warn("rbl response code configuration error: {}", why);
            return smtpdCheckReject(ErrorClass.POLICY, 450, "4.7.1", "Service unavailable");
        }
        int code = Integer.parseInt(why.substring(0, 3));
        String[] dp = dsnSplit("4.7.1", why.substring(4));
        return smtpdCheckReject(ErrorClass.POLICY, code, dsnFix(dp[0], replyClass),
                dp[1].isEmpty() ? "Service unavailable" : dp[1]);
    }

    // ---------------------------------------------------------------- access tables

    /** The outcome of a table check: a status and whether the table had an entry. */
    private record Checked(int status, boolean found) {
    }

    private static final Checked MISSED = new Checked(DUNNO, false);

    private static final String SERVER_CONFIG_ERROR = "451 4.3.5 Server configuration error";

    /** check_access: one key, no substring magic. */
    private Checked checkAccess(String table, String key, boolean partial, String replyName, String replyClass,
            String defAcl) {
        LookupResult r = tables.lookup(table, key, partial);
        if (r instanceof LookupResult.Found f) {
            return new Checked(checkTableResult(table, f.value(), key, replyName, replyClass, defAcl), true);
        }
        if (r instanceof LookupResult.TemporaryFailure t) {
            log.warn("{} lookup error for \"{}\": {}", table, key, t.reason());
            return new Checked(checkTableResult(table, SERVER_CONFIG_ERROR, key, replyName, replyClass, defAcl),
                    true);
        }
        return MISSED;
    }

    /** check_domain_access: the name, then its parent domains (not for numerical names). */
    private Checked checkDomainAccess(String table, String domain, boolean partial, String replyName,
            String replyClass, String defAcl) {
        boolean parent = params.parentStyle("smtpd_access_maps");
        String name = domain;
        boolean first = true;
        while (!name.isEmpty()) {
            LookupResult r = tables.lookup(table, name, !first || partial);
            if (r instanceof LookupResult.Found f) {
                return new Checked(checkTableResult(table, f.value(), domain, replyName, replyClass, defAcl), true);
            }
            if (r instanceof LookupResult.TemporaryFailure t) {
                log.warn("{} lookup error for \"{}\": {}", table, name, t.reason());
                return new Checked(checkTableResult(table, SERVER_CONFIG_ERROR, domain, replyName, replyClass, defAcl),
                        true);
            }
            if (first && HostNames.validHostaddr(domain)) {
                break; // no subdomain magic for numerical host names
            }
            first = false;
            int dot = name.indexOf('.', 1);
            if (dot < 0) {
                break;
            }
            name = parent ? name.substring(dot + 1) : name.substring(dot);
        }
        return MISSED;
    }

    /** check_addr_access: the address, then its shorter prefixes (1.2.3.4, 1.2.3, 1.2, 1). */
    private Checked checkAddrAccess(String table, String address, String replyName, String replyClass,
            String defAcl) {
        char delim = address.indexOf(':') >= 0 ? ':' : '.';
        String addr = address;
        boolean partial = false;
        while (true) {
            LookupResult r = tables.lookup(table, addr, partial);
            if (r instanceof LookupResult.Found f) {
                return new Checked(checkTableResult(table, f.value(), address, replyName, replyClass, defAcl), true);
            }
            if (r instanceof LookupResult.TemporaryFailure t) {
                log.warn("{} lookup error for \"{}\": {}", table, addr, t.reason());
                return new Checked(checkTableResult(table, SERVER_CONFIG_ERROR, address, replyName, replyClass,
                        defAcl), true);
            }
            partial = true;
            int cut = addr.lastIndexOf(delim);
            if (cut <= 0) {
                return MISSED;
            }
            addr = addr.substring(0, cut);
        }
    }

    private int checkNamadrAccess(String table, String name, String addr, String replyName, String replyClass,
            String defAcl) {
        Checked c = checkDomainAccess(table, name, false, replyName, replyClass, defAcl);
        if (c.status != DUNNO || c.found) {
            return c.status;
        }
        c = checkAddrAccess(table, addr, replyName, replyClass, defAcl);
        return c.status;
    }

    /** check_mail_access: user@domain, domain and its parents, user@; source-routed recipients never get OK. */
    private int checkMailAccess(String table, String addr, String replyName, String replyClass, String defAcl) {
        AddressResolver.Resolved r = resolver.resolve(addr);
        if (r.error()) {
            throw rejectDictRetry(addr);
        }
        String full = r.address();
        int at = full.lastIndexOf('@');
        if (at < 0) {
            log.warn("check_mail_access: no @domain in address: {}", full);
            return DUNNO;
        }
        boolean suspicious = !params.bool("allow_untrusted_routing", false) && r.routed()
                && replyClass.equals(NAME_RECIPIENT);
        String local = full.substring(0, at);
        String domain = full.substring(at + 1);
        boolean parent = params.parentStyle("smtpd_access_maps");
        List<String> keys = new ArrayList<>();
        keys.add(full);
        String d = domain;
        keys.add(d);
        while (true) {
            int dot = d.indexOf('.', 1);
            if (dot < 0 || d.startsWith("[")) {
                break;
            }
            d = d.substring(dot + 1);
            keys.add(parent ? d : "." + d);
        }
        keys.add(local + "@");
        for (int k = 0; k < keys.size(); k++) {
            LookupResult lr = tables.lookup(table, keys.get(k), k > 0);
            if (lr instanceof LookupResult.Found f) {
                int status = checkTableResult(table, f.value(), full, replyName, replyClass, defAcl);
                return status == OK && suspicious ? DUNNO : status;
            }
            if (lr instanceof LookupResult.TemporaryFailure t) {
                log.warn("{} lookup error for \"{}\": {}", table, keys.get(k), t.reason());
                return checkTableResult(table, SERVER_CONFIG_ERROR, full, replyName, replyClass, defAcl);
            }
        }
        return DUNNO;
    }

    /** check_table_result: what an access(5) value means. */
    private int checkTableResult(String table, String value, String datum, String replyName, String replyClass,
            String defAcl) {
        int sp = 0;
        while (sp < value.length() && value.charAt(sp) != ' ' && value.charAt(sp) != '\t') {
            sp++;
        }
        String cmd = value.substring(0, sp);
        String text = value.substring(sp).stripLeading();
        String ucmd = cmd.toUpperCase(Locale.ROOT);
        String prefix = "<" + replyName + ">: " + replyClass;
        switch (ucmd) {
            case "DUNNO":
                return DUNNO;
            case "REJECT": {
                String[] dp = dsnSplit("5.7.1", text);
                return smtpdCheckReject(ErrorClass.POLICY, params.code("access_map_reject_code"),
                        dsnFix(dp[0], replyClass), prefix + " rejected: " + (dp[1].isEmpty() ? "Access denied" : dp[1]));
            }
            case "DEFER": {
                String[] dp = dsnSplit("4.7.1", text);
                return smtpdCheckReject(ErrorClass.POLICY, params.code("access_map_defer_code"),
                        dsnFix(dp[0], replyClass), prefix + " rejected: " + (dp[1].isEmpty() ? "Access denied" : dp[1]));
            }
            case "INFO":
                logWhatsup("info", text);
                return DUNNO;
            case "WARN":
                logWhatsup("warn", text);
                return DUNNO;
            case "FILTER":
                if (!canDelegate(table, "FILTER")) {
                    return DUNNO;
                }
                if (text.isEmpty()) {
                    log.warn("access table {} entry \"{}\" has FILTER entry without value", table, datum);
                } else if (text.indexOf(':') < 0) {
                    log.warn("access table {} entry \"{}\" requires transport:destination", table, datum);
                } else {
                    logWhatsup("filter", prefix + " triggers FILTER " + text);
                    filter = Optional.of(text);
                }
                return DUNNO;
            case "HOLD":
                if (!canDelegate(table, "HOLD") || hold.isPresent()) {
                    return DUNNO;
                }
                String holdText = prefix + " " + (text.isEmpty() ? "triggers HOLD action" : text);
                logWhatsup("hold", holdText);
                hold = Optional.of(holdText);
                return DUNNO;
            case "DISCARD":
                if (!canDelegate(table, "DISCARD")) {
                    return DUNNO;
                }
                String discardLog = prefix + " " + (text.isEmpty() ? "triggers DISCARD action" : text);
                logWhatsup("discard", discardLog);
                discard = true;
                discardText = Optional.of(discardLog);
                return OK;
            case "REDIRECT":
                if (!canDelegate(table, "REDIRECT")) {
                    return DUNNO;
                }
                if (text.indexOf('@') < 0) {
                    log.warn("access table {} entry \"{}\" requires user@domain target", table, datum);
                } else {
                    logWhatsup("redirect", prefix + " triggers REDIRECT " + text);
                    redirect = Optional.of(text);
                }
                return DUNNO;
            case "DEFER_IF_PERMIT": {
                String[] dp = dsnSplit("4.7.1", text);
                return deferIfPermitOrReject(null, params.code("access_map_defer_code"),
                        dsnFix(dp[0], replyClass),
                        prefix + " rejected: " + (dp[1].isEmpty() ? "Service unavailable" : dp[1]));
            }
            case "DEFER_IF_REJECT": {
                String[] dp = dsnSplit("4.7.1", text);
                deferIf(deferIfReject, ErrorClass.POLICY, params.code("access_map_defer_code"),
                        dsnFix(dp[0], replyClass),
                        prefix + " rejected: " + (dp[1].isEmpty() ? "Service unavailable" : dp[1]));
                return DUNNO;
            }
            case "PREPEND":
                if (sender == null) {
                    warnClientHelo(table, "PREPEND");
                    return DUNNO;
                }
                if (where.equals("END-OF-MESSAGE")) {
                    log.warn("access table {}: action PREPEND must be used before {}", table,
                            RestrictionEngine.END_OF_DATA);
                    return DUNNO;
                }
                if (text.isEmpty() || !isHeader(text)) {
                    log.warn("access table {} entry \"{}\" requires header: text", table, datum);
                    return DUNNO;
                }
                prepend.add(text);
                return DUNNO;
            case "OK":
            case "RELAY":
                return OK;
            default:
                break;
        }
        if (!value.isEmpty() && value.chars().allMatch(Character::isDigit)) {
            return OK; // an all-numeric result: some out-of-band authentication writes time stamps
        }
        if (cmd.length() == 3 && !text.isEmpty() && (value.charAt(0) == '4' || value.charAt(0) == '5')
                && Character.isDigit(value.charAt(1)) && Character.isDigit(value.charAt(2))) {
            int code = Integer.parseInt(cmd);
            String[] dp = dsnSplit(value.charAt(0) + ".7.1", text);
            return smtpdCheckReject(ErrorClass.POLICY, code, dsnFix(dp[0], replyClass),
                    prefix + " rejected: " + (dp[1].isEmpty() ? "Access denied" : dp[1]));
        }
        if (value.indexOf(':') >= 0) {
            log.warn("access table {} has entry with lookup table: {}", table, value);
            log.warn("do not specify lookup tables inside SMTPD access maps");
            log.warn("define a restriction class and specify its name instead.");
            throw rejectServerError();
        }
        if (recursion > 100) {
            log.warn("access table {} entry {} causes unreasonable recursion", table, value);
            throw rejectServerError();
        }
        List<String> restrictions = HostNames.splitList(value);
        if (restrictions.isEmpty()) {
            log.warn("access table {} entry {} has empty value", table, value);
            return OK;
        }
        return genericChecks(restrictions, replyName, replyClass, defAcl);
    }

    /** can_delegate_action / not_in_client_helo: actions that need a mail transaction. */
    private boolean canDelegate(String table, String action) {
        if (sender == null) {
            warnClientHelo(table, action);
            return false;
        }
        return true;
    }

    private void warnClientHelo(String table, String action) {
        log.warn("access table {}: with smtpd_delay_reject=no, action {} is always skipped in {} or {} restrictions",
                table, action, NAME_CLIENT, NAME_HELO);
    }

    private static boolean isHeader(String text) {
        int colon = text.indexOf(':');
        if (colon <= 0) {
            return false;
        }
        for (int i = 0; i < colon; i++) {
            char c = text.charAt(i);
            if (c <= ' ' || c >= 0x7f) {
                return false;
            }
        }
        return true;
    }

    /** dsn_split: an optional RFC 3463 status at the start of {@code text}, else {@code def}. */
    static String[] dsnSplit(String def, String text) {
        String t = text.stripLeading();
        int sp = 0;
        while (sp < t.length() && t.charAt(sp) != ' ' && t.charAt(sp) != '\t') {
            sp++;
        }
        String first = t.substring(0, sp);
        if (first.matches("[245]\\.\\d{1,3}\\.\\d{1,3}")) {
            return new String[] {first, t.substring(sp).stripLeading()};
        }
        return new String[] {def, t};
    }

    /** smtpd_dsn_fix: address-specific status codes made to fit what is being rejected. */
    static String dsnFix(String status, String replyClass) {
        if (!(Character.isDigit(status.charAt(0)) && status.startsWith(".1.", 1))) {
            return status;
        }
        String micro = status.substring(4);
        String result;
        if (replyClass.equals(NAME_SENDER)) {
            result = switch (micro) {
                case "1", "4", "6", "3", "7" -> "4.1.7";
                case "2", "8" -> "4.1.8";
                case "5" -> "4.1.0";
                default -> "4.1.0";
            };
        } else if (replyClass.equals(NAME_RECIPIENT)) {
            result = switch (micro) {
                case "1" -> "4.1.1";
                case "2", "8" -> "4.1.2";
                case "3", "7" -> "4.1.3";
                case "4" -> "4.1.4";
                case "5" -> "4.1.5";
                case "6" -> "4.1.6";
                default -> "4.1.0";
            };
        } else {
            result = "4.0.0";
        }
        return status.charAt(0) + result.substring(1);
    }

    // ---------------------------------------------------------------- DNS

    private <T> CompletionStage<T> dnsOrNull(Function<DnsResolver, CompletionStage<T>> call) {
        return dns == null ? null : call.apply(dns);
    }

    private <T> DnsResult<T> await(CompletionStage<DnsResult<T>> stage, String query) {
        if (stage == null) {
            log.warn("{}: no DNS resolver service is running", query);
            return new DnsResult.TemporaryFailure<>(query, "no DNS resolver service");
        }
        try {
            return stage.toCompletableFuture().get(dnsWaitMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new DnsResult.TemporaryFailure<>(query, "interrupted");
        } catch (ExecutionException | TimeoutException e) {
            return new DnsResult.TemporaryFailure<>(query, e.toString());
        }
    }

    private DnsblResult awaitDnsbl(CompletionStage<DnsblResult> stage, String query) {
        if (stage == null) {
            return new DnsblResult(query, await(null, query), "");
        }
        try {
            return stage.toCompletableFuture().get(dnsWaitMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new DnsblResult(query, new DnsResult.TemporaryFailure<>(query, "interrupted"), "");
        } catch (ExecutionException | TimeoutException e) {
            return new DnsblResult(query, new DnsResult.TemporaryFailure<>(query, e.toString()), "");
        }
    }
}
