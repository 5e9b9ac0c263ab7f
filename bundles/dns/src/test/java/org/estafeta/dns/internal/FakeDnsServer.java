package org.estafeta.dns.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

import org.xbill.DNS.DClass;
import org.xbill.DNS.EDNSOption;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.TSIG;
import org.xbill.DNS.Type;

/**
 * A dnsjava {@link Resolver} that answers from a table in memory and counts the questions it gets (unit tests;
 * the interop tests use a real dnsmasq).
 */
final class FakeDnsServer implements Resolver {
    /** The rcode for a name with no records at all; NXDOMAIN unless set. */
    final Map<Name, Integer> rcodes = new HashMap<>();
    final Map<String, List<Record>> records = new HashMap<>();
    /** Names whose questions are never answered. */
    final List<Name> silent = new ArrayList<>();
    final List<String> questions = new ArrayList<>();
    /** An SOA sent in the authority section of negative answers (negative caching), or null. */
    SOARecord soa;

    static Name name(String s) {
        try {
            return Name.fromString(s, Name.root);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    FakeDnsServer add(Record r) {
        records.computeIfAbsent(r.getName() + "/" + r.getType(), k -> new ArrayList<>()).add(r);
        return this;
    }

    synchronized int count(String question) {
        return (int) questions.stream().filter(question::equals).count();
    }

    @Override
    public CompletionStage<Message> sendAsync(Message query, Executor executor) {
        Record q = query.getQuestion();
        synchronized (this) {
            questions.add(q.getName().toString(true) + "/" + Type.string(q.getType()));
        }
        if (silent.contains(q.getName())) {
            return new CompletableFuture<>();
        }
        Message m = new Message(query.getHeader().getID());
        m.getHeader().setFlag(Flags.QR);
        m.getHeader().setFlag(Flags.AA);
        m.addRecord(q, Section.QUESTION);
        List<Record> answer = records.getOrDefault(q.getName() + "/" + q.getType(), List.of());
        if (answer.isEmpty()) {
            // an alias: the CNAME alone, as a server without the target's zone answers; the client follows it
            answer = records.getOrDefault(q.getName() + "/" + Type.CNAME, List.of());
        }
        boolean nameExists = records.keySet().stream().anyMatch(k -> k.startsWith(q.getName() + "/"));
        if (!answer.isEmpty()) {
            answer.forEach(r -> m.addRecord(r, Section.ANSWER));
        } else if (rcodes.containsKey(q.getName())) {
            m.getHeader().setRcode(rcodes.get(q.getName()));
        } else {
            m.getHeader().setRcode(nameExists ? Rcode.NOERROR : Rcode.NXDOMAIN);
            if (soa != null) {
                m.addRecord(soa, Section.AUTHORITY);
            }
        }
        return CompletableFuture.supplyAsync(() -> m, executor);
    }

    static SOARecord soa(String zone, long minimum) {
        return new SOARecord(name(zone), DClass.IN, minimum, name("ns." + zone), name("hostmaster." + zone), 1, 3600,
                600, 86400, minimum);
    }

    @Override
    public void setPort(int port) {
    }

    @Override
    public void setTCP(boolean flag) {
    }

    @Override
    public void setIgnoreTruncation(boolean flag) {
    }

    @Override
    public void setEDNS(int version, int payloadSize, int flags, List<EDNSOption> options) {
    }

    @Override
    public void setTSIGKey(TSIG key) {
    }

    @Override
    public void setTimeout(Duration timeout) {
    }
}
