package org.djlparity.notebook;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A notebook variable's value as plain arrays, when it is one of the text pipeline's kinds the
 * port computes too: the text's lines ({@code String[]}), tokens ({@code String[][]}), a
 * vocabulary (any object with public {@code idxToToken} and {@code tokenFreqs} lists, fields as
 * the book's {@code Vocab} has them or getters of those names), or a list of integers or of
 * strings (a corpus). Anything else: null.
 */
public final class DataValues {

    private DataValues() {}

    /**
     * One value: its kind, its strings, the lengths that split them, its integers. For strings, the
     * integers are the positions of the empty strings that are not the literal {@code ""} (the
     * book's counting keeps those: it skips a token only when it is the literal).
     */
    public static final class Value {
        public final String kind;
        public final String[] strings;
        public final int[] lengths;
        public final int[] ints;

        Value(String kind, String[] strings, int[] lengths, int[] ints) {
            this.kind = kind;
            this.strings = strings;
            this.lengths = lengths;
            this.ints = ints;
        }
    }

    /** The value of {@code v} as one of the kinds above, or null. */
    public static Value of(Object v) throws IllegalAccessException {
        if (v instanceof String[]) {
            return new Value("lines", (String[]) v, new int[0], counted((String[]) v));
        }
        if (v instanceof String[][]) {
            return tokens((String[][]) v);
        }
        if (v instanceof List) {
            return list((List<?>) v);
        }
        return v == null ? null : vocab(v);
    }

    private static Value tokens(String[][] rows) {
        List<String> flat = new ArrayList<>();
        int[] lengths = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            String[] row = rows[i] == null ? new String[0] : rows[i];
            lengths[i] = row.length;
            flat.addAll(List.of(row));
        }
        String[] strings = flat.toArray(new String[0]);
        return new Value("tokens", strings, lengths, counted(strings));
    }

    /** The positions of the empty strings that are not the literal. */
    @SuppressWarnings("StringEquality")
    private static int[] counted(String[] strings) {
        List<Integer> at = new ArrayList<>();
        for (int i = 0; i < strings.length; i++) {
            if (strings[i] != null && strings[i].isEmpty() && strings[i] != "") {
                at.add(i);
            }
        }
        return at.stream().mapToInt(Integer::intValue).toArray();
    }

    private static Value list(List<?> items) {
        if (items.isEmpty()) {
            return null;
        }
        if (items.stream().allMatch(x -> x instanceof Integer)) {
            return new Value("ints", new String[0], new int[0], items.stream().mapToInt(x -> (Integer) x).toArray());
        }
        if (items.stream().allMatch(x -> x instanceof String)) {
            String[] strings = items.toArray(new String[0]);
            return new Value("words", strings, new int[0], counted(strings));
        }
        return null;
    }

    private static Value vocab(Object v) throws IllegalAccessException {
        Object tokens = publicField(v, "idxToToken");
        Object freqs = publicField(v, "tokenFreqs");
        if (!(tokens instanceof List) || !(freqs instanceof List)) {
            return null;
        }
        List<String> strings = new ArrayList<>();
        for (Object t : (List<?>) tokens) {
            strings.add(String.valueOf(t));
        }
        List<?> pairs = (List<?>) freqs;
        int[] counts = new int[pairs.size()];
        for (int i = 0; i < counts.length; i++) {
            Map.Entry<?, ?> e = (Map.Entry<?, ?>) pairs.get(i);
            strings.add(String.valueOf(e.getKey()));
            counts[i] = ((Number) e.getValue()).intValue();
        }
        return new Value("vocab", strings.toArray(new String[0]), new int[] {((List<?>) tokens).size()}, counts);
    }

    /** A public field of that name, or else a public method of that name with no arguments; null if neither. */
    private static Object publicField(Object v, String name) throws IllegalAccessException {
        try {
            Field f = v.getClass().getField(name);
            return f.get(v);
        } catch (NoSuchFieldException e) {
            try {
                return v.getClass().getMethod(name).invoke(v);
            } catch (NoSuchMethodException | java.lang.reflect.InvocationTargetException e2) {
                return null;
            }
        }
    }
}
