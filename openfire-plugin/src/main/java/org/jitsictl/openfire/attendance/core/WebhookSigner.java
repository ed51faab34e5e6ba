package org.jitsictl.openfire.attendance.core;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Standard Webhooks signing (schema/README.md, "Signing"): base64 of HMAC-SHA256 under the
 * decoded {@code whsec_} key of {@code {webhook-id}.{webhook-timestamp}.{raw body}}.
 */
public final class WebhookSigner {
    public static final String SECRET_PREFIX = "whsec_";
    /** The contract asks for at least 24 random key bytes. */
    public static final int MIN_KEY_BYTES = 24;

    private final byte[] key;

    public WebhookSigner(String secret) {
        this.key = decodeSecret(secret);
    }

    /**
     * The key bytes of a {@code whsec_<base64>} secret.
     *
     * @throws IllegalArgumentException saying what is wrong with the secret (never echoing it)
     */
    public static byte[] decodeSecret(String secret) {
        if (secret == null || !secret.startsWith(SECRET_PREFIX)) {
            throw new IllegalArgumentException("must start with '" + SECRET_PREFIX + "' followed by base64 key bytes");
        }
        byte[] key;
        try {
            key = Base64.getDecoder().decode(secret.substring(SECRET_PREFIX.length()).trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the part after '" + SECRET_PREFIX + "' is not valid base64");
        }
        if (key.length < MIN_KEY_BYTES) {
            throw new IllegalArgumentException("the key has " + key.length + " bytes; at least " + MIN_KEY_BYTES + " are required");
        }
        return key;
    }

    /** The {@code webhook-signature} header value: {@code v1,<base64>}. */
    public String sign(String webhookId, long timestampSeconds, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update((webhookId + "." + timestampSeconds + ".").getBytes(StandardCharsets.UTF_8));
            return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }
}
