package org.estafeta.smtpd.bench;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.List;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;

/**
 * Method handles on smtpd's package-private decoders, made once, so the benchmarks call them directly from this
 * package: {@code new SmtpLineDecoder(int lineLengthLimit)}, {@code new ContentDecoder(boolean detectBareLf,
 * long sizeLimit)} and {@code ContentDecoder.data(ByteBuf, List<Object>)}. When smtpd changes these shapes,
 * class initialization fails with a message that says so.
 */
final class Decoders {
    static final MethodHandle NEW_LINE_DECODER;
    static final MethodHandle NEW_CONTENT_DECODER;
    static final MethodHandle CONTENT_DATA;

    static {
        try {
            Class<?> lineDecoder = Class.forName("org.estafeta.smtpd.SmtpLineDecoder");
            Class<?> contentDecoder = Class.forName("org.estafeta.smtpd.ContentDecoder");
            MethodHandles.Lookup l = MethodHandles.privateLookupIn(lineDecoder, MethodHandles.lookup());
            NEW_LINE_DECODER = l.findConstructor(lineDecoder, MethodType.methodType(void.class, int.class))
                    .asType(MethodType.methodType(ChannelHandler.class, int.class));
            MethodHandles.Lookup c = MethodHandles.privateLookupIn(contentDecoder, MethodHandles.lookup());
            NEW_CONTENT_DECODER = c.findConstructor(contentDecoder, MethodType.methodType(void.class, boolean.class, long.class))
                    .asType(MethodType.methodType(Object.class, boolean.class, long.class));
            CONTENT_DATA = c.findVirtual(contentDecoder, "data", MethodType.methodType(boolean.class, ByteBuf.class, List.class))
                    .asType(MethodType.methodType(boolean.class, Object.class, ByteBuf.class, List.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError("the smtpd decoders changed shape; adapt the bench: " + e);
        }
    }

    private Decoders() {
    }
}
