package org.estafeta.restrictions;

import java.util.List;
import java.util.concurrent.CompletionStage;

import org.estafeta.config.ConfigSnapshot;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Evaluates one of main.cf's restriction lists the way Postfix's smtpd does (smtpd_check.c): restrictions in the
 * order written, the first one that decides wins, access(5) tables, {@code smtpd_restriction_classes}, and Postfix's
 * reply codes and texts. A restriction name the engine does not know is looked up among the plugin services
 * {@code org.estafeta.api.restriction.Restriction} with {@code estafeta.restriction=NAME} (the service property
 * {@code estafeta.restriction.arguments}, default 0, says how many of the following words it takes); without one,
 * Postfix's answer: {@code warning: unknown smtpd restriction: "NAME"} and {@code 451 4.3.5 Server configuration error}.
 *
 * <p><b>Threading:</b> {@link #evaluate} returns at once; the restrictions run on the engine's own bounded worker
 * pool (table lookups and DNS may wait there), never on the caller's thread, so a Netty event loop may call it.
 * Continue on your own executor ({@code thenAcceptAsync(f, channel.eventLoop())}). The stage never completes
 * exceptionally: a failure inside is a {@link Decision.Kind#DEFER} with Postfix's {@code 451 4.3.5 Server
 * configuration error}.
 *
 * <p><b>Which list when</b> (as Postfix's smtpd_check_client/helo/mail/rcpt/data/eod): with
 * {@code smtpd_delay_reject = yes} (Postfix's default) smtpd evaluates client, helo and sender lists again at each RCPT
 * before the recipient list, with {@link SessionFacts#command()} {@code RCPT}. Pass each decision's
 * {@link Decision#deferIfPermit()} and {@link Decision#actions()} into the next evaluation's facts.
 */
@ProviderType
public interface RestrictionEngine {
    String CLIENT = "smtpd_client_restrictions";
    String HELO = "smtpd_helo_restrictions";
    String SENDER = "smtpd_sender_restrictions";
    /**
     * Evaluating this list is the whole RCPT stage: {@link #RELAY} and this list, in the order
     * {@code smtpd_relay_before_recipient_restrictions} says (relay first from compatibility level 3.6), and the
     * recipient passes only when neither rejects. Below compatibility level 1, with {@code smtpd_relay_restrictions}
     * not set in main.cf, the relay list is empty as in Postfix.
     */
    String RECIPIENT = "smtpd_recipient_restrictions";
    /** Evaluating only this list is for tools and tests; smtpd evaluates {@link #RECIPIENT}. */
    String RELAY = "smtpd_relay_restrictions";
    String DATA = "smtpd_data_restrictions";
    String END_OF_DATA = "smtpd_end_of_data_restrictions";

    /** The lists in protocol order. */
    List<String> LISTS = List.of(CLIENT, HELO, SENDER, RELAY, RECIPIENT, DATA, END_OF_DATA);

    /**
     * Evaluates {@code list} (one of {@link #LISTS}) for the session as {@code facts} describe it, with the
     * configuration of {@code snapshot} (the session's own snapshot, kept for the whole session).
     *
     * @throws IllegalArgumentException when {@code list} is not one of {@link #LISTS}
     */
    CompletionStage<Decision> evaluate(String list, SessionFacts facts, ConfigSnapshot snapshot);

    /**
     * The configuration errors Postfix's smtpd refuses to start with, worded as Postfix's fatal messages, for
     * example {@code in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, specify at least one
     * working instance of: reject_unauth_destination, defer_unauth_destination, reject, defer, defer_if_permit or
     * check_relay_domains}, or {@code restriction class `x' needs a definition}. Empty when the lists are usable.
     */
    List<String> configurationErrors(ConfigSnapshot snapshot);
}
