package org.estafeta.config.internal;

import java.io.IOException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.estafeta.config.ConfigException;
import org.estafeta.config.ConfigWarning;

/** Reads main.cf and master.cf from a directory into a validated {@link Snapshot}, with its warnings. */
public final class Loader {
    public static final String MAIN_CF = "main.cf";
    public static final String MASTER_CF = "master.cf";

    private Loader() {
    }

    /**
     * @param configDir the directory holding main.cf and master.cf
     * @param varDir the default of {@code estafeta_var_directory}
     * @param generation the generation number of the new snapshot
     * @param configDirText when not null, {@code config_directory} is set explicitly to this text unless main.cf
     *        sets it (Postfix's postconf does this for {@code -c DIR}, so that {@code -n} shows it)
     */
    public static Snapshot load(Path configDir, Path varDir, long generation, String configDirText)
            throws ConfigException {
        String mainFile = configDir.resolve(MAIN_CF).toString();
        String masterFile = configDir.resolve(MASTER_CF).toString();
        List<ConfigWarning> warnings = new ArrayList<>();

        String mainText = read(configDir.resolve(MAIN_CF), mainFile);
        Map<String, MainCf.Setting> main = MainCf.parse(mainText, mainFile, warnings);
        if (configDirText != null && !main.containsKey("config_directory")) {
            Map<String, MainCf.Setting> m = new LinkedHashMap<>();
            m.put("config_directory", new MainCf.Setting("config_directory", configDirText, 0));
            m.putAll(main);
            main = m;
        }
        List<MasterCf.Parsed> services;
        Path master = configDir.resolve(MASTER_CF);
        if (Files.exists(master)) {
            services = MasterCf.parse(read(master, masterFile), masterFile, warnings);
        } else {
            warnings.add(new ConfigWarning(masterFile, 0, "No such file or directory"));
            services = List.of();
        }
        checkSyntax(main, services, mainFile, masterFile);
        flagParameters(main, services, mainFile, masterFile, warnings);
        return Snapshot.create(new Snapshot.Files(configDir, varDir, generation, mainFile, masterFile,
                java.util.Collections.unmodifiableMap(main), List.copyOf(services), List.copyOf(warnings)));
    }

    /**
     * A best-effort reading of main.cf alone, for finding a running gateway (its queue directory and control
     * socket) while main.cf is broken: lines that do not parse are skipped, and settings that take part in an
     * expansion loop or have bad syntax are dropped one by one until the rest expands. Never use the result to
     * run anything: the strict {@link #load} is the only reading a gateway acts on.
     */
    public static Snapshot loadLeniently(Path configDir, Path varDir) throws ConfigException {
        String mainFile = configDir.resolve(MAIN_CF).toString();
        Map<String, MainCf.Setting> main = new LinkedHashMap<>();
        for (LogicalLine ll : LogicalLineReader.read(read(configDir.resolve(MAIN_CF), mainFile), mainFile, w -> { })) {
            String[] nv = new String[2];
            if (MainCf.splitNameValue(ll.text(), nv) == null) {
                main.put(nv[0], new MainCf.Setting(nv[0], nv[1], ll.firstLine()));
            }
        }
        while (true) {
            try {
                return Snapshot.create(new Snapshot.Files(configDir, varDir, 1, mainFile,
                        configDir.resolve(MASTER_CF).toString(), java.util.Collections.unmodifiableMap(main), List.of(),
                        List.of()));
            } catch (ConfigException e) {
                // the setting the error points into: the last one that starts on or before the error's line
                MainCf.Setting culprit = null;
                for (MainCf.Setting setting : main.values()) {
                    if (setting.line() > 0 && setting.line() <= e.line()
                            && (culprit == null || setting.line() > culprit.line())) {
                        culprit = setting;
                    }
                }
                if (culprit == null || !e.file().equals(mainFile)) {
                    throw e;
                }
                main.remove(culprit.name());
            }
        }
    }

    private static String read(Path path, String name) throws ConfigException {
        try {
            byte[] bytes = Files.readAllBytes(path);
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE).decode(java.nio.ByteBuffer.wrap(bytes))
                    .toString();
        } catch (NoSuchFileException e) {
            throw new ConfigException(name, 0, "No such file or directory");
        } catch (AccessDeniedException e) {
            throw new ConfigException(name, 0, "Permission denied");
        } catch (IOException e) {
            throw new ConfigException(name, 0, String.valueOf(e.getMessage()));
        }
    }

    /** A $name syntax error is reported at the line of the value that holds it. */
    private static void checkSyntax(Map<String, MainCf.Setting> main, List<MasterCf.Parsed> services,
            String mainFile, String masterFile) throws ConfigException {
        for (MainCf.Setting s : main.values()) {
            if (BuiltinParameters.RAW.contains(s.name())) {
                continue;
            }
            try {
                Expander.scan(s.value(), n -> { });
            } catch (Expander.SyntaxError e) {
                throw new ConfigException(mainFile, s.line(), "parameter " + s.name() + ": " + e.getMessage());
            }
        }
        for (MasterCf.Parsed p : services) {
            for (var o : p.entry().overrides().entrySet()) {
                try {
                    Expander.scan(o.getValue(), n -> { });
                } catch (Expander.SyntaxError e) {
                    throw new ConfigException(masterFile, p.overrideLines().getOrDefault(o.getKey(), p.entry().line()),
                            "parameter " + o.getKey() + ": " + e.getMessage());
                }
            }
        }
    }

    /**
     * Postfix's rule for unused parameters (postconf_unused.c and postconf_user.c), with one more outcome: a name
     * Postfix knows but Estafeta does not support yet.
     * <ul>
     * <li>supported (in {@link BuiltinParameters}): nothing;</li>
     * <li>known to Postfix (built-in, or per-service for a master.cf delivery service): {@code parameter not
     * supported yet: name=value};</li>
     * <li>a user-defined name that some value refers to as {@code $name}, or that smtpd_restriction_classes lists:
     * nothing;</li>
     * <li>anything else: {@code unused parameter: name=value}.</li>
     * </ul>
     * A {@code $name} that nothing defines gets {@code undefined parameter: name}, as Postfix's postconf says.
     */
    private static void flagParameters(Map<String, MainCf.Setting> main, List<MasterCf.Parsed> services,
            String mainFile, String masterFile, List<ConfigWarning> warnings) {
        Set<String> serviceParams = new HashSet<>();
        for (MasterCf.Parsed p : services) {
            serviceParams.addAll(PostfixNames.serviceParameters(p.entry().service(), p.entry().command()));
        }
        // names referenced from main.cf values and from unset defaults (global scope)
        Map<String, Integer> mainRefs = new LinkedHashMap<>();
        for (MainCf.Setting s : main.values()) {
            if (!BuiltinParameters.RAW.contains(s.name())) {
                Expander.scan(s.value(), n -> mainRefs.putIfAbsent(n, s.line()));
            }
        }
        Set<String> referenced = new HashSet<>(mainRefs.keySet());
        for (BuiltinParameters.Parameter p : BuiltinParameters.REGISTRY) {
            if (!p.computed() && !main.containsKey(p.name())) {
                Expander.scan(p.defaultValue().apply(null), referenced::add);
            }
        }
        MainCf.Setting classes = main.get("smtpd_restriction_classes");
        if (classes != null) {
            for (String c : classes.value().split("[, \t\r\n]+")) {
                if (!c.isEmpty()) {
                    referenced.add(c);
                }
            }
        }
        Set<String> overriddenSomewhere = new HashSet<>();
        for (MasterCf.Parsed p : services) {
            overriddenSomewhere.addAll(p.entry().overrides().keySet());
            for (String v : p.entry().overrides().values()) {
                Expander.scan(v, referenced::add);
            }
        }

        for (MainCf.Setting s : main.values()) {
            String verdict = verdict(s.name(), serviceParams, referenced);
            if (verdict != null && s.line() > 0) {
                warnings.add(new ConfigWarning(mainFile, s.line(), verdict + ": " + s.name() + "=" + s.value()));
            }
        }
        Set<String> undefined = new LinkedHashSet<>();
        for (var r : mainRefs.entrySet()) {
            String n = r.getKey();
            if (!main.containsKey(n) && !overriddenSomewhere.contains(n) && !known(n, serviceParams)
                    && undefined.add(n)) {
                warnings.add(new ConfigWarning(mainFile, r.getValue(), "undefined parameter: " + n));
            }
        }
        for (MasterCf.Parsed p : services) {
            Set<String> localRefs = new HashSet<>();
            for (String v : p.entry().overrides().values()) {
                Expander.scan(v, localRefs::add);
            }
            for (var o : p.entry().overrides().entrySet()) {
                String name = o.getKey();
                String verdict = verdict(name, serviceParams, referenced);
                if (verdict != null && localRefs.contains(name)) {
                    verdict = known(name, serviceParams) ? verdict : null;
                }
                if (verdict != null) {
                    warnings.add(new ConfigWarning(masterFile, p.overrideLines().getOrDefault(name, p.entry().line()),
                            verdict + ": " + name + "=" + o.getValue()));
                }
            }
            Set<String> localUndefined = new LinkedHashSet<>();
            for (String n : localRefs) {
                if (!p.entry().overrides().containsKey(n) && !main.containsKey(n) && !known(n, serviceParams)
                        && !n.equals("service_name") && !n.equals("process_name")) {
                    localUndefined.add(n);
                }
            }
            for (String n : new java.util.TreeSet<>(localUndefined)) {
                warnings.add(new ConfigWarning(masterFile, p.entry().line(), "undefined parameter: " + n));
            }
        }
    }

    private static boolean known(String name, Set<String> serviceParams) {
        return BuiltinParameters.find(name) != null || PostfixNames.contains(name) || serviceParams.contains(name);
    }

    private static String verdict(String name, Set<String> serviceParams, Set<String> referenced) {
        if (BuiltinParameters.find(name) != null) {
            return null;
        }
        if (PostfixNames.contains(name) || serviceParams.contains(name)) {
            return "parameter not supported yet";
        }
        if (referenced.contains(name)) {
            return null;
        }
        return "unused parameter";
    }

    /** Whether postconf knows a name: supported, Postfix's, per-service, or a user-defined name some value uses. */
    public static boolean isKnown(Snapshot snapshot, String name) {
        Set<String> serviceParams = new HashSet<>();
        for (MasterCf.Parsed p : snapshot.parsedServices()) {
            serviceParams.addAll(PostfixNames.serviceParameters(p.entry().service(), p.entry().command()));
        }
        if (known(name, serviceParams)) {
            return true;
        }
        if (!snapshot.isExplicit(name)) {
            return false;
        }
        Set<String> referenced = new HashSet<>();
        for (String n : snapshot.explicitNames()) {
            snapshot.raw(n).ifPresent(v -> Expander.scan(v, referenced::add));
        }
        for (MasterCf.Parsed p : snapshot.parsedServices()) {
            p.entry().overrides().values().forEach(v -> Expander.scan(v, referenced::add));
        }
        snapshot.raw("smtpd_restriction_classes")
                .ifPresent(v -> referenced.addAll(List.of(v.split("[, \t\r\n]+"))));
        return referenced.contains(name);
    }

    /** Whether Estafeta supports a parameter (it is in the registry). */
    public static boolean isSupported(String name) {
        return BuiltinParameters.find(name) != null;
    }

    /** Whether Postfix knows the name (built-in list), whatever Estafeta does with it. */
    public static boolean isPostfixParameter(String name) {
        return PostfixNames.contains(name);
    }
}
