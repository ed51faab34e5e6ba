package org.jitsictl.openfire.attendance.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The identity read from a verified token: claim paths, blank claims, mod_jitsi's quirks, moderators. */
class IdentityTest {
    /** What Moodle's mod_jitsi v5.3 signs (classes/local/session.php; ARCHITECTURE.md section 10). */
    private static final String MOD_JITSI = """
            {"context":{"user":{"affiliation":"member","avatar":"https://moodle.example/pic.php",
            "name":"Beatriz O\\\\'Neil","email":null,"id":"","moderator":false},"group":""},
            "aud":"jitsi","iss":"moodle-app","sub":"meet.jitsi","room":"mat-1a7algebra","exp":4102444800,"moderator":false}
            """;

    private static Map<String, Object> identity(String payload) {
        return identity(payload, IdentityRules.DEFAULTS);
    }

    private static Map<String, Object> identity(String payload, IdentityRules rules) {
        return JwtIdentity.identity(Json.readObject(payload), List.of("courseid"), rules);
    }

    private static IdentityRules trusting(String... affiliations) {
        IdentityRules d = IdentityRules.DEFAULTS;
        return new IdentityRules(d.userId(), d.email(), d.name(), d.group(), Set.of(affiliations));
    }

    @Test
    void stockModJitsiTokenGivesTheUnescapedNameAndTheIssuerOnly() {
        assertEquals(Map.of("name", "Beatriz O'Neil", "issuer", "moodle-app", "moderator", false), identity(MOD_JITSI));
    }

    @Test
    void blankStringsNullsObjectsAndArraysAreAbsent() {
        assertEquals(Map.of("name", "Ann", "issuer", "i"), identity("""
                {"iss":"i","context":{"user":{"id":"  ","email":"\\t","name":"Ann"},"group":" "}}"""));
        assertNull(identity("{\"iss\":\"\",\"context\":{\"user\":{\"id\":\"\",\"name\":\"\",\"email\":\"\"}}}"));
        assertEquals(Map.of("user_id", "42", "issuer", "i"), identity("""
                {"iss":"i","context":{"user":{"id":42,"name":{"first":"A"},"email":["a@b.c"]}}}"""));
    }

    @Test
    void everyEscapedQuoteOfTheNameIsUndoneAndNothingElse() {
        Map<String, Object> found = identity("{\"context\":{\"user\":{\"id\":\"d\\\\'1\",\"name\":\"D\\\\'Arcy O\\\\'Brien\"}}}");
        assertEquals("D'Arcy O'Brien", found.get("name"));
        assertEquals("d\\'1", found.get("user_id"));
    }

    @Test
    void fieldsAreReadAtTheConfiguredPaths() {
        String payload = """
                {"iss":"lms","sub":"s-7","person":{"mail":"p@x.example","display":"Paul"},
                "context":{"user":{"id":"ignored","name":"ignored"},"group":"g"}}""";
        IdentityRules rules = new IdentityRules(IdentityRules.parsePath("sub"), IdentityRules.parsePath("person.mail"),
                IdentityRules.parsePath("person.display"), IdentityRules.parsePath("person.group"), Set.of());
        assertEquals(Map.of("user_id", "s-7", "email", "p@x.example", "name", "Paul", "issuer", "lms"),
                identity(payload, rules));
        IdentityRules throughText = new IdentityRules(IdentityRules.parsePath("sub.x"), IdentityRules.parsePath("iss.x"),
                IdentityRules.DEFAULTS.name(), IdentityRules.DEFAULTS.group(), Set.of());
        assertEquals(Map.of("issuer", "lms", "name", "ignored", "group", "g"), identity(payload, throughText));
    }

    @Test
    void theIssuerIsCutToTheSchemasLength() {
        String issuer = "é".repeat(300);
        assertEquals("é".repeat(255), identity("{\"iss\":\"" + issuer + "\",\"context\":{\"user\":{\"name\":\"A\"}}}").get("issuer"));
    }

    @Test
    void moderatorFromContextUserOrTheTopLevelClaim() {
        assertEquals(true, identity("{\"context\":{\"user\":{\"moderator\":\"true\"}}}").get("moderator"));
        assertEquals(true, identity("{\"context\":{\"user\":{\"moderator\":true}}}").get("moderator"));
        assertEquals(false, identity("{\"context\":{\"user\":{\"moderator\":\"no\"}}}").get("moderator"));
        // mod_jitsi before v4.3: only the top-level claim.
        assertEquals(true, identity("{\"moderator\":true,\"context\":{\"user\":{\"name\":\"T\",\"affiliation\":\"owner\"}}}")
                .get("moderator"));
        assertEquals(false, identity("{\"moderator\":false,\"context\":{\"user\":{\"name\":\"S\"}}}").get("moderator"));
        assertEquals(true, identity("{\"moderator\":false,\"context\":{\"user\":{\"moderator\":true}}}").get("moderator"));
        assertEquals(true, identity("{\"moderator\":true,\"context\":{\"user\":{\"moderator\":false}}}").get("moderator"));
        assertFalse(identity("{\"moderator\":null,\"context\":{\"user\":{\"name\":\"A\",\"moderator\":null}}}")
                .containsKey("moderator"));
    }

    @Test
    void theAffiliationCountsOnlyWhenTrusted() {
        // mod_jitsi signs the affiliation from a URL parameter the student can change.
        String forged = "{\"moderator\":false,\"context\":{\"user\":{\"affiliation\":\"owner\",\"moderator\":false}}}";
        assertEquals(false, identity(forged).get("moderator"));
        assertFalse(identity("{\"context\":{\"user\":{\"name\":\"S\",\"affiliation\":\"owner\"}}}").containsKey("moderator"));
        IdentityRules rules = trusting("owner", "moderator");
        assertEquals(true, identity(forged, rules).get("moderator"));
        assertEquals(true, identity("{\"context\":{\"user\":{\"affiliation\":\"moderator\"}}}", rules).get("moderator"));
        assertEquals(false, identity("{\"context\":{\"user\":{\"affiliation\":\"member\"}}}", rules).get("moderator"));
    }

    @Test
    void claimPathsAndTrustedAffiliationsAreSettings() {
        Map<String, String> properties = new HashMap<>();
        List<String> problems = new ArrayList<>();
        SettingsHolder holder = new SettingsHolder(properties::get, problems::add);
        assertEquals(IdentityRules.DEFAULTS, holder.get().identityRules);
        assertEquals(List.of("context", "user", "id"), holder.get().identityRules.userId());
        assertEquals(Set.of(), holder.get().identityRules.trustedAffiliations());

        properties.put(Settings.USER_ID_CLAIM, "lms.person.number");
        properties.put(Settings.TRUSTED_AFFILIATIONS, "owner, teacher");
        IdentityRules rules = holder.refresh().identityRules;
        assertEquals(List.of("lms", "person", "number"), rules.userId());
        assertEquals(Set.of("owner", "teacher"), rules.trustedAffiliations());
        assertTrue(problems.isEmpty(), problems.toString());
    }

    @Test
    void aBadClaimPathIsReportedByNameAndTheLastGoodOneKept() {
        Map<String, String> properties = new HashMap<>();
        List<String> problems = new ArrayList<>();
        properties.put(Settings.USER_ID_CLAIM, "lms.id");
        SettingsHolder holder = new SettingsHolder(properties::get, problems::add);
        for (String bad : List.of("context..id", ".id", "context.user.", "context.user id")) {
            properties.put(Settings.USER_ID_CLAIM, bad);
            assertEquals(List.of("lms", "id"), holder.refresh().identityRules.userId(), bad);
            String problem = problems.get(problems.size() - 1);
            assertTrue(problem.startsWith("Openfire system property attendance.claim.user.id = '" + bad
                    + "' is not a dot path into the token"), problem);
        }
        assertTrue(problems.get(0).contains("has an empty claim name"), problems.get(0));
        assertTrue(problems.get(3).contains("has a space in a claim name"), problems.get(3));
        assertThrows(IllegalArgumentException.class, () -> IdentityRules.parsePath(""));
    }
}
