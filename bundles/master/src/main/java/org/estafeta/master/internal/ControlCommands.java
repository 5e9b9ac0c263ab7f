package org.estafeta.master.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.config.ConfigException;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.ConfigWarning;
import org.estafeta.master.internal.ControlServer.Reply;
import org.estafeta.queue.QueueAdmin;
import org.estafeta.queue.QueueCommands;
import org.estafeta.tables.TableService;
import org.estafeta.tables.UnsupportedTableTypeException;

/**
 * master_commands - the requests of the control socket ({@code status}, {@code reload}, {@code plugins},
 * {@code lookup KEY TYPE:NAME}, {@code stop}) as docs/internal-contracts.md defines them.
 */
final class ControlCommands implements ControlServer.Handler {

    /** What the commands need of the running master. */
    interface Master {
        long pid();

        ConfigSnapshot current();

        /** Reads the files again; on success the supervisor has been told (see {@link #settle}). */
        ConfigSnapshot reload() throws ConfigException;

        /** Waits (bounded) until the supervisor has acted on everything it was told. */
        void settle();

        List<Supervisor.EntryStatus> entries();

        Optional<TableService> tables();

        List<Plugins.BundleInfo> bundles();

        /** The queue the QueueStore service works on; empty while no QueueStore is registered. */
        Optional<java.nio.file.Path> queueDirectory();

        /** The queue manager's flush ({@code postqueue -f}, {@code -i}); empty while no qmgr bundle is active. */
        default Optional<org.estafeta.queue.QueueFlush> queueFlush() {
            return Optional.empty();
        }

        /** Stops the framework; called after the reply to {@code stop} is written. */
        void stopFramework();
    }

    private final Master master;

    ControlCommands(Master master) {
        this.master = master;
    }

    @Override
    public Reply handle(String request) {
        String line = request.strip();
        int space = line.indexOf(' ');
        String verb = space < 0 ? line : line.substring(0, space);
        String rest = space < 0 ? "" : line.substring(space + 1).strip();
        switch (verb) {
            case "status":
                return rest.isEmpty() ? status() : usage("status");
            case "reload":
                return rest.isEmpty() ? reload() : usage("reload");
            case "plugins":
                return rest.isEmpty() ? new Reply(Plugins.format(master.bundles()), 0) : usage("plugins");
            case "lookup":
                return lookup(rest);
            case "postqueue":
            case "postsuper":
                return queueCommand(verb, rest);
            case "stop":
                return rest.isEmpty() ? new Reply(List.of("stopping"), 0, master::stopFramework) : usage("stop");
            default:
                return new Reply(List.of("error: unknown request: " + (verb.isEmpty() ? "(empty)" : verb)
                        + " (known: status, reload, plugins, lookup, postqueue, postsuper, stop)"), 1);
        }
    }

    /**
     * {@code postqueue ARGS} and {@code postsuper ARGS}: the queue bundle's {@link QueueCommands} on the running
     * gateway's queue. Each answer line is {@code 1 TEXT} (standard output) or {@code 2 TEXT} (standard error).
     */
    private Reply queueCommand(String verb, String rest) {
        Optional<java.nio.file.Path> dir = master.queueDirectory();
        if (dir.isEmpty()) {
            return new Reply(List.of("2 " + verb + ": fatal: the queue is not available: no QueueStore"
                    + " (bundle org.estafeta.queue) is active"), QueueCommands.EX_UNAVAILABLE);
        }
        List<String> args = rest.isEmpty() ? List.of() : List.of(rest.split(" "));
        QueueAdmin admin = new QueueAdmin(dir.get());
        QueueCommands.Output o = verb.equals("postqueue")
                ? QueueCommands.postqueue(args, admin, java.time.ZoneId.systemDefault(), master.queueFlush().orElse(null))
                : QueueCommands.postsuper(args, admin);
        List<String> lines = new ArrayList<>();
        for (QueueCommands.Line l : o.lines()) {
            lines.add((l.stderr() ? "2 " : "1 ") + l.text());
            if (l.stderr() && verb.equals("postsuper")) {
                queueLog.info("{}", l.text().substring("postsuper: ".length()));
            }
        }
        return new Reply(lines, o.exit());
    }

    private static final org.slf4j.Logger queueLog = org.slf4j.LoggerFactory.getLogger("postsuper");

    private static Reply usage(String text) {
        return new Reply(List.of("usage: " + text), 1);
    }

    /**
     * One line per master.cf entry, then one per configuration problem. Exit 1 if an entry failed; else 2 while
     * an entry is starting (an inet entry whose daemon is not registered yet counts); else 0. The exit code says
     * whether the listeners serve ({@code estafeta start} waits for 0); configuration problems such as a table
     * type no bundle provides are listed as {@code error:} lines but do not change it, because the gateway
     * keeps serving while the operator installs the missing bundle.
     */
    private Reply status() {
        List<String> out = new ArrayList<>();
        out.add("the Estafeta mail system is running: PID: " + master.pid());
        boolean failed = false;
        boolean starting = false;
        for (Supervisor.EntryStatus e : master.entries()) {
            out.add(e.line());
            failed |= e.state() == Supervisor.State.FAILED;
            starting |= e.starting();
        }
        ConfigSnapshot snapshot = master.current();
        Optional<TableService> tables = master.tables();
        if (tables.isPresent()) {
            for (String problem : tables.get().problems(snapshot)) {
                out.add("error: " + problem);
            }
        } else {
            out.add("warning: table references not checked: no TableService (bundle org.estafeta.tables) is active");
        }
        for (ConfigWarning w : snapshot.warnings()) {
            out.add("warning: " + w);
        }
        return new Reply(out, failed ? 1 : starting ? 2 : 0);
    }

    private Reply reload() {
        ConfigSnapshot snapshot;
        try {
            snapshot = master.reload();
        } catch (ConfigException e) {
            return new Reply(List.of("error: " + e.getMessage(), "keeping the previous configuration"), 1);
        }
        master.settle();
        return new Reply(List.of("reloaded configuration " + snapshot.configDirectory()
                + " (generation " + snapshot.generation() + ")"), 0);
    }

    /**
     * {@code lookup KEY TYPE:NAME}: as {@code postmap -q KEY TYPE:NAME}. Both may hold spaces (a key as typed, a
     * composite table {@code unionmap:{ inline:{a=1}, static:x }}): the table starts at the first space followed by
     * a type name and a colon.
     */
    private Reply lookup(String args) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(" (?=[A-Za-z][A-Za-z0-9_-]*:)").matcher(args);
        int last = m.find() ? m.start() : -1;
        if (last <= 0) {
            return usage("lookup KEY TYPE:NAME");
        }
        String key = args.substring(0, last);
        String spec = args.substring(last + 1);
        Optional<TableService> tables = master.tables();
        if (tables.isEmpty()) {
            return new Reply(List.of("error: " + spec + ": lookup tables are not available:"
                    + " no TableService (bundle org.estafeta.tables) is active"), 1);
        }
        LookupResult result;
        try (LookupTable table = tables.get().open(spec)) {
            result = table.lookup(key);
        } catch (UnsupportedTableTypeException e) {
            return new Reply(List.of("error: " + spec + ": " + e.getMessage()), 1);
        } catch (TableOpenException e) {
            return new Reply(List.of(spec + ": temporary failure: " + e.getMessage()), 2);
        }
        if (result instanceof LookupResult.Found) {
            return new Reply(List.of(((LookupResult.Found) result).value()), 0);
        }
        if (result instanceof LookupResult.TemporaryFailure) {
            return new Reply(List.of(spec + ": temporary failure: "
                    + ((LookupResult.TemporaryFailure) result).reason()), 2);
        }
        return new Reply(List.of(), 1);
    }
}
