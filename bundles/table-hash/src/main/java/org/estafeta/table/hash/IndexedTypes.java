package org.estafeta.table.hash;

import java.util.List;

/**
 * The table types that name an indexed file, and the suffix of each one's index: Postfix's {@code hash:} and
 * {@code btree:} use {@code FILE.db}, {@code cdb:} {@code FILE.cdb}, {@code lmdb:} {@code FILE.lmdb}. All four are
 * the same Estafeta index format; only the file name differs, so existing main.cf files work unchanged.
 */
public final class IndexedTypes {
    /** Every indexed type, as main.cf names them. */
    public static final List<String> TYPES = List.of("hash", "btree", "cdb", "lmdb");

    private IndexedTypes() {
    }

    /** Whether {@code type} is an indexed-file type. */
    public static boolean isIndexed(String type) {
        return TYPES.contains(type);
    }

    /** The index file's suffix for {@code type}: {@code .db}, {@code .cdb} or {@code .lmdb}. */
    public static String suffix(String type) {
        return switch (type) {
            case "hash", "btree" -> ".db";
            case "cdb" -> ".cdb";
            case "lmdb" -> ".lmdb";
            default -> throw new IllegalArgumentException("not an indexed table type: " + type);
        };
    }

    /**
     * Postfix's key folding for indexed tables ({@code lowercase()}, DICT_FLAG_FOLD_FIX without SMTPUTF8): ASCII
     * letters only; other characters are kept as they are.
     */
    public static String fold(String key) {
        StringBuilder b = null;
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                if (b == null) {
                    b = new StringBuilder(key);
                }
                b.setCharAt(i, (char) (c + ('a' - 'A')));
            }
        }
        return b == null ? key : b.toString();
    }
}
