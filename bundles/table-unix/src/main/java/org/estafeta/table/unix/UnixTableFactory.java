package org.estafeta.table.unix;

import java.nio.file.Path;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.LookupTableFactory;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.osgi.service.component.annotations.Component;

/**
 * Provides the {@code unix:} type, as Postfix's dict_unix: {@code unix:passwd.byname} answers a user name with its
 * whole password entry ({@code root:x:0:0:root:/root:/bin/bash}), {@code unix:group.byname} a group name with its
 * group entry ({@code mail:x:8:alice,bob}). Any other name is Postfix's {@code unknown table: unix:NAME}.
 *
 * <p>The entries come from the files {@code /etc/passwd} and {@code /etc/group}, read again when they change;
 * other name services (LDAP, sssd) that glibc's getpwnam() would also ask are not consulted.
 */
@Component(property = LookupTableFactory.TYPE + "=unix")
public class UnixTableFactory implements LookupTableFactory {
    private final Path passwd;
    private final Path group;

    public UnixTableFactory() {
        this(Path.of("/etc/passwd"), Path.of("/etc/group"));
    }

    /** For tests: other files in the formats of passwd(5) and group(5). */
    UnixTableFactory(Path passwd, Path group) {
        this.passwd = passwd;
        this.group = group;
    }

    @Override
    public LookupTable open(TableSpec spec, PluginContext context) throws TableOpenException {
        return switch (spec.name()) {
            case "passwd.byname" -> new UnixTable(spec, passwd, UnixTable.PASSWD);
            case "group.byname" -> new UnixTable(spec, group, UnixTable.GROUP);
            default -> throw new TableOpenException("unknown table: " + spec);
        };
    }
}
