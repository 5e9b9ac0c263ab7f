package org.estafeta.testing;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.estafeta.api.message.Header;
import org.estafeta.api.message.MessageContent;

/** A message held in a byte array, for tests: CRLF text, headers parsed (and unfolded) up to the first blank line. */
public final class BytesContent implements MessageContent {
    private final byte[] bytes;

    public BytesContent(byte[] bytes) {
        this.bytes = bytes.clone();
    }

    /** A message from text whose lines end with \n; they become CRLF. */
    public static BytesContent of(String text) {
        return new BytesContent(text.replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public List<Header> headers() {
        List<Header> out = new ArrayList<>();
        String text = new String(bytes, StandardCharsets.UTF_8);
        int end = text.indexOf("\r\n\r\n");
        String head = (end < 0 ? text : text.substring(0, end)).replaceAll("\r\n[ \t]", " ");
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0) {
                out.add(new Header(line.substring(0, colon), line.substring(colon + 1).strip()));
            }
        }
        return out;
    }

    @Override
    public InputStream openBody() {
        String text = new String(bytes, StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        return new ByteArrayInputStream(bytes, end < 0 ? bytes.length : end + 4, bytes.length);
    }

    @Override
    public InputStream openMessage() {
        return new ByteArrayInputStream(bytes);
    }

    @Override
    public long size() {
        return bytes.length;
    }
}
