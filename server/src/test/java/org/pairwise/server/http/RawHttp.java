package org.pairwise.server.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** Requests written byte by byte on a socket of their own, for what an HTTP client library will not send. */
final class RawHttp {
    private RawHttp() {}

    /** Sends {@code request} on a new connection and reads until the server closes it or {@code timeoutMs}. */
    static String exchange(int port, String request, int timeoutMs) throws IOException {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(timeoutMs);
            s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            return readAll(s.getInputStream());
        }
    }

    static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            for (int n; (n = in.read(buf)) >= 0; ) {
                out.write(buf, 0, n);
            }
        } catch (SocketTimeoutException e) {
            // what arrived so far is the answer
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    static int status(String response) {
        var m = java.util.regex.Pattern.compile("^HTTP/\\d\\.\\d (\\d{3})").matcher(response);
        return m.find() ? Integer.parseInt(m.group(1)) : -1;
    }

    static String body(String response) {
        int cut = response.indexOf("\r\n\r\n");
        return cut < 0 ? "" : response.substring(cut + 4);
    }
}
