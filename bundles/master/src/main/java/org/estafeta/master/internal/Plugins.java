package org.estafeta.master.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;

/** master_plugins - the {@code plugins} report: installed bundles and the Estafeta services they register. */
final class Plugins {
    /** One registered service: its interfaces and its {@code estafeta.*} properties. */
    record ServiceInfo(List<String> interfaces, Map<String, String> properties) {
    }

    /** One installed bundle. */
    record BundleInfo(long id, String state, String symbolicName, String version, List<ServiceInfo> services) {
    }

    private Plugins() {
    }

    /**
     * {@code 12 ACTIVE org.estafeta.plugin.json-table 0.1.0.SNAPSHOT}, then for each Estafeta service one
     * indented line: {@code     estafeta.table.type=json (org.estafeta.api.table.LookupTableFactory)}.
     */
    static List<String> format(List<BundleInfo> bundles) {
        List<String> out = new ArrayList<>();
        for (BundleInfo b : bundles) {
            out.add(b.id() + " " + b.state() + " " + b.symbolicName() + " " + b.version());
            for (ServiceInfo s : b.services()) {
                StringBuilder line = new StringBuilder("    ");
                s.properties().forEach((k, v) -> line.append(k).append('=').append(v).append(' '));
                line.append('(').append(String.join(", ", s.interfaces())).append(')');
                out.add(line.toString());
            }
        }
        return out;
    }

    /** Reads the bundles of a running framework. */
    static List<BundleInfo> read(BundleContext context) {
        List<BundleInfo> out = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            List<ServiceInfo> services = new ArrayList<>();
            ServiceReference<?>[] refs;
            try {
                refs = b.getRegisteredServices();
            } catch (IllegalStateException e) {
                refs = null; // uninstalled meanwhile
            }
            if (refs != null) {
                for (ServiceReference<?> ref : refs) {
                    Map<String, String> props = new TreeMap<>();
                    for (String key : ref.getPropertyKeys()) {
                        if (key.startsWith("estafeta.")) {
                            props.put(key, text(ref.getProperty(key)));
                        }
                    }
                    if (!props.isEmpty()) {
                        Object classes = ref.getProperty(Constants.OBJECTCLASS);
                        List<String> interfaces = classes instanceof String[] ? List.of((String[]) classes) : List.of();
                        services.add(new ServiceInfo(interfaces, props));
                    }
                }
            }
            String name = b.getSymbolicName() == null ? "(no symbolic name)" : b.getSymbolicName();
            out.add(new BundleInfo(b.getBundleId(), state(b.getState()), name, b.getVersion().toString(), services));
        }
        return out;
    }

    private static String text(Object value) {
        if (value instanceof Object[]) {
            List<String> parts = new ArrayList<>();
            for (Object o : (Object[]) value) {
                parts.add(String.valueOf(o));
            }
            return String.join(",", parts);
        }
        return String.valueOf(value);
    }

    static String state(int state) {
        switch (state) {
            case Bundle.UNINSTALLED:
                return "UNINSTALLED";
            case Bundle.INSTALLED:
                return "INSTALLED";
            case Bundle.RESOLVED:
                return "RESOLVED";
            case Bundle.STARTING:
                return "STARTING";
            case Bundle.STOPPING:
                return "STOPPING";
            case Bundle.ACTIVE:
                return "ACTIVE";
            default:
                return "UNKNOWN(" + state + ")";
        }
    }
}
