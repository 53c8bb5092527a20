package org.pairwise.server.http;

import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams what a blocking producer writes (an export, a zip) to a chunked response. The producer runs on the I/O
 * executor; its bytes cross to the event loop in 64 KiB chunks, at most {@value #IN_FLIGHT} of them unwritten at a
 * time, so memory stays bounded however large the output and however slow the client.
 */
final class BlockingStream extends OutputStream {
    private static final Logger LOG = LoggerFactory.getLogger(BlockingStream.class);
    private static final int CHUNK = 64 * 1024;
    private static final int IN_FLIGHT = 4;

    @FunctionalInterface
    interface Producer {
        void writeTo(OutputStream out) throws Exception;
    }

    private final HttpServerResponse resp;
    private final Context context;
    private final Semaphore permits = new Semaphore(IN_FLIGHT);
    private final byte[] buf = new byte[CHUNK];
    private int n;
    private volatile boolean gone;

    private BlockingStream(HttpServerResponse resp, Context context) {
        this.resp = resp;
        this.context = context;
    }

    static void pipe(RoutingContext ctx, Context context, Executor io, String contentType, String fileName,
                     Producer producer) {
        HttpServerResponse resp = ctx.response();
        BlockingStream out = new BlockingStream(resp, context);
        resp.closeHandler(v -> out.gone = true);
        resp.setChunked(true).putHeader("Content-Type", contentType)
                .putHeader("Content-Disposition", "attachment; filename=\"" + fileName + "\"");
        io.execute(() -> {
            try {
                producer.writeTo(out);
                out.flushChunk();
                context.runOnContext(v -> {
                    if (!resp.ended() && !resp.closed()) {
                        resp.end();
                    }
                });
            } catch (Exception e) {
                if (!out.gone) {
                    LOG.warn("stream for {} failed", ctx.request().path(), e);
                }
                context.runOnContext(v -> ctx.fail(e));  // the failure handler resets a stream already under way
            }
        });
    }

    @Override
    public void write(int b) throws IOException {
        if (n == CHUNK) {
            flushChunk();
        }
        buf[n++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            if (n == CHUNK) {
                flushChunk();
            }
            int k = Math.min(len, CHUNK - n);
            System.arraycopy(b, off, buf, n, k);
            n += k;
            off += k;
            len -= k;
        }
    }

    private void flushChunk() throws IOException {
        if (n == 0) {
            return;
        }
        try {
            while (!permits.tryAcquire(1, TimeUnit.SECONDS)) {
                if (gone) {
                    break;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (gone) {
            throw new IOException("the client closed the connection");
        }
        Buffer chunk = Buffer.buffer(Arrays.copyOf(buf, n));
        n = 0;
        context.runOnContext(v -> {
            if (resp.closed()) {
                permits.release();
                return;
            }
            resp.write(chunk).onComplete(ar -> permits.release());
        });
    }
}
