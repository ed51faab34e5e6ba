package org.jitsictl.openfire.attendance.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Where a token's identity is read, and who counts as a moderator.
 *
 * <p>The user id, e-mail, name and group are dot paths into the token's payload; the defaults
 * are where Jitsi and Moodle's mod_jitsi put them, so an LMS that signs its ids elsewhere only
 * changes a setting. Moderators are told the way Prosody's {@code mod_token_moderators} (in this
 * repository) tells them: {@code context.user.moderator} or the top-level {@code moderator} (all
 * mod_jitsi had before v4.3), and {@code context.user.affiliation} only when it is one of
 * {@code trustedAffiliations}: mod_jitsi signs the affiliation from a URL parameter a student can
 * change, so by default none is trusted.
 *
 * @param userId              path of the user id, e.g. {@code [context, user, id]}
 * @param email               path of the e-mail
 * @param name                path of the name the LMS signed (never the nick the user typed)
 * @param group               path of the group
 * @param trustedAffiliations affiliations that make a moderator; empty: the affiliation is ignored
 */
public record IdentityRules(List<String> userId, List<String> email, List<String> name, List<String> group,
                            Set<String> trustedAffiliations) {
    public static final String DEFAULT_USER_ID = "context.user.id";
    public static final String DEFAULT_EMAIL = "context.user.email";
    public static final String DEFAULT_NAME = "context.user.name";
    public static final String DEFAULT_GROUP = "context.group";

    public static final IdentityRules DEFAULTS = new IdentityRules(parsePath(DEFAULT_USER_ID),
            parsePath(DEFAULT_EMAIL), parsePath(DEFAULT_NAME), parsePath(DEFAULT_GROUP), Set.of());

    public IdentityRules {
        userId = List.copyOf(userId);
        email = List.copyOf(email);
        name = List.copyOf(name);
        group = List.copyOf(group);
        trustedAffiliations = Set.copyOf(trustedAffiliations);
    }

    /**
     * A dot path ({@code context.user.id}) as its claim names.
     *
     * @throws IllegalArgumentException saying what is wrong with it, as Settings reports it
     */
    public static List<String> parsePath(String text) {
        if (text.isEmpty()) {
            throw new IllegalArgumentException("is empty");
        }
        List<String> path = new ArrayList<>();
        for (String name : text.split("\\.", -1)) {
            if (name.isEmpty()) {
                throw new IllegalArgumentException("has an empty claim name (two dots, or a dot at an end)");
            }
            if (name.chars().anyMatch(Character::isWhitespace)) {
                throw new IllegalArgumentException("has a space in a claim name");
            }
            path.add(name);
        }
        return List.copyOf(path);
    }

    /** The path written back as text. */
    public static String pathText(List<String> path) {
        return String.join(".", path);
    }
}
