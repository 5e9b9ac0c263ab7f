package org.estafeta.milter;

import java.util.Objects;

/**
 * One modification a milter asked for at the end of the message, in the order the milters sent them. The caller
 * (cleanup) applies them as Postfix's cleanup_milter.c does.
 *
 * <p>Header values are exactly the text to put after {@code "Name:"}: when the milter did not negotiate
 * SMFIP_HDR_LEADSPC the single space Postfix inserts is already there. Folded values keep the milter's line
 * breaks as {@code "\n"} followed by the continuation's white space; the caller writes its own line ends.
 */
public sealed interface MilterAction {
    /** SMFIR_ADDHEADER: append {@code name: value} after the last header. */
    record AddHeader(String name, String value) implements MilterAction {
    }

    /**
     * SMFIR_INSHEADER: insert a header. {@code index} is the milter's 0-based position (0: at the top). Postfix
     * inserts before the (index+1)-th header of the message <em>as delivered</em>, counting its own Received header.
     */
    record InsertHeader(int index, String name, String value) implements MilterAction {
    }

    /**
     * SMFIR_CHGHEADER with a value: replace the {@code index}-th (1-based; the milter's 0 is already made 1)
     * header called {@code name} (case-insensitive) in the message <em>as the milter saw it</em>, i.e. without the
     * MTA's own Received header. No such header: Postfix appends it.
     */
    record ChangeHeader(int index, String name, String value) implements MilterAction {
    }

    /** SMFIR_CHGHEADER with an empty value: delete the {@code index}-th (1-based) header called {@code name}. */
    record DeleteHeader(int index, String name) implements MilterAction {
    }

    /** SMFIR_CHGFROM: replace the envelope sender ({@code <...>} as the milter wrote it) and its ESMTP arguments. */
    record ChangeSender(String sender, String esmtpArgs) implements MilterAction {
    }

    /** SMFIR_ADDRCPT / SMFIR_ADDRCPT_PAR: add an envelope recipient (ESMTP arguments empty for ADDRCPT). */
    record AddRecipient(String recipient, String esmtpArgs) implements MilterAction {
    }

    /** SMFIR_DELRCPT: delete the envelope recipient as the milter names it (its RCPT TO address). */
    record DeleteRecipient(String recipient) implements MilterAction {
    }

    /** SMFIR_REPLBODY: replace the whole body with {@code body}'s content (CRLF line ends, as the milter sent it). */
    record ReplaceBody(BodyReplacement body) implements MilterAction {
        public ReplaceBody {
            Objects.requireNonNull(body, "body");
        }
    }
}
