package org.estafeta.rewrite.internal;

import java.util.Locale;

import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.ConfigValues;
import org.estafeta.rewrite.Resolution;
import org.estafeta.rewrite.Resolution.AddressClass;
import org.estafeta.rewrite.ResolutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One configuration's resolve: Postfix's trivial-rewrite resolve_addr() (src/trivial-rewrite/resolve.c) with the
 * canonicalisation cleanup does first (rewrite.c, "local" context), the transport table (transport.c) and
 * mail_addr_find() for the sender-dependent and relocated tables. Addresses are handled in their internal (unquoted)
 * form; tables are asked that form only.
 */
final class Resolver {
    private static final Logger log = LoggerFactory.getLogger("rewrite");

    private final ConfigSnapshot config;
    private final Tables tables;

    Resolver(ConfigSnapshot config, Tables tables) {
        this.config = config;
        this.tables = tables;
    }

    Resolution resolve(String sender, String recipient) throws ResolutionException {
        String addr = rewrite(recipient);

        // Strip every local domain (saving the last), then routing operators, until a remote domain or none is left.
        String savedDomain = null;
        boolean remote = false;
        int maxLoops = addr.length() + 100;
        for (int loop = 0; ; loop++) {
            if (loop > maxLoops) {
                throw new ResolutionException("resolve <" + recipient + ">: giving up after " + loop + " iterations");
            }
            addr = stripDomainDot(addr);
            if (bool("resolve_null_domain", "no") && addr.endsWith("@")) {
                addr = addr.substring(0, addr.length() - 1);
            }
            int at = addr.lastIndexOf('@');
            if (at >= 0) {
                String domain = addr.substring(at + 1);
                if (!domain.isEmpty() && !isLocal(domain)) {
                    remote = true;
                    break;
                }
                savedDomain = domain;
                addr = addr.substring(0, at);
            }
            if (addr.indexOf('@') >= 0 || bool("swap_bangpath", "yes") && addr.indexOf('!') >= 0
                    || bool("allow_percent_hack", "yes") && addr.indexOf('%') >= 0) {
                addr = rewrite(addr);
                continue;
            }
            if (addr.isEmpty()) {
                addr = text("empty_address_recipient", "MAILER-DAEMON");
                continue;
            }
            if (savedDomain == null) {
                addr = addr + "@" + text("myhostname", "");
                continue;
            }
            break;
        }
        if (!remote) {
            addr = addr + "@" + savedDomain;
        }

        // Syntax of the result: a host name, an [address] literal, or (resolve_numeric_domain) a bare address.
        int at = addr.lastIndexOf('@');
        String domain = addr.substring(at + 1);
        boolean bad = false;
        if (domain.startsWith("[")) {
            bad = !Hosts.validMailhostLiteral(domain);
        } else if (!Hosts.validHostname(domain, bool("smtputf8_enable", "yes"))) {
            if (bool("resolve_numeric_domain", "no") && Hosts.parseAddress(domain) != null) {
                domain = "[" + domain + "]";
                addr = addr.substring(0, at + 1) + domain;
                if (isLocal(domain)) {
                    remote = false;
                }
            } else {
                bad = true;
            }
        }
        if (addr.startsWith("-") && !bool("allow_min_user", "no")) {
            bad = true; // external commands could take it for an option
        }
        if (bad) {
            // qmgr's reply to RESOLVE_FLAG_ERROR: bounce with "5.1.3 bad address syntax"
            return new Resolution(AddressClass.DEFAULT, "error", "5.1.3 bad address syntax", addr);
        }

        AddressClass addressClass;
        String channel;
        String nexthop = domain;
        String blame;
        if (!remote) {
            addressClass = AddressClass.LOCAL;
            channel = text("local_transport", "local:" + text("myhostname", ""));
            blame = "local_transport";
        } else if (match(DomainList.strings("virtual_alias_domains", text("virtual_alias_domains", "")), domain)) {
            String unknown = bool("show_user_unknown_table_name", "yes") ? " in virtual alias table" : "";
            return relocated(new Resolution(AddressClass.VIRTUAL_ALIAS, "error", "5.1.1 User unknown" + unknown, addr));
        } else if (match(DomainList.strings("virtual_mailbox_domains", text("virtual_mailbox_domains", "")), domain)) {
            addressClass = AddressClass.VIRTUAL_MAILBOX;
            channel = text("virtual_transport", "virtual");
            blame = "virtual_transport";
        } else {
            if (match(DomainList.domains("relay_domains", text("relay_domains", ""), parentStyle("relay_domains")),
                    domain)) {
                addressClass = AddressClass.RELAY;
                channel = text("relay_transport", "relay");
                blame = "relay_transport";
            } else {
                addressClass = AddressClass.DEFAULT;
                channel = text("default_transport", "smtp");
                blame = "default_transport";
                Maps senderTransport = maps("sender_dependent_default_transport_maps");
                String xport = senderTransport.isEmpty() ? null
                        : findAddress(senderTransport, senderKey(sender, "empty_address_default_transport_maps_lookup_key"));
                if (xport != null) {
                    if (xport.isEmpty()) {
                        log.warn("{}: ignoring null lookup result for {}", senderTransport.parameter, sender);
                    } else if (!xport.equalsIgnoreCase("DUNNO")) {
                        channel = xport;
                        blame = senderTransport.parameter;
                    }
                }
            }
            // Off-host delivery: the sender-dependent relayhost, else relayhost, else the recipient domain.
            Maps senderRelay = maps("sender_dependent_relayhost_maps");
            String relay = senderRelay.isEmpty() ? null
                    : findAddress(senderRelay, senderKey(sender, "empty_address_relayhost_maps_lookup_key"));
            if (relay != null && relay.isEmpty()) {
                log.warn("{}: ignoring null lookup result for {}", senderRelay.parameter, sender);
            }
            if (relay != null && !relay.isEmpty() && !relay.equalsIgnoreCase("DUNNO")) {
                nexthop = relay;
            } else if (!text("relayhost", "").isEmpty()) {
                nexthop = text("relayhost", "");
            }
        }

        // An explicit transport:nexthop in main.cf (local:$myhostname) overrides the next hop.
        int colon = channel.indexOf(':');
        if (colon >= 0) {
            if (colon + 1 < channel.length()) {
                nexthop = channel.substring(colon + 1);
            }
            channel = channel.substring(0, colon);
        }
        if (channel.isEmpty()) {
            throw new ResolutionException("file " + config.configDirectory().resolve("main.cf") + ": parameter "
                    + blame + ": null transport is not allowed");
        }

        // transport_maps may override transport and/or next hop of every class but the virtual alias class.
        String entry = transportLookup(addr);
        if (entry != null) {
            int c = entry.indexOf(':');
            String newChannel = c < 0 ? entry : entry.substring(0, c);
            String newNexthop = c < 0 ? "" : entry.substring(c + 1);
            if (!newChannel.isEmpty()) {
                channel = newChannel;
                nexthop = channel.equals("error") || channel.equals("retry") ? "Address is undeliverable" : domain;
            }
            if (!newNexthop.isEmpty()) {
                nexthop = newNexthop;
            }
        }
        return relocated(new Resolution(addressClass, channel, nexthop, addr));
    }

    /** relocated_maps: a recipient that has moved bounces, whatever its class. */
    private Resolution relocated(Resolution r) throws ResolutionException {
        Maps relocated = maps("relocated_maps");
        String reply = relocated.isEmpty() ? null : findAddress(relocated, r.recipient());
        if (reply == null) {
            return r;
        }
        String text;
        if (bool("relocated_prefix_enable", "yes")) {
            text = "5.1.6 User has moved to " + reply;
        } else if (reply.matches("[245]\\.\\d{1,3}\\.\\d{1,3}\\s+\\S.*")) {
            text = reply.replaceFirst("\\s+", " ");
        } else {
            log.warn("relocated_maps result must contain RFC 3463 status and text: '{}'", reply);
            text = "5.2.0 Mailbox is unavailable";
        }
        return new Resolution(r.addressClass(), "error", text, r.recipient());
    }

    /**
     * transport(5): the full address, the address without its extension, the domain, its parents ({@code .parent}
     * entries, or bare parent names when transport_maps is in parent_domain_matches_subdomains), then {@code *}.
     */
    private String transportLookup(String addr) throws ResolutionException {
        Maps transport = maps("transport_maps");
        if (transport.isEmpty()) {
            return null;
        }
        String value = transport.find(addr, false, tables);
        String stripped = stripExtension(addr);
        if (value == null && stripped != null) {
            value = transport.find(stripped, true, tables);
        }
        boolean parent = parentStyle("transport_maps");
        for (String name = addr.substring(addr.lastIndexOf('@') + 1); value == null; ) {
            value = transport.find(name, true, tables);
            int next = name.indexOf('.', 1);
            if (next < 0) {
                break;
            }
            name = parent ? name.substring(next + 1) : name.substring(next);
        }
        return value != null ? value : transport.find("*", false, tables);
    }

    /**
     * mail_addr_find()'s default strategy: the full address, without its extension, the local part (with and
     * without extension) when the domain is $myorigin or local, then {@code @domain}.
     */
    private String findAddress(Maps maps, String address) throws ResolutionException {
        String value = maps.find(address, false, tables);
        String stripped = stripExtension(address);
        if (value == null && stripped != null) {
            value = maps.find(stripped, true, tables);
        }
        int at = address.lastIndexOf('@');
        if (value == null && at >= 0) {
            String domain = address.substring(at + 1);
            boolean local;
            try {
                local = domain.equalsIgnoreCase(text("myorigin", "")) || isLocal(domain);
            } catch (ResolutionException e) {
                throw new ResolutionException(maps.parameter + " lookup failure: " + e.getMessage());
            }
            if (local) {
                value = maps.find(address.substring(0, at), true, tables);
                if (value == null && stripped != null) {
                    value = maps.find(stripped.substring(0, stripped.lastIndexOf('@')), true, tables);
                }
            }
            if (value == null) {
                value = maps.find(address.substring(at), true, tables);
            }
        }
        return value;
    }

    private String senderKey(String sender, String keyParameter) {
        return sender == null || sender.isEmpty() ? text(keyParameter, "<>") : sender;
    }

    /**
     * The address without its {@code recipient_delimiter} extension ({@code user+ext@domain} to
     * {@code user@domain}), or null when it has none (split_addr(): never postmaster, MAILER-DAEMON, the
     * double-bounce sender, nor owner-x and x-request when '-' is a delimiter).
     */
    String stripExtension(String address) {
        String delimiters = text("recipient_delimiter", "");
        if (delimiters.isEmpty()) {
            return null;
        }
        int at = address.lastIndexOf('@');
        String local = at < 0 ? address : address.substring(0, at);
        String lower = local.toLowerCase(Locale.ROOT);
        if (lower.equals("postmaster") || lower.equals("mailer-daemon")
                || local.equalsIgnoreCase(text("double_bounce_sender", "double-bounce"))) {
            return null;
        }
        if (delimiters.indexOf('-') >= 0 && bool("owner_request_special", "yes")
                && (lower.startsWith("owner-") || lower.length() > 8 && lower.endsWith("-request"))) {
            return null;
        }
        int cut = 0;
        while (cut < local.length() && delimiters.indexOf(local.charAt(cut)) < 0) {
            cut++;
        }
        if (cut == 0 || cut == local.length()) {
            return null;
        }
        return local.substring(0, cut) + (at < 0 ? "" : address.substring(at));
    }

    /**
     * rewrite_tree() in the "local" context, as cleanup canonicalises an address before it is queued: strip a source
     * route, swap {@code site!user}, promote {@code user%domain}, append {@code @$myorigin}, append
     * {@code .$mydomain} to a dotless domain (append_dot_mydomain), strip one trailing dot.
     */
    String rewrite(String address) {
        String addr = address;
        if (addr.isEmpty()) {
            return addr;
        }
        if (addr.equals("@")) {
            return "";
        }
        int colon = addr.indexOf(':');
        if (addr.startsWith("@") && colon >= 0 && colon < addr.length() - 1) {
            addr = addr.substring(colon + 1);
        }
        if (addr.indexOf('@') < 0) {
            int bang = addr.indexOf('!');
            int percent = addr.lastIndexOf('%');
            String origin = text("myorigin", "");
            if (bool("swap_bangpath", "yes") && bang >= 0) {
                addr = addr.substring(bang + 1) + "@" + addr.substring(0, bang);
            } else if (bool("allow_percent_hack", "yes") && percent >= 0) {
                addr = addr.substring(0, percent) + "@" + addr.substring(percent + 1);
            } else if (bool("append_at_myorigin", "yes") && !origin.isEmpty()) {
                addr = addr + "@" + origin;
            }
        }
        int at = addr.lastIndexOf('@');
        String mydomain = text("mydomain", "");
        if (at >= 0 && at < addr.length() - 1 && appendDotMydomain() && !mydomain.isEmpty()) {
            String domain = addr.substring(at + 1);
            if (!domain.startsWith("[") && domain.indexOf('.') < 0) {
                addr = addr + "." + mydomain;
            }
        }
        int n = addr.length();
        if (n > 1 && addr.charAt(n - 1) == '.' && addr.charAt(n - 2) != '.' && addr.charAt(n - 2) != '@') {
            addr = addr.substring(0, n - 1);
        }
        return addr;
    }

    /** The resolver loop's trailing-dot rule: only a domain's dot, never "..", never "@.". */
    private static String stripDomainDot(String addr) {
        int n = addr.length();
        if (n > 1 && addr.charAt(n - 1) == '.' && addr.lastIndexOf('@') >= 0 && addr.charAt(n - 2) != '.'
                && addr.charAt(n - 2) != '@') {
            return addr.substring(0, n - 1);
        }
        return addr;
    }

    /** Postfix's append_dot_mydomain: its default is "yes" below compatibility_level 1. */
    private boolean appendDotMydomain() {
        String level = text("compatibility_level", "0").strip();
        String major = level.contains(".") ? level.substring(0, level.indexOf('.')) : level;
        boolean old = major.equals("0") || major.isEmpty();
        return bool("append_dot_mydomain", old ? "yes" : "no");
    }

    /**
     * resolve_local(): the domain is in mydestination, or is an {@code [address]} of inet_interfaces or
     * proxy_interfaces.
     */
    boolean isLocal(String domain) throws ResolutionException {
        String d = domain.endsWith(".") ? domain.substring(0, domain.length() - 1) : domain;
        if (d.isEmpty() || d.endsWith(".")) {
            return false;
        }
        if (match(DomainList.strings("mydestination", text("mydestination", "")), d)) {
            return true;
        }
        if (d.startsWith("[") && d.endsWith("]")) {
            byte[] address = Hosts.parseMailhostAddress(d.substring(1, d.length() - 1));
            return address != null && (Hosts.isOwn(address, config.list("inet_interfaces"))
                    || Hosts.isOwn(address, config.list("proxy_interfaces")));
        }
        return false;
    }

    private boolean match(DomainList list, String domain) throws ResolutionException {
        DomainList.Result r = list.match(domain, tables);
        if (r == DomainList.Result.ERROR) {
            throw new ResolutionException(list.error.replaceFirst(":", " lookup failure:"));
        }
        return r == DomainList.Result.MATCH;
    }

    private Maps maps(String parameter) {
        return new Maps(parameter, text(parameter, ""));
    }

    /** Whether parent_domain_matches_subdomains names {@code feature} (match_parent_style()). */
    private boolean parentStyle(String feature) {
        return config.list("parent_domain_matches_subdomains").stream().anyMatch(f -> f.equalsIgnoreCase(feature));
    }

    /** A parameter's value; {@code postfixDefault} for one that the registry does not know and main.cf does not set. */
    private String text(String name, String postfixDefault) {
        return config.get(name).orElse(postfixDefault);
    }

    private boolean bool(String name, String postfixDefault) {
        return ConfigValues.bool(name, text(name, postfixDefault).strip());
    }
}
