package org.jitsictl.openfire.attendance.core;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The contract's {@code identity} object from a Jitsi JWT, only after verifying it.
 *
 * <p>Openfire has no equivalent of Jitsi's Prosody {@code mod_auth_token}, so the plugin never
 * trusts a token it did not verify itself: HS256 only (other algorithms, {@code none} included,
 * are rejected), the signature checked in constant time with {@code attendance.jwt.secret},
 * {@code exp}/{@code nbf} honoured with one minute of leeway. Fields are read where
 * {@link IdentityRules} says (by default Jitsi's {@code context.user.id/name/email},
 * {@code context.group}); custom top-level claims pass only when allow-listed and scalar. Values
 * that would break the contract (an email without exactly one {@code @}, an empty id) are left
 * out rather than sent.
 */
public final class JwtIdentity {
    private static final long LEEWAY_SECONDS = 60;
    private static final Pattern EMAIL = Pattern.compile("[^@\\s]+@[^@\\s]+");
    private static final List<String> CONTEXT_USER_MODERATOR = List.of("context", "user", "moderator");
    private static final List<String> CONTEXT_USER_AFFILIATION = List.of("context", "user", "affiliation");

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

    /**
     * The contract's identity object; null when the payload names nobody.
     *
     * <p>Fields are read at the paths of {@code rules}; a blank string (mod_jitsi signs
     * {@code "id": ""}), JSON null, an object or an array counts as absent; numbers are written
     * as text. mod_jitsi escapes {@code '} as {@code \'} in the name it signs; that is undone.
     * The issuer is the token's {@code iss}: the receiver scopes signed names to it.
     */
    public static Map<String, Object> identity(Map<String, Object> payload, List<String> allowedClaims,
                                               IdentityRules rules) {
        Map<String, Object> identity = new LinkedHashMap<>();
        String id = SchemaLimits.clip(given(at(payload, rules.userId())), SchemaLimits.TEXT);
        if (id != null) {
            identity.put("user_id", id);
        }
        String name = given(at(payload, rules.name()));
        if (name != null) {
            identity.put("name", SchemaLimits.clip(name.replace("\\'", "'"), SchemaLimits.TEXT));
        }
        String email = SchemaLimits.clip(given(at(payload, rules.email())), SchemaLimits.EMAIL);
        if (email != null && EMAIL.matcher(email).matches()) {
            identity.put("email", email);
        }
        String issuer = given(payload.get("iss"));
        if (issuer != null) {
            identity.put("issuer", SchemaLimits.clip(issuer, SchemaLimits.ISSUER));
        }
        Boolean moderator = moderator(payload, rules.trustedAffiliations());
        if (moderator != null) {
            identity.put("moderator", moderator);
        }
        String group = SchemaLimits.clip(given(at(payload, rules.group())), SchemaLimits.TEXT);
        if (group != null) {
            identity.put("group", group);
        }
        Map<String, Object> claims = new LinkedHashMap<>();
        for (String claim : allowedClaims) {
            Object value = payload.get(claim);
            if (value instanceof String || value instanceof Number || value instanceof Boolean) {
                claims.put(claim, value);
            }
        }
        if (!claims.isEmpty()) {
            identity.put("claims", claims);
        }
        return identity.isEmpty() ? null : identity;
    }

    /** What the payload holds at {@code path}, or null when something on the way is no object. */
    static Object at(Map<String, Object> payload, List<String> path) {
        Object value = payload;
        for (String name : path) {
            if (!(value instanceof Map<?, ?> object)) {
                return null;
            }
            value = object.get(name);
        }
        return value;
    }

    /** A claim as text: numbers written out, strings unless blank; null for anything else. */
    private static String given(Object value) {
        if (value instanceof Number) {
            return String.valueOf(value);
        }
        if (value instanceof String text && !isBlank(text)) {
            return text;
        }
        return null;
    }

    /** Blank as the Prosody module sees it: only ASCII spaces, tabs and line breaks. */
    private static boolean isBlank(String text) {
        return text.chars().allMatch(c -> c == ' ' || (c >= '\t' && c <= '\r'));
    }

    /**
     * True when {@code context.user.moderator} or the top-level {@code moderator} is true (or
     * "true"), or the affiliation is a trusted one; null when none of them is there to say.
     */
    private static Boolean moderator(Map<String, Object> payload, Set<String> trustedAffiliations) {
        Boolean inUser = says(at(payload, CONTEXT_USER_MODERATOR));
        Boolean atTop = says(payload.get("moderator"));
        Boolean byAffiliation = null;
        if (!trustedAffiliations.isEmpty() && at(payload, CONTEXT_USER_AFFILIATION) instanceof String affiliation) {
            byAffiliation = trustedAffiliations.contains(affiliation);
        }
        if (inUser == null && atTop == null && byAffiliation == null) {
            return null;
        }
        return Boolean.TRUE.equals(inUser) || Boolean.TRUE.equals(atTop) || Boolean.TRUE.equals(byAffiliation);
    }

    private static Boolean says(Object value) {
        if (value instanceof Boolean yes) {
            return yes;
        }
        if (value instanceof String text) {
            return text.equals("true");
        }
        return null;
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
