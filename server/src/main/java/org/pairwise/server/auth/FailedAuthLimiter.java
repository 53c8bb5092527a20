package org.pairwise.server.auth;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Failed authentications per client, as a token bucket: {@code perMinute} failures at once, then one more every
 * {@code 60 / perMinute} seconds. While a client's bucket is empty every credential it presents is refused unchecked
 * (429 with Retry-After); checking them would still answer a guess, right or wrong. Memory is bounded: at most
 * {@code maxClients} buckets, the longest-idle dropped first (a dropped bucket is as if full: the client may fail
 * {@code perMinute} more times, no more). Thread-safe.
 */
public final class FailedAuthLimiter {
    private static final long MINUTE_NANOS = 60_000_000_000L;

    private static final class Bucket {
        double tokens;
        long updated;
    }

    private final int perMinute;
    private final LongSupplier nanoClock;
    private final Map<String, Bucket> buckets;

    public FailedAuthLimiter(int perMinute, int maxClients, LongSupplier nanoClock) {
        if (perMinute < 1 || maxClients < 1) {
            throw new IllegalArgumentException("perMinute and maxClients must be >= 1");
        }
        this.perMinute = perMinute;
        this.nanoClock = nanoClock;
        this.buckets = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
                return size() > maxClients;
            }
        };
    }

    /** Seconds until {@code client} may present a credential again; 0 when it may now. */
    public synchronized long retryAfterSeconds(String client) {
        Bucket b = buckets.get(client);
        if (b == null) {
            return 0;
        }
        refill(b);
        if (b.tokens >= 1) {
            return 0;
        }
        double nanosPerToken = (double) MINUTE_NANOS / perMinute;
        // Less a nanosecond: 2 s computed as 2.0000000001 is still 2.
        return Math.max(1, (long) Math.ceil(((1 - b.tokens) * nanosPerToken - 1) / 1e9));
    }

    /** Records one failed authentication of {@code client}. */
    public synchronized void failed(String client) {
        Bucket b = buckets.get(client);
        if (b == null) {
            b = new Bucket();
            b.tokens = perMinute;
            b.updated = nanoClock.getAsLong();
            buckets.put(client, b);
        }
        refill(b);
        b.tokens = Math.max(0, b.tokens - 1);
    }

    /** Clients with a bucket now (for tests of the bound). */
    public synchronized int tracked() {
        return buckets.size();
    }

    private void refill(Bucket b) {
        long now = nanoClock.getAsLong();
        b.tokens = Math.min(perMinute, b.tokens + (now - b.updated) * (double) perMinute / MINUTE_NANOS);
        b.updated = now;
    }

    /**
     * The client an address stands for: the address itself, or for IPv6 its /64 network, which one machine usually
     * holds whole (counting each of its addresses apart would give it 2^64 buckets).
     */
    public static String clientOf(String address) {
        if (address == null) {
            return "?";
        }
        if (address.indexOf(':') < 0) {
            return address;
        }
        try {
            byte[] a = java.net.InetAddress.getByName(address).getAddress();
            if (a.length != 16) {
                return address;
            }
            return java.util.HexFormat.of().formatHex(a, 0, 8) + "::/64";
        } catch (java.net.UnknownHostException e) {
            return address;
        }
    }
}
