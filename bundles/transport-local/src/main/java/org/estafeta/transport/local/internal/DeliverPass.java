package org.estafeta.transport.local.internal;

import java.lang.System.Logger.Level;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.transport.DeliveryRequest;
import org.estafeta.api.transport.RecipientResult;

/**
 * Postfix's deliver_pass(): hands one recipient of a local delivery to another delivery agent, named as
 * {@code transport} or {@code transport:nexthop} ({@code mailbox_transport}, {@code fallback_transport} and their
 * maps), and returns what that agent made of it. Postfix's local(8) connects to the agent's {@code private/}
 * socket and sends it the queue file and the one recipient; here the agent's {@code Transport} service is called
 * with the same message and the one recipient, on the calling thread. As in Postfix, local logs
 * {@code ID: passing <address> to transport=NAME}; the recipient's status line then carries the other agent's reply
 * and relay ({@code relay=127.0.0.1[127.0.0.1]:24 ... status=sent (250 2.0.0 <user@example.com> ... Saved)}).
 *
 * <p><b>Blocking:</b> as long as the other agent takes (it applies its own timeouts). <b>Errors:</b> a service that
 * master.cf does not define, or whose command no bundle provides, defers the recipient with {@code 4.3.0 mail
 * transport unavailable}; an agent that throws or gives no result for the recipient defers it with
 * {@code 4.3.0 unknown mail transport error}, both with {@code relay=none}, as Postfix's deliver_pass() does. A pass
 * back to a service already passing on this thread (say {@code mailbox_transport = local} in the local service's
 * own configuration) is a configuration error (deferred with {@code 4.3.5}), where Postfix would loop.
 */
final class DeliverPass {
    /** The services a pass is under way for on this thread: a pass back to one of them is a loop. */
    private static final ThreadLocal<Set<String>> PASSING = ThreadLocal.withInitial(HashSet::new);

    private DeliverPass() {
    }

    /**
     * @param service {@code transport} or {@code transport:nexthop}; without a next hop (or with an empty one) the
     *        request's own next hop is used
     * @param address the recipient as local has it now (after alias expansion), as the other agent will see it
     * @param parameters the DSN parameters of the top-level recipient, which the passed one keeps
     */
    static Outcome pass(String service, String address, Map<String, String> parameters, DeliveryRequest request,
            PluginContext context, Agents agents) {
        int colon = service.indexOf(':');
        String transport = colon < 0 ? service : service.substring(0, colon);
        String nexthop = colon < 0 || colon == service.length() - 1 ? request.nexthop() : service.substring(colon + 1);
        if (transport.isEmpty()) {
            // Postfix's local exits here and its queue manager defers the mail
            context.logger().log(Level.INFO, "fatal: missing transport name in \"" + service + "\"");
            return Outcome.deferred("4.3.0", "unknown mail transport error").via("none");
        }
        String id = request.envelope().queueId();
        context.logger().log(Level.INFO, id + ": passing <" + address + "> to transport=" + transport);
        Set<String> passing = PASSING.get();
        if (transport.equals(request.service()) || passing.contains(transport)) {
            context.logger().log(Level.WARNING, id + ": transport " + transport + " would pass <" + address
                    + "> back to itself: check mailbox_transport, fallback_transport and their maps");
            return Outcome.deferred("4.3.5", "mail system configuration error").via("none");
        }
        Optional<Agents.Agent> found = agents.find(transport);
        if (found.isEmpty()) {
            context.logger().log(Level.WARNING, "connect to transport private/" + transport
                    + ": No such file or directory (no master.cf entry for " + transport + ")");
            return Outcome.deferred("4.3.0", "mail transport unavailable").via("none");
        }
        passing.add(transport);
        try (Agents.Agent agent = found.get()) {
            if (agent.transport() == null) {
                context.logger().log(Level.WARNING, id + ": transport " + transport
                        + " unavailable: no bundle registers estafeta.transport=" + agent.entry().command());
                return Outcome.deferred("4.3.0", "mail transport unavailable").via("none");
            }
            DeliveryRequest passed = new DeliveryRequest(nexthop, request.envelope(), List.of(address),
                    request.content(), agent.entry().overrides(), agent.entry().service(), agent.entry().arguments(),
                    request.mailParameters(), parameters.isEmpty() ? Map.of() : Map.of(address, parameters));
            List<RecipientResult> results = agent.transport().deliver(passed, agent.context());
            if (results != null) {
                for (RecipientResult r : results) {
                    if (r != null && r.recipient().equalsIgnoreCase(address)) {
                        return Outcome.of(r);
                    }
                }
            }
            context.logger().log(Level.WARNING, id + ": transport " + transport + " gave no result for <" + address
                    + ">");
        } catch (RuntimeException e) {
            context.logger().log(Level.WARNING, id + ": transport " + transport + " failed: " + e);
        } finally {
            passing.remove(transport);
        }
        return Outcome.deferred("4.3.0", "unknown mail transport error").via("none");
    }
}
