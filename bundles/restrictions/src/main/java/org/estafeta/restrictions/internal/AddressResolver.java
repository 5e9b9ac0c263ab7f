package org.estafeta.restrictions.internal;

/**
 * The address classes trivial-rewrite's resolver gives smtpd (resolve.c, the part the restrictions need): the
 * final destinations ({@code mydestination}, {@code [address]} literals of inet_interfaces and proxy_interfaces,
 * virtual_alias_domains, virtual_mailbox_domains), the relay destinations ({@code relay_domains}), and everything
 * else. Routing operators in the local part of a final destination are peeled off as Postfix does
 * ({@code user%remote@mydest} is {@code user@remote}), and an address that still carries them is "routed".
 */
final class AddressResolver {
    /** resolve.c's RESOLVE_CLASS_*: local, virtual alias and virtual mailbox domains are the final ones. */
    enum AddressClass {
        LOCAL, ALIAS, VIRTUAL, RELAY, DEFAULT;

        /** Whether this machine is the address's final destination. */
        boolean isFinal() {
            return this == LOCAL || this == ALIAS || this == VIRTUAL;
        }
    }

    /**
     * @param address the resolved address, always with a domain
     * @param domain its domain
     * @param addressClass where it goes
     * @param routed whether its local part still carries {@code @ ! %} routing (Postfix's RESOLVE_FLAG_ROUTED)
     * @param error a list that had to be consulted could not be (a table lookup failed): resolving failed
     */
    record Resolved(String address, String domain, AddressClass addressClass, boolean routed, boolean error) {
    }

    private final Params params;
    private final Tables tables;

    AddressResolver(Params params, Tables tables) {
        this.params = params;
        this.tables = tables;
    }

    Resolved resolve(String input) {
        boolean bang = params.bool("swap_bangpath", true);
        boolean percent = params.bool("percent_hack", true);
        String addr = input;
        String savedDomain = null;
        for (int loops = 0; loops <= input.length() + 2; loops++) {
            int at = addr.lastIndexOf('@');
            if (at >= 0) {
                String domain = addr.substring(at + 1);
                String truncated = HostNames.truncateDot(domain);
                if (!truncated.equals(domain) && !truncated.isEmpty()) {
                    addr = addr.substring(0, at + 1) + truncated;
                    domain = truncated;
                }
                if (!domain.isEmpty()) {
                    MatchList.Result local = isLocal(domain);
                    if (local == MatchList.Result.ERROR) {
                        return new Resolved(addr, domain, AddressClass.DEFAULT, false, true);
                    }
                    if (local == MatchList.Result.NO_MATCH) {
                        return classify(addr, domain);
                    }
                }
                savedDomain = domain.isEmpty() ? savedDomain : domain;
                addr = addr.substring(0, at);
            }
            if (addr.indexOf('@') >= 0) {
                continue;
            }
            int bangAt = addr.indexOf('!');
            if (bang && bangAt >= 0) { // host!user -> user@host
                addr = addr.substring(bangAt + 1) + "@" + addr.substring(0, bangAt);
                continue;
            }
            int pct = addr.lastIndexOf('%');
            if (percent && pct >= 0) { // user%host -> user@host
                addr = addr.substring(0, pct) + "@" + addr.substring(pct + 1);
                continue;
            }
            if (savedDomain == null) { // no domain at all: resolve appends @$myhostname
                addr = addr + "@" + params.text("myhostname");
                savedDomain = "";
                continue;
            }
            String domain = savedDomain.isEmpty() ? params.text("myhostname") : savedDomain;
            return new Resolved(addr + "@" + domain, domain, AddressClass.LOCAL, false, false);
        }
        int at = addr.lastIndexOf('@');
        String domain = at >= 0 ? addr.substring(at + 1) : params.text("myhostname");
        return new Resolved(addr, domain, AddressClass.DEFAULT, true, false);
    }

    private Resolved classify(String addr, String domain) {
        int firstOp = indexOfAny(addr, "@!%");
        boolean routed = firstOp != addr.lastIndexOf('@');
        for (AddressClass virtual : new AddressClass[] {AddressClass.ALIAS, AddressClass.VIRTUAL}) {
            String list = virtual == AddressClass.ALIAS ? "virtual_alias_domains" : "virtual_mailbox_domains";
            MatchList.Result r = new MatchList(params.text(list), false, tables).matchDomain(domain);
            if (r == MatchList.Result.ERROR) {
                return new Resolved(addr, domain, AddressClass.DEFAULT, routed, true);
            }
            if (r == MatchList.Result.MATCH) {
                return new Resolved(addr, domain, virtual, routed, false);
            }
        }
        MatchList.Result relay = new MatchList(params.text("relay_domains"), params.parentStyle("relay_domains"),
                tables).matchDomain(domain);
        if (relay == MatchList.Result.ERROR) {
            return new Resolved(addr, domain, AddressClass.DEFAULT, routed, true);
        }
        return new Resolved(addr, domain, relay == MatchList.Result.MATCH ? AddressClass.RELAY : AddressClass.DEFAULT,
                routed, false);
    }

    private static int indexOfAny(String s, String chars) {
        for (int i = 0; i < s.length(); i++) {
            if (chars.indexOf(s.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }

    /** resolve_local(): mydestination, or an address literal of this machine. */
    MatchList.Result isLocal(String domain) {
        String d = HostNames.truncateDot(domain);
        if (d.startsWith("[") && d.endsWith("]")) {
            String lit = d.substring(1, d.length() - 1);
            if (lit.regionMatches(true, 0, "IPv6:", 0, 5)) {
                lit = lit.substring(5);
            }
            return OwnAddresses.isOwn(lit, params) ? MatchList.Result.MATCH : MatchList.Result.NO_MATCH;
        }
        return new MatchList(params.text("mydestination"), params.parentStyle("mydestination"), tables)
                .matchDomain(d);
    }
}
