package org.estafeta.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A raw SMTP client over a plain socket, for sessions whose bytes must be exact (pipelining, order errors, bare
 * LF, binary): {@link #send} writes bytes as given, {@link #reply} reads one complete, possibly multi-line reply.
 * A client bound to 127.0.0.2 plays a host outside {@code mynetworks}.
 */
public final class SmtpClient implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private SmtpClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    /** Connects from {@code localAddress} (null: any) to 127.0.0.1:{@code port}, without reading the greeting. */
    public static SmtpClient connect(int port, String localAddress) throws IOException {
        Socket s = new Socket();
        if (localAddress != null) {
            s.bind(new InetSocketAddress(InetAddress.getByName(localAddress), 0));
        }
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout(20_000);
        s.setTcpNoDelay(true);
        return new SmtpClient(s);
    }

    /** Writes {@code data} as ISO-8859-1 bytes, verbatim (add the CRLFs yourself). */
    public SmtpClient send(String data) throws IOException {
        out.write(data.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        return this;
    }

    /** Sends {@code line} + CRLF and returns the reply. */
    public List<String> command(String line) throws IOException {
        send(line + "\r\n");
        return reply();
    }

    /** Reads one reply: its lines without CRLF, up to the one whose fourth character is a space. */
    public List<String> reply() throws IOException {
        List<String> lines = new ArrayList<>();
        while (true) {
            String line = readLine();
            if (line == null) {
                if (lines.isEmpty()) {
                    throw new IOException("connection closed before a reply");
                }
                throw new IOException("connection closed inside a reply: " + lines);
            }
            lines.add(line);
            if (line.length() < 4 || line.charAt(3) != '-') {
                return lines;
            }
        }
    }

    /** Reads {@code n} replies (the answers to {@code n} pipelined commands), flattened. */
    public List<String> replies(int n) throws IOException {
        List<String> all = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            all.addAll(reply());
        }
        return all;
    }

    /** True when the server has closed the connection (reads EOF within the socket timeout). */
    public boolean closedByServer() throws IOException {
        try {
            return in.read() < 0;
        } catch (IOException e) {
            return true;
        }
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                byte[] bytes = b.toByteArray();
                int len = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, len, StandardCharsets.ISO_8859_1);
            }
            b.write(c);
        }
        return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
