package org.estafeta.transport.error.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.estafeta.api.message.Reply;
import org.estafeta.api.transport.DeliveryRequest;
import org.estafeta.api.transport.RecipientResult;

/**
 * The next hop read as a reason, as Postfix's dsn_split(): an optional RFC 3463 code ({@code 5.1.1 No such user}),
 * then free text. A code of the wrong class for the outcome is replaced by the outcome's default, as Postfix's
 * bounce, defer and sent do.
 */
final class NexthopReason {
    private static final Pattern CODE = Pattern.compile("\\s*([245]\\.\\d{1,3}\\.\\d{1,3})(?=\\s|$)\\s*(.*)", Pattern.DOTALL);

    private NexthopReason() {
    }

    /**
     * Every recipient of the request with one outcome, {@code relay=none}.
     *
     * @param defaultCode {@code 5.0.0}, {@code 4.0.0} or {@code 2.0.0}; its class is the outcome's
     */
    static List<RecipientResult> all(DeliveryRequest request, RecipientResult.Status status, String defaultCode) {
        String code = defaultCode;
        String text = request.nexthop().stripLeading();
        Matcher m = CODE.matcher(request.nexthop());
        if (m.matches()) {
            text = m.group(2);
            if (m.group(1).charAt(0) == defaultCode.charAt(0)) {
                code = m.group(1);
            }
        }
        int smtp = switch (status) {
            case DELIVERED -> 250;
            case DEFERRED -> 450;
            case BOUNCED -> 550;
        };
        Reply reply = new Reply(smtp, code, text.replaceAll("[\r\n]", " "));
        List<RecipientResult> out = new ArrayList<>();
        for (String r : request.recipients()) {
            out.add(new RecipientResult(r, status, reply, "none"));
        }
        return out;
    }
}
