package org.estafeta.smtpd.bench;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * DATA content through smtpd's {@code ContentDecoder}: dot-unstuffing, CRLF handling with bare-LF detection on
 * (the default {@code smtpd_forbid_bare_newline = normalize}), size counting against a 10 MiB limit, output in
 * 8 KiB blocks. The message has 76-character lines, every tenth with a stuffed dot, and is handed over in
 * {@code read}-byte reads. One op = one message of {@code messageBytes}. Run with {@code scripts/bench-smtpd.sh};
 * never part of {@code mvn verify}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class DataUnstuffingBench {
    @Param({"1048576"})
    int messageBytes;

    @Param({"65536"})
    int read;

    private ByteBuf message;

    @Setup(Level.Trial)
    public void setUp() {
        byte[] bytes = message(messageBytes);
        message = Unpooled.unreleasableBuffer(Unpooled.directBuffer(bytes.length).writeBytes(bytes));
    }

    static byte[] message(int size) {
        StringBuilder sb = new StringBuilder("From: <sender.name@client.example.org>\r\nTo: <first.recipient@univ.es>\r\n"
                + "Subject: benchmark\r\nMessage-ID: <bench@client.example.org>\r\n\r\n");
        String text = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tem";
        int n = 0;
        while (sb.length() < size) {
            sb.append(n++ % 10 == 0 ? ".." : "").append(text).append("\r\n");
        }
        sb.append(".\r\n");
        return sb.toString().getBytes(StandardCharsets.US_ASCII);
    }

    @Benchmark
    public int dataUnstuffing(Blackhole bh) throws Throwable {
        Object decoder = Decoders.NEW_CONTENT_DECODER.invokeExact(true, 10_485_760L);
        List<Object> out = new ArrayList<>();
        ByteBuf all = message.duplicate();
        int end = all.writerIndex();
        boolean done = false;
        int blocks = 0;
        for (int i = 0; i < end && !done; i += read) {
            ByteBuf chunk = all.slice(i, Math.min(read, end - i));
            done = (boolean) Decoders.CONTENT_DATA.invokeExact(decoder, chunk, out);
            blocks += out.size();
            for (Object o : out) {
                bh.consume(o);
            }
            out.clear();
        }
        if (!done) {
            throw new IllegalStateException("no end of data found");
        }
        return blocks;
    }
}
