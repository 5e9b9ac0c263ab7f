/**
 * How core bundles offer the programs that master.cf names ({@code smtpd}, later {@code qmgr}, {@code pickup}
 * …): each registers a {@link org.estafeta.master.daemon.Daemon} service, and the master bundle starts one
 * {@link org.estafeta.master.daemon.DaemonInstance} per master.cf entry that names it. Daemons that listen on an
 * {@code inet} entry resolve its service column with {@link org.estafeta.master.daemon.ListenAddresses}.
 */
@Export
@Version("1.1.0")
package org.estafeta.master.daemon;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
