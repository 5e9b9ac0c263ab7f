package org.estafeta.config.internal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The names of the parameters Postfix knows, so that a main.cf written for Postfix gets "not supported yet"
 * rather than "unused parameter" for them. The list is a resource generated from the installed Postfix (see the
 * header of {@code postfix-parameters.txt}); per-service names ({@code relay_destination_concurrency_limit} …)
 * are derived from master.cf as Postfix's postconf_service.c does.
 */
final class PostfixNames {
    private static final Set<String> NAMES = load();

    /** Suffixes that Postfix adds to the name of each master.cf service that runs a delivery agent. */
    static final List<String> DELIVERY_SUFFIXES = List.of("_recipient_limit", "_extra_recipient_limit",
            "_recipient_refill_limit", "_recipient_refill_delay", "_delivery_slot_cost", "_delivery_slot_loan",
            "_delivery_slot_discount", "_minimum_delivery_slots", "_initial_destination_concurrency",
            "_destination_concurrency_limit", "_destination_recipient_limit",
            "_destination_concurrency_positive_feedback", "_destination_concurrency_negative_feedback",
            "_destination_concurrency_failed_cohort_limit", "_destination_rate_delay", "_transport_rate_delay");
    static final Set<String> DELIVERY_COMMANDS = Set.of("local", "error", "virtual", "smtp", "lmtp", "pipe");

    private PostfixNames() {
    }

    static boolean contains(String name) {
        return NAMES.contains(name);
    }

    static int size() {
        return NAMES.size();
    }

    /** The per-service parameter names Postfix derives from one master.cf entry. */
    static List<String> serviceParameters(String service, String command) {
        String prog = command.substring(command.lastIndexOf('/') + 1);
        if (DELIVERY_COMMANDS.contains(prog)) {
            List<String> out = new java.util.ArrayList<>();
            for (String s : DELIVERY_SUFFIXES) {
                out.add(service + s);
            }
            if (prog.equals("pipe")) {
                out.add(service + "_time_limit");
            }
            return out;
        }
        if (prog.equals("spawn")) {
            return List.of(service + "_time_limit");
        }
        return List.of();
    }

    private static Set<String> load() {
        Set<String> names = new HashSet<>();
        try (InputStream in = PostfixNames.class.getResourceAsStream("postfix-parameters.txt")) {
            if (in == null) {
                throw new IllegalStateException("resource postfix-parameters.txt is missing from the config bundle");
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            for (String line; (line = r.readLine()) != null;) {
                line = line.strip();
                if (!line.isEmpty() && !line.startsWith("#")) {
                    names.add(line);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Set.copyOf(names);
    }
}
