package org.estafeta.milter;

/**
 * The milter protocol's wire constants (libmilter's mfdef.h): MTA commands (SMFIC_*), filter replies (SMFIR_*),
 * protocol flags (SMFIP_*), action flags (SMFIF_*), and the per-version masks Postfix uses to decide which events a
 * protocol version defines.
 */
final class Protocol {
    private Protocol() {
    }

    // MTA commands
    static final byte C_ABORT = 'A';
    static final byte C_BODY = 'B';
    static final byte C_CONNECT = 'C';
    static final byte C_MACRO = 'D';
    static final byte C_BODYEOB = 'E';
    static final byte C_HELO = 'H';
    static final byte C_HEADER = 'L';
    static final byte C_MAIL = 'M';
    static final byte C_EOH = 'N';
    static final byte C_OPTNEG = 'O';
    static final byte C_QUIT = 'Q';
    static final byte C_RCPT = 'R';
    static final byte C_DATA = 'T';
    static final byte C_UNKNOWN = 'U';

    // filter replies
    static final byte R_ADDRCPT = '+';
    static final byte R_DELRCPT = '-';
    static final byte R_ADDRCPT_PAR = '2';
    static final byte R_SHUTDOWN = '4';
    static final byte R_ACCEPT = 'a';
    static final byte R_REPLBODY = 'b';
    static final byte R_CONTINUE = 'c';
    static final byte R_DISCARD = 'd';
    static final byte R_CHGFROM = 'e';
    static final byte R_CONN_FAIL = 'f';
    static final byte R_ADDHEADER = 'h';
    static final byte R_INSHEADER = 'i';
    static final byte R_SETSYMLIST = 'l';
    static final byte R_CHGHEADER = 'm';
    static final byte R_PROGRESS = 'p';
    static final byte R_QUARANTINE = 'q';
    static final byte R_REJECT = 'r';
    static final byte R_SKIP = 's';
    static final byte R_TEMPFAIL = 't';
    static final byte R_REPLYCODE = 'y';

    // protocol flags: events the filter does not want, replies it will not send
    static final int P_NOCONNECT = 1;
    static final int P_NOHELO = 1 << 1;
    static final int P_NOMAIL = 1 << 2;
    static final int P_NORCPT = 1 << 3;
    static final int P_NOBODY = 1 << 4;
    static final int P_NOHDRS = 1 << 5;
    static final int P_NOEOH = 1 << 6;
    static final int P_NR_HDR = 1 << 7;
    static final int P_NOUNKNOWN = 1 << 8;
    static final int P_NODATA = 1 << 9;
    static final int P_SKIP = 1 << 10;
    static final int P_RCPT_REJ = 1 << 11;
    static final int P_NR_CONN = 1 << 12;
    static final int P_NR_HELO = 1 << 13;
    static final int P_NR_MAIL = 1 << 14;
    static final int P_NR_RCPT = 1 << 15;
    static final int P_NR_DATA = 1 << 16;
    static final int P_NR_UNKN = 1 << 17;
    static final int P_NR_EOH = 1 << 18;
    static final int P_NR_BODY = 1 << 19;
    static final int P_HDR_LEADSPC = 1 << 20;

    static final int P_NOSEND_MASK = P_NOCONNECT | P_NOHELO | P_NOMAIL | P_NORCPT | P_NOBODY | P_NOHDRS | P_NOEOH
            | P_NOUNKNOWN | P_NODATA;
    static final int P_NOREPLY_MASK = P_NR_CONN | P_NR_HELO | P_NR_MAIL | P_NR_RCPT | P_NR_DATA | P_NR_UNKN | P_NR_HDR
            | P_NR_EOH | P_NR_BODY;

    /** The events (and extensions) each protocol version defines, as Postfix's milter8 announces them. */
    static final int V2_MASK = P_NOCONNECT | P_NOHELO | P_NOMAIL | P_NORCPT | P_NOBODY | P_NOHDRS | P_NOEOH;
    static final int V3_MASK = V2_MASK | P_NOUNKNOWN;
    static final int V4_MASK = V3_MASK | P_NODATA;
    static final int V6_MASK = V4_MASK | P_SKIP | P_RCPT_REJ | P_NOREPLY_MASK | P_HDR_LEADSPC;

    static int versionMask(int version) {
        if (version >= 6) {
            return V6_MASK;
        } else if (version >= 4) {
            return V4_MASK;
        } else if (version == 3) {
            return V3_MASK;
        }
        return V2_MASK;
    }

    // action flags: the modifications the MTA allows
    static final int F_ADDHDRS = 1;
    static final int F_CHGBODY = 1 << 1;
    static final int F_ADDRCPT = 1 << 2;
    static final int F_DELRCPT = 1 << 3;
    static final int F_CHGHDRS = 1 << 4;
    static final int F_QUARANTINE = 1 << 5;
    static final int F_CHGFROM = 1 << 6;
    static final int F_ADDRCPT_PAR = 1 << 7;
    static final int F_SETSYMLIST = 1 << 8;
    /** Everything Postfix offers. */
    static final int MY_ACTIONS = F_ADDHDRS | F_CHGBODY | F_ADDRCPT | F_DELRCPT | F_CHGHDRS | F_QUARANTINE | F_CHGFROM
            | F_ADDRCPT_PAR | F_SETSYMLIST;

    // address families in SMFIC_CONNECT
    static final byte A_UNKNOWN = 'U';
    static final byte A_UNIX = 'L';
    static final byte A_INET = '4';
    static final byte A_INET6 = '6';

    /** Postfix's chunk size for SMFIC_BODY (and libmilter's MILTER_CHUNK_SIZE). */
    static final int CHUNK_SIZE = 65535;
    /** The largest reply packet accepted (libmilter's default MILTER_MAX_DATA_SIZE is 64 KiB; allow larger builds). */
    static final int MAX_PACKET = 1024 * 1024 + 16;

    static String commandName(byte c) {
        return switch (c) {
            case C_ABORT -> "SMFIC_ABORT";
            case C_BODY -> "SMFIC_BODY";
            case C_CONNECT -> "SMFIC_CONNECT";
            case C_MACRO -> "SMFIC_MACRO";
            case C_BODYEOB -> "SMFIC_BODYEOB";
            case C_HELO -> "SMFIC_HELO";
            case C_HEADER -> "SMFIC_HEADER";
            case C_MAIL -> "SMFIC_MAIL";
            case C_EOH -> "SMFIC_EOH";
            case C_OPTNEG -> "SMFIC_OPTNEG";
            case C_QUIT -> "SMFIC_QUIT";
            case C_RCPT -> "SMFIC_RCPT";
            case C_DATA -> "SMFIC_DATA";
            case C_UNKNOWN -> "SMFIC_UNKNOWN";
            default -> "(unknown MTA event)";
        };
    }

    static String replyName(byte r) {
        return switch (r) {
            case R_ADDRCPT -> "SMFIR_ADDRCPT";
            case R_DELRCPT -> "SMFIR_DELRCPT";
            case R_ADDRCPT_PAR -> "SMFIR_ADDRCPT_PAR";
            case R_SHUTDOWN -> "SMFIR_SHUTDOWN";
            case R_ACCEPT -> "SMFIR_ACCEPT";
            case R_REPLBODY -> "SMFIR_REPLBODY";
            case R_CONTINUE -> "SMFIR_CONTINUE";
            case R_DISCARD -> "SMFIR_DISCARD";
            case R_CHGFROM -> "SMFIR_CHGFROM";
            case R_CONN_FAIL -> "SMFIR_CONN_FAIL";
            case R_ADDHEADER -> "SMFIR_ADDHEADER";
            case R_INSHEADER -> "SMFIR_INSHEADER";
            case R_SETSYMLIST -> "SMFIR_SETSYMLIST";
            case R_CHGHEADER -> "SMFIR_CHGHEADER";
            case R_PROGRESS -> "SMFIR_PROGRESS";
            case R_QUARANTINE -> "SMFIR_QUARANTINE";
            case R_REJECT -> "SMFIR_REJECT";
            case R_SKIP -> "SMFIR_SKIP";
            case R_TEMPFAIL -> "SMFIR_TEMPFAIL";
            case R_REPLYCODE -> "SMFIR_REPLYCODE";
            default -> "(unknown filter reply)";
        };
    }
}
