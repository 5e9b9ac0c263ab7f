package org.estafeta.transport.pipe.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Expands pipe(8)'s macros in the command's arguments: {@code ${name}}, {@code $(name)} and {@code $name}, with
 * {@code $$} for a dollar sign. An argument that names a per-recipient macro ({@code recipient},
 * {@code original_recipient}, {@code user}, {@code extension}, {@code mailbox}, {@code domain}) becomes one argument
 * per recipient of the batch, as programs called by sendmail expect. Expansion is not recursive, so addresses that
 * contain {@code $} stay as they are.
 */
final class ArgvExpander {
    static final Set<String> PER_RECIPIENT = Set.of("recipient", "original_recipient", "user", "extension", "mailbox",
            "domain");
    static final Set<String> PER_MESSAGE = Set.of("sender", "nexthop", "size", "queue_id", "envid", "client_address",
            "client_hostname", "client_port", "client_protocol", "client_helo", "sasl_method", "sasl_username",
            "sasl_sender");

    /** A recipient of the batch: the address and the address before rewriting. */
    record Recipient(String address, String original) {
    }

    private final Map<String, String> perMessage;
    private final PipeAttributes attributes;
    private final String delimiters;
    private final String doubleBounce;
    private final boolean ownerRequestSpecial;

    /**
     * @param perMessage the values of the per-message macros, already quoted and folded as the flags require
     * @param delimiters recipient_delimiter
     */
    ArgvExpander(Map<String, String> perMessage, PipeAttributes attributes, String delimiters, String doubleBounce,
            boolean ownerRequestSpecial) {
        this.perMessage = perMessage;
        this.attributes = attributes;
        this.delimiters = delimiters;
        this.doubleBounce = doubleBounce;
        this.ownerRequestSpecial = ownerRequestSpecial;
    }

    List<String> expand(List<String> argv, List<Recipient> recipients) throws PipeConfigException {
        List<String> out = new ArrayList<>();
        for (String arg : argv) {
            List<Object> parts = parse(arg);
            boolean perRecipient = parts.stream().anyMatch(p -> p instanceof Macro m && PER_RECIPIENT.contains(m.name()));
            if (!perRecipient) {
                out.add(evaluate(parts, perMessage));
                continue;
            }
            for (Recipient r : recipients) {
                Map<String, String> values = new HashMap<>(perMessage);
                values.putAll(recipientValues(r));
                out.add(evaluate(parts, values));
            }
        }
        return out;
    }

    private Map<String, String> recipientValues(Recipient r) {
        boolean foldUser = attributes.has('u');
        boolean foldHost = attributes.has('h');
        boolean quote = attributes.has('q');
        Map<String, String> v = new HashMap<>();
        v.put("recipient", Addresses.fold(quote ? Addresses.quoteLocal(r.address()) : r.address(), foldUser, foldHost));
        v.put("original_recipient",
                Addresses.fold(quote ? Addresses.quoteLocal(r.original()) : r.original(), foldUser, foldHost));
        String folded = Addresses.fold(r.address(), foldUser, foldHost);
        int at = folded.lastIndexOf('@');
        String local = at < 0 ? folded : folded.substring(0, at);
        String[] split = Addresses.splitExtension(local, delimiters, doubleBounce, ownerRequestSpecial);
        v.put("mailbox", local);
        v.put("user", split[0]);
        v.put("extension", split[1] == null ? "" : split[1]);
        v.put("domain", at < 0 ? "" : folded.substring(at + 1));
        return v;
    }

    private static String evaluate(List<Object> parts, Map<String, String> values) {
        StringBuilder sb = new StringBuilder();
        for (Object p : parts) {
            sb.append(p instanceof Macro m ? values.getOrDefault(m.name(), "") : (String) p);
        }
        return sb.toString();
    }

    private record Macro(String name) {
    }

    /** Postfix's mac_parse: literal text and macro references; an unknown, empty or unclosed reference is an error. */
    static List<Object> parse(String arg) throws PipeConfigException {
        List<Object> parts = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        int i = 0;
        while (i < arg.length()) {
            char c = arg.charAt(i);
            if (c != '$') {
                literal.append(c);
                i++;
                continue;
            }
            if (i + 1 < arg.length() && arg.charAt(i + 1) == '$') {
                literal.append('$');
                i += 2;
                continue;
            }
            i++;
            String name;
            char open = i < arg.length() ? arg.charAt(i) : 0;
            if (open == '{' || open == '(') {
                char close = open == '{' ? '}' : ')';
                int level = 1;
                int j = i + 1;
                for (; j < arg.length() && level > 0; j++) {
                    if (arg.charAt(j) == open) {
                        level++;
                    } else if (arg.charAt(j) == close) {
                        level--;
                    }
                }
                if (level > 0) {
                    throw new PipeConfigException("truncated macro reference: \"" + arg + "\"");
                }
                name = arg.substring(i + 1, j - 1);
                i = j;
            } else {
                int j = i;
                while (j < arg.length() && (Character.isLetterOrDigit(arg.charAt(j)) && arg.charAt(j) < 128
                        || arg.charAt(j) == '_')) {
                    j++;
                }
                name = arg.substring(i, j);
                i = j;
            }
            if (name.isEmpty()) {
                throw new PipeConfigException("empty macro name: \"" + arg + "\"");
            }
            if (!PER_RECIPIENT.contains(name) && !PER_MESSAGE.contains(name)) {
                throw new PipeConfigException("unknown macro name: \"" + name + "\"");
            }
            if (literal.length() > 0) {
                parts.add(literal.toString());
                literal.setLength(0);
            }
            parts.add(new Macro(name));
        }
        if (literal.length() > 0) {
            parts.add(literal.toString());
        }
        return parts;
    }
}
