package org.estafeta.smtpd.bench;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Command lines through smtpd's {@code SmtpLineDecoder} in an {@link EmbeddedChannel}, as the Netty pipeline runs
 * it: 64 KiB of a pipelining client's commands (~45 bytes a line), handed over in reads of {@code chunk} bytes
 * (64: a slow client, one line split over several reads; 65536: everything in one read). One op = 64 KiB.
 * Run with {@code scripts/bench-smtpd.sh}; never part of {@code mvn verify}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class CommandLineBench {
    /** A client's commands for one message to three recipients, as pipelined clients send them. */
    static final String COMMANDS = "EHLO client.example.org\r\n"
            + "MAIL FROM:<sender.name@client.example.org> SIZE=24576 BODY=8BITMIME\r\n"
            + "RCPT TO:<first.recipient@univ.es>\r\n"
            + "RCPT TO:<second.recipient@depart1.univ.es> NOTIFY=SUCCESS,FAILURE\r\n"
            + "RCPT TO:<third@depart2.univ.es>\r\n"
            + "DATA\r\n"
            + "RSET\r\n"
            + "NOOP\r\n";

    @Param({"64", "65536"})
    int chunk;

    private ByteBuf commands;
    private int commandLines;
    private EmbeddedChannel channel;

    @Setup(Level.Trial)
    public void setUp() throws Throwable {
        StringBuilder sb = new StringBuilder();
        while (sb.length() < 65536) {
            sb.append(COMMANDS);
        }
        byte[] bytes = sb.toString().getBytes(StandardCharsets.US_ASCII);
        commands = Unpooled.unreleasableBuffer(Unpooled.directBuffer(bytes.length).writeBytes(bytes));
        commandLines = (int) sb.chars().filter(ch -> ch == '\n').count();
        channel = new EmbeddedChannel((ChannelHandler) Decoders.NEW_LINE_DECODER.invokeExact(2048));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        channel.finishAndReleaseAll();
    }

    @Benchmark
    public int commandLines(Blackhole bh) {
        ByteBuf in = commands;
        int end = in.writerIndex();
        int lines = 0;
        for (int i = 0; i < end; i += chunk) {
            channel.writeInbound(in.retainedSlice(i, Math.min(chunk, end - i)));
            Object o;
            while ((o = channel.readInbound()) != null) {
                bh.consume(o);
                lines++;
            }
        }
        if (lines != commandLines) {
            throw new IllegalStateException("decoded " + lines + " lines, expected " + commandLines);
        }
        return lines;
    }
}
