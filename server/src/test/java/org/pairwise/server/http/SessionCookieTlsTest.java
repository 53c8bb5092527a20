package org.pairwise.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.SelfSignedCertificate;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.VertxExtension;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.pairwise.server.auth.Secrets;

/**
 * The session cookie is Secure when the request came over TLS and only then (a Secure cookie set over plain http
 * would never come back, and the session would be lost): Auth's cookie on a real HTTPS listener with a self-signed
 * certificate, and on a plain one. The pairwise server itself listens on plain http (TLS terminates in a proxy); a
 * deployment that serves TLS from Vert.x gets the flag without further settings.
 */
@ExtendWith(VertxExtension.class)
class SessionCookieTlsTest {
    @Test
    void theCookieIsSecureOverTlsAndNotOverPlainHttp(Vertx vertx) {
        String secret = Secrets.newSecret();
        Router router = Router.router(vertx);
        router.get("/").handler(ctx -> {
            Auth.setSession(ctx, secret, 60);
            ctx.response().end();
        });
        SelfSignedCertificate cert = SelfSignedCertificate.create("localhost");
        HttpServer tls = vertx.createHttpServer(new HttpServerOptions().setSsl(true).setHost("127.0.0.1")
                .setKeyCertOptions(cert.keyCertOptions())).requestHandler(router).listen(0).await();
        HttpServer plain = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1"))
                .requestHandler(router).listen(0).await();
        WebClient client = WebClient.create(vertx, new WebClientOptions().setSsl(true).setTrustAll(true)
                .setVerifyHost(false));
        try {
            var overTls = client.get(tls.actualPort(), "127.0.0.1", "/").send().await();
            assertEquals(200, overTls.statusCode());
            String tlsCookie = overTls.cookies().getFirst().toLowerCase(Locale.ROOT);
            assertTrue(tlsCookie.startsWith(Auth.SESSION_COOKIE + "=" + secret), tlsCookie);
            assertTrue(tlsCookie.contains("; secure") && tlsCookie.contains("; httponly")
                    && tlsCookie.contains("; samesite=strict"), tlsCookie);

            var overHttp = WebClient.create(vertx).get(plain.actualPort(), "127.0.0.1", "/").send().await();
            String httpCookie = overHttp.cookies().getFirst().toLowerCase(Locale.ROOT);
            assertFalse(httpCookie.contains("; secure"), httpCookie);
            assertTrue(httpCookie.contains("; httponly") && httpCookie.contains("; samesite=strict"), httpCookie);
        } finally {
            client.close();
            tls.close().await();
            plain.close().await();
        }
    }
}
