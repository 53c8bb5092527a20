package org.pairwise.server.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.json.JsonObject;

/**
 * Delivers a JsonObject to local consumers as the same object, where the default codec hands each consumer a deep
 * copy. For events that nobody modifies (a recorded vote, read by the SSE stream and the trainer), the copies were a
 * large share of the event loop's time per vote under load. Over the wire (a clustered bus) it is plain JSON.
 */
final class SharedJsonCodec implements MessageCodec<JsonObject, JsonObject> {
    static final String NAME = "pairwise.shared-json";

    /** Registers the codec on {@code bus} unless an earlier verticle instance already did. */
    static void register(EventBus bus) {
        try {
            bus.registerCodec(new SharedJsonCodec());
        } catch (IllegalStateException alreadyRegistered) {
            // one codec per bus is enough
        }
    }

    @Override
    public void encodeToWire(Buffer buffer, JsonObject o) {
        Buffer json = o.toBuffer();
        buffer.appendInt(json.length()).appendBuffer(json);
    }

    @Override
    public JsonObject decodeFromWire(int pos, Buffer buffer) {
        int length = buffer.getInt(pos);
        return new JsonObject(buffer.slice(pos + 4, pos + 4 + length));
    }

    @Override
    public JsonObject transform(JsonObject o) {
        return o;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public byte systemCodecID() {
        return -1;
    }
}
