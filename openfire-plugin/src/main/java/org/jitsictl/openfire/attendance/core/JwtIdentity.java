package org.jitsictl.openfire.attendance.core;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The contract's {@code identity} object from a Jitsi JWT, only after verifying it.
 *
 * <p>Openfire has no equivalent of Jitsi's Prosody {@code mod_auth_token}, so the plugin never
 * trusts a token it did not verify itself: HS256 only (other algorithms, {@code none} included,
 * are rejected), the signature checked in constant time with {@code attendance.jwt.secret},
 * {@code exp}/{@code nbf} honoured with one minute of leeway. Fields follow Jitsi's claims
 * ({@code context.user.id/name/email/moderator}, {@code context.group}); custom top-level
 * claims pass only when allow-listed and scalar. Values that would break the contract (an
 * email without exactly one {@code @}, an empty id) are left out rather than sent.
 */
public final class JwtIdentity {
    private static final long LEEWAY_SECONDS = 60;
    private static final Pattern EMAIL = Pattern.compile("[^@\\s]+@[^@\\s]+");

    private JwtIdentity() {
    }

    /** Why a token was refused; the message never contains the token. */
    public static final class InvalidToken extends Exception {
        public InvalidToken(String message) {
            super(message);
        }
    }

    /** The verified payload of an HS256 token. */
    public static Map<String, Object> verify(String token, String secret, long nowEpochSeconds) throws InvalidToken {
        if (token == null || secret == null) {
            throw new InvalidToken("no token or no secret");
        }
        String[] parts = token.trim().split("\\.", -1);
        if (parts.length != 3) {
            throw new InvalidToken("not a JWS compact token (expected three dot-separated parts)");
        }
        Map<String, Object> header = decodePart(parts[0], "header");
        if (!"HS256".equals(header.get("alg"))) {
            throw new InvalidToken("algorithm " + header.get("alg") + " is not accepted (HS256 only)");
        }
        byte[] expected = hmac(secret, parts[0] + "." + parts[1]);
        byte[] actual;
        try {
            actual = Base64.getUrlDecoder().decode(parts[2]);
        } catch (IllegalArgumentException e) {
            throw new InvalidToken("signature is not base64url");
        }
        if (!MessageDigest.isEqual(expected, actual)) {
            throw new InvalidToken("signature does not match attendance.jwt.secret");
        }
        Map<String, Object> payload = decodePart(parts[1], "payload");
        if (payload.get("exp") instanceof Number exp && nowEpochSeconds > exp.longValue() + LEEWAY_SECONDS) {
            throw new InvalidToken("token expired");
        }
        if (payload.get("nbf") instanceof Number nbf && nowEpochSeconds + LEEWAY_SECONDS < nbf.longValue()) {
            throw new InvalidToken("token not yet valid");
        }
        return payload;
    }

    /** HS256 signing, used by tests and by tools that mint tokens for a deployment. */
    public static String sign(Map<String, Object> payload, String secret) {
        Base64.Encoder enc = Base64.getUrlEncoder().withoutPadding();
        String head = enc.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
        String body = enc.encodeToString(Json.write(payload).getBytes(StandardCharsets.UTF_8));
        return head + "." + body + "." + enc.encodeToString(hmac(secret, head + "." + body));
    }

    /** The contract's identity object; null when the payload names nobody. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> identity(Map<String, Object> payload, List<String> allowedClaims) {
        Map<String, Object> identity = new LinkedHashMap<>();
        Map<String, Object> context = payload.get("context") instanceof Map<?, ?> c ? (Map<String, Object>) c : Map.of();
        Map<String, Object> user = context.get("user") instanceof Map<?, ?> u ? (Map<String, Object>) u : Map.of();
        Object id = user.get("id");
        if ((id instanceof String || id instanceof Number) && !String.valueOf(id).isEmpty()) {
            identity.put("user_id", String.valueOf(id));
        }
        if (user.get("name") instanceof String name) {
            identity.put("name", name);
        }
        if (user.get("email") instanceof String email && EMAIL.matcher(email).matches()) {
            identity.put("email", email);
        }
        if (user.containsKey("moderator")) {
            Object moderator = user.get("moderator");
            identity.put("moderator", Boolean.TRUE.equals(moderator) || "true".equals(moderator));
        }
        if (context.get("group") instanceof String group) {
            identity.put("group", group);
        }
        Map<String, Object> claims = new LinkedHashMap<>();
        for (String name : allowedClaims) {
            Object value = payload.get(name);
            if (value instanceof String || value instanceof Number || value instanceof Boolean) {
                claims.put(name, value);
            }
        }
        if (!claims.isEmpty()) {
            identity.put("claims", claims);
        }
        return identity.isEmpty() ? null : identity;
    }

    private static Map<String, Object> decodePart(String part, String what) throws InvalidToken {
        try {
            String text = new String(Base64.getUrlDecoder().decode(part), StandardCharsets.UTF_8);
            return Json.readObject(text);
        } catch (IllegalArgumentException e) {
            throw new InvalidToken("the " + what + " is not base64url JSON");
        }
    }

    private static byte[] hmac(String secret, String signingInput) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return mac.doFinal(signingInput.getBytes(StandardCharsets.US_ASCII));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }
}
