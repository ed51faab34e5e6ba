package org.jitsictl.openfire.attendance.core;

/**
 * The contract's string limits ({@code schema/attendance-event.v1.json}, {@code maxLength},
 * counted in code points). Longer text is cut, as the Prosody module cuts it: the receiver refuses
 * an event over a limit, and a refused event ends in the dead-letter store, so a long nick someone
 * typed would otherwise cost them their join.
 */
final class SchemaLimits {
    /** Names, nicks, ids, groups, room names. */
    static final int TEXT = 1023;
    static final int EMAIL = 320;
    static final int ISSUER = 255;

    private SchemaLimits() {
    }

    /** {@code text} cut to at most {@code max} code points; null stays null. */
    static String clip(String text, int max) {
        if (text == null || text.length() <= max || text.codePointCount(0, text.length()) <= max) {
            return text;
        }
        return text.substring(0, text.offsetByCodePoints(0, max));
    }
}
