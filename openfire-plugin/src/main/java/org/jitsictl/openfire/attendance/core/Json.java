package org.jitsictl.openfire.attendance.core;

import java.util.Map;
import org.json.JSONException;
import org.json.JSONObject;
import org.json.JSONStringer;
import org.json.JSONTokener;
import org.json.JSONWriter;

/**
 * JSON through org.json, the library Openfire 5 ships ({@code lib/json-20231013.jar}).
 *
 * <p>Writing goes through {@link JSONWriter}, which keeps the order the maps give (the
 * contract's field order, where {@link JSONObject} would scramble it) and escapes control
 * characters and U+2028/U+2029, so one serialised event never contains a raw line break (the
 * spool relies on one event per line). Other non-ASCII text stays as it is: UTF-8 on the wire.
 * Reading yields plain maps, lists, strings, numbers, booleans and null.
 */
public final class Json {
    private Json() {
    }

    /** One JSON text for a value made of maps, iterables, strings, numbers, booleans and null. */
    public static String write(Object value) {
        JSONStringer out = new JSONStringer();
        try {
            write(value, out);
        } catch (JSONException e) {
            throw new IllegalArgumentException("cannot write as JSON: " + e.getMessage(), e);
        }
        return out.toString();
    }

    private static void write(Object value, JSONWriter out) {
        if (value instanceof Map<?, ?> map) {
            out.object();
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                out.key(String.valueOf(entry.getKey()));
                write(entry.getValue(), out);
            }
            out.endObject();
        } else if (value instanceof Iterable<?> list) {
            out.array();
            for (Object item : list) {
                write(item, out);
            }
            out.endArray();
        } else if (value == null || value instanceof String || value instanceof Boolean || value instanceof Number) {
            out.value(value);
        } else {
            throw new IllegalArgumentException("cannot write " + value.getClass().getName() + " as JSON");
        }
    }

    /**
     * Parses a JSON object, or fails with an {@link IllegalArgumentException} saying where.
     * Text after the object is refused too (org.json alone would ignore it).
     */
    public static Map<String, Object> readObject(String text) {
        try {
            JSONTokener tokener = new JSONTokener(text);
            JSONObject object = new JSONObject(tokener);
            if (tokener.nextClean() != 0) {
                throw tokener.syntaxError("unexpected text after the JSON object");
            }
            return object.toMap();
        } catch (JSONException e) {
            throw new IllegalArgumentException("invalid JSON: " + e.getMessage(), e);
        }
    }
}
