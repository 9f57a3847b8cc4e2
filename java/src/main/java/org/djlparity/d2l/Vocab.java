package org.djlparity.d2l;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Token vocabulary of the D2L notebooks (docs/notebook.md, "Text and vocabulary").
 *
 * <p>Index 0 is {@code <unk>}, then the reserved tokens, then every counted token with
 * frequency {@code >= minFreq}, in descending frequency order (stable: ties keep first-seen
 * order).
 */
public class Vocab {

    private final List<String> idxToToken = new ArrayList<>();
    private final Map<String, Integer> tokenToIdx = new HashMap<>();
    private final List<String> freqTokens = new ArrayList<>();
    private final List<Integer> freqCounts = new ArrayList<>();

    public Vocab(List<List<String>> tokens, int minFreq, String[] reservedTokens) {
        Map<String, Integer> counter = countCorpus2D(tokens);
        List<Map.Entry<String, Integer>> sorted = new ArrayList<>(counter.entrySet());
        // List.sort is a stable merge sort: equal counts keep their first-seen order.
        sorted.sort((a, b) -> Integer.compare(b.getValue(), a.getValue()));
        for (Map.Entry<String, Integer> e : sorted) {
            freqTokens.add(e.getKey());
            freqCounts.add(e.getValue());
        }
        add("<unk>");
        if (reservedTokens != null) {
            for (String t : reservedTokens) {
                add(t);
            }
        }
        for (Map.Entry<String, Integer> e : sorted) {
            if (e.getValue() < minFreq) {
                break; // sorted descending: nothing later qualifies either
            }
            add(e.getKey());
        }
    }

    private void add(String token) {
        if (!tokenToIdx.containsKey(token)) {
            idxToToken.add(token);
            tokenToIdx.put(token, idxToToken.size() - 1);
        }
    }

    /**
     * Counts tokens in first-seen order.
     *
     * <p>QUIRK kept on purpose (docs/notebook.md, "Text and vocabulary"): a token is skipped only when it is
     * the very same object as the interned literal {@code ""} (reference comparison, not {@code
     * isEmpty()}). A line that became empty through cleaning ends up as the interned {@code ""}
     * ({@code trim()} of an all-blank string returns the literal) and {@code "".split("")} hands
     * that same object back, so it is skipped; a line that was already empty in the file is a
     * fresh empty String made by {@code BufferedReader}, survives cleaning as that same object,
     * and IS counted. The resulting vocabulary therefore contains {@code ""}.
     */
    @SuppressWarnings("StringEquality")
    static Map<String, Integer> countCorpus2D(List<List<String>> tokens) {
        Map<String, Integer> counter = new LinkedHashMap<>();
        for (List<String> line : tokens) {
            for (String token : line) {
                if (token != "") { // reference comparison, deliberately (see above)
                    counter.merge(token, 1, Integer::sum);
                }
            }
        }
        return counter;
    }

    public int length() {
        return idxToToken.size();
    }

    public List<String> idxToToken() {
        return Collections.unmodifiableList(idxToToken);
    }

    /** Index of a token; unknown tokens map to 0 ({@code <unk>}). */
    public int getIdx(String token) {
        return tokenToIdx.getOrDefault(token, 0);
    }

    public String toToken(int idx) {
        return idxToToken.get(idx);
    }

    /** Tokens of the stable-sorted frequency list. */
    public List<String> freqTokens() {
        return Collections.unmodifiableList(freqTokens);
    }

    /** Counts of the stable-sorted frequency list, parallel to {@link #freqTokens()}. */
    public List<Integer> freqCounts() {
        return Collections.unmodifiableList(freqCounts);
    }

    /** The stable-sorted frequency list as the book's {@code Vocab.tokenFreqs} holds it: (token, count) pairs. */
    public List<Map.Entry<String, Integer>> tokenFreqs() {
        List<Map.Entry<String, Integer>> out = new ArrayList<>();
        for (int i = 0; i < freqTokens.size(); i++) {
            out.add(Map.entry(freqTokens.get(i), freqCounts.get(i)));
        }
        return out;
    }
}
