package org.estafeta.table.ldap;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.LookupTableFactory;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.api.table.TableSpec;
import org.estafeta.table.support.ReloadingFile;
import org.osgi.service.component.annotations.Component;

/**
 * Provides the {@code ldap:} lookup-table type (Postfix's ldap_table(5)), for example
 * {@code virtual_alias_maps = ldap:/etc/estafeta/ldap-aliases.cf}. The name is a file of {@code name = value}
 * lines with Postfix's LDAP parameters; it is read once, when the table opens (as Postfix reads it when a
 * process opens the table: an edit applies on reload).
 *
 * <p><b>Errors:</b> a missing file, a line that is not {@code name = value}, a value Postfix refuses, or a
 * parameter this implementation does not support (SASL, STARTTLS, ldapi://) is a {@link TableOpenException}
 * naming the table, the file and (for syntax) the line. The server is not contacted at open time: an unreachable
 * server makes lookups temporary failures, not the open. <b>Threading/blocking:</b> see {@link LookupTableFactory}.
 */
@Component(property = LookupTableFactory.TYPE + "=ldap")
public class LdapTableFactory implements LookupTableFactory {

    @Override
    public LookupTable open(TableSpec spec, PluginContext context) throws TableOpenException {
        System.Logger log = context.logger();
        Path file = Path.of(spec.name());
        if (!file.isAbsolute()) {
            throw new TableOpenException(spec + ": the file name must be an absolute path");
        }
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new TableOpenException(spec + ": open " + file + ": " + ReloadingFile.reason(e), e);
        }
        LdapSettings settings;
        try {
            ConfigFile cf = ConfigFile.parse(spec.name(), text, w -> log.log(System.Logger.Level.WARNING, w));
            settings = LdapSettings.of(cf, spec.toString(), w -> log.log(System.Logger.Level.WARNING, w));
        } catch (IllegalArgumentException e) {
            throw new TableOpenException(spec + ": " + e.getMessage(), e);
        }
        log.log(System.Logger.Level.INFO, spec + ": opened, servers " + String.join(" ", settings.servers));
        return new LdapTable(spec, settings, log);
    }
}
